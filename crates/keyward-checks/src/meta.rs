//! Checks' metadata as data: `data/checks/*.yaml` for the built-ins, the same schema for
//! custom checks in `--policies DIR`.

use chrono::{DateTime, Utc};
use keyward_model::{Environment, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::{CheckError, Subject};

/// A parameter's value: a whole number, a flag, a word or a list of words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A whole number (days, bits, counts).
    Int(i64),
    /// A flag.
    Bool(bool),
    /// A word.
    Text(String),
    /// A list of words.
    List(Vec<String>),
}

impl ParamValue {
    /// The name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Int(_) => "a whole number",
            Self::Bool(_) => "true or false",
            Self::Text(_) => "a string",
            Self::List(_) => "a list of strings",
        }
    }

    /// Whether `other` has the same type.
    pub fn same_type(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }

    /// As JSON, for Rego's `data.params` and the run record.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Int(n) => (*n).into(),
            Self::Bool(b) => (*b).into(),
            Self::Text(s) => s.clone().into(),
            Self::List(l) => l.clone().into(),
        }
    }
}

/// A parameter a check takes, with its default and per-environment defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// What it sets.
    pub description: String,
    /// The value everywhere an environment does not override it.
    pub default: ParamValue,
    /// Per-environment defaults (`production: 90`).
    #[serde(default)]
    pub environments: BTreeMap<Environment, ParamValue>,
}

/// What a test case expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// The check passes.
    Pass,
    /// The check fails.
    Fail,
    /// The check does not apply.
    NotApplicable,
}

/// One inline test case: an NHI's facts and the expected result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What it shows.
    pub name: String,
    /// The instant it is judged at (default 2026-06-01T00:00:00Z).
    #[serde(default)]
    pub now: Option<DateTime<Utc>>,
    /// Parameters overriding the check's defaults.
    #[serde(default)]
    pub params: BTreeMap<String, ParamValue>,
    /// The NHI.
    pub subject: Subject,
    /// The expected result.
    pub expect: Expect,
    /// Text the failure's message must contain.
    #[serde(default)]
    pub message_contains: Option<String>,
}

/// One check's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckMeta {
    /// Stable id, lower-case words joined by `-` (`owner-departed`).
    pub id: String,
    /// One line.
    pub title: String,
    /// The OWASP NHI Top 10 (2025) risk (`NHI1` … `NHI10`); absent for governance checks.
    #[serde(default)]
    pub owasp: Option<String>,
    /// Severity of a failure.
    pub severity: Severity,
    /// Why it matters.
    pub rationale: String,
    /// What to do about a failure.
    pub remediation: String,
    /// ISO/IEC 27001:2022 Annex A controls it evidences.
    #[serde(default)]
    pub iso27001: Vec<String>,
    /// NIST CSF 2.0 subcategories it evidences.
    #[serde(default)]
    pub nist_csf: Vec<String>,
    /// Parameters and their defaults.
    #[serde(default)]
    pub parameters: BTreeMap<String, ParamSpec>,
    /// Inline test cases.
    #[serde(default)]
    pub cases: Vec<Case>,
    /// For a custom check: the Rego module, relative to the metadata file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rego: Option<String>,
}

/// A check file: a list of checks.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckFile {
    pub(crate) checks: Vec<CheckMeta>,
}

/// Parses one check file; `origin` names it in errors.
pub(crate) fn parse_file(origin: &str, text: &str) -> Result<Vec<(CheckMeta, usize)>, CheckError> {
    let file: CheckFile = serde_saphyr::from_str(text).map_err(|e| {
        let (line, reason) = keyward_manifest::located(&e.to_string());
        CheckError::Data {
            file: origin.to_owned(),
            line,
            field: String::new(),
            reason,
        }
    })?;
    let mut out = Vec::with_capacity(file.checks.len());
    for meta in file.checks {
        let line = keyward_manifest::id_line(text, &meta.id);
        validate(origin, line, &meta)?;
        out.push((meta, line));
    }
    Ok(out)
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn validate(origin: &str, line: usize, m: &CheckMeta) -> Result<(), CheckError> {
    let bad = |field: &str, reason: String| CheckError::Data {
        file: origin.to_owned(),
        line,
        field: format!("{}.{field}", m.id),
        reason,
    };
    if !is_id(&m.id) {
        return Err(bad(
            "id",
            format!(
                "`{}` is not a check id (lower-case words joined by `-`)",
                m.id
            ),
        ));
    }
    if m.title.trim().is_empty() || m.rationale.trim().is_empty() || m.remediation.trim().is_empty()
    {
        return Err(bad(
            "title",
            "a check needs a title, a rationale and a remediation".into(),
        ));
    }
    if let Some(o) = &m.owasp {
        let known = o
            .strip_prefix("NHI")
            .and_then(|n| n.parse::<u8>().ok())
            .is_some_and(|n| (1..=10).contains(&n));
        if !known {
            return Err(bad(
                "owasp",
                format!("`{o}` is not an OWASP NHI Top 10 risk (NHI1 … NHI10)"),
            ));
        }
    }
    for id in &m.iso27001 {
        if !keyward_catalog_ids::is_annex_a(id) {
            return Err(bad(
                "iso27001",
                format!("`{id}` is not an ISO/IEC 27001:2022 Annex A control"),
            ));
        }
    }
    for id in &m.nist_csf {
        if !keyward_catalog_ids::is_csf_subcategory(id) {
            return Err(bad(
                "nist_csf",
                format!("`{id}` is not a NIST CSF 2.0 subcategory"),
            ));
        }
    }
    for (name, spec) in &m.parameters {
        for (env, v) in &spec.environments {
            if !v.same_type(&spec.default) {
                return Err(bad(
                    &format!("parameters.{name}.environments.{env}"),
                    format!("must be {} like the default", spec.default.type_name()),
                ));
            }
        }
    }
    for case in &m.cases {
        for (name, v) in &case.params {
            match m.parameters.get(name) {
                None => {
                    return Err(bad(
                        "cases",
                        format!("case `{}` sets unknown parameter `{name}`", case.name),
                    ));
                }
                Some(spec) if !spec.default.same_type(v) => {
                    return Err(bad(
                        "cases",
                        format!(
                            "case `{}` sets `{name}` to {}, expected {}",
                            case.name,
                            v.type_name(),
                            spec.default.type_name()
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// Control ids checked against the embedded catalogues.
mod keyward_catalog_ids {
    use keyward_catalog::{Catalog, CsfKind, Framework};

    pub(super) fn is_annex_a(id: &str) -> bool {
        Catalog::embedded().is_ok_and(|c| c.is_known(Framework::Iso27001, id))
    }

    pub(super) fn is_csf_subcategory(id: &str) -> bool {
        Catalog::embedded().is_ok_and(|c| {
            c.csf_item(id)
                .is_some_and(|i| i.kind == CsfKind::Subcategory)
        })
    }
}
