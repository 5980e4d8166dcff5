//! `keyward.toml`: settings a team keeps with its code, refused whole when any part is wrong.

use std::path::Path;

use keyward_manifest::{ManifestError, ManifestErrors};
use keyward_service::ServiceError;
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[scan]`.
    #[serde(default)]
    pub scan: ScanConfig,
    /// `[checks.<id>]`: per-check `enabled`, `severity`, parameters and per-environment
    /// parameter tables, validated against the checks when they load.
    #[serde(default)]
    pub checks: toml::Table,
    /// `[exceptions]`.
    #[serde(default)]
    pub exceptions: ExceptionsConfig,
    /// Where the file was read from, for messages.
    #[serde(skip)]
    pub origin: Option<(String, String)>,
}

/// `[exceptions]`: who may accept risk, and for how long at most.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionsConfig {
    /// Emails holding the approver role.
    #[serde(default)]
    pub approvers: Vec<String>,
    /// The longest an exception may run, in days (365 unless set).
    #[serde(default)]
    pub max_days: Option<i64>,
}

impl Config {
    /// The exception policy these settings give.
    pub fn exception_policy(&self) -> keyward_service::ExceptionPolicy {
        let default = keyward_service::ExceptionPolicy::default();
        keyward_service::ExceptionPolicy {
            approvers: self
                .exceptions
                .approvers
                .iter()
                .map(|a| a.trim().to_ascii_lowercase())
                .collect(),
            max_days: self.exceptions.max_days.unwrap_or(default.max_days),
        }
    }

    /// The built-in checks, plus the custom ones in `policies`, with `[checks]` applied. A
    /// bad setting is reported at its line in this file.
    pub fn checks(&self, policies: Option<&Path>) -> Result<keyward_checks::Checks, ServiceError> {
        let mut checks = keyward_checks::Checks::builtin()?;
        if let Some(dir) = policies {
            checks.load_policies(dir)?;
        }
        if let Err(e) = checks.configure(&self.checks) {
            if let (keyward_checks::CheckError::Config { field, reason }, Some((file, text))) =
                (&e, &self.origin)
            {
                // `checks.not-rotated.production.max_age_days` → the line setting its last part
                // inside the table named by the rest, else the table's header.
                let parts: Vec<&str> = field.split('.').collect();
                let key = parts.last().copied().unwrap_or_default();
                let line = text
                    .lines()
                    .position(|l| {
                        let t = l.trim_start();
                        t.starts_with(&format!("{key} ")) || t.starts_with(&format!("{key}="))
                    })
                    .or_else(|| {
                        let id = parts.get(1).copied().unwrap_or_default();
                        text.lines()
                            .position(|l| l.contains(&format!("[checks.{id}")))
                    })
                    .map_or(0, |i| i + 1);
                return Err(ServiceError::Invalid(ManifestErrors(vec![ManifestError {
                    file: file.clone(),
                    line,
                    field: field.clone(),
                    reason: reason.clone(),
                }])));
            }
            return Err(e.into());
        }
        Ok(checks)
    }
}

/// `[scan]`: what secret scans leave out.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    /// Globs of paths not to scan (`vendor/**`, `*.min.js`).
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// The configuration at `explicit`, else `./keyward.toml` if there is one, else defaults.
pub fn load(explicit: Option<&Path>) -> Result<Config, ServiceError> {
    let default = Path::new("keyward.toml");
    let path = match explicit {
        Some(p) => p,
        None if default.exists() => default,
        None => return Ok(Config::default()),
    };
    let invalid = |line: usize, field: &str, reason: String| {
        ServiceError::Invalid(ManifestErrors(vec![ManifestError {
            file: path.display().to_string(),
            line,
            field: field.to_owned(),
            reason,
        }]))
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid(0, "", format!("cannot read the configuration: {e}")))?;
    let config: Config = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(0, |s| {
            text[..s.start.min(text.len())].matches('\n').count() + 1
        });
        invalid(line, "", e.message().to_owned())
    })?;
    let mut config = config;
    config.origin = Some((path.display().to_string(), text.clone()));
    for a in &config.exceptions.approvers {
        if !matches!(
            keyward_model::OwnerRef::parse(a),
            Ok(keyward_model::OwnerRef::Person(_))
        ) {
            let line = text
                .lines()
                .position(|l| l.contains(a.as_str()))
                .map_or(0, |i| i + 1);
            return Err(invalid(
                line,
                "exceptions.approvers",
                format!("`{a}` is not an email address"),
            ));
        }
    }
    if config.exceptions.max_days.is_some_and(|d| d < 1) {
        let line = text
            .lines()
            .position(|l| l.contains("max_days"))
            .map_or(0, |i| i + 1);
        return Err(invalid(
            line,
            "exceptions.max_days",
            "must be at least 1".into(),
        ));
    }
    if let Err(e) = keyward_scan::Excludes::new(&config.scan.exclude) {
        let line = text
            .lines()
            .position(|l| l.contains(&e.glob))
            .map_or(0, |i| i + 1);
        return Err(invalid(line, "scan.exclude", e.to_string()));
    }
    Ok(config)
}
