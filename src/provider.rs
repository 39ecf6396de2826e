//! The `provider "kore"` block. Placeholder while the provider is written.

use std::sync::Arc;

use async_trait::async_trait;

use crate::plugin::{Block, Context, DataSource, Diagnostics, Provider, Resource, Schema, Value};

#[derive(Default)]
pub struct KoreProvider {}

impl KoreProvider {
    pub fn new() -> KoreProvider {
        KoreProvider::default()
    }
}

#[async_trait]
impl Provider for KoreProvider {
    fn schema(&self) -> Schema {
        Schema::new(0, Block::new())
    }

    async fn configure(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        Vec::new()
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }
}
