//! Private state: provider-only data Terraform stores beside a resource's state.
//!
//! The bytes are a versioned JSON envelope `{"version":1,"data":{...}}`, so a later release
//! can read what an older one wrote. Empty bytes decode as an empty map.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Current envelope version.
pub const PRIVATE_STATE_VERSION: u32 = 1;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PrivateState(pub BTreeMap<String, serde_json::Value>);

#[derive(Serialize, Deserialize)]
struct Envelope {
    version: u32,
    data: BTreeMap<String, serde_json::Value>,
}

/// Error decoding private state bytes.
#[derive(Debug, thiserror::Error)]
pub enum PrivateStateError {
    #[error("private state is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("private state has version {0}, newer than this provider understands ({PRIVATE_STATE_VERSION}); upgrade the provider")]
    TooNew(u32),
}

impl PrivateState {
    pub fn decode(bytes: &[u8]) -> Result<PrivateState, PrivateStateError> {
        if bytes.is_empty() {
            return Ok(PrivateState::default());
        }
        let envelope: Envelope = serde_json::from_slice(bytes)?;
        if envelope.version > PRIVATE_STATE_VERSION {
            return Err(PrivateStateError::TooNew(envelope.version));
        }
        Ok(PrivateState(envelope.data))
    }

    /// Encodes the envelope; an empty map encodes as empty bytes.
    pub fn encode(&self) -> Vec<u8> {
        if self.0.is_empty() {
            return Vec::new();
        }
        let envelope = Envelope {
            version: PRIVATE_STATE_VERSION,
            data: self.0.clone(),
        };
        // Serializing a map of JSON values cannot fail.
        serde_json::to_vec(&envelope).unwrap_or_default()
    }

    pub fn get(&self, key: &str) -> Option<&serde_json::Value> {
        self.0.get(key)
    }

    pub fn set(&mut self, key: &str, value: serde_json::Value) {
        self.0.insert(key.to_string(), value);
    }

    pub fn remove(&mut self, key: &str) {
        self.0.remove(key);
    }
}
