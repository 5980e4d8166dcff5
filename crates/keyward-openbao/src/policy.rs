//! ACL policies: reading their `path` rules from the HCL (version 1 syntax, as OpenBao
//! parses it) or JSON text the server returns, and judging what each rule grants.
//!
//! The HCL reader takes the subset policies use: blocks `path "glob" { … }` (or the object
//! form `path = { "glob" = { … } }`), attributes `key = value`, strings, heredocs, lists,
//! nested objects, numbers and bare words, and `#`, `//` and `/* */` comments. Only
//! `capabilities` and the legacy `policy = "read" | "write" | "deny" | "sudo"` of each rule
//! are used; parameter constraints and wrapping TTLs are read past.

use std::collections::BTreeSet;

use serde_json::Value;

/// Capabilities that change state.
const WRITE: [&str; 4] = ["create", "update", "patch", "delete"];

/// The order capabilities are written in facts.
const CAPABILITY_ORDER: [&str; 10] = [
    "create",
    "read",
    "update",
    "patch",
    "delete",
    "list",
    "sudo",
    "subscribe",
    "recover",
    "deny",
];

/// Paths every token needs for itself, granted by the built-in `default` policy: a rule on
/// exactly one of these is never reported as privileged or wildcard.
const SELF_SERVICE: [&str; 18] = [
    "auth/token/lookup-self",
    "auth/token/renew-self",
    "auth/token/revoke-self",
    "sys/capabilities-self",
    "identity/entity/id/{{identity.entity.id}}",
    "identity/entity/name/{{identity.entity.name}}",
    "sys/internal/ui/resultant-acl",
    "sys/renew",
    "sys/leases/renew",
    "sys/leases/lookup",
    "cubbyhole/*",
    "sys/wrapping/wrap",
    "sys/wrapping/lookup",
    "sys/wrapping/unwrap",
    "sys/tools/hash",
    "sys/tools/hash/*",
    "identity/oidc/provider/+/authorize",
    "sys/control-group/request",
];

/// The second segments of KV version 2's API below a mount: `secret/data/*` covers the
/// whole mount as much as `secret/*` does.
const KV2_SEGMENTS: [&str; 6] = [
    "data", "metadata", "delete", "undelete", "destroy", "subkeys",
];

/// One `path` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    /// The path glob (`secret/data/ci/*`, `sys/+/x`).
    pub path: String,
    /// The capabilities, lower-case, legacy `policy` values expanded.
    pub capabilities: BTreeSet<String>,
}

/// A policy's rules, in document order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Policy {
    /// The rules.
    pub rules: Vec<Rule>,
}

/// What a set of policies grants, as facts report it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Assessment {
    /// Full power: the `root` policy, or `sudo` with a write capability on `*`.
    pub admin: bool,
    /// `<policy>: <path> [<capabilities>]` of rules that give control of the server.
    pub privileged: BTreeSet<String>,
    /// `<policy>: <path> [<capabilities>]` of rules whose glob spans a whole mount or more.
    pub wildcard: BTreeSet<String>,
}

impl Assessment {
    /// Adds what `policy` named `name` grants.
    pub(crate) fn add(&mut self, name: &str, policy: &Policy) {
        for rule in &policy.rules {
            if rule.capabilities.contains("deny")
                || rule.capabilities.is_empty()
                || is_self_service(&rule.path)
            {
                continue;
            }
            let caps = &rule.capabilities;
            let writes = WRITE.iter().any(|c| caps.contains(*c));
            let sudo = caps.contains("sudo");
            let label = || format!("{name}: {} [{}]", rule.path, ordered(caps).join(", "));
            if rule.path == "*" && sudo && writes {
                self.admin = true;
            }
            if sudo || (writes && reaches_control(&rule.path)) {
                self.privileged.insert(label());
            }
            if spans_mount(&rule.path) {
                self.wildcard.insert(label());
            }
        }
    }
}

/// Capabilities in their usual order, unknown ones last in name order.
fn ordered(caps: &BTreeSet<String>) -> Vec<&str> {
    let mut out: Vec<&str> = CAPABILITY_ORDER
        .iter()
        .copied()
        .filter(|c| caps.contains(*c))
        .collect();
    out.extend(
        caps.iter()
            .map(String::as_str)
            .filter(|c| !CAPABILITY_ORDER.contains(c)),
    );
    out
}

