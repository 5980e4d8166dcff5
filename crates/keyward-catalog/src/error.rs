//! Why a catalogue could not be loaded; every error names its file and, where one exists, its
//! line and field.

use std::fmt;

use crate::Framework;

/// One of the five catalogue data files, by its logical name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DataFile {
    /// `owasp-nhi-top10-2025.tsv`.
    Owasp,
    /// `iso27001-2022-annex-a.tsv`.
    AnnexA,
    /// `nist-csf-2.0.tsv`.
    Csf,
    /// `nhi-crosswalk.tsv`.
    Crosswalk,
    /// `annex-a-evidence.yaml`.
    Evidence,
}

impl DataFile {
    /// Every data file, in the order they are parsed.
    pub const ALL: [DataFile; 5] = [
        DataFile::Owasp,
        DataFile::AnnexA,
        DataFile::Csf,
        DataFile::Crosswalk,
        DataFile::Evidence,
    ];

    /// The file's name under `data/catalogues/`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Owasp => "owasp-nhi-top10-2025.tsv",
            Self::AnnexA => "iso27001-2022-annex-a.tsv",
            Self::Csf => "nist-csf-2.0.tsv",
            Self::Crosswalk => "nhi-crosswalk.tsv",
            Self::Evidence => "annex-a-evidence.yaml",
        }
    }

    /// The file's text as embedded in this build.
    pub fn embedded_text(self) -> &'static str {
        match self {
            Self::Owasp => include_str!("../../../data/catalogues/owasp-nhi-top10-2025.tsv"),
            Self::AnnexA => include_str!("../../../data/catalogues/iso27001-2022-annex-a.tsv"),
            Self::Csf => include_str!("../../../data/catalogues/nist-csf-2.0.tsv"),
            Self::Crosswalk => include_str!("../../../data/catalogues/nhi-crosswalk.tsv"),
            Self::Evidence => include_str!("../../../data/catalogues/annex-a-evidence.yaml"),
        }
    }
}

impl fmt::Display for DataFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why catalogue data could not be loaded. Lines count from 1 and include comment lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The file has no header line.
    #[error("{file}: no header line")]
    Empty {
        /// The file.
        file: DataFile,
    },
    /// The header line is not the one the file's format needs.
    #[error("{file}:{line}: header is `{found}`, expected `{expected}`")]
    Header {
        /// The file.
        file: DataFile,
        /// The header's line.
        line: usize,
        /// The columns expected, tab-separated.
        expected: String,
        /// The header as written.
        found: String,
    },
    /// A row with the wrong number of tab-separated fields.
    #[error("{file}:{line}: expected {expected} tab-separated fields, found {found}")]
    Columns {
        /// The file.
        file: DataFile,
        /// The row's line.
        line: usize,
        /// How many fields the header has.
        expected: usize,
        /// How many the row has.
        found: usize,
    },
    /// A field whose value is malformed.
    #[error("{file}:{line}: field `{field}`: {reason}")]
    Field {
        /// The file.
        file: DataFile,
        /// The row's line.
        line: usize,
        /// The column's name.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// An id that appears twice.
    #[error("{file}:{line}: field `{field}`: `{id}` is listed twice, first on line {first}")]
    Duplicate {
        /// The file.
        file: DataFile,
        /// The second occurrence's line.
        line: usize,
        /// The column (or key) holding the id.
        field: &'static str,
        /// The repeated id.
        id: String,
        /// The first occurrence's line.
        first: usize,
    },
    /// A reference to an id the named framework's catalogue does not have.
    #[error("{file}:{line}: field `{field}`: unknown {} id `{id}`", .framework.label())]
    UnknownReference {
        /// The file.
        file: DataFile,
        /// The row's line.
        line: usize,
        /// The column holding the reference.
        field: &'static str,
        /// The framework the id should belong to.
        framework: Framework,
        /// The id as written.
        id: String,
    },
    /// YAML that does not parse or does not fit the evidence schema.
    #[error("{file}:{line}: {reason}")]
    Yaml {
        /// The file.
        file: DataFile,
        /// The line the parser points at (0 when it does not say).
        line: usize,
        /// The parser's message.
        reason: String,
    },
    /// An evidence entry lists a record kind that is not in the vocabulary.
    #[error(
        "{file}:{line}: control `{control}`: field `records`: unknown record kind `{value}`; expected one of {}",
        crate::model::Record::ALL.map(|r| format!("`{r}`")).join(", ")
    )]
    UnknownRecord {
        /// The file.
        file: DataFile,
        /// The line of the bad value.
        line: usize,
        /// The control whose entry lists it.
        control: String,
        /// The value as written.
        value: String,
    },
    /// An evidence entry's scope is not `nhi`, `partial` or `outside`.
    #[error(
        "{file}:{line}: control `{control}`: field `scope`: unknown scope `{value}`; expected `nhi`, `partial` or `outside`"
    )]
    UnknownScope {
        /// The file.
        file: DataFile,
        /// The line of the bad value.
        line: usize,
        /// The control whose entry has it.
        control: String,
        /// The value as written.
        value: String,
    },
    /// An evidence entry for a control that Annex A does not have.
    #[error("{file}:{line}: evidence for unknown control `{control}`")]
    UnknownControl {
        /// The file.
        file: DataFile,
        /// The entry's line.
        line: usize,
        /// The id as written.
        control: String,
    },
    /// An Annex A control with no evidence entry.
    #[error("{file}: control `{control}` has no evidence entry")]
    MissingEvidence {
        /// The file the entry is missing from.
        file: DataFile,
        /// The control.
        control: String,
    },
    /// An evidence entry that breaks a rule of the schema.
    #[error("{file}:{line}: control `{control}`: field `{field}`: {reason}")]
    Entry {
        /// The file.
        file: DataFile,
        /// The entry's line.
        line: usize,
        /// The control.
        control: String,
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A control the crosswalk maps from an OWASP risk whose evidence scope is `outside`.
    #[error(
        "{file}:{line}: control `{control}`: field `scope`: the crosswalk maps `{risk}` to this control, so it cannot be `outside`"
    )]
    MappedOutside {
        /// The evidence file.
        file: DataFile,
        /// The entry's line.
        line: usize,
        /// The control.
        control: String,
        /// The first OWASP risk that maps to it.
        risk: String,
    },
}

impl CatalogError {
    /// The file the error is in.
    pub fn file(&self) -> DataFile {
        match self {
            Self::Empty { file }
            | Self::Header { file, .. }
            | Self::Columns { file, .. }
            | Self::Field { file, .. }
            | Self::Duplicate { file, .. }
            | Self::UnknownReference { file, .. }
            | Self::Yaml { file, .. }
            | Self::UnknownRecord { file, .. }
            | Self::UnknownScope { file, .. }
            | Self::UnknownControl { file, .. }
            | Self::MissingEvidence { file, .. }
            | Self::Entry { file, .. }
            | Self::MappedOutside { file, .. } => *file,
        }
    }

    /// The line the error is on, when it has one.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Empty { .. } | Self::MissingEvidence { .. } => None,
            Self::Header { line, .. }
            | Self::Columns { line, .. }
            | Self::Field { line, .. }
            | Self::Duplicate { line, .. }
            | Self::UnknownReference { line, .. }
            | Self::Yaml { line, .. }
            | Self::UnknownRecord { line, .. }
            | Self::UnknownScope { line, .. }
            | Self::UnknownControl { line, .. }
            | Self::Entry { line, .. }
            | Self::MappedOutside { line, .. } => Some(*line),
        }
    }
}
