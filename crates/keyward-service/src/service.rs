use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use keyward_ledger::NewEntry;
use keyward_model::{Clock, IdGenerator};
use keyward_store::{Location, Store, StoreError, WriteTx};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Serialize;

use crate::{Keyring, ServiceError};

/// Everything a front end resolves before calling a use case.
#[derive(Clone)]
pub struct Settings {
    /// Where the store lives.
    pub location: Location,
    /// The installation's key file.
    pub key_path: PathBuf,
    /// Who is acting, as recorded in the ledger.
    pub actor: String,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("location", &self.location)
            .field("key_path", &self.key_path)
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

/// An open register with its keys, clock and actor.
pub struct Service {
    pub(crate) store: Store,
    pub(crate) keyring: Option<Keyring>,
    pub(crate) settings: Settings,
    pub(crate) ids: Mutex<IdGenerator<StdRng>>,
}

/// What `init` did.
#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    /// Where the store is.
    pub store: String,
    /// The key file.
    pub key_file: String,
    /// Whether a new key file was written.
    pub key_created: bool,
    /// Whether the store was already initialised with this key.
    pub already_initialised: bool,
    /// The ledger's public key.
    pub public_key: String,
}

/// What a run that changed the register records about itself.
pub(crate) struct RunFacts<'a> {
    pub kind: &'a str,
    pub connector: &'a str,
    pub connector_version: &'a str,
    pub started: DateTime<Utc>,
    pub inputs: serde_json::Value,
    pub parameters: serde_json::Value,
    pub counts: serde_json::Value,
}

/// A ledger payload's bytes: compact JSON, struct fields in declaration order, maps sorted.
pub(crate) fn canonical(payload: &impl Serialize) -> Result<String, ServiceError> {
    serde_json::to_string(payload).map_err(|e| ServiceError::Io {
        context: "encoding a ledger payload".into(),
        source: e.into(),
    })
}

impl Service {
    /// Initialises a store: creates the key file (unless one exists) and records the
    /// installation. Running it again with the same key changes nothing.
    pub async fn init(
        settings: Settings,
        checkpoint_every: i64,
    ) -> Result<InitReport, ServiceError> {
        let key_path = settings.key_path.clone();
        let key_file = key_path.display().to_string();
        let (keyring, key_created) = match Keyring::load(&key_path) {
            Ok(k) => (k, false),
            Err(crate::KeyError::Missing { .. }) => {
                let k = Keyring::generate(&mut rand::rngs::OsRng);
                k.create(&key_path)?;
                (k, true)
            }
            Err(e) => return Err(e.into()),
        };
        let store = Store::open(&settings.location, true).await?;
        let public_key = keyring.ledger.public_key().to_hex();
        if let Some(inst) = store.installation().await? {
            if inst.ledger_public_key != public_key {
                return Err(ServiceError::KeyMismatch {
                    path: key_file,
                    expected: inst.ledger_public_key,
                    found: public_key,
                });
            }
            store.close().await;
            return Ok(InitReport {
                store: settings.location.redacted(),
                key_file,
                key_created,
                already_initialised: true,
                public_key,
            });
        }
        let svc = Self::with(store, Some(keyring), settings);
        let mut tx = svc.begin().await?;
        tx.insert_installation(
            &public_key,
            &svc.keyring()?.fingerprint.key_id(),
            checkpoint_every,
        )
        .await?;
        let payload = serde_json::json!({
            "ledger_public_key": public_key,
            "fingerprint_key_id": svc.keyring()?.fingerprint.key_id(),
            "checkpoint_every": checkpoint_every,
            "version": crate::VERSION,
        });
        svc.append(
            &mut tx,
            "installation.initialised",
            "installation",
            &payload,
        )
        .await?;
        tx.request_checkpoint();
        tx.commit().await?;
        svc.store.close().await;
        Ok(InitReport {
            store: svc.settings.location.redacted(),
            key_file,
            key_created,
            already_initialised: false,
            public_key,
        })
    }