/// A path a token uses for itself (the `default` policy's, or a login endpoint), or a
/// lookup endpoint, which takes `update` to read what it is asked about.
fn is_self_service(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or(path);
    SELF_SERVICE.contains(&path)
        || (path.starts_with("auth/") && last == "login" && !path.contains('*'))
        || (last.starts_with("lookup") && !last.contains(['*', '+']))
}

/// The part of a glob before its first wildcard.
fn literal_prefix(path: &str) -> &str {
    path.find(['*', '+']).map_or(path, |i| &path[..i])
}

/// Whether a rule's glob can match a path that controls the server: under `sys/` (policies,
/// mounts, audit), `auth/` (methods, roles, tokens) or `identity/` (entities and groups, which
/// carry policies).
fn reaches_control(path: &str) -> bool {
    let prefix = literal_prefix(path);
    let globbed = prefix.len() < path.len();
    ["sys/", "auth/", "identity/"]
        .iter()
        .any(|root| prefix.starts_with(root) || (globbed && root.starts_with(prefix)))
}

/// Whether a rule's glob covers a whole mount or more: it ends in `*` and its literal part
/// names at most the mount (`*`, `s*`, `secret/*`, `+/*`), or the mount and one of KV version
/// 2's API segments (`secret/data/*`, `+/metadata/*`). A `+` alone matches one segment at a
/// fixed depth, which is narrower.
fn spans_mount(path: &str) -> bool {
    let Some(body) = path.strip_suffix('*') else {
        return false;
    };
    let segments: Vec<&str> = body.split('/').collect();
    // The last element is the partial segment the `*` completes: "" after a slash, `app-` in
    // `secret/app-*`, which narrows it below the mount.
    let Some((partial, complete)) = segments.split_last() else {
        return true;
    };
    match complete {
        [] => true,
        [_] => partial.is_empty(),
        [_, second] => partial.is_empty() && (*second == "+" || KV2_SEGMENTS.contains(second)),
        _ => false,
    }
}

/// Why a policy text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub(crate) struct PolicyError {
    /// 1-based line in the policy text.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// Reads a policy's rules from its HCL or JSON text.
