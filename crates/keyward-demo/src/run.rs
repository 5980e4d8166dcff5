//! `keyward demo`: builds the sample estate in a fresh store through the same use cases a user
//! runs (init, people import, apply, discovery, secrets discovery) and judges its posture with
//! the built-in checks.
//!
//! Discovery is of two kinds: the estate's inventory, ingested as it is generated, and sample
//! sources written as files in their systems' own formats (an AWS IAM export and credential
//! report, CloudTrail, Kubernetes manifests and audit logs, GitHub Actions workflows, SSH keys)
//! that the real connectors read, as `keyward discover` runs them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use keyward_connect::Connector;
use keyward_model::{Clock, DiscoveredNhi};
use keyward_service::{
    ApplyReport, CheckReport, ImportReport, IngestReport, IngestSource, Posture, SecretsReport,
    Service, ServiceError, Settings,
};
use keyward_store::Location;
use serde::Serialize;
use serde_json::json;

use crate::sources::{self, BASTION, CLUSTER, SERVICE_REPOSITORY};
use crate::{EstateSpec, generate, leaked_repositories, manifest_files, people_csv};

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
    /// Each discovery's ingest: the inventory's by provider (`aws`, `github`, …), the sample
    /// sources' by connector (`aws-iam-files`, `cloudtrail-files`, `k8s-manifests`,
    /// `k8s-audit-files`, `ci-files`, `ssh-files`).
    pub discovery: BTreeMap<String, IngestReport>,
    /// What each connector warned about, by connector (only those that warned).
    pub discovery_warnings: BTreeMap<String, Vec<String>>,
    /// The directory of sample sources the connectors read.
    pub sources: String,
    /// The sample repository with leaked credentials.
    pub sample_repository: String,
    /// The second repository scanned, the payments API (its CI files are among the sources).
    pub service_repository: String,
    /// What `discover secrets` recorded from both repositories.
    pub secrets: SecretsReport,
    /// The resulting posture.
    pub posture: Posture,
    /// The built-in checks' run over the finished estate.
    pub check: CheckReport,
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> ServiceError {
    move |source| ServiceError::Io { context, source }
}

/// Writes `files` (relative path and text) under `root`.
fn write_files(root: &Path, files: &[(String, String)]) -> Result<(), ServiceError> {
    for (name, text) in files {
        let path = root.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent.display().to_string()))?;
        }
        std::fs::write(&path, text).map_err(io(path.display().to_string()))?;
    }
    Ok(())
}

/// What one connector run recorded, and what it warned about.
type ConnectorRun = (IngestReport, Vec<String>);

/// Runs `connector` and records its discovery, as `keyward discover` does.
async fn discover(svc: &Service, connector: &impl Connector) -> Result<ConnectorRun, ServiceError> {
    let started = svc.now();
    let d = connector.discover().await.map_err(|e| ServiceError::Io {
        context: format!("the {} connector", connector.name()),
        source: std::io::Error::other(e.to_string()),
    })?;
    let report = svc.discover(&d, started).await?;
    Ok((report, d.warnings))
}

/// Runs every connector over the sample sources under `src`, keyed by connector name.
async fn discover_sources(
    svc: &Service,
    src: &Path,
    account: &str,
) -> Result<Vec<(&'static str, ConnectorRun)>, ServiceError> {
    let aws = keyward_aws::AwsIamFiles {
        auth_details: vec![src.join("aws/authorization-details.json")],
        credential_reports: vec![src.join("aws/credential-report.csv")],
        account: Some(account.to_owned()),
    };
    let trail = keyward_usage::CloudTrailFiles::new(vec![src.join("cloudtrail")]);
    let manifests = keyward_kube::KubeManifests {
        cluster: CLUSTER.to_owned(),
        ..keyward_kube::KubeManifests::new(vec![src.join("kubernetes/manifests")])
    };
    let audit = keyward_usage::K8sAuditFiles {
        cluster: CLUSTER.to_owned(),
        ..keyward_usage::K8sAuditFiles::new(vec![src.join("kubernetes/audit")])
    };
    let ci = keyward_cicd::CiFilesConnector::new(vec![src.join(SERVICE_REPOSITORY)])
        .with_repository(sources::repository());
    let ssh = keyward_pki::SshFiles {
        paths: vec![src.join("ssh")],
        scope: Some(format!("host:{BASTION}")),
    };
    // Inventories before the usage logs that add to what they found.
    Ok(vec![
        (aws.name(), discover(svc, &aws).await?),
        (trail.name(), discover(svc, &trail).await?),
        (manifests.name(), discover(svc, &manifests).await?),
        (audit.name(), discover(svc, &audit).await?),
        (ci.name(), discover(svc, &ci).await?),
        (ssh.name(), discover(svc, &ssh).await?),
    ])
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

    let leaked = leaked_repositories(&estate, seed);
    let sample_sources = sources::sources(&estate, seed, clock.now());
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
    let src = dir.join("sources");
    write_files(&src, &sample_sources.files)?;
    let service_repo = src.join(SERVICE_REPOSITORY);
    write_files(&service_repo, &leaked.payments_api)?;
    let mut discovery_warnings = BTreeMap::new();
    for (name, (report, warnings)) in discover_sources(&svc, &src, &sample_sources.account).await? {
        discovery.insert(name.to_owned(), report);
        if !warnings.is_empty() {
            discovery_warnings.insert(name.to_owned(), warnings);
        }
    }

    let repo = dir.join("sample-repo");
    write_files(&repo, &leaked.sample)?;
    let rules = keyward_rules::RuleSet::builtin().map_err(|e| ServiceError::Io {
        context: "the built-in rules".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let secrets = svc
        .discover_secrets(
            &[repo.clone(), service_repo.clone()],
            false,
            &rules,
            &keyward_scan::ScanOptions::default(),
        )
        .await?;
    let posture = svc.posture(30).await?;
    let mut checks = keyward_checks::Checks::builtin()?;
    let check = svc.check(&mut checks).await?;
    svc.close().await;
    Ok(DemoReport {
        store: store.display().to_string(),
        key: key.display().to_string(),
        declarations: decl_dir.display().to_string(),
        people_file: people_file.display().to_string(),
        people: people_report,
        apply,
        discovery,
        discovery_warnings,
        sources: src.display().to_string(),
        sample_repository: repo.display().to_string(),
        service_repository: service_repo.display().to_string(),
        secrets,
        posture,
        check,
    })
}
