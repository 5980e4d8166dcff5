use std::fmt;

/// The most errors one load reports; the rest are counted in a final line.
pub const MAX_ERRORS: usize = 100;

/// One problem in one input file, located by line and field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// The file, as given or as found by walking a directory.
    pub file: String,
    /// The 1-based line, or 0 when the problem concerns the whole file or path.
    pub line: usize,
    /// The dotted field path (`spec.expires`, `metadata.labels.team`) or CSV column; empty for
    /// whole-document, whole-file and syntax errors.
    pub field: String,
    /// What is wrong, lower case, user input in backticks.
    pub reason: String,
}

impl ManifestError {
    pub(crate) fn new(
        file: &str,
        line: usize,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            file: file.to_owned(),
            line,
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for ManifestError {}

/// Every problem found in one load, in file and line order; nothing was loaded.
///
/// At most [`MAX_ERRORS`] are kept; when more were found, a last entry located at the first
/// omitted one says how many were left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestErrors(pub Vec<ManifestError>);

impl ManifestErrors {
    /// Keeps the first [`MAX_ERRORS`] errors and summarises the rest.
    pub fn capped(mut errors: Vec<ManifestError>) -> Self {
        if errors.len() > MAX_ERRORS {
            let omitted = errors.len() - MAX_ERRORS;
            let first = &errors[MAX_ERRORS];
            let summary = ManifestError::new(
                &first.file,
                first.line,
                "",
                format!("too many errors: {omitted} more not shown, the first of them here"),
            );
            errors.truncate(MAX_ERRORS);
            errors.push(summary);
        }
        Self(errors)
    }
}

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ManifestErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_omits_empty_parts() {
        let e = ManifestError::new("a.yaml", 3, "spec.kind", "required field is missing");
        assert_eq!(
            e.to_string(),
            "a.yaml:3: spec.kind: required field is missing"
        );
        let e = ManifestError::new("a.yaml", 3, "", "invalid YAML: oops");
        assert_eq!(e.to_string(), "a.yaml:3: invalid YAML: oops");
        let e = ManifestError::new("dir", 0, "", "path does not exist");
        assert_eq!(e.to_string(), "dir: path does not exist");
    }

    #[test]
    fn capping_summarises_the_rest() {
        let errors = (1..=105)
            .map(|i| ManifestError::new("a.yaml", i, "", "bad"))
            .collect();
        let capped = ManifestErrors::capped(errors);
        assert_eq!(capped.0.len(), MAX_ERRORS + 1);
        assert_eq!(
            capped.0[MAX_ERRORS].to_string(),
            "a.yaml:101: too many errors: 5 more not shown, the first of them here"
        );
        assert_eq!(capped.to_string().lines().count(), MAX_ERRORS + 1);
    }
}
