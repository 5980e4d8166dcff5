//! `keyward discover secrets`: leaked credentials into the register, each tied to its NHI.
//!
//! Every distinct secret (one keyed fingerprint) becomes one credential with all the places it
//! was seen. A secret is tied to an NHI already in the register when the register knows it:
//! the same fingerprint from an earlier scan, an inventoried credential whose identifier it is
//! (an AWS access key id found in code is that key), or its other half found beside it (the
//! secret key next to that key id). Otherwise it is an undeclared NHI of the kind and provider
//! its rule names, for an owner to claim.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use keyward_model::{
    Credential, CredentialLocation, CredentialStatus, Fingerprinter, LocationSource, Nhi, NhiId,
    Observation, Origin, SecretValue, UsageState,
};
use keyward_rules::RuleSet;
use keyward_scan::{Finding, ScanOptions, ScanReport};
use serde::Serialize;
use serde_json::json;

use crate::service::RunFacts;
use crate::{Service, ServiceError};

/// What a secrets discovery found and recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SecretsReport {
    /// Findings the scan reported.
    pub findings: usize,
    /// Distinct secrets among them.
    pub secrets: usize,
    /// Secrets tied to NHIs already in the register.
    pub linked: usize,
    /// Undeclared NHIs created for secrets nothing in the register holds.
    pub created_nhis: usize,
    /// Credentials added to the register.
    pub new_credentials: usize,
    /// Places a secret was seen that the register did not know yet.
    pub new_locations: usize,
    /// Files (or blobs) read.
    pub files: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Ledger entries written.
    pub ledger_entries: u64,
    /// The run record, when anything changed.
    pub run_id: Option<String>,
    /// What the scan could not read or open (an archive nested too deep, …).
    pub warnings: Vec<String>,
}

impl Service {
    /// Scans `paths` (repositories' histories with `git`) and records what it finds.
    pub async fn discover_secrets(
        &self,
        paths: &[PathBuf],
        git: bool,
        rules: &RuleSet,
        options: &ScanOptions,
    ) -> Result<SecretsReport, ServiceError> {
        let started = self.now();
        let fingerprints = Fingerprinter::new(self.keyring()?.fingerprint.clone());
        let scan_err = |e: keyward_scan::ScanError| ServiceError::Io {
            context: "scanning".into(),
            source: std::io::Error::other(e.to_string()),
        };
        let mut scanned = Vec::new();
        for p in paths {
            let r = if git {
                keyward_scan::scan_git(p, rules, &fingerprints, options).map_err(scan_err)?
            } else {
                keyward_scan::scan(std::slice::from_ref(p), rules, &fingerprints, options)
                    .map_err(scan_err)?
            };
            scanned.push((p.clone(), r));
        }
        let inputs: Vec<serde_json::Value> = paths
            .iter()
            .map(|p| {
                let mut v = json!({"path": p.display().to_string()});
                if git && let Some(heads) = ref_heads(p) {
                    v["refs"] = heads;
                }
                v
            })
            .collect();
        self.record_secrets(started, &scanned, git, rules, &fingerprints, inputs)
            .await
    }

