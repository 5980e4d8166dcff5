//! The catalogue entries: OWASP risks, Annex A controls with their evidence, CSF items.

use std::fmt;

/// One OWASP Non-Human Identities Top 10 (2025) risk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OwaspRisk {
    /// The full id, `NHI1:2025` to `NHI10:2025`.
    pub id: String,
    /// The risk's published title.
    pub title: String,
    /// What the risk means, in one line of Keyward's own words.
    pub meaning: String,
}

impl OwaspRisk {
    /// The id without its year, as in `NHI1`.
    pub fn short_id(&self) -> &str {
        self.id.split_once(':').map_or(self.id.as_str(), |(s, _)| s)
    }
}

/// One ISO/IEC 27001:2022 Annex A control and how Keyward evidences it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AnnexAControl {
    /// The control id, as in `A.5.9`.
    pub id: String,
    /// The control's title (never its text, which is ISO's copyright).
    pub title: String,
    /// The Annex A clause the control belongs to.
    pub theme: Theme,
    /// Which Keyward records evidence the control.
    pub evidence: Evidence,
}

/// The four themes (clauses) of Annex A.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Clause A.5.
    Organizational,
    /// Clause A.6.
    People,
    /// Clause A.7.
    Physical,
    /// Clause A.8.
    Technological,
}

impl Theme {
    /// Every theme in clause order.
    pub const ALL: [Theme; 4] = [
        Theme::Organizational,
        Theme::People,
        Theme::Physical,
        Theme::Technological,
    ];

    /// The theme of Annex A clause `clause` (5 to 8).
    pub fn from_clause(clause: u8) -> Option<Self> {
        match clause {
            5 => Some(Self::Organizational),
            6 => Some(Self::People),
            7 => Some(Self::Physical),
            8 => Some(Self::Technological),
            _ => None,
        }
    }

    /// The clause number, 5 to 8.
    pub fn clause(self) -> u8 {
        match self {
            Self::Organizational => 5,
            Self::People => 6,
            Self::Physical => 7,
            Self::Technological => 8,
        }
    }

    /// The theme's name as a heading, as in `Organizational controls`.
    pub fn title(self) -> &'static str {
        match self {
            Self::Organizational => "Organizational controls",
            Self::People => "People controls",
            Self::Physical => "Physical controls",
            Self::Technological => "Technological controls",
        }
    }

    /// The stable lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organizational => "organizational",
            Self::People => "people",
            Self::Physical => "physical",
            Self::Technological => "technological",
        }
    }
}

impl fmt::Display for Theme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How Keyward evidences one Annex A control.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Evidence {
    /// How much of the control Keyward covers.
    pub scope: Scope,
    /// The records that evidence it; empty exactly when the scope is [`Scope::Outside`].
    pub records: Vec<Record>,
    /// One or two sentences saying how, in Keyward's own words.
    pub note: String,
}

/// How much of a control Keyward's records evidence.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The control bears directly on NHI governance and Keyward evidences it for NHIs.
    Nhi,
    /// Keyward evidences the NHI part of a wider control.
    Partial,
    /// Keyward does not evidence the control (physical, HR, continuity and the like).
    Outside,
}

impl Scope {
    /// Every scope, widest first.
    pub const ALL: [Scope; 3] = [Scope::Nhi, Scope::Partial, Scope::Outside];

    /// The stable name used in the evidence file and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nhi => "nhi",
            Self::Partial => "partial",
            Self::Outside => "outside",
        }
    }

    /// The scope named `name` in the evidence file.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind of record Keyward keeps that an auditor can be shown as evidence.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// The register's population with each NHI's sources and provenance.
    InventorySnapshot,
    /// Declared owners and backup owners, the people directory and departures.
    Ownership,
    /// NHI-as-code declarations and their apply runs.
    Declarations,
    /// Connector runs with their inputs and hashes.
    DiscoveryRuns,
    /// Leaked-credential findings with locations and commits.
    SecretScans,
    /// Posture check findings with their lifecycle.
    CheckFindings,
    /// Time-bound risk acceptances with approver and compensating controls.
    Exceptions,
    /// Review cadence, last-reviewed and due dates.
    Reviews,
    /// The hash-chained, signed change ledger.
    Ledger,
    /// Last-used and human-use signals from cloud and cluster audit logs.
    UsageLogs,
}

impl Record {
    /// Every record kind, in the evidence file's documented order.
    pub const ALL: [Record; 10] = [
        Record::InventorySnapshot,
        Record::Ownership,
        Record::Declarations,
        Record::DiscoveryRuns,
        Record::SecretScans,
        Record::CheckFindings,
        Record::Exceptions,
        Record::Reviews,
        Record::Ledger,
        Record::UsageLogs,
    ];