    /// Opens an initialised store. The key file is loaded when present (changes need it) and
    /// must belong to this installation.
    pub async fn open(settings: Settings) -> Result<Self, ServiceError> {
        let store = Store::open(&settings.location, false).await?;
        let inst = store
            .installation()
            .await?
            .ok_or_else(|| StoreError::Uninitialised(settings.location.redacted()))?;
        let keyring = match Keyring::load(&settings.key_path) {
            Ok(k) => Some(k),
            Err(crate::KeyError::Missing { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        if let Some(k) = &keyring {
            let found = k.ledger.public_key().to_hex();
            if found != inst.ledger_public_key {
                return Err(ServiceError::KeyMismatch {
                    path: settings.key_path.display().to_string(),
                    expected: inst.ledger_public_key,
                    found,
                });
            }
        }
        Ok(Self::with(store, keyring, settings))
    }

    fn with(store: Store, keyring: Option<Keyring>, settings: Settings) -> Self {
        let store = match &keyring {
            Some(k) => store.with_signer(keyward_ledger::LedgerKey::from_seed(k.ledger.seed())),
            None => store,
        };
        Self {
            store,
            keyring,
            settings,
            ids: Mutex::new(IdGenerator::new(StdRng::from_entropy())),
        }
    }

    /// Makes ids reproducible, for tests and the demo.
    pub fn seed_ids(&self, seed: u64) {
        if let Ok(mut ids) = self.ids.lock() {
            *ids = IdGenerator::new(StdRng::seed_from_u64(seed));
        }
    }

    /// Fingerprints secret values with this installation's key.
    pub fn fingerprinter(&self) -> Result<keyward_model::Fingerprinter, ServiceError> {
        Ok(keyward_model::Fingerprinter::new(
            self.keyring()?.fingerprint.clone(),
        ))
    }

    /// The underlying store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The current time by this service's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.settings.clock.now()
    }

    /// Closes the store.
    pub async fn close(self) {
        self.store.close().await;
    }

    pub(crate) fn keyring(&self) -> Result<&Keyring, ServiceError> {
        self.keyring
            .as_ref()
            .ok_or_else(|| ServiceError::KeyRequired {
                path: self.settings.key_path.display().to_string(),
            })
    }

    /// Starts a change; refuses without the key file, so every change can be checkpointed.
    pub(crate) async fn begin(&self) -> Result<WriteTx, ServiceError> {
        self.keyring()?;
        Ok(self.store.begin_write(self.now()).await?)
    }

    pub(crate) async fn append(
        &self,
        tx: &mut WriteTx,
        action: &str,
        subject: &str,
        payload: &impl Serialize,
    ) -> Result<(), ServiceError> {
        self.append_raw(tx, action, subject.to_owned(), canonical(payload)?)
            .await
    }

    /// Appends an entry whose payload is already encoded with [`canonical`].
    pub(crate) async fn append_raw(
        &self,
        tx: &mut WriteTx,
        action: &str,
        subject: String,
        payload: String,
    ) -> Result<(), ServiceError> {
        tx.append(self.entry(action, subject, payload)).await?;
        Ok(())
    }

    /// A ledger entry by this service's actor.
    pub(crate) fn entry(&self, action: &str, subject: String, payload: String) -> NewEntry {
        NewEntry {
            actor: self.settings.actor.clone(),
            action: action.to_owned(),
            subject,
            payload,
        }
    }

    /// Records a run's provenance and its ledger entry; returns the run id.
    pub(crate) async fn record_run(
        &self,
        tx: &mut WriteTx,
        facts: RunFacts<'_>,
    ) -> Result<String, ServiceError> {
        let id = self.new_id("run");
        self.record_run_as(tx, id, facts).await
    }

    /// [`Self::record_run`] under an id made before, for runs whose changes name it.
    pub(crate) async fn record_run_as(
        &self,
        tx: &mut WriteTx,
        id: String,
        facts: RunFacts<'_>,
    ) -> Result<String, ServiceError> {
        let run = keyward_store::RunRecord {
            id,
            kind: facts.kind.to_owned(),
            connector: facts.connector.to_owned(),
            connector_version: facts.connector_version.to_owned(),
            actor: self.settings.actor.clone(),
            started_at: facts.started,
            finished_at: tx.now(),
            inputs: facts.inputs,
            parameters: facts.parameters,
            counts: facts.counts,
        };
        tx.insert_run(&run).await?;
        self.append(tx, "run.recorded", &format!("run:{}", run.id), &run)
            .await?;
        Ok(run.id)
    }

    pub(crate) fn new_nhi_id(&self, now: DateTime<Utc>) -> keyward_model::NhiId {
        keyward_model::NhiId(self.new_id_at("nhi", now))
    }

    /// A new time-ordered id with `prefix`.
    pub fn new_id(&self, prefix: &str) -> String {
        self.new_id_at(prefix, self.now())
    }

    fn new_id_at(&self, prefix: &str, now: DateTime<Utc>) -> String {
        match self.ids.lock() {
            Ok(mut ids) => ids.next(prefix, now),
            Err(poisoned) => poisoned.into_inner().next(prefix, now),
        }
    }
}
