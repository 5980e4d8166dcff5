//! One YAML file's documents, checked field by field into [`DeclaredNhi`]s.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use keyward_model::{Cadence, DeclaredNhi, Environment, NhiKind, NhiStatus, OwnerRef};
use saphyr_parser::ScalarStyle;

use crate::error::ManifestError;
use crate::fast;
use crate::scalar;
use crate::tree::{self, Kind, Node};

/// The only `apiVersion` this reader understands.
pub const API_VERSION: &str = "keyward/v1";
/// The only document `kind` this reader understands.
pub const DOCUMENT_KIND: &str = "NonHumanIdentity";

const TOP_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];
const METADATA_FIELDS: &[&str] = &["name", "labels"];
const SPEC_FIELDS: &[&str] = &[
    "kind",
    "provider",
    "externalId",
    "environment",
    "owner",
    "backupOwner",
    "purpose",
    "privilegeCeiling",
    "expires",
    "reviewEvery",
    "supplier",
    "status",
    "created",
    "lastRotated",
    "lastReviewed",
];

/// What one non-empty document yielded.
#[derive(Debug)]
pub(crate) struct ParsedDoc {
    /// The declaration, or what an invalid document still says about its identity.
    pub outcome: Outcome,
    /// The line of `metadata.name`'s value.
    pub name_line: usize,
    /// The line of `spec.externalId`'s value.
    pub external_id_line: usize,
}

/// A document's result.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "nearly every document is valid; boxing would cost an allocation each"
)]
pub(crate) enum Outcome {
    /// The document had no error.
    Valid(DeclaredNhi),
    /// The document had errors; what it validly says is kept for duplicate checks.
    Invalid(Partial),
}

/// The identifying parts of a document that had errors.
#[derive(Debug)]
pub(crate) struct Partial {
    /// `file:line` of the document's start.
    pub source: String,
    /// A valid `metadata.name`.
    pub name: Option<String>,
    /// A valid provider and external id.
    pub external_id: Option<(String, String)>,
}

impl ParsedDoc {
    /// `file:line` of the document's start.
    pub fn source(&self) -> &str {
        match &self.outcome {
            Outcome::Valid(n) => &n.source,
            Outcome::Invalid(p) => &p.source,
        }
    }

    /// The valid `metadata.name`, if any.
    pub fn name(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Valid(n) => Some(&n.name),
            Outcome::Invalid(p) => p.name.as_deref(),
        }
    }

    /// The valid provider and external id, if any.
    pub fn external_id(&self) -> Option<(&str, &str)> {
        match &self.outcome {
            Outcome::Valid(n) => n.external_id.as_deref().map(|id| (n.provider.as_str(), id)),
            Outcome::Invalid(p) => p
                .external_id
                .as_ref()
                .map(|(p, id)| (p.as_str(), id.as_str())),
        }
    }
}

/// What `spec` yielded.
struct SpecOut {
    /// The declaration without name, labels and source, when kind and provider are valid.
    nhi: Option<DeclaredNhi>,
    /// The provider and external id when `nhi` could not be built.
    loose_external_id: Option<(String, String)>,
    external_id_line: usize,
}

/// What one file yielded: its non-empty documents and every error found in it.
#[derive(Debug, Default)]
pub(crate) struct ParsedFile {
    pub docs: Vec<ParsedDoc>,
    pub errors: Vec<ManifestError>,
    /// Per document, the hashes of its name and of its provider and external id, once computed.
    pub key_hashes: Vec<(Option<u64>, Option<u64>)>,
}

/// Parses and checks every document of one file; never stops at the first error.
pub(crate) fn parse_file(file: &str, text: &str) -> ParsedFile {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut ctx = Ctx {
        file,
        errors: Vec::new(),
    };
    let fast = if use_fast_path() {
        fast::load(text)
    } else {
        None
    };
    let docs = match fast.map_or_else(|| tree::load(text), Ok) {
        Ok(docs) => docs,
        Err(e) => {
            ctx.err(
                e.marker().line().max(1),
                "",
                format!("invalid YAML: {}", e.info()),
            );
            return ParsedFile {
                errors: ctx.errors,
                ..ParsedFile::default()
            };
        }
    };
    let docs = docs.iter().filter_map(|d| ctx.document(d)).collect();
    ParsedFile {
        docs,
        errors: ctx.errors,
        key_hashes: Vec::new(),
    }
}

#[cfg(not(test))]
fn use_fast_path() -> bool {
    true
}