    /// The stable name used in the evidence file and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InventorySnapshot => "inventory_snapshot",
            Self::Ownership => "ownership",
            Self::Declarations => "declarations",
            Self::DiscoveryRuns => "discovery_runs",
            Self::SecretScans => "secret_scans",
            Self::CheckFindings => "check_findings",
            Self::Exceptions => "exceptions",
            Self::Reviews => "reviews",
            Self::Ledger => "ledger",
            Self::UsageLogs => "usage_logs",
        }
    }

    /// The record kind named `name` in the evidence file.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// What the record holds, in one line for reports.
    pub fn description(self) -> &'static str {
        match self {
            Self::InventorySnapshot => {
                "the register's population, with each NHI's sources and provenance"
            }
            Self::Ownership => {
                "declared owners and backup owners, the people directory and departures"
            }
            Self::Declarations => "NHI-as-code declarations and the runs that applied them",
            Self::DiscoveryRuns => "connector runs, with their inputs and hashes",
            Self::SecretScans => "leaked-credential findings, with locations and commits",
            Self::CheckFindings => "posture check findings and their lifecycle",
            Self::Exceptions => {
                "time-bound risk acceptances, with approver and compensating controls"
            }
            Self::Reviews => "review cadence, last-reviewed and due dates",
            Self::Ledger => "the hash-chained, signed ledger of every change",
            Self::UsageLogs => "last-used and human-use signals from cloud and cluster audit logs",
        }
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One NIST CSF 2.0 function, category or subcategory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CsfItem {
    /// The id: `PR` for a function, `PR.AA` for a category, `PR.AA-01` for a subcategory.
    pub id: String,
    /// Which level of the framework the item is.
    pub kind: CsfKind,
    /// The item's text; a category's starts with its name and a colon.
    pub text: String,
}

impl CsfItem {
    /// The function the item belongs to, as in `PR`.
    pub fn function(&self) -> &str {
        self.id.split('.').next().unwrap_or(&self.id)
    }

    /// The category a subcategory belongs to, as in `PR.AA`; `None` for other kinds.
    pub fn category(&self) -> Option<&str> {
        match self.kind {
            CsfKind::Subcategory => self.id.split_once('-').map(|(c, _)| c),
            CsfKind::Function | CsfKind::Category => None,
        }
    }

    /// A short name: a category's or function's name before the colon, or a subcategory's text.
    pub fn name(&self) -> &str {
        match self.kind {
            CsfKind::Subcategory => &self.text,
            CsfKind::Function | CsfKind::Category => self
                .text
                .split_once(": ")
                .map_or(self.text.as_str(), |(n, _)| n),
        }
    }
}

/// The level of a CSF 2.0 item.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum CsfKind {
    /// A function such as `PR` (Protect).
    Function,
    /// A category such as `PR.AA`.
    Category,
    /// A subcategory such as `PR.AA-01`.
    Subcategory,
}

impl CsfKind {
    /// The stable name used in the CSF file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Function => "function",
            Self::Category => "category",
            Self::Subcategory => "subcategory",
        }
    }

    /// The kind named `name` in the CSF file.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Function, Self::Category, Self::Subcategory]
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

impl fmt::Display for CsfKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which Annex A controls and CSF 2.0 subcategories each OWASP NHI risk bears on.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Crosswalk {
    pub(crate) rows: Vec<CrosswalkRow>,
}

/// The crosswalk's row for one OWASP NHI risk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CrosswalkRow {
    /// The risk's full id, as in `NHI1:2025`.
    pub owasp: String,
    /// The Annex A controls the risk bears on.
    pub annex_a: Vec<String>,
    /// The CSF 2.0 items the risk bears on.
    pub csf: Vec<String>,
}

impl Crosswalk {
    /// Every row, in file order.
    pub fn rows(&self) -> &[CrosswalkRow] {
        &self.rows
    }

    /// The row for the risk with full id `owasp_id`.
    pub fn row(&self, owasp_id: &str) -> Option<&CrosswalkRow> {
        self.rows.iter().find(|r| r.owasp == owasp_id)
    }

    /// The full ids of the OWASP risks mapped to Annex A control `annex_id`.
    pub fn risks_for_annex<'a>(&'a self, annex_id: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.rows
            .iter()
            .filter(move |r| r.annex_a.iter().any(|a| a == annex_id))
            .map(|r| r.owasp.as_str())
    }

    /// The full ids of the OWASP risks mapped to CSF item `csf_id`.
    pub fn risks_for_csf<'a>(&'a self, csf_id: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.rows
            .iter()
            .filter(move |r| r.csf.iter().any(|c| c == csf_id))
            .map(|r| r.owasp.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_names_match_serde_and_round_trip() {
        for r in Record::ALL {
            assert_eq!(Record::from_name(r.as_str()), Some(r));
            assert!(!r.description().is_empty());
        }
        assert_eq!(Record::from_name("InventorySnapshot"), None);
    }

    #[test]
    fn themes_follow_clauses() {
        for t in Theme::ALL {
            assert_eq!(Theme::from_clause(t.clause()), Some(t));
        }
        assert_eq!(Theme::from_clause(9), None);
    }

    #[test]
    fn csf_item_names_and_parents() {
        let cat = CsfItem {
            id: "PR.AA".into(),
            kind: CsfKind::Category,
            text: "Identity Management: Access is limited".into(),
        };
        assert_eq!(cat.name(), "Identity Management");
        assert_eq!(cat.function(), "PR");
        assert_eq!(cat.category(), None);
        let sub = CsfItem {
            id: "PR.AA-01".into(),
            kind: CsfKind::Subcategory,
            text: "Identities are managed".into(),
        };
        assert_eq!(sub.category(), Some("PR.AA"));
        assert_eq!(sub.name(), "Identities are managed");
    }
}