    async fn record_secrets(
        &self,
        started: chrono::DateTime<chrono::Utc>,
        scanned: &[(PathBuf, ScanReport)],
        git: bool,
        rules: &RuleSet,
        fingerprints: &Fingerprinter,
        inputs: Vec<serde_json::Value>,
    ) -> Result<SecretsReport, ServiceError> {
        let mut report = SecretsReport::default();
        // Each distinct secret with every place it was seen, in first-seen order.
        let mut order: Vec<&str> = Vec::new();
        let mut seen: HashMap<&str, Vec<(&Path, &Finding)>> = HashMap::new();
        for (root, r) in scanned {
            report.files += r.files;
            report.bytes += r.bytes;
            report.findings += r.findings.len();
            report.warnings.extend(r.warnings.iter().cloned());
            for f in &r.findings {
                let e = seen.entry(&f.fingerprint).or_default();
                if e.is_empty() {
                    order.push(&f.fingerprint);
                }
                e.push((root.as_path(), f));
            }
        }
        report.secrets = order.len();

        let mut tx = self.begin().await?;
        let now = tx.now();
        let known: HashMap<String, Credential> = tx
            .credentials_by_fingerprints(&order)
            .await?
            .into_iter()
            .filter_map(|c| c.fingerprint.clone().map(|f| (f, c)))
            .collect();
        // Identifiers the register holds, fingerprinted the way the scan fingerprints values.
        let by_identifier: HashMap<String, Credential> = tx
            .credentials_with_external_ids()
            .await?
            .into_iter()
            .filter_map(|c| {
                let id = c.external_id.clone()?;
                Some((fingerprints.fingerprint(&SecretValue::new(id)), c))
            })
            .collect();

        // Resolve each secret to the credential that holds it, or to the NHI it belongs to.
        let mut holder: HashMap<&str, Holder> = HashMap::new();
        for fp in &order {
            if let Some(c) = known.get(*fp).or_else(|| by_identifier.get(*fp)) {
                holder.insert(fp, Holder::Credential(c.clone()));
            }
        }
        // A secret beside its other half belongs to the same NHI.
        for fp in &order {
            if holder.contains_key(fp) {
                continue;
            }
            let partner = seen[fp].iter().find_map(|(_, f)| {
                f.paired_with
                    .as_deref()
                    .and_then(|p| holder.get(p))
                    .map(|h| h.nhi().clone())
            });
            if let Some(nhi) = partner {
                holder.insert(fp, Holder::Nhi(nhi));
            }
        }

        let mut new_nhis: Vec<Nhi> = Vec::new();
        let mut new_creds: Vec<Credential> = Vec::new();
        let mut entries: Vec<(&str, String, serde_json::Value)> = Vec::new();
        let mut cred_of: HashMap<&str, Credential> = HashMap::new();
        let mut observed: Vec<NhiId> = Vec::new();
        for fp in &order {
            let (_, first) = seen[fp][0];
            let rule = rules.get(&first.rule_id);
            let credential = match holder.remove(fp) {
                Some(Holder::Credential(c)) => {
                    report.linked += 1;
                    c
                }
                found => {
                    let nhi_id = match found {
                        Some(Holder::Nhi(id)) => {
                            report.linked += 1;
                            id
                        }
                        _ => {
                            let mut n = Nhi::new(
                                self.new_nhi_id(now),
                                first.nhi_kind,
                                &first.provider,
                                format!("{} {}", first.rule_name, first.preview),
                                Origin::Discovered,
                                now,
                            );
                            n.external_id =
                                Some(format!("leaked-secret:{}", &fp[..fp.len().min(16)]));
                            n.purpose = Some(format!(
                                "Found by secret scanning ({}); nothing in the register held it",
                                first.rule_id
                            ));
                            n.tags =
                                BTreeMap::from([("found-by".to_owned(), "secret-scan".to_owned())]);
                            report.created_nhis += 1;
                            entries.push((
                                "nhi.discovered",
                                format!("nhi:{}", n.id),
                                json!({"source": "secret-scan", "rule": first.rule_id, "nhi": crate::apply::object(&n)}),
                            ));
                            let id = n.id.clone();
                            new_nhis.push(n);
                            id
                        }
                    };
                    let c = Credential {
                        id: self.new_id("cred"),
                        nhi_id,
                        kind: rule.map_or(first.kind, |r| r.credential),
                        external_id: None,
                        fingerprint: Some((*fp).to_owned()),
                        preview: Some(first.preview.clone()),
                        status: CredentialStatus::Active,
                        created_at: None,
                        expires_at: None,
                        last_rotated_at: None,
                        last_used_at: None,
                        last_used_state: UsageState::Unknown,
                    };
                    report.new_credentials += 1;
                    new_creds.push(c.clone());
                    c
                }
            };
            observed.push(credential.nhi_id.clone());
            cred_of.insert(fp, credential);
        }

        let ids: Vec<&str> = cred_of.values().map(|c| c.id.as_str()).collect();
        let known_locations: HashSet<(String, String)> =
            tx.location_keys(&ids).await?.into_iter().collect();
        let mut locations = Vec::new();
        let mut added: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
        for fp in &order {
            let c = &cred_of[fp];
            for (root, f) in &seen[fp] {
                let l = location(c, root, f, git, now);
                if !known_locations.contains(&(c.id.clone(), l.key())) {
                    report.new_locations += 1;
                    added.entry(c.id.clone()).or_default().push(json!({
                        "source": l.source, "path": l.path, "line": l.line, "column": l.column,
                        "commit": l.commit, "rule": l.rule_id,
                    }));
                }
                locations.push(l);
            }
        }
        for (id, places) in added {
            let c = cred_of.values().find(|c| c.id == id);
            entries.push((
                "credential.sighted",
                format!("credential:{id}"),
                json!({
                    "nhi": c.map(|c| c.nhi_id.0.clone()),
                    "preview": c.and_then(|c| c.preview.clone()),
                    "locations": places,
                }),
            ));
        }
        if entries.is_empty() {
            // Nothing new: the same secrets in the same places.
            tx.rollback().await?;
            return Ok(report);
        }
        tx.insert_nhis(&new_nhis).await?;
        tx.upsert_credentials(&new_creds).await?;
        tx.upsert_locations(&locations).await?;
        observed.sort();
        observed.dedup();
        let observations: Vec<Observation> = observed
            .into_iter()
            .map(|nhi_id| {
                let locator = inputs
                    .iter()
                    .filter_map(|i| i["path"].as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                Observation::new(
                    nhi_id,
                    "secret-scan",
                    "keyward-scan",
                    crate::VERSION,
                    locator,
                    now,
                )
            })
            .collect();
        tx.upsert_observations(&observations).await?;
        for (action, subject, payload) in &entries {
            self.append(&mut tx, action, subject, payload).await?;
        }
        let run_id = self
            .record_run(
                &mut tx,
                RunFacts {
                    kind: "discover",
                    connector: if git { "secrets-git" } else { "secrets-files" },
                    connector_version: crate::VERSION,
                    started,
                    inputs: serde_json::Value::Array(inputs),
                    parameters: json!({"git": git, "rules_version": rules.version(), "rules": rules.rules().len()}),
                    counts: json!({
                        "findings": report.findings,
                        "secrets": report.secrets,
                        "linked": report.linked,
                        "created_nhis": report.created_nhis,
                        "new_credentials": report.new_credentials,
                        "new_locations": report.new_locations,
                        "files": report.files,
                        "bytes": report.bytes,
                    }),
                },
            )
            .await?;
        report.ledger_entries = tx.commit().await?.entries;
        report.run_id = Some(run_id);
        Ok(report)
    }
}

/// Who holds a secret: a credential in the register, or (for a new credential) an NHI.
enum Holder {
    Credential(Credential),
    Nhi(NhiId),
}

impl Holder {
    fn nhi(&self) -> &NhiId {
        match self {
            Self::Credential(c) => &c.nhi_id,
            Self::Nhi(id) => id,
        }
    }
}

fn location(
    c: &Credential,
    root: &Path,
    f: &Finding,
    git: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> CredentialLocation {
    let path = Path::new(&f.path)
        .strip_prefix(root)
        .map_or_else(|_| f.path.clone(), |p| p.display().to_string());
    CredentialLocation {
        credential_id: c.id.clone(),
        source: if git {
            LocationSource::Git
        } else {
            LocationSource::File
        },
        repository: root.display().to_string(),
        path,
        line: u32::try_from(f.line).unwrap_or(u32::MAX),
        column: u32::try_from(f.column).unwrap_or(u32::MAX),
        commit: f.git.as_ref().map(|g| g.commit.clone()),
        author: f.git.as_ref().map(|g| g.author.clone()),
        committed_at: f.git.as_ref().map(|g| g.date),
        rule_id: f.rule_id.clone(),
        first_seen_at: now,
        last_seen_at: now,
    }
}

/// The refs of a repository and the commits they point at, for the run's provenance.
fn ref_heads(path: &Path) -> Option<serde_json::Value> {
    let repo = gix::open(path).ok()?;
    let mut out = serde_json::Map::new();
    for r in repo.references().ok()?.all().ok()? {
        let mut r = r.ok()?;
        let name = r.name().as_bstr().to_string();
        if let Ok(id) = r.peel_to_id() {
            out.insert(name, json!(id.to_hex().to_string()));
        }
    }
    Some(serde_json::Value::Object(out))
}
