//! Declarations rendered as `apiVersion: keyward/v1` YAML, one document each.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use keyward_model::DeclaredNhi;

/// Lines every document has whatever it holds: `---`, `apiVersion`, `kind`, `metadata`, `name`,
/// `spec`, `spec.kind`, `provider`, `environment` and `status`.
const FIXED_LINES: usize = 10;

/// Renders declarations as a multi-document YAML stream, each document starting with `---`.
///
/// Absent fields are left out and every string is double-quoted, so
/// `keyward_manifest::parse_str` reads back the same declarations (dates at midnight UTC are
/// written as `YYYY-MM-DD`, other instants as RFC 3339, which the reader keeps to the
/// microsecond).
pub fn to_yaml(decls: &[DeclaredNhi]) -> String {
    let mut out = String::with_capacity(decls.len() * 640);
    for d in decls {
        write_doc(&mut out, d);
    }
    out
}

/// Groups declarations into one YAML text per file named in their `source` (`demo/payments.yaml`
/// for `demo/payments.yaml:12`), in order of first appearance.
///
/// For the declarations [`crate::generate`] makes, writing each text to its path and loading it
/// gives back the same declarations, `source` included.
pub fn manifest_files(decls: &[DeclaredNhi]) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = Vec::new();
    for d in decls {
        let path = file_of(&d.source);
        let at = match files.iter().position(|(p, _)| p == path) {
            Some(i) => i,
            None => {
                files.push((path.to_owned(), String::new()));
                files.len() - 1
            }
        };
        if let Some((_, text)) = files.get_mut(at) {
            write_doc(text, d);
        }
    }
    files
}

/// The file part of a `file:line` source.
fn file_of(source: &str) -> &str {
    match source.rsplit_once(':') {
        Some((file, line)) if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) => file,
        _ => source,
    }
}

/// How many lines [`to_yaml`] writes for `d`, so sources can name the line without rendering.
pub(crate) fn doc_lines(d: &DeclaredNhi) -> usize {
    FIXED_LINES
        + [
            !d.labels.is_empty(),
            d.external_id.is_some(),
            d.owner.is_some(),
            d.backup_owner.is_some(),
            d.purpose.is_some(),
            !d.privilege_ceiling.is_empty(),
            d.expires_at.is_some(),
            d.review_every.is_some(),
            d.supplier.is_some(),
            d.created_at.is_some(),
            d.last_rotated_at.is_some(),
            d.last_reviewed_at.is_some(),
        ]
        .iter()
        .filter(|present| **present)
        .count()
}

/// The line of a document's `apiVersion` when it starts after `before` lines of its file.
pub(crate) fn doc_start_line(before: usize) -> usize {
    before + 2
}

fn write_doc(out: &mut String, d: &DeclaredNhi) {
    out.push_str("---\napiVersion: keyward/v1\nkind: NonHumanIdentity\nmetadata:\n  name: ");
    push_scalar(out, &d.name);
    out.push('\n');
    if !d.labels.is_empty() {
        out.push_str("  labels: {");
        for (i, (k, v)) in d.labels.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            push_scalar(out, k);
            out.push_str(": ");
            push_scalar(out, v);
        }
        out.push_str("}\n");
    }
    out.push_str("spec:\n  kind: ");
    out.push_str(d.kind.as_str());
    out.push_str("\n  provider: ");
    push_scalar(out, &d.provider);
    out.push('\n');
    field(out, "externalId", d.external_id.as_deref());
    out.push_str("  environment: ");
    out.push_str(d.environment.as_str());
    out.push('\n');
    field(
        out,
        "owner",
        d.owner.as_ref().map(ToString::to_string).as_deref(),
    );
    field(
        out,
        "backupOwner",
        d.backup_owner.as_ref().map(ToString::to_string).as_deref(),
    );
    field(out, "purpose", d.purpose.as_deref());
    if !d.privilege_ceiling.is_empty() {
        out.push_str("  privilegeCeiling: [");
        for (i, scope) in d.privilege_ceiling.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            push_scalar(out, scope);
        }
        out.push_str("]\n");
    }
    instant(out, "expires", d.expires_at);
    if let Some(c) = d.review_every {
        let _ = writeln!(out, "  reviewEvery: {c}");
    }
    field(out, "supplier", d.supplier.as_deref());
    out.push_str("  status: ");
    out.push_str(d.status.as_str());
    out.push('\n');
    instant(out, "created", d.created_at);
    instant(out, "lastRotated", d.last_rotated_at);
    instant(out, "lastReviewed", d.last_reviewed_at);
}

fn field(out: &mut String, key: &str, value: Option<&str>) {
    if let Some(v) = value {
        out.push_str("  ");
        out.push_str(key);
        out.push_str(": ");
        push_scalar(out, v);
        out.push('\n');
    }
}

