//! `keyward demo`: builds the sample estate in a fresh store through the same use cases a user
//! runs (init, people import, apply, discovery) and judges its posture.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use keyward_model::{Clock, DiscoveredNhi};
use keyward_service::{
    ApplyReport, ImportReport, IngestReport, IngestSource, Posture, SecretsReport, Service,
    ServiceError, Settings,
};
use keyward_store::Location;
use serde::Serialize;
use serde_json::json;

use crate::{EstateSpec, generate, leaked_repository, manifest_files, people_csv};

/// What the demo built.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    /// The new store file.
    pub store: String,
    /// Its key file.
    pub key: String,
    /// The declarations written, as a team would keep them.
    pub declarations: String,
    /// The people directory file.
    pub people_file: String,
    /// The people import.
    pub people: ImportReport,
    /// The apply of the declarations.
    pub apply: ApplyReport,
    /// Each discovery source's ingest.
    pub discovery: BTreeMap<String, IngestReport>,
    /// The sample repository with leaked credentials.
    pub sample_repository: String,
    /// What `discover secrets` recorded from it.
    pub secrets: SecretsReport,
    /// The resulting posture.
    pub posture: Posture,
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> ServiceError {
    move |source| ServiceError::Io { context, source }
}

/// A directory under `out` that no earlier demo used.
fn fresh_dir(out: &Path, clock: &dyn Clock) -> Result<PathBuf, ServiceError> {
    let stamp = clock.now().format("%Y%m%d-%H%M%S").to_string();
    for n in 0..1000 {
        let name = if n == 0 {
            stamp.clone()
        } else {
            format!("{stamp}-{n}")
        };
        let dir = out.join(name);
        if !dir.exists() {
            std::fs::create_dir_all(&dir).map_err(io(dir.display().to_string()))?;
            return Ok(dir);
        }
    }
    Err(ServiceError::Io {
        context: out.display().to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "no fresh directory name left",
        ),
    })
}

/// Builds an estate of `nhis` NHIs under a new directory in `out`.
pub async fn run(
    out: &Path,
    nhis: usize,
    seed: u64,
    actor: &str,
    clock: Arc<dyn Clock>,
) -> Result<DemoReport, ServiceError> {
    let dir = fresh_dir(out, clock.as_ref())?;
    let store = dir.join("keyward.db");
    let key = dir.join("keyward.key");
    let settings = Settings {
        location: Location::Sqlite(store.clone()),
        key_path: key.clone(),
        actor: actor.to_owned(),
        clock: clock.clone(),
    };
    Service::init(settings.clone(), 1000).await?;
    let svc = Service::open(settings).await?;
    let spec = EstateSpec {
        nhis,
        seed,
        today: clock.now(),
    };
    let estate = generate(&spec, &svc.fingerprinter()?);

    let people_file = dir.join("people.csv");
    std::fs::write(&people_file, people_csv(&estate.people))
        .map_err(io(people_file.display().to_string()))?;
    let decl_dir = dir.join("declarations");
    for (name, text) in manifest_files(&estate.declared) {
        let path = decl_dir.join(name.trim_start_matches("demo/"));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent.display().to_string()))?;
        }
        std::fs::write(&path, text).map_err(io(path.display().to_string()))?;
    }

    let people = keyward_manifest::load_people_csv(&people_file)?;
    let people_report = svc
        .import_people(&people_file.display().to_string(), "generated", &people)
        .await?;
    // The same path `keyward apply DIR` takes.
    let apply = svc
        .apply_paths(std::slice::from_ref(&decl_dir), false)
        .await?;

    let leaked = leaked_repository(&estate.discovered, seed);
    let mut by_provider: BTreeMap<String, Vec<DiscoveredNhi>> = BTreeMap::new();
    for d in estate.discovered {
        by_provider.entry(d.provider.clone()).or_default().push(d);
    }
    let mut discovery = BTreeMap::new();
    for (provider, items) in by_provider {
        let src = IngestSource {
            source: format!("{provider}-inventory"),
            connector: "keyward-demo".into(),
            connector_version: keyward_service::VERSION.into(),
            locator: format!("sample {provider} estate"),
            inputs: json!([{"generator": "keyward-demo", "seed": seed, "nhis": nhis}]),
            parameters: json!({}),
            complete: true,
            started_at: None,
            warnings: Vec::new(),
        };
        discovery.insert(provider, svc.ingest(&src, &items).await?);
    }
    let repo = dir.join("sample-repo");
    for (name, text) in leaked {
        let path = repo.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent.display().to_string()))?;
        }
        std::fs::write(&path, text).map_err(io(path.display().to_string()))?;
    }
    let rules = keyward_rules::RuleSet::builtin().map_err(|e| ServiceError::Io {
        context: "the built-in rules".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let secrets = svc
        .discover_secrets(
            std::slice::from_ref(&repo),
            false,
            &rules,
            &keyward_scan::ScanOptions::default(),
        )
        .await?;
    let posture = svc.posture(30).await?;
    svc.close().await;
    Ok(DemoReport {
        store: store.display().to_string(),
        key: key.display().to_string(),
        declarations: decl_dir.display().to_string(),
        people_file: people_file.display().to_string(),
        people: people_report,
        apply,
        discovery,
        sample_repository: repo.display().to_string(),
        secrets,
        posture,
    })
}