pub(crate) fn parse_policy(text: &str) -> Result<Policy, PolicyError> {
    let trimmed = text.trim_start();
    let root = if trimmed.starts_with('{') {
        let v: Value = serde_json::from_str(text).map_err(|e| PolicyError {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        from_json(&v)
    } else {
        let mut p = Parser {
            text,
            pos: 0,
            depth: 0,
        };
        let body = p.body(false)?;
        Node::Object(body)
    };
    let mut rules = Vec::new();
    collect_rules(&root, &mut rules);
    Ok(Policy { rules })
}

/// A value in a policy document.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// A string, number or bare word, as text.
    Scalar(String),
    /// A list.
    List(Vec<Node>),
    /// An object or block body: each item's keys (a block `path "x"` has two) and value.
    Object(Vec<(Vec<String>, Node)>),
}

fn from_json(v: &Value) -> Node {
    match v {
        Value::Object(m) => Node::Object(
            m.iter()
                .map(|(k, v)| (vec![k.clone()], from_json(v)))
                .collect(),
        ),
        Value::Array(a) => Node::List(a.iter().map(from_json).collect()),
        Value::String(s) => Node::Scalar(s.clone()),
        other => Node::Scalar(other.to_string()),
    }
}

fn collect_rules(root: &Node, out: &mut Vec<Rule>) {
    let Node::Object(items) = root else { return };
    for (keys, value) in items {
        match keys.as_slice() {
            [k, glob] if k == "path" => out.extend(rule(glob, value)),
            [k] if k == "path" => match value {
                Node::Object(inner) => {
                    for (ks, v) in inner {
                        if let [glob] = ks.as_slice() {
                            out.extend(rule(glob, v));
                        }
                    }
                }
                // JSON policies may give `path` as a list of one-key objects.
                Node::List(list) => {
                    for n in list {
                        collect_rules(&Node::Object(vec![(vec!["path".into()], n.clone())]), out);
                    }
                }
                Node::Scalar(_) => {}
            },
            _ => {}
        }
    }
}

fn rule(glob: &str, body: &Node) -> Option<Rule> {
    let Node::Object(items) = body else {
        return None;
    };
    let mut capabilities = BTreeSet::new();
    for (keys, value) in items {
        match (keys.as_slice(), value) {
            ([k], Node::List(list)) if k == "capabilities" => {
                for c in list {
                    if let Node::Scalar(s) = c {
                        capabilities.insert(s.trim().to_ascii_lowercase());
                    }
                }
            }
            ([k], Node::Scalar(s)) if k == "capabilities" => {
                capabilities.insert(s.trim().to_ascii_lowercase());
            }
            ([k], Node::Scalar(s)) if k == "policy" => {
                let legacy: &[&str] = match s.trim().to_ascii_lowercase().as_str() {
                    "deny" => &["deny"],
                    "read" => &["read", "list"],
                    "write" => &["create", "read", "update", "delete", "list"],
                    "sudo" => &["create", "read", "update", "delete", "list", "sudo"],
                    _ => &[],
                };
                capabilities.extend(legacy.iter().map(|c| (*c).to_owned()));
            }
            _ => {}
        }
    }
    Some(Rule {
        path: glob.to_owned(),
        capabilities,
    })
}

/// Nesting beyond this is refused, so a hostile document cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

/// A recursive-descent reader of HCL version 1 bodies.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, at: usize, message: impl Into<String>) -> PolicyError {
        let (line, column) = keyward_connect::position_of(self.text.as_bytes(), at);
        PolicyError {
            line,
            column,
            message: message.into(),
        }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Skips white space and comments.
    fn skip(&mut self) -> Result<(), PolicyError> {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start();
            self.pos += rest.len() - trimmed.len();
            if trimmed.starts_with('#') || trimmed.starts_with("//") {
                self.pos += trimmed.find('\n').unwrap_or(trimmed.len());
            } else if let Some(after) = trimmed.strip_prefix("/*") {
                match after.find("*/") {
                    Some(end) => self.pos += end + 4,
                    None => return Err(self.error(self.pos, "unterminated comment")),
                }
            } else {
                return Ok(());
            }
        }
    }

    /// Items until the end of input (top level) or a closing `}`.
    fn body(&mut self, nested: bool) -> Result<Vec<(Vec<String>, Node)>, PolicyError> {
        let mut items = Vec::new();
        loop {
            self.skip()?;
            match self.peek() {
                None if nested => return Err(self.error(self.pos, "expected `}`")),
                None => return Ok(items),
                Some('}') if nested => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(',') => self.pos += 1,
                Some(_) => items.push(self.item()?),
            }
        }
    }

    /// `key key… = value` or `key key… { body }`.
    fn item(&mut self) -> Result<(Vec<String>, Node), PolicyError> {
        let mut keys = Vec::new();
        loop {
            self.skip()?;
            let at = self.pos;
            match self.peek() {
                Some('=' | ':') if !keys.is_empty() => {
                    self.pos += 1;
                    let value = self.value()?;
                    return Ok((keys, value));
                }
                Some('{') if !keys.is_empty() => {
                    let value = self.value()?;
                    return Ok((keys, value));
                }
                Some('"') => keys.push(self.string()?),
                Some(c) if is_word(c) => keys.push(self.word()),
                Some(c) => return Err(self.error(at, format!("unexpected `{c}`"))),
                None => return Err(self.error(at, "unexpected end of policy")),
            }
        }
    }

    fn value(&mut self) -> Result<Node, PolicyError> {
        self.skip()?;
        let at = self.pos;
        match self.peek() {
            Some('"') => Ok(Node::Scalar(self.string()?)),
            Some('<') if self.rest().starts_with("<<") => Ok(Node::Scalar(self.heredoc()?)),
            Some('[') => {
                self.pos += 1;
                self.enter(at)?;
                let mut list = Vec::new();
                loop {
                    self.skip()?;
                    match self.peek() {
                        Some(']') => {
                            self.pos += 1;
                            break;
                        }
                        Some(',') => self.pos += 1,
                        None => return Err(self.error(self.pos, "expected `]`")),
                        Some(_) => list.push(self.value()?),
                    }
                }
                self.depth -= 1;
                Ok(Node::List(list))
            }
            Some('{') => {
                self.pos += 1;
                self.enter(at)?;
                let body = self.body(true)?;
                self.depth -= 1;
                Ok(Node::Object(body))
            }
            Some(c) if is_word(c) => Ok(Node::Scalar(self.word())),
            Some(c) => Err(self.error(at, format!("unexpected `{c}`"))),
            None => Err(self.error(at, "expected a value")),
        }
    }

    fn enter(&mut self, at: usize) -> Result<(), PolicyError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(at, "nested too deeply"));
        }
        Ok(())
    }

    fn word(&mut self) -> String {
        let rest = self.rest();
        let end = rest.find(|c| !is_word(c)).unwrap_or(rest.len());
        self.pos += end;
        rest[..end].to_owned()
    }

    /// A double-quoted string with backslash escapes.
    fn string(&mut self) -> Result<String, PolicyError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, e)) => out.push(e),
                    None => break,
                },
                '\n' => return Err(self.error(start, "unterminated string")),
                c => out.push(c),
            }
        }
        Err(self.error(start, "unterminated string"))
    }

    /// `<<EOF … EOF` or `<<-EOF … EOF`.
    fn heredoc(&mut self) -> Result<String, PolicyError> {
        let start = self.pos;
        let rest = &self.rest()[2..];
        let rest = rest.strip_prefix('-').unwrap_or(rest);
        let Some(eol) = rest.find('\n') else {
            return Err(self.error(start, "unterminated heredoc"));
        };
        let marker = rest[..eol].trim();
        if marker.is_empty() {
            return Err(self.error(start, "heredoc without a marker"));
        }
        let header = self.rest().len() - rest.len() + eol + 1;
        let content = &self.rest()[header..];
        let mut offset = 0;
        let mut lines = Vec::new();
        for line in content.split_inclusive('\n') {
            offset += line.len();
            if line.trim() == marker {
                self.pos += header + offset;
                return Ok(lines.concat());
            }
            lines.push(line);
        }
        Err(self.error(start, "unterminated heredoc"))
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '*' | '+')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(p: &Policy, path: &str) -> Vec<String> {
        p.rules
            .iter()
            .find(|r| r.path == path)
            .map(|r| r.capabilities.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The `default` policy as OpenBao 2.7.2 installs it (read from a dev server).
    const DEFAULT_POLICY: &str = "\n# Allow tokens to look up their own properties\npath \"auth/token/lookup-self\" {\n    capabilities = [\"read\"]\n}\n\n# Allow tokens to renew themselves\npath \"auth/token/renew-self\" {\n    capabilities = [\"update\"]\n}\n\n# Allow tokens to revoke themselves\npath \"auth/token/revoke-self\" {\n    capabilities = [\"update\"]\n}\n\n# Allow a token to look up its own capabilities on a path\npath \"sys/capabilities-self\" {\n    capabilities = [\"update\"]\n}\n\n# Allow a token to look up its own entity by id or name\npath \"identity/entity/id/{{identity.entity.id}}\" {\n  capabilities = [\"read\"]\n}\npath \"identity/entity/name/{{identity.entity.name}}\" {\n  capabilities = [\"read\"]\n}\n\n\n# Allow a token to look up its resultant ACL from all policies. This is useful\n# for UIs. It is an internal path because the format may change at any time\n# based on how the internal ACL features and capabilities change.\npath \"sys/internal/ui/resultant-acl\" {\n    capabilities = [\"read\"]\n}\n\n# Allow a token to renew a lease via lease_id in the request body; old path for\n# old clients, new path for newer\npath \"sys/leases/renew\" {\n    capabilities = [\"update\"]\n}\n\n# Allow looking up lease properties. This requires knowing the lease ID ahead\n# of time and does not divulge any sensitive information.\npath \"sys/leases/lookup\" {\n    capabilities = [\"update\"]\n}\n\n# Allow a token to manage its own cubbyhole\npath \"cubbyhole/*\" {\n    capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\"]\n}\n\n# Allow a token to wrap arbitrary values in a response-wrapping token\npath \"sys/wrapping/wrap\" {\n    capabilities = [\"update\"]\n}\n\n# Allow a token to look up the creation time and TTL of a given\n# response-wrapping token\npath \"sys/wrapping/lookup\" {\n    capabilities = [\"update\"]\n}\n\n# Allow a token to unwrap a response-wrapping token. This is a convenience to\n# avoid client token swapping since this is also part of the response wrapping\n# policy.\npath \"sys/wrapping/unwrap\" {\n    capabilities = [\"update\"]\n}\n\n# Allow general purpose tools\npath \"sys/tools/hash\" {\n    capabilities = [\"update\"]\n}\npath \"sys/tools/hash/*\" {\n    capabilities = [\"update\"]\n}\n\n# Allow a token to make requests to the Authorization Endpoint for OIDC providers.\npath \"identity/oidc/provider/+/authorize\" {\n    capabilities = [\"read\", \"update\"]\n}\n";

    #[test]
    fn the_default_policy_grants_nothing_worth_reporting() {
        let p = parse_policy(DEFAULT_POLICY).unwrap();
        assert_eq!(p.rules.len(), 16);
        assert_eq!(
            caps(&p, "cubbyhole/*"),
            ["create", "delete", "list", "read", "update"]
        );
        let mut a = Assessment::default();
        a.add("default", &p);
        assert_eq!(a, Assessment::default());
    }

    #[test]
    fn reads_every_syntax_policies_are_written_in() {
        let text = r#"
            // comment
            /* block
               comment */
            path "secret/data/ci/*" { capabilities = ["read", "list",] }
            path "secret/metadata/*" {
              capabilities = ["list"]
              allowed_parameters = {
                "version" = []
                "*" = ["a", "b"]
              }
              min_wrapping_ttl = "1s"
              max_wrapping_ttl = 90
            }
            path "legacy/*" { policy = "write" }
            path = {
              "obj/form" = { capabilities = ["sudo"] }
            }
            path "here/doc" {
              capabilities = <<EOT
            ignored
            EOT
            }
            path "denied" { capabilities = ["deny"] }
        "#;
        let p = parse_policy(text).unwrap();
        let paths: Vec<&str> = p.rules.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "secret/data/ci/*",
                "secret/metadata/*",
                "legacy/*",
                "obj/form",
                "here/doc",
                "denied"
            ]
        );
        assert_eq!(caps(&p, "secret/data/ci/*"), ["list", "read"]);
        assert_eq!(
            caps(&p, "legacy/*"),
            ["create", "delete", "list", "read", "update"]
        );
        assert_eq!(caps(&p, "obj/form"), ["sudo"]);

        let json = r#"{"path": {"sys/*": {"capabilities": ["sudo", "read"]},
                       "secret/*": {"policy": "read"}}}"#;
        let p = parse_policy(json).unwrap();
        assert_eq!(caps(&p, "sys/*"), ["read", "sudo"]);
        assert_eq!(caps(&p, "secret/*"), ["list", "read"]);
    }

    #[test]
    fn judges_grants() {
        let p = parse_policy(
            r#"
            path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }
            path "sys/policies/acl/*" { capabilities = ["update"] }
            path "auth/approle/role/+/secret-id" { capabilities = ["update"] }
            path "sys/mounts" { capabilities = ["read"] }
            path "secret/data/ci/*" { capabilities = ["read"] }
            path "secret/data/*" { capabilities = ["read"] }
            path "secret/data/app-*" { capabilities = ["read"] }
            path "secret/app-*" { capabilities = ["read"] }
            path "+/data/x" { capabilities = ["read"] }
            path "s*" { capabilities = ["update"] }
            path "sys/raw/*" { capabilities = ["deny"] }
            path "auth/userpass/login" { capabilities = ["update"] }
            path "auth/token/lookup-accessor" { capabilities = ["update"] }
            path "auth/+/role/+/secret-id-accessor/lookup" { capabilities = ["update"] }
            path "+/metadata/*" { capabilities = ["list"] }
            path "auth/+/role/" { capabilities = ["list"] }
            "#,
        )
        .unwrap();
        let mut a = Assessment::default();
        a.add("ops", &p);
        assert!(a.admin);
        assert_eq!(
            a.privileged.iter().collect::<Vec<_>>(),
            [
                "ops: * [create, read, update, delete, list, sudo]",
                "ops: auth/approle/role/+/secret-id [update]",
                "ops: s* [update]",
                "ops: sys/policies/acl/* [update]",
            ]
        );
        assert_eq!(
            a.wildcard.iter().collect::<Vec<_>>(),
            [
                "ops: * [create, read, update, delete, list, sudo]",
                "ops: +/metadata/* [list]",
                "ops: s* [update]",
                "ops: secret/data/* [read]",
            ]
        );
    }

    #[test]
    fn malformed_policies_name_the_position() {
        for (text, want) in [
            ("path \"a\" { capabilities = [\"read\" }", "1:35"),
            ("path \"a", "1:6"),
            ("path \"a\" {\n", "2:1"),
            ("/* open", "1:1"),
            ("path \"a\" { x = <<EOT\nnever closed\n }", "1:16"),
            ("= 1", "1:1"),
            ("{\"path\": ", "1:9"),
        ] {
            let err = parse_policy(text).unwrap_err();
            assert_eq!(
                format!("{}:{}", err.line, err.column),
                want,
                "{text}: {err}"
            );
        }
        let deep = format!("a = {}", "[".repeat(200));
        assert!(parse_policy(&deep).unwrap_err().message.contains("deeply"));
    }
}