#[cfg(test)]
thread_local! {
    /// Lets tests run every case through saphyr as well as the fast path.
    static FAST_PATH: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

#[cfg(test)]
fn use_fast_path() -> bool {
    FAST_PATH.with(std::cell::Cell::get)
}

/// A node's value, typed the way the schema needs it.
enum Value<'a> {
    Null,
    Text(&'a str),
    List(&'a [Node<'a>]),
    Map(&'a [(Node<'a>, Node<'a>)]),
}

impl Value<'_> {
    fn describe(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Text(_) => "a string",
            Value::List(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

fn line(node: &Node<'_>) -> usize {
    node.line.max(1)
}

/// Types a node: plain `null`, `~` and nothing are null; every other scalar is its text, so
/// numbers and booleans given where a string is expected keep the form they were written in.
fn value<'a>(node: &'a Node<'a>) -> Result<Value<'a>, String> {
    let mut forced = None;
    if let Some(tag) = &node.tag {
        if !tag.is_yaml_core_schema() {
            return Err(format!("tag `{tag}` is not supported"));
        }
        forced = Some(tag.suffix.as_str());
    }
    Ok(match &node.kind {
        Kind::Scalar(_, _) if forced == Some("null") => Value::Null,
        Kind::Scalar(text, _) if forced == Some("str") => Value::Text(text),
        Kind::Scalar(text, ScalarStyle::Plain)
            if matches!(&**text, "" | "~" | "null" | "Null" | "NULL") =>
        {
            Value::Null
        }
        Kind::Scalar(text, _) => Value::Text(text),
        Kind::Seq(items) => Value::List(items),
        Kind::Map(entries) => Value::Map(entries),
    })
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// A known field found in a mapping.
#[derive(Clone, Copy)]
struct Entry<'a> {
    key_line: usize,
    node: &'a Node<'a>,
}

/// The known fields of one mapping, in the order of the schema's list.
struct Fields<'a> {
    known: &'static [&'static str],
    found: Vec<Option<Entry<'a>>>,
}

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> Option<Entry<'a>> {
        let i = self.known.iter().position(|k| *k == name)?;
        self.found.get(i).copied().flatten()
    }

    fn first_line(&self) -> Option<usize> {
        self.found.iter().flatten().map(|e| e.key_line).min()
    }
}

struct Ctx<'f> {
    file: &'f str,
    errors: Vec<ManifestError>,
}

