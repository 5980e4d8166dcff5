//! The offline connector: authorization-details exports and credential reports on disk.

use std::path::{Path, PathBuf};

use keyward_connect::{ConnectError, Connector, Discovery, Inputs};
use serde_json::json;

use crate::report::parse_credential_report;
use crate::{SOURCE, authz, resolve};

/// Reads `aws iam get-account-authorization-details` exports and IAM credential reports.
#[derive(Debug, Clone, Default)]
pub struct AwsIamFiles {
    /// Authorization-details files, or directories searched for `*.json` and `*.json.gz`.
    pub auth_details: Vec<PathBuf>,
    /// Credential reports, or directories searched for `*.csv` and `*.csv.gz`.
    pub credential_reports: Vec<PathBuf>,
    /// The account (12 digits) the run covers; by default the one most identities belong to.
    pub account: Option<String>,
}

impl AwsIamFiles {
    /// The connector's stable name.
    pub const NAME: &'static str = "aws-iam-files";

    /// Reads every input and resolves it, synchronously.
    pub fn discover_now(&self) -> Result<Discovery, ConnectError> {
        if self.auth_details.is_empty() && self.credential_reports.is_empty() {
            return Err(ConnectError::Usage(
                "give at least one authorization-details file or credential report".into(),
            ));
        }
        if let Some(a) = &self.account {
            check_account(a)?;
        }
        let mut inputs = Inputs::new();
        let detail_paths = find(
            &self.auth_details,
            &[".json", ".json.gz"],
            "authorization-details",
        )?;
        let report_paths = find(
            &self.credential_reports,
            &[".csv", ".csv.gz"],
            "credential report",
        )?;
        let mut details = Vec::with_capacity(detail_paths.len());
        for p in &detail_paths {
            let file = inputs.read(p)?;
            details.push(authz::parse_file(&file)?);
        }
        let mut reports = Vec::with_capacity(report_paths.len());
        for p in &report_paths {
            let file = inputs.read(p)?;
            reports.push(parse_credential_report(&file.path, &file.bytes)?);
        }
        let resolved = resolve::resolve(&details, &reports, self.account.as_deref())?;
        // Authorization details list a whole account; a report alone lists only users, and
        // a complete run would mark every role of the scope as no longer seen.
        let complete = !details.is_empty() && details.iter().all(|d| !d.is_truncated);
        let paths = |v: &[PathBuf]| {
            v.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
        };
        Ok(Discovery {
            source: SOURCE.to_owned(),
            scope: format!("aws:{}", resolved.account),
            complete,
            connector: Self::NAME,
            connector_version: env!("CARGO_PKG_VERSION"),
            inputs: inputs.into_records(),
            parameters: json!({
                "auth_details": paths(&self.auth_details),
                "credential_reports": paths(&self.credential_reports),
                "account": self.account,
            }),
            nhis: resolved.nhis,
            warnings: resolved.warnings,
        })
    }
}

impl Connector for AwsIamFiles {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn discover(&self) -> Result<Discovery, ConnectError> {
        self.discover_now()
    }
}

/// An account id is twelve digits.
pub(crate) fn check_account(a: &str) -> Result<(), ConnectError> {
    if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ConnectError::Usage(format!(
            "`{a}` is not an AWS account id (twelve digits)"
        )))
    }
}

fn find(paths: &[PathBuf], endings: &[&str], what: &str) -> Result<Vec<PathBuf>, ConnectError> {
    let accept = |p: &Path| {
        let name = p.to_string_lossy().to_ascii_lowercase();
        endings.iter().any(|e| name.ends_with(e))
    };
    let found = Inputs::find(paths, accept)?;
    if !paths.is_empty() && found.is_empty() {
        let given: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(ConnectError::Usage(format!(
            "no {what} file ({}) under {}",
            endings.join(", "),
            given.join(", ")
        )));
    }
    Ok(found)
}