fn instant(out: &mut String, key: &str, value: Option<DateTime<Utc>>) {
    let Some(t) = value else {
        return;
    };
    out.push_str("  ");
    out.push_str(key);
    out.push_str(": ");
    let day = t.date_naive();
    if t.num_seconds_from_midnight() == 0 && t.nanosecond() == 0 && (0..=9999).contains(&day.year())
    {
        // Not `format("%Y-%m-%d")`: parsing that pattern per date was a third of the time taken
        // to render a large estate.
        let _ = write!(out, "{:04}-{:02}-{:02}", day.year(), day.month(), day.day());
    } else {
        out.push_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
    }
    out.push('\n');
}

/// A scalar as people write it: plain where YAML reads it back as the same string, quoted
/// otherwise.
fn push_scalar(out: &mut String, s: &str) {
    let reserved = ["null", "true", "false", "yes", "no", "on", "off", "y", "n"];
    let plain = s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" ._/@:+-".contains(&b))
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with([':', ' '])
        && !reserved.contains(&s.to_ascii_lowercase().as_str());
    if plain {
        out.push_str(s);
    } else {
        push_quoted(out, s);
    }
}

/// A YAML double-quoted scalar: backslash, quote and anything that is not printable on one line
/// are escaped, so no value can end the string or the line early.
fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    let plain = |b: &u8| (0x20..0x7f).contains(b) && !matches!(b, b'"' | b'\\');
    if s.as_bytes().iter().all(plain) {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                let _ = if u32::from(c) <= 0xFFFF {
                    write!(out, "\\u{:04X}", u32::from(c))
                } else {
                    write!(out, "\\U{:08X}", u32::from(c))
                };
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{DateTime, Utc};
    use keyward_model::{Cadence, Environment, NhiKind, NhiStatus, OwnerRef};

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn full() -> DeclaredNhi {
        DeclaredNhi {
            name: "payments-ci-deployer".into(),
            labels: BTreeMap::from([
                ("team".into(), "payments".into()),
                ("app.kubernetes.io/name".into(), "0042".into()),
            ]),
            kind: NhiKind::IamUser,
            provider: "aws".into(),
            external_id: Some("arn:aws:iam::123456789012:user/payments-ci".into()),
            environment: Environment::Production,
            owner: Some(OwnerRef::Person("alice@example.com".into())),
            backup_owner: Some(OwnerRef::Team("payments".into())),
            purpose: Some("Says \"hi\"\\ then:\n\ta line # not a comment \u{7f} \u{2028} é".into()),
            privilege_ceiling: vec!["*".into(), "ecs:UpdateService".into(), "null".into()],
            expires_at: Some(at("2027-03-31T00:00:00Z")),
            review_every: Cadence::from_days(90),
            supplier: Some("true".into()),
            status: NhiStatus::Disabled,
            created_at: Some(at("2025-01-10T12:30:05.123456Z")),
            last_rotated_at: Some(at("2026-09-01T00:00:00Z")),
            last_reviewed_at: Some(at("2026-10-01T23:59:59Z")),
            source: "demo/payments.yaml:2".into(),
        }
    }

    fn bare() -> DeclaredNhi {
        DeclaredNhi {
            name: "x".into(),
            labels: BTreeMap::new(),
            kind: NhiKind::Other,
            provider: "internal".into(),
            external_id: None,
            environment: Environment::Unknown,
            owner: None,
            backup_owner: None,
            purpose: None,
            privilege_ceiling: Vec::new(),
            expires_at: None,
            review_every: None,
            supplier: None,
            status: NhiStatus::Active,
            created_at: None,
            last_rotated_at: None,
            last_reviewed_at: None,
            source: String::new(),
        }
    }

    #[test]
    fn awkward_values_round_trip_and_line_counts_hold() {
        let mut second = bare();
        second.source = format!("demo/payments.yaml:{}", doc_start_line(doc_lines(&full())));
        let decls = vec![full(), second];
        let text = to_yaml(&decls);
        assert_eq!(
            text.lines().count(),
            doc_lines(&decls[0]) + doc_lines(&decls[1])
        );
        let back = keyward_manifest::parse_str("demo/payments.yaml", &text).unwrap();
        assert_eq!(back, decls);
    }

    #[test]
    fn files_follow_the_sources() {
        let mut a = bare();
        a.source = "demo/a.yaml:2".into();
        let mut b = bare();
        b.name = "y".into();
        b.source = "demo/b.yaml:2".into();
        let mut c = bare();
        c.name = "z".into();
        c.source = "demo/a.yaml:12".into();
        let files = manifest_files(&[a.clone(), b.clone(), c.clone()]);
        let paths: Vec<_> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["demo/a.yaml", "demo/b.yaml"]);
        assert_eq!(files[0].1, to_yaml(&[a, c]));
        assert_eq!(files[1].1, to_yaml(&[b]));
        assert_eq!(file_of("no-line"), "no-line");
        assert_eq!(file_of("c:\\x.yaml:"), "c:\\x.yaml:");
    }
}
