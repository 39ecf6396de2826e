//! A small async client for the control endpoints, for tests that drive the emulator:
//! `ControlClient::new("http://127.0.0.1:4566")`, then one method per endpoint.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use thiserror::Error;

use crate::control::{
    CloseAccountRequest, CreateAccountRequest, CreateOrganizationalUnitRequest, FaultStatus,
    MoveAccountRequest, PortfolioAccessRequest, RemoveAccountRequest, RenameAccountRequest,
    ResetSummary, TagAccountRequest, TerminateProductRequest, PREFIX,
};
use crate::faults::FaultUpdate;
use crate::seed::Seed;
use crate::state::{Account, CallerIdentity, LandingZone, OrganizationalUnit, Record};
use crate::telemetry::{Counters, Event};

/// A failed control call.
#[derive(Debug, Error)]
pub enum ClientError {
    #[error("control request to {url} failed: {source}")]
    Transport { url: String, source: reqwest::Error },
    #[error("control request to {url} returned HTTP {status}: {message}")]
    Rejected {
        url: String,
        status: u16,
        message: String,
    },
    #[error("control response from {url} could not be read: {source}")]
    Decode { url: String, source: reqwest::Error },
}

/// Calls the emulator's `/_emulator/` endpoints.
#[derive(Clone, Debug)]
pub struct ControlClient {
    base_url: String,
    http: reqwest::Client,
}

impl ControlClient {
    /// Creates a client for the emulator at `base_url`, for example `http://127.0.0.1:4566`.
    pub fn new(base_url: impl Into<String>) -> Self {
        let base_url = base_url.into().trim_end_matches('/').to_string();
        Self {
            base_url,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{PREFIX}{path}", self.base_url)
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let url = self.url(path);
        let request = self.http.get(&url);
        Self::send(url, request).await
    }

    async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let url = self.url(path);
        let request = self.http.post(&url).json(body);
        Self::send(url, request).await
    }

    async fn send<T: DeserializeOwned>(
        url: String,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let response = match request.send().await {
            Ok(response) => response,
            Err(source) => return Err(ClientError::Transport { url, source }),
        };
        let status = response.status();
        if !status.is_success() {
            let message = response.text().await.unwrap_or_default();
            return Err(ClientError::Rejected {
                url,
                status: status.as_u16(),
                message,
            });
        }
        response
            .json()
            .await
            .map_err(|source| ClientError::Decode { url, source })
    }

    /// Checks that the emulator responds.
    pub async fn health(&self) -> Result<(), ClientError> {
        self.get::<serde_json::Value>("/health").await.map(|_| ())
    }

    /// Polls [`ControlClient::health`] until it succeeds or `timeout` passes.
    pub async fn wait_until_ready(&self, timeout: Duration) -> Result<(), ClientError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.health().await {
                Ok(()) => return Ok(()),
                Err(error) if tokio::time::Instant::now() >= deadline => return Err(error),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Resets to the built-in landing zone, clearing faults, counters and the event log.
    pub async fn reset(&self) -> Result<ResetSummary, ClientError> {
        // An empty body selects the built-in seed, because `{}` would be an empty seed.
        let url = self.url("/reset");
        let request = self.http.post(&url);
        Self::send(url, request).await
    }

    /// Resets to the given seed, clearing faults, counters and the event log.
    pub async fn reset_to(&self, seed: &Seed) -> Result<ResetSummary, ClientError> {
        self.post("/reset", seed).await
    }

    /// Changes faults and settings. Fields left `None` keep their value.
    pub async fn set_faults(&self, update: &FaultUpdate) -> Result<FaultStatus, ClientError> {
        self.post("/faults", update).await
    }

    /// Removes every fault and restores the start-up settings.
    pub async fn clear_faults(&self) -> Result<FaultStatus, ClientError> {
        let update = FaultUpdate {
            clear: true,
            ..FaultUpdate::default()
        };
        self.set_faults(&update).await
    }

    pub async fn faults(&self) -> Result<FaultStatus, ClientError> {
        self.get("/faults").await
    }

    pub async fn counters(&self) -> Result<Counters, ClientError> {
        self.get("/counters").await
    }

    /// Events with a sequence number above `after` (0 for all).
    pub async fn log(&self, after: u64) -> Result<Vec<Event>, ClientError> {
        self.get(&format!("/log?after={after}")).await
    }

    pub async fn state(&self) -> Result<LandingZone, ClientError> {
        self.get("/state").await
    }

    /// Moves an account as someone using the console would, without Account Factory.
    pub async fn move_account(
        &self,
        account_id: &str,
        destination_parent_id: &str,
    ) -> Result<Account, ClientError> {
        let request = MoveAccountRequest {
            account_id: account_id.to_string(),
            destination_parent_id: destination_parent_id.to_string(),
        };
        self.post("/console/move-account", &request).await
    }

    /// Closes an account outside the provider, bypassing the close quota. With `immediate` the
    /// account is `SUSPENDED` at once instead of after the closure delay.
    pub async fn close_account(
        &self,
        account_id: &str,
        immediate: bool,
    ) -> Result<Account, ClientError> {
        let request = CloseAccountRequest {
            account_id: account_id.to_string(),
            immediate,
        };
        self.post("/console/close-account", &request).await
    }

    pub async fn rename_account(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Account, ClientError> {
        let request = RenameAccountRequest {
            account_id: account_id.to_string(),
            name: name.to_string(),
        };
        self.post("/console/rename-account", &request).await
    }

    /// Adds or replaces tags on an account.
    pub async fn tag_account(
        &self,
        account_id: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<Account, ClientError> {
        let request = TagAccountRequest {
            account_id: account_id.to_string(),
            tags,
        };
        self.post("/console/tag-account", &request).await
    }

    /// Terminates a provisioned product at once, by id or name, as if done in the console.
    pub async fn terminate_product(&self, id_or_name: &str) -> Result<Record, ClientError> {
        let request = if id_or_name.starts_with("pp-") {
            TerminateProductRequest {
                provisioned_product_id: Some(id_or_name.to_string()),
                provisioned_product_name: None,
            }
        } else {
            TerminateProductRequest {
                provisioned_product_id: None,
                provisioned_product_name: Some(id_or_name.to_string()),
            }
        };
        self.post("/console/terminate-product", &request).await
    }

    /// Makes an account leave the organization. Its email stays taken.
    pub async fn remove_account(&self, account_id: &str) -> Result<Account, ClientError> {
        let request = RemoveAccountRequest {
            account_id: account_id.to_string(),
        };
        self.post("/console/remove-account", &request).await
    }

    /// Creates an account outside Account Factory.
    pub async fn create_account(
        &self,
        request: &CreateAccountRequest,
    ) -> Result<Account, ClientError> {
        self.post("/console/create-account", request).await
    }

    pub async fn create_organizational_unit(
        &self,
        request: &CreateOrganizationalUnitRequest,
    ) -> Result<OrganizationalUnit, ClientError> {
        self.post("/console/create-organizational-unit", request)
            .await
    }

    /// Grants or removes the caller's access to the Account Factory portfolio.
    pub async fn set_portfolio_access(&self, enabled: bool) -> Result<CallerIdentity, ClientError> {
        self.post(
            "/console/portfolio-access",
            &PortfolioAccessRequest { enabled },
        )
        .await
    }
}