impl Ctx<'_> {
    fn err(&mut self, line: usize, field: &str, reason: impl Into<String>) {
        self.errors
            .push(ManifestError::new(self.file, line, field, reason));
    }

    /// Sorts a mapping's keys into known fields, reporting unknown and repeated ones.
    fn fields<'a>(
        &mut self,
        map: &'a [(Node<'a>, Node<'a>)],
        path: &str,
        known: &'static [&'static str],
    ) -> Fields<'a> {
        let mut found = vec![None; known.len()];
        for (k, v) in map {
            let key_line = line(k);
            let name = match value(k) {
                Ok(Value::Text(t)) => t,
                Ok(other) => {
                    self.err(
                        key_line,
                        path,
                        format!("keys must be strings, found {}", other.describe()),
                    );
                    continue;
                }
                Err(reason) => {
                    self.err(key_line, path, reason);
                    continue;
                }
            };
            let Some(i) = known.iter().position(|f| *f == name) else {
                self.err(
                    key_line,
                    &join(path, name),
                    format!("unknown field (expected one of: {})", known.join(", ")),
                );
                continue;
            };
            match found.get_mut(i) {
                Some(Some(Entry {
                    key_line: first, ..
                })) => {
                    let first = *first;
                    self.err(
                        key_line,
                        &join(path, name),
                        format!("repeated field (first given at line {first})"),
                    );
                }
                Some(slot) => {
                    *slot = Some(Entry { key_line, node: v });
                }
                None => {}
            }
        }
        Fields { known, found }
    }

    /// A string field; `None` when absent, null, or wrong (reported).
    fn text(&mut self, entry: Option<Entry<'_>>, field: &str) -> Option<String> {
        let entry = entry?;
        match value(entry.node) {
            Ok(Value::Null) => None,
            Ok(Value::Text(t)) if t.trim().is_empty() => {
                self.err(line(entry.node), field, "must not be empty");
                None
            }
            Ok(Value::Text(t)) => Some(t.to_owned()),
            Ok(other) => {
                self.err(
                    line(entry.node),
                    field,
                    format!("expected a string, found {}", other.describe()),
                );
                None
            }
            Err(reason) => {
                self.err(line(entry.node), field, reason);
                None
            }
        }
    }

    /// A string field that must be present: missing is reported at `parent_line`.
    fn required(
        &mut self,
        entry: Option<Entry<'_>>,
        field: &str,
        parent_line: usize,
    ) -> Option<String> {
        match entry {
            Some(e) if !matches!(value(e.node), Ok(Value::Null)) => self.text(entry, field),
            Some(e) => {
                self.err(e.key_line, field, "required field is missing");
                None
            }
            None => {
                self.err(parent_line, field, "required field is missing");
                None
            }
        }
    }

    /// A string field converted by `parse`, whose error text becomes the reason.
    fn parsed<T, E: Display>(
        &mut self,
        entry: Option<Entry<'_>>,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let text = self.text(entry, field)?;
        match parse(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                let at = entry.map_or(0, |e| line(e.node));
                self.err(at, field, e.to_string());
                None
            }
        }
    }

    fn enumeration<T: FromStr<Err = E>, E: Display>(
        &mut self,
        entry: Option<Entry<'_>>,
        field: &str,
    ) -> Option<T> {
        self.parsed(entry, field, str::parse::<T>)
    }

    fn instant(&mut self, entry: Option<Entry<'_>>, field: &str) -> Option<DateTime<Utc>> {
        self.parsed(entry, field, |s| {
            scalar::parse_instant(s).ok_or_else(|| {
                format!("`{s}` is not a date (expected YYYY-MM-DD or an RFC 3339 timestamp)")
            })
        })
    }

    fn mapping<'a>(
        &mut self,
        entry: Option<Entry<'a>>,
        field: &str,
    ) -> Option<&'a [(Node<'a>, Node<'a>)]> {
        let entry = entry?;
        match value(entry.node) {
            Ok(Value::Map(m)) => Some(m),
            Ok(Value::Null) => None,
            Ok(other) => {
                self.err(
                    line(entry.node),
                    field,
                    format!("expected a mapping, found {}", other.describe()),
                );
                None
            }
            Err(reason) => {
                self.err(line(entry.node), field, reason);
                None
            }
        }
    }

    /// Checks one document; `None` for an empty one.
    fn document(&mut self, doc: &Node<'_>) -> Option<ParsedDoc> {
        let errors_before = self.errors.len();
        let doc_line = line(doc);
        let invalid = |source: String| ParsedDoc {
            outcome: Outcome::Invalid(Partial {
                source,
                name: None,
                external_id: None,
            }),
            name_line: 0,
            external_id_line: 0,
        };
        let map = match value(doc) {
            Ok(Value::Null) => return None,
            Ok(Value::Map(m)) => m,
            Ok(other) => {
                self.err(
                    doc_line,
                    "",
                    format!("a document must be a mapping, found {}", other.describe()),
                );
                return Some(invalid(format!("{}:{doc_line}", self.file)));
            }
            Err(reason) => {
                self.err(doc_line, "", reason);
                return Some(invalid(format!("{}:{doc_line}", self.file)));
            }
        };
        let top = self.fields(map, "", TOP_FIELDS);
        let doc_line = top
            .get("apiVersion")
            .map(|e| e.key_line)
            .or_else(|| top.first_line())
            .unwrap_or(doc_line);
        let source = format!("{}:{doc_line}", self.file);

        // A document of another version or kind follows another schema: checking its body
        // against this one would only bury the real problem.
        let mut header_ok = true;
        for (field, expected) in [("apiVersion", API_VERSION), ("kind", DOCUMENT_KIND)] {
            let entry = top.get(field);
            match self.required(entry, field, doc_line) {
                Some(v) if v == expected => {}
                Some(v) => {
                    let at = entry.map_or(doc_line, |e| line(e.node));
                    self.err(
                        at,
                        field,
                        format!("`{v}` is not supported (expected `{expected}`)"),
                    );
                    header_ok = false;
                }
                None => header_ok = false,
            }
        }
        if !header_ok {
            return Some(invalid(source));
        }

        let (name, name_line, labels) = self.metadata(top.get("metadata"), doc_line);
        let spec = self.spec(top.get("spec"), doc_line);
        let clean = self.errors.len() == errors_before;
        let outcome = match (clean, name, labels, spec.nhi) {
            (true, Some(name), Some(labels), Some(mut nhi)) => {
                nhi.name = name;
                nhi.labels = labels;
                nhi.source = source;
                Outcome::Valid(nhi)
            }
            (_, name, _, nhi) => Outcome::Invalid(Partial {
                source,
                name,
                external_id: spec
                    .loose_external_id
                    .or_else(|| nhi.and_then(|n| Some((n.provider, n.external_id?)))),
            }),
        };
        Some(ParsedDoc {
            outcome,
            name_line,
            external_id_line: spec.external_id_line,
        })
    }

    /// Checks `metadata`: the valid name, its line, and the valid labels.
    fn metadata(
        &mut self,
        entry: Option<Entry<'_>>,
        doc_line: usize,
    ) -> (Option<String>, usize, Option<BTreeMap<String, String>>) {
        let Some(map) = self.mapping(entry, "metadata") else {
            if entry.is_none() || matches!(entry.map(|e| value(e.node)), Some(Ok(Value::Null))) {
                let at = entry.map_or(doc_line, |e| e.key_line);
                self.err(at, "metadata", "required field is missing");
            }
            return (None, 0, None);
        };
        let meta_line = entry.map_or(doc_line, |e| e.key_line);
        let fields = self.fields(map, "metadata", METADATA_FIELDS);

        let name_entry = fields.get("name");
        let name_line = name_entry.map_or(meta_line, |e| line(e.node));
        let name = self
            .required(name_entry, "metadata.name", meta_line)
            .and_then(|n| {
                if scalar::is_declaration_name(&n) {
                    Some(n)
                } else {
                    self.err(
                        name_line,
                        "metadata.name",
                        format!(
                            "`{n}` is not a valid name (expected at most 253 lower-case letters, \
                             digits, `-` and `.`, starting and ending with a letter or digit)"
                        ),
                    );
                    None
                }
            });

        let labels = self.labels(fields.get("labels"));
        (name, name_line, labels)
    }

    fn labels(&mut self, entry: Option<Entry<'_>>) -> Option<BTreeMap<String, String>> {
        let mut labels = BTreeMap::new();
        let Some(map) = self.mapping(entry, "metadata.labels") else {
            return Some(labels);
        };
        let mut ok = true;
        let mut first_lines = HashMap::new();
        for (k, v) in map {
            let key = match value(k) {
                Ok(Value::Text(t)) if scalar::is_label_key(t) => t,
                Ok(Value::Text(t)) => {
                    self.err(
                        line(k),
                        &format!("metadata.labels.{t}"),
                        format!(
                            "`{t}` is not a valid label key (letters, digits, `.`, `_`, `/` and `-`)"
                        ),
                    );
                    ok = false;
                    continue;
                }
                Ok(other) => {
                    self.err(
                        line(k),
                        "metadata.labels",
                        format!("label keys must be strings, found {}", other.describe()),
                    );
                    ok = false;
                    continue;
                }
                Err(reason) => {
                    self.err(line(k), "metadata.labels", reason);
                    ok = false;
                    continue;
                }
            };
            // Named only for a message: most labels have none.
            let field = || format!("metadata.labels.{key}");
            if let Some(first) = first_lines.insert(key, line(k)) {
                self.err(
                    line(k),
                    &field(),
                    format!("repeated label (first given at line {first})"),
                );
                ok = false;
                continue;
            }
            match value(v) {
                Ok(Value::Text(t)) => {
                    labels.insert(key.to_owned(), t.to_owned());
                }
                // The key's line: an empty value has no line of its own.
                Ok(other) => {
                    self.err(
                        line(k),
                        &field(),
                        format!("expected a string, found {}", other.describe()),
                    );
                    ok = false;
                }
                Err(reason) => {
                    self.err(line(k), &field(), reason);
                    ok = false;
                }
            }
        }
        ok.then_some(labels)
    }

    /// Checks `spec`.
    fn spec(&mut self, entry: Option<Entry<'_>>, doc_line: usize) -> SpecOut {
        let Some(map) = self.mapping(entry, "spec") else {
            if entry.is_none() || matches!(entry.map(|e| value(e.node)), Some(Ok(Value::Null))) {
                let at = entry.map_or(doc_line, |e| e.key_line);
                self.err(at, "spec", "required field is missing");
            }
            return SpecOut {
                nhi: None,
                loose_external_id: None,
                external_id_line: 0,
            };
        };
        let spec_line = entry.map_or(doc_line, |e| e.key_line);
        let f = self.fields(map, "spec", SPEC_FIELDS);

        let kind = match f.get("kind") {
            Some(e) if !matches!(value(e.node), Ok(Value::Null)) => {
                self.enumeration::<NhiKind, _>(Some(e), "spec.kind")
            }
            e => {
                let at = e.map_or(spec_line, |e| e.key_line);
                self.err(at, "spec.kind", "required field is missing");
                None
            }
        };

        let provider_entry = f.get("provider");
        let provider = self
            .required(provider_entry, "spec.provider", spec_line)
            .and_then(|p| {
                let p = p.trim().to_owned();
                if scalar::is_provider(&p) {
                    Some(p)
                } else {
                    let at = provider_entry.map_or(spec_line, |e| line(e.node));
                    self.err(
                        at,
                        "spec.provider",
                        format!(
                            "`{p}` is not a valid provider (expected lower-case letters, digits, `.`, `_` and `-`)"
                        ),
                    );
                    None
                }
            });

        let external_entry = f.get("externalId");
        let external_id = self.text(external_entry, "spec.externalId");
        let external_id_line = external_entry.map_or(0, |e| line(e.node));

        let environment = self
            .enumeration::<Environment, _>(f.get("environment"), "spec.environment")
            .unwrap_or(Environment::Unknown);
        let owner = self.parsed(f.get("owner"), "spec.owner", OwnerRef::parse);
        let backup_entry = f.get("backupOwner");
        let backup_owner = self.parsed(backup_entry, "spec.backupOwner", OwnerRef::parse);
        match (&owner, &backup_owner, backup_entry) {
            (Some(o), Some(b), Some(e)) if o == b => self.err(
                line(e.node),
                "spec.backupOwner",
                format!("`{b}` is also the owner (a backup owner must be someone else)"),
            ),
            _ => {}
        }
        let purpose = self.text(f.get("purpose"), "spec.purpose");
        let privilege_ceiling = self.ceiling(f.get("privilegeCeiling"));
        let expires_at = self.instant(f.get("expires"), "spec.expires");
        let review_every = self.parsed(
            f.get("reviewEvery"),
            "spec.reviewEvery",
            str::parse::<Cadence>,
        );
        let supplier = self.text(f.get("supplier"), "spec.supplier");
        let status = self
            .enumeration::<NhiStatus, _>(f.get("status"), "spec.status")
            .unwrap_or(NhiStatus::Active);
        let created_at = self.instant(f.get("created"), "spec.created");
        let last_rotated_at = self.instant(f.get("lastRotated"), "spec.lastRotated");
        let last_reviewed_at = self.instant(f.get("lastReviewed"), "spec.lastReviewed");

        let (kind, provider) = match (kind, provider) {
            (Some(kind), Some(provider)) => (kind, provider),
            (_, provider) => {
                return SpecOut {
                    nhi: None,
                    loose_external_id: provider.zip(external_id),
                    external_id_line,
                };
            }
        };
        let nhi = DeclaredNhi {
            name: String::new(),
            labels: BTreeMap::new(),
            kind,
            provider,
            external_id,
            environment,
            owner,
            backup_owner,
            purpose,
            privilege_ceiling,
            expires_at,
            review_every,
            supplier,
            status,
            created_at,
            last_rotated_at,
            last_reviewed_at,
            source: String::new(),
        };
        SpecOut {
            nhi: Some(nhi),
            loose_external_id: None,
            external_id_line,
        }
    }

    /// `spec.privilegeCeiling`: non-empty strings, sorted and de-duplicated.
    fn ceiling(&mut self, entry: Option<Entry<'_>>) -> Vec<String> {
        const FIELD: &str = "spec.privilegeCeiling";
        let Some(entry) = entry else {
            return Vec::new();
        };
        let items = match value(entry.node) {
            Ok(Value::List(items)) => items,
            Ok(Value::Null) => return Vec::new(),
            Ok(other) => {
                self.err(
                    line(entry.node),
                    FIELD,
                    format!("expected a list of strings, found {}", other.describe()),
                );
                return Vec::new();
            }
            Err(reason) => {
                self.err(line(entry.node), FIELD, reason);
                return Vec::new();
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let field = || format!("{FIELD}[{i}]");
            match value(item) {
                Ok(Value::Text(t)) if !t.trim().is_empty() => out.push(t.to_owned()),
                Ok(Value::Text(_)) => self.err(line(item), &field(), "must not be empty"),
                Ok(other) => self.err(
                    line(item),
                    &field(),
                    format!("expected a string, found {}", other.describe()),
                ),
                Err(reason) => self.err(line(item), &field(), reason),
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_str;

    const EXAMPLE: &str = "\
apiVersion: keyward/v1
kind: NonHumanIdentity
metadata:
  name: payments-ci-deployer          # required
  labels: {team: payments}
spec:
  kind: iam_user
  provider: aws
  externalId: arn:aws:iam::123456789012:user/payments-ci
  environment: production
  owner: alice@example.com
  backupOwner: team:payments
  purpose: Deploys the payments service from CI
  privilegeCeiling: [\"s3:PutObject\", \"ecs:UpdateService\"]
  expires: 2027-03-31
  reviewEvery: 90d
  supplier: null
  status: active
  created: 2025-01-10
  lastRotated: 2026-09-01
  lastReviewed: 2026-10-01
";

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    /// Parses `text` as `a.yaml` with and without the fast path, checking they agree.
    fn parse(text: &str) -> Result<Vec<DeclaredNhi>, Vec<String>> {
        let run = |fast: bool| {
            FAST_PATH.with(|f| f.set(fast));
            let result = parse_str("a.yaml", text)
                .map_err(|e| e.0.iter().map(ToString::to_string).collect::<Vec<_>>());
            FAST_PATH.with(|f| f.set(true));
            result
        };
        let fast = run(true);
        assert_eq!(
            fast,
            run(false),
            "fast path and saphyr disagree on {text:?}"
        );
        fast
    }

    /// The errors of parsing `text` as `a.yaml`, one string each.
    fn errors(text: &str) -> Vec<String> {
        parse(text).unwrap_err()
    }

    /// The example with `from` replaced by `to`.
    fn example_with(from: &str, to: &str) -> String {
        assert!(EXAMPLE.contains(from), "{from}");
        EXAMPLE.replacen(from, to, 1)
    }

    #[test]
    fn the_example_parses_field_by_field() {
        let nhis = parse_str("teams/payments.yaml", EXAMPLE).unwrap();
        assert_eq!(nhis.len(), 1);
        let n = &nhis[0];
        let expected = DeclaredNhi {
            name: "payments-ci-deployer".into(),
            labels: BTreeMap::from([("team".into(), "payments".into())]),
            kind: NhiKind::IamUser,
            provider: "aws".into(),
            external_id: Some("arn:aws:iam::123456789012:user/payments-ci".into()),
            environment: Environment::Production,
            owner: Some(OwnerRef::Person("alice@example.com".into())),
            backup_owner: Some(OwnerRef::Team("payments".into())),
            purpose: Some("Deploys the payments service from CI".into()),
            privilege_ceiling: vec!["ecs:UpdateService".into(), "s3:PutObject".into()],
            expires_at: Some(at("2027-03-31T00:00:00Z")),
            review_every: Cadence::from_days(90),
            supplier: None,
            status: NhiStatus::Active,
            created_at: Some(at("2025-01-10T00:00:00Z")),
            last_rotated_at: Some(at("2026-09-01T00:00:00Z")),
            last_reviewed_at: Some(at("2026-10-01T00:00:00Z")),
            source: "teams/payments.yaml:1".into(),
        };
        assert_eq!(*n, expected);
    }

    #[test]
    fn minimal_document_takes_defaults() {
        let text = "apiVersion: keyward/v1\nkind: NonHumanIdentity\nmetadata:\n  name: x\nspec:\n  kind: bot\n  provider: ' slack '\n";
        let n = &parse(text).unwrap()[0];
        assert_eq!(n.provider, "slack");
        assert_eq!(n.environment, Environment::Unknown);
        assert_eq!(n.status, NhiStatus::Active);
        assert!(n.labels.is_empty() && n.privilege_ceiling.is_empty());
        assert_eq!(
            (n.owner.as_ref(), n.expires_at, n.review_every),
            (None, None, None)
        );
    }

    #[test]
    fn scalars_keep_their_written_form_and_timestamps_are_accepted() {
        let text = example_with(
            "externalId: arn:aws:iam::123456789012:user/payments-ci",
            "externalId: 012345678901",
        )
        .replace(
            "labels: {team: payments}",
            "labels: {cost-centre: 0042, public: true}",
        )
        .replace("expires: 2027-03-31", "expires: 2027-03-31T12:30:00+02:00")
        .replace(
            "privilegeCeiling: [\"s3:PutObject\", \"ecs:UpdateService\"]",
            "privilegeCeiling: [b, a, b, 7]",
        );
        let n = &parse(&text).unwrap()[0];
        assert_eq!(n.external_id.as_deref(), Some("012345678901"));
        assert_eq!(n.labels["cost-centre"], "0042");
        assert_eq!(n.labels["public"], "true");
        assert_eq!(n.expires_at, Some(at("2027-03-31T10:30:00Z")));
        assert_eq!(n.privilege_ceiling, ["7", "a", "b"]);
    }

    #[test]
    fn multiple_documents_and_empty_ones() {
        let text = format!(
            "# only a comment\n---\n{}---\n# nothing here\n---\n{}...\n---\n",
            EXAMPLE,
            EXAMPLE
                .replace("payments-ci-deployer", "second")
                .replace("user/payments-ci", "user/second"),
        );
        let nhis = parse(&text).unwrap();
        let names: Vec<_> = nhis.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["payments-ci-deployer", "second"]);
        assert_eq!(nhis[0].source, "a.yaml:3");
        assert_eq!(nhis[1].source, "a.yaml:27");
        assert_eq!(parse("").unwrap(), []);
        assert_eq!(parse("# nothing\n---\n~\n").unwrap(), []);
    }

    #[test]
    fn syntax_errors_carry_the_line() {
        let text = example_with("  provider: aws\n", "  provider: aws\n  owner: [unclosed\n");
        let errs = errors(&text);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].starts_with("a.yaml:10: invalid YAML: "), "{errs:?}");

        let text = example_with("  provider: aws\n", "  provider: aws\n  'provider': gcp\n")
            .replace(
                "labels: {team: payments}",
                "labels: {team: payments, team: x}",
            );
        assert_eq!(
            errors(&text),
            [
                "a.yaml:5: metadata.labels.team: repeated label (first given at line 5)",
                "a.yaml:9: spec.provider: repeated field (first given at line 8)",
            ]
        );
    }

    #[test]
    fn unknown_fields_at_every_level() {
        let text = example_with(
            "kind: NonHumanIdentity\n",
            "kind: NonHumanIdentity\nstatus: x\n",
        )
        .replace(
            "  name: payments-ci-deployer",
            "  name: payments-ci-deployer\n  namespace: x",
        )
        .replace("  environment: production", "  enviroment: production");
        assert_eq!(
            errors(&text),
            [
                "a.yaml:3: status: unknown field (expected one of: apiVersion, kind, metadata, spec)",
                "a.yaml:6: metadata.namespace: unknown field (expected one of: name, labels)",
                "a.yaml:12: spec.enviroment: unknown field (expected one of: kind, provider, \
                 externalId, environment, owner, backupOwner, purpose, privilegeCeiling, expires, \
                 reviewEvery, supplier, status, created, lastRotated, lastReviewed)",
            ]
        );
    }

    #[test]
    fn bad_and_impossible_dates() {
        let text = example_with("expires: 2027-03-31", "expires: 2027-13-01")
            .replace("created: 2025-01-10", "created: 2027-02-30")
            .replace("lastReviewed: 2026-10-01", "lastReviewed: yesterday");
        assert_eq!(
            errors(&text),
            [
                "a.yaml:15: spec.expires: `2027-13-01` is not a date (expected YYYY-MM-DD or an RFC 3339 timestamp)",
                "a.yaml:19: spec.created: `2027-02-30` is not a date (expected YYYY-MM-DD or an RFC 3339 timestamp)",
                "a.yaml:21: spec.lastReviewed: `yesterday` is not a date (expected YYYY-MM-DD or an RFC 3339 timestamp)",
            ]
        );
    }

    #[test]
    fn unknown_enum_values_reuse_the_model_text() {
        let text = example_with("kind: iam_user", "kind: robot")
            .replace("environment: production", "environment: prod")
            .replace("status: active", "status: gone");
        let errs = errors(&text);
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].starts_with(
            "a.yaml:7: spec.kind: `robot` is not a valid kind (expected one of: service_account, iam_user,"
        ));
        assert_eq!(
            errs[1],
            "a.yaml:10: spec.environment: `prod` is not a valid environment (expected one of: production, staging, development, test, unknown)"
        );
        assert_eq!(
            errs[2],
            "a.yaml:18: spec.status: `gone` is not a valid status (expected one of: active, disabled, revoked, retired)"
        );
    }

    #[test]
    fn wrong_api_version_or_kind_stops_the_document() {
        let text = example_with("apiVersion: keyward/v1", "apiVersion: keyward/v2")
            .replace("kind: NonHumanIdentity", "kind: Deployment")
            .replace("kind: iam_user", "kind: robot");
        assert_eq!(
            errors(&text),
            [
                "a.yaml:1: apiVersion: `keyward/v2` is not supported (expected `keyward/v1`)",
                "a.yaml:2: kind: `Deployment` is not supported (expected `NonHumanIdentity`)",
            ]
        );
        assert_eq!(
            errors("metadata: {name: x}\n"),
            [
                "a.yaml:1: apiVersion: required field is missing",
                "a.yaml:1: kind: required field is missing",
            ]
        );
    }

    #[test]
    fn wrong_types() {
        let text = example_with(
            "owner: alice@example.com",
            "owner: {email: alice@example.com}",
        )
        .replace(
            "purpose: Deploys the payments service from CI",
            "purpose: [a, b]",
        )
        .replace("reviewEvery: 90d", "reviewEvery: 90x")
        .replace(
            "privilegeCeiling: [\"s3:PutObject\", \"ecs:UpdateService\"]",
            "privilegeCeiling: s3:PutObject",
        )
        .replace("labels: {team: payments}", "labels: {team: [payments]}");
        assert_eq!(
            errors(&text),
            [
                "a.yaml:5: metadata.labels.team: expected a string, found a list",
                "a.yaml:11: spec.owner: expected a string, found a mapping",
                "a.yaml:13: spec.purpose: expected a string, found a list",
                "a.yaml:14: spec.privilegeCeiling: expected a list of strings, found a string",
                "a.yaml:16: spec.reviewEvery: `90x` is not a review cadence (expected a number of days, weeks, months or years such as `90d`, `12w`, `6m`, `1y`; at most 5 years)",
            ]
        );
        assert_eq!(
            errors("- a\n- b\n"),
            ["a.yaml:1: a document must be a mapping, found a list"]
        );
        assert_eq!(
            errors(&example_with("spec:\n", "spec: nope\nx:\n")),
            [
                "a.yaml:6: spec: expected a mapping, found a string",
                "a.yaml:7: x: unknown field (expected one of: apiVersion, kind, metadata, spec)",
            ]
        );
    }

    #[test]
    fn label_problems() {
        let text = example_with(
            "  labels: {team: payments}\n",
            "  labels:\n    team:\n    bad key: x\n    tier: {a: b}\n",
        );
        assert_eq!(
            errors(&text),
            [
                "a.yaml:6: metadata.labels.team: expected a string, found null",
                "a.yaml:7: metadata.labels.bad key: `bad key` is not a valid label key (letters, digits, `.`, `_`, `/` and `-`)",
                "a.yaml:8: metadata.labels.tier: expected a string, found a mapping",
            ]
        );
    }

    #[test]
    fn owners() {
        let text = example_with("owner: alice@example.com", "owner: alice");
        assert_eq!(
            errors(&text),
            ["a.yaml:11: spec.owner: `alice` is not an email address or `team:<name>`"]
        );
        let text = example_with(
            "backupOwner: team:payments",
            "backupOwner: Alice@Example.com",
        );
        assert_eq!(
            errors(&text),
            [
                "a.yaml:12: spec.backupOwner: `alice@example.com` is also the owner (a backup owner must be someone else)"
            ]
        );
    }

    #[test]
    fn required_and_empty_values() {
        let text = example_with(
            "  name: payments-ci-deployer          # required\n",
            "  name: ''\n",
        )
        .replace("  kind: iam_user\n", "")
        .replace("provider: aws", "provider: AWS")
        .replace(
            "externalId: arn:aws:iam::123456789012:user/payments-ci",
            "externalId:",
        );
        assert_eq!(
            errors(&text),
            [
                "a.yaml:4: metadata.name: must not be empty",
                "a.yaml:6: spec.kind: required field is missing",
                "a.yaml:7: spec.provider: `AWS` is not a valid provider (expected lower-case letters, digits, `.`, `_` and `-`)",
            ]
        );
        assert_eq!(
            errors(&example_with("payments-ci-deployer", "Payments_CI")),
            [
                "a.yaml:4: metadata.name: `Payments_CI` is not a valid name (expected at most 253 lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit)"
            ]
        );
    }

    #[test]
    fn tags_and_quoted_nulls() {
        let text = example_with("supplier: null", "supplier: 'null'");
        assert_eq!(parse(&text).unwrap()[0].supplier.as_deref(), Some("null"));
        let text = example_with("supplier: null", "supplier: !!str 123");
        assert_eq!(parse(&text).unwrap()[0].supplier.as_deref(), Some("123"));
        assert_eq!(
            errors(&example_with("supplier: null", "supplier: !vault x")),
            ["a.yaml:17: spec.supplier: tag `!vault` is not supported"]
        );
    }

    #[test]
    fn every_error_in_every_document_is_reported() {
        let bad = example_with("expires: 2027-03-31", "expires: soon")
            .replace("environment: production", "environment: prod");
        let text = format!("{bad}---\n{bad}");
        let errs = errors(&text);
        assert_eq!(errs.len(), 6, "{errs:?}");
        assert!(errs[0].starts_with("a.yaml:10: spec.environment: `prod`"));
        assert!(errs[1].starts_with("a.yaml:15: spec.expires: `soon`"));
        assert_eq!(
            errs[2],
            "a.yaml:26: metadata.name: duplicate name `payments-ci-deployer` (first declared at a.yaml:1)"
        );
        assert_eq!(
            errs[3],
            "a.yaml:31: spec.externalId: duplicate external id `arn:aws:iam::123456789012:user/payments-ci` for provider `aws` (first declared at a.yaml:1)"
        );
        assert!(errs[4].starts_with("a.yaml:32: spec.environment: `prod`"));
        assert!(errs[5].starts_with("a.yaml:37: spec.expires: `soon`"));
    }
}
