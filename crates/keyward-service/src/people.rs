//! `keyward people import`: bring the people directory in line with an HR export.

use std::collections::HashMap;

use keyward_model::{Person, PersonStatus};
use serde::Serialize;
use serde_json::json;

use crate::apply::object;
use crate::service::RunFacts;
use crate::{Service, ServiceError};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Rows read.
    pub rows: usize,
    /// People added.
    pub added: usize,
    /// People whose details changed (departures included).
    pub updated: usize,
    /// People who changed from active to departed in this import.
    pub departed: usize,
    /// People already as in the file.
    pub unchanged: usize,
    /// Ledger entries written.
    pub ledger_entries: u64,
}

impl Service {
    /// Imports validated people in one transaction; a second import of the same rows changes
    /// nothing.
    pub async fn import_people(
        &self,
        source: &str,
        sha256: &str,
        people: &[Person],
    ) -> Result<ImportReport, ServiceError> {
        let started = self.now();
        let mut tx = self.begin().await?;
        let emails: Vec<&str> = people.iter().map(|p| p.email.as_str()).collect();
        let existing: HashMap<String, Person> = tx
            .people_by_emails(&emails)
            .await?
            .into_iter()
            .map(|p| (p.email.clone(), p))
            .collect();
        let mut report = ImportReport {
            rows: people.len(),
            ..ImportReport::default()
        };
        let mut writes = Vec::new();
        let mut entries = Vec::new();
        for p in people {
            match existing.get(&p.email) {
                Some(before) if before == p => report.unchanged += 1,
                Some(before) => {
                    report.updated += 1;
                    let action = if before.status == PersonStatus::Active
                        && p.status == PersonStatus::Departed
                    {
                        report.departed += 1;
                        "person.departed"
                    } else {
                        "person.updated"
                    };
                    let changes = crate::apply::diff(&object(before), &object(p));
                    entries.push((action, p.email.clone(), json!({"changes": changes})));
                    writes.push(p.clone());
                }
                None => {
                    report.added += 1;
                    entries.push(("person.added", p.email.clone(), json!({"person": p})));
                    writes.push(p.clone());
                }
            }
        }
        if writes.is_empty() {
            tx.rollback().await?;
            return Ok(report);
        }
        tx.upsert_people(&writes).await?;
        for (action, email, payload) in &entries {
            self.append(&mut tx, action, &format!("person:{email}"), payload)
                .await?;
        }
        self.record_run(
            &mut tx,
            RunFacts {
                kind: "people-import",
                connector: "keyward-people-csv",
                connector_version: crate::VERSION,
                started,
                inputs: json!([{"path": source, "sha256": sha256}]),
                parameters: json!({}),
                counts: json!({
                    "rows": report.rows,
                    "added": report.added,
                    "updated": report.updated,
                    "departed": report.departed,
                    "unchanged": report.unchanged,
                }),
            },
        )
        .await?;
        report.ledger_entries = tx.commit().await?.entries;
        Ok(report)
    }
}
