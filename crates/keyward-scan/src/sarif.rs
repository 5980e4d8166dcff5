//! SARIF 2.1.0 output, as GitHub code scanning and other tools load it.

use std::collections::HashMap;

use keyward_rules::{Confidence, RuleSet};
use serde_json::{Value, json};

use crate::Finding;

/// The `partialFingerprints` key under which findings carry their keyed fingerprint.
pub const FINGERPRINT_KEY: &str = "keyward/secret/v1";

/// A SARIF log of one run over `findings`, describing the rules that fired.
pub fn sarif(findings: &[Finding], rules: &RuleSet, version: &str) -> Value {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut described = Vec::new();
    for f in findings {
        if index.contains_key(f.rule_id.as_str()) {
            continue;
        }
        index.insert(&f.rule_id, described.len());
        let rule = rules.get(&f.rule_id);
        let mut d = json!({
            "id": f.rule_id,
            "name": camel(&f.rule_id),
            "shortDescription": {"text": f.rule_name},
            "fullDescription": {"text": format!(
                "A {} credential ({}) in plain text. Whoever can read it can act as the identity it belongs to.",
                f.provider, f.kind
            )},
            "help": {"text": "Rotate or revoke the credential at its issuer first, then remove it from the file and from history, and load it from a secret store instead."},
            "defaultConfiguration": {"level": level(rule.map_or(f.confidence, |r| r.confidence))},
            "properties": {
                "tags": ["security", "secret", f.provider],
                "precision": precision(rule.map_or(f.confidence, |r| r.confidence)),
                "security-severity": "8.0",
            },
        });
        if let Some(uri) = rule.and_then(|r| r.references.first()) {
            d["helpUri"] = json!(uri);
        }
        described.push(d);
    }
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut properties = json!({
                "fingerprint": f.fingerprint,
                "preview": f.preview,
                "confidence": f.confidence.as_str(),
                "nhiKind": f.nhi_kind,
            });
            if let Some(repo) = &f.repository {
                properties["repository"] = json!(repo);
            }
            if let Some(g) = &f.git {
                properties["commit"] = json!(g.commit);
                properties["author"] = json!(g.author);
                properties["date"] = json!(g.date.to_rfc3339());
            }
            json!({
                "ruleId": f.rule_id,
                "ruleIndex": index.get(f.rule_id.as_str()).copied().unwrap_or(0),
                "level": level(f.confidence),
                "message": {"text": format!(
                    "{} found ({}). Rotate it, then remove it.",
                    f.rule_name, f.preview
                )},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": artifact(&f.path),
                        "region": {"startLine": f.line, "startColumn": f.column},
                    }
                }],
                "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
                "properties": properties,
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "keyward",
                "version": version,
                "semanticVersion": version,
                "informationUri": "https://github.com/keyward/keyward",
                "rules": described,
            }},
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    })
}

fn level(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "error",
        Confidence::Medium => "warning",
        Confidence::Low => "note",
    }
}

fn precision(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

/// `github.pat.classic` → `GithubPatClassic`, SARIF's human-readable rule name.
fn camel(id: &str) -> String {
    id.split(['.', '-', '_'])
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A relative path stays relative to the scan root (`%SRCROOT%`); an absolute one becomes a
/// `file://` URI. Characters outside a URI path's safe set are percent-encoded.
fn artifact(path: &str) -> Value {
    let trimmed = path.strip_prefix("./").unwrap_or(path);
    let encoded = encode(trimmed);
    if trimmed.starts_with('/') {
        json!({"uri": format!("file://{encoded}")})
    } else {
        json!({"uri": encoded, "uriBaseId": "%SRCROOT%"})
    }
}

fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_names() {
        assert_eq!(camel("github.pat.classic"), "GithubPatClassic");
        assert_eq!(artifact("./src/a b.py")["uri"], "src/a%20b.py");
        assert_eq!(artifact("src/x.py")["uriBaseId"], "%SRCROOT%");
        assert_eq!(artifact("/abs/ü.py")["uri"], "file:///abs/%C3%BC.py");
    }
}
