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
    if let Err(e) = keyward_scan::Excludes::new(&config.scan.exclude) {
        let line = text
            .lines()
            .position(|l| l.contains(&e.glob))
            .map_or(0, |i| i + 1);
        return Err(invalid(line, "scan.exclude", e.to_string()));
    }
    Ok(config)
}
