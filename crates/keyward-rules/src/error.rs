use keyward_manifest::{ManifestError, ManifestErrors};

/// Why rules could not be loaded. Every problem names its file, line and field.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// Rule files that do not parse or do not validate; nothing was loaded.
    #[error("{0}")]
    Invalid(ManifestErrors),
}

impl RulesError {
    pub(crate) fn data(file: &str, reason: impl Into<String>) -> Self {
        Self::Invalid(ManifestErrors(vec![ManifestError {
            file: file.to_owned(),
            line: 0,
            field: String::new(),
            reason: reason.into(),
        }]))
    }
}
