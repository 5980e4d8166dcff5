//! `keyward inventory`: list and show register entries.

use keyward_ledger::Entry;
use keyward_model::{Credential, CredentialLocation, Nhi, Observation};
use keyward_store::NhiFilter;
use serde::Serialize;

use crate::{Service, ServiceError};

/// One NHI with everything known about it.
#[derive(Debug, Clone, Serialize)]
pub struct NhiDetail {
    /// The register entry.
    #[serde(flatten)]
    pub nhi: Nhi,
    /// Its credentials.
    pub credentials: Vec<Credential>,
    /// What each source said.
    pub observations: Vec<Observation>,
    /// Where its credentials' values were seen by secret scans.
    pub locations: Vec<CredentialLocation>,
    /// Its ledger history, oldest first.
    pub history: Vec<Entry>,
}

impl Service {
    /// Streams the NHIs matching `filter` to `each`, with the sources that currently see
    /// each one; returns how many there were.
    pub async fn list_nhis<F>(&self, filter: &NhiFilter, each: F) -> Result<u64, ServiceError>
    where
        F: FnMut(Nhi, &[String]) -> Result<(), ServiceError>,
    {
        self.store
            .for_each_nhi_with_sources(filter, self.now(), each)
            .await
    }

    /// One NHI by register id, declaration name or external id, with its credentials,
    /// observations and ledger history.
    pub async fn show_nhi(&self, key: &str) -> Result<NhiDetail, ServiceError> {
        let nhi = self.store.find_nhi(key).await?;
        let credentials = self.store.credentials_of(&nhi.id).await?;
        let observations = self.store.observations_of(&nhi.id).await?;
        let locations = self.store.locations_of(&nhi.id).await?;
        let history = self.store.ledger_of(&format!("nhi:{}", nhi.id)).await?;
        Ok(NhiDetail {
            nhi,
            credentials,
            observations,
            locations,
            history,
        })
    }
}
