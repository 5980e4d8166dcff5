//! SSH keys: public keys (`.pub`, `authorized_keys` with options), OpenSSH certificates,
//! `known_hosts` host keys, and the presence of private keys, whose secret is never read.

mod wire;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use keyward_connect::{ConnectError, Connector, Discovery, Inputs, facts};
use keyward_model::{DiscoveredNhi, NhiKind, NhiStatus};
use serde_json::{Map, Value, json};

use crate::pem;
use crate::x509::union_array;
use wire::{Key, WireError};

/// The source SSH connectors report under.
pub const SOURCE: &str = "ssh";
/// The provider of SSH key NHIs.
pub const PROVIDER: &str = "ssh";

/// The most base64 characters of an OpenSSH private key read to find its public keys; the
/// public half sits at the front, and a key file with more keys than fit is read whole.
const PRIVATE_HEADER_CHARS: usize = 8192;

/// Reads SSH public keys, certificates, `authorized_keys`, `known_hosts` and private key
/// files, and directories of them.
#[derive(Debug, Clone, Default)]
pub struct SshFiles {
    /// Files and directories to read; directories are walked for `*.pub`, `*.cert`,
    /// `*authorized_keys*`, `*known_hosts*`, OpenSSH private keys and PEM keys named `id_*`.
    pub paths: Vec<PathBuf>,
    /// The scope of the run; `files:<first path>` when not given.
    pub scope: Option<String>,
}

impl Connector for SshFiles {
    fn name(&self) -> &'static str {
        "ssh-files"
    }

    async fn discover(&self) -> Result<Discovery, ConnectError> {
        self.read()
    }
}

impl SshFiles {
    /// The discovery, read synchronously (the connector's `discover` calls this).
    pub fn read(&self) -> Result<Discovery, ConnectError> {
        let first = self
            .paths
            .first()
            .ok_or_else(|| ConnectError::Usage("no SSH key files or directories given".into()))?;
        let found = Inputs::find(&self.paths, accept)?;
        let mut inputs = Inputs::new();
        let mut merged = Merged::default();
        let mut warnings = Vec::new();
        let mut ids_by_file: HashMap<PathBuf, Vec<String>> = HashMap::new();
        let mut unpaired = Vec::new();
        let mut with_keys = Vec::new();
        for path in &found {
            let file = inputs.read(path)?;
            let parsed = parse_ssh(&file.path, &file.bytes)?;
            if parsed.private_key {
                with_keys.push(path.clone());
            }
            warnings.extend(parsed.warnings);
            ids_by_file.insert(
                path.clone(),
                parsed.keys.iter().map(|k| k.external_id.clone()).collect(),
            );
            for k in parsed.keys {
                merged.add(k);
            }
            unpaired.extend(
                parsed
                    .unpaired_private_keys
                    .into_iter()
                    .map(|k| (path.clone(), k)),
            );
        }
        for (path, key) in unpaired {
            let Some(public) = beside(&path) else {
                merged.add(key);
                continue;
            };
            if !ids_by_file.contains_key(&public) {
                let file = inputs.read(&public)?;
                let parsed = parse_ssh(&file.path, &file.bytes)?;
                warnings.extend(parsed.warnings);
                ids_by_file.insert(
                    public.clone(),
                    parsed.keys.iter().map(|k| k.external_id.clone()).collect(),
                );
                for k in parsed.keys {
                    merged.add(k);
                }
            }
            let ids = ids_by_file.get(&public).cloned().unwrap_or_default();
            if ids.is_empty() {
                merged.add(key);
                continue;
            }
            for id in ids {
                merged.attach_private_key(&id, &key);
            }
        }
        Ok(Discovery {
            source: SOURCE.into(),
            scope: self
                .scope
                .clone()
                .unwrap_or_else(|| format!("files:{}", first.display())),
            complete: true,
            connector: "ssh-files",
            connector_version: env!("CARGO_PKG_VERSION"),
            inputs: crate::without_key_digests(inputs, &with_keys),
            parameters: json!({
                "paths": self.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                "scope": self.scope,
            }),
            nhis: merged.into_nhis(),
            warnings,
        })
    }
}

/// The public key file beside a private key (`id_rsa.pub` for `id_rsa`, `key.pub` for
/// `key.pem`), when there is one.
fn beside(private: &Path) -> Option<PathBuf> {
    let mut appended = private.as_os_str().to_owned();
    appended.push(".pub");
    [PathBuf::from(appended), private.with_extension("pub")]
        .into_iter()
        .find(|p| p != private && p.is_file())
}

/// Whether a directory walk takes this file.
fn accept(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.ends_with(".pub")
        || name.ends_with(".cert")
        || name.contains("authorized_keys")
        || name.contains("known_hosts")
        || crate::starts_with(path, b"-----BEGIN OPENSSH PRIVATE KEY-----")
        || (name.starts_with("id_") && crate::starts_with(path, b"-----BEGIN "))
}

/// What one SSH file holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SshFile {
    /// One NHI per key line (or per public key in an OpenSSH private key file), in file
    /// order, not yet merged; fact `paths` names `file:line`.
    pub keys: Vec<DiscoveredNhi>,
    /// Private keys in PEM formats (`RSA PRIVATE KEY`, `PRIVATE KEY`, …), whose public half
    /// cannot be had without reading the secret: NHIs with external id `file:<path>` that the
    /// connector attaches to a `.pub` beside the file when there is one.
    pub unpaired_private_keys: Vec<DiscoveredNhi>,
    /// Lines skipped (invalid `known_hosts` lines, which ssh itself skips), or a file that
    /// holds no key at all.
    pub warnings: Vec<String>,
    /// Whether the file holds a private key (whose secret part is never read).
    pub private_key: bool,
}

/// Parses one SSH file's bytes. The format follows from the content and name: PEM private
/// keys, `known_hosts` (name contains `known_hosts`: markers, host patterns, hashed hosts),
/// else the `authorized_keys` format (also `.pub` and certificate files: options, key type,
/// base64 blob, comment). A malformed line is an error naming file:line:column, except in
/// `known_hosts`, where ssh skips invalid lines and so does this, with a warning.
pub fn parse_ssh(path: &Path, bytes: &[u8]) -> Result<SshFile, ConnectError> {
    let mut out = SshFile::default();
    if pem::has_begin_line(bytes) {
        private_keys(path, bytes, &mut out)?;
        return Ok(out);
    }
    let text = String::from_utf8_lossy(bytes);
    let known_hosts = path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains("known_hosts"));
    if !known_hosts
        && !text
            .lines()
            .any(|l| l.split_whitespace().any(wire::is_key_type))
    {
        if text
            .lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        {
            out.warnings.push(format!(
                "{}: no line holds an SSH key type; not an SSH key file, skipped",
                path.display()
            ));
        }
        return Ok(out);
    }
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let n = i + 1;
        let body = line.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - body.len();
        if known_hosts {
            match known_host(line, indent) {
                Ok(entry) => out.keys.push(entry.into_nhi(path, n)),
                Err((col, message)) => out.warnings.push(format!(
                    "{}:{n}:{col}: {message}; line skipped, as ssh skips it",
                    path.display()
                )),
            }
        } else {
            let entry = authorized_key(line, indent)
                .map_err(|(col, message)| ConnectError::syntax(path, n, col, message))?;
            out.keys.push(entry.into_nhi(path, n));
        }
    }
    Ok(out)
}

/// One key line, read.
struct Entry {
    key: Key,
    blob: Vec<u8>,
    comment: String,
    options: Vec<String>,
    host: Option<HostEntry>,
}

/// What a `known_hosts` line adds.
struct HostEntry {
    marker: Option<&'static str>,
    hosts: Vec<String>,
}

/// The next whitespace-separated token at or after byte `at`: (start, token).
fn token(line: &str, at: usize) -> Option<(usize, &str)> {
    let rest = line.get(at..)?;
    let start = at + (rest.len() - rest.trim_start().len());
    let tok = line[start..]
        .split([' ', '\t'])
        .next()
        .filter(|t| !t.is_empty())?;
    Some((start, tok))
}

/// An `authorized_keys` / `.pub` line: `[options] type base64 [comment]`. Errors are
/// (1-based column, message).
fn authorized_key(line: &str, indent: usize) -> Result<Entry, (usize, String)> {
    let Some((start, first)) = token(line, indent) else {
        return Err((indent + 1, "empty line".into()));
    };
    let (options, type_at) = if wire::is_key_type(first) {
        (Vec::new(), start)
    } else {
        let (options, end) = parse_options(line, start)?;
        (options, end)
    };
    let (key, blob, comment) = key_and_comment(line, type_at)?;
    Ok(Entry {
        key,
        blob,
        comment,
        options,
        host: None,
    })
}

/// A `known_hosts` line: `[@marker] hosts type base64 [comment]`.
fn known_host(line: &str, indent: usize) -> Result<Entry, (usize, String)> {
    let Some((mut at, mut first)) = token(line, indent) else {
        return Err((indent + 1, "empty line".into()));
    };
    let marker = if let Some(m) = first.strip_prefix('@') {
        let marker = match m {
            "cert-authority" => "cert-authority",
            "revoked" => "revoked",
            _ => return Err((at + 1, format!("unknown marker `{}`", wire::shown(first)))),
        };
        (at, first) = token(line, at + first.len())
            .ok_or_else(|| (line.len() + 1, "missing host patterns".to_owned()))?;
        Some(marker)
    } else {
        None
    };
    let mut hosts: Vec<String> = first.split(',').map(str::to_owned).collect();
    hosts.sort();
    at += first.len();
    let (key, blob, comment) = key_and_comment(line, at)?;
    Ok(Entry {
        key,
        blob,
        comment,
        options: Vec::new(),
        host: Some(HostEntry { marker, hosts }),
    })
}

/// Reads `type base64 [comment]` from byte `at`.
fn key_and_comment(line: &str, at: usize) -> Result<(Key, Vec<u8>, String), (usize, String)> {
    let (type_at, wire_type) =
        token(line, at).ok_or_else(|| (line.len() + 1, "missing key type".to_owned()))?;
    if !wire::is_key_type(wire_type) {
        return Err((
            type_at + 1,
            format!("unknown key type `{}`", wire::shown(wire_type)),
        ));
    }
    let (blob_at, b64) = token(line, type_at + wire_type.len())
        .ok_or_else(|| (line.len() + 1, format!("missing `{wire_type}` key data")))?;
    let blob = STANDARD
        .decode(b64)
        .map_err(|e| (blob_at + 1, format!("key data is not base64: {e}")))?;
    let key = wire::parse_key(&blob).map_err(|WireError { offset, message }| {
        (blob_at + 1, format!("key data byte {offset}: {message}"))
    })?;
    if key.wire_type != wire_type {
        return Err((
            blob_at + 1,
            format!(
                "key data is a `{}` key, the line says `{wire_type}`",
                key.wire_type
            ),
        ));
    }
    let comment = line[blob_at + b64.len()..].trim().to_owned();
    Ok((key, blob, comment))
}

/// Reads `authorized_keys` options from byte `at` up to the first unquoted blank: returns
/// them (sorted) and the byte after them.
fn parse_options(line: &str, at: usize) -> Result<(Vec<String>, usize), (usize, String)> {
    let mut options = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = line[at..].char_indices().peekable();
    let mut end = line.len();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            '\\' if quoted => {
                current.push(c);
                if let Some((_, next)) = chars.next() {
                    current.push(next);
                }
            }
            ',' if !quoted => options.push(std::mem::take(&mut current)),
            ' ' | '\t' if !quoted => {
                end = at + i;
                break;
            }
            c => current.push(c),
        }
    }
    if quoted {
        return Err((at + 1, "options: unterminated quote".into()));
    }
    options.push(current);
    if let Some(i) = options.iter().position(String::is_empty) {
        return Err((at + 1, format!("options: option {} is empty", i + 1)));
    }
    options.sort();
    Ok((options, end))
}

impl Entry {
    fn into_nhi(self, path: &Path, line: usize) -> DiscoveredNhi {
        let fallback = match &self.host {
            Some(h) => h
                .hosts
                .iter()
                .find(|h| !h.starts_with('|'))
                .cloned()
                .unwrap_or_else(|| file_name(path)),
            None => file_name(path),
        };
        let name = if self.comment.is_empty() {
            fallback
        } else {
            self.comment.clone()
        };
        let mut nhi = key_nhi(&self.key, &self.blob, name);
        let f = &mut nhi.facts;
        f.insert(
            "paths".into(),
            json!([format!("{}:{line}", path.display())]),
        );
        if !self.comment.is_empty() {
            f.insert("comment".into(), json!(self.comment));
        }
        if !self.options.is_empty() {
            if self.options.iter().any(|o| o == "cert-authority") {
                f.insert("cert_authority".into(), json!(true));
            }
            f.insert("options".into(), json!(self.options));
        }
        if let Some(h) = self.host {
            f.insert("host_key".into(), json!(true));
            f.insert("hosts".into(), json!(h.hosts));
            match h.marker {
                Some("cert-authority") => {
                    f.insert("cert_authority".into(), json!(true));
                }
                Some(_) => {
                    f.insert("revoked".into(), json!(true));
                    nhi.status = Some(NhiStatus::Revoked);
                }
                None => {}
            }
        }
        nhi
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The NHI for a key blob, with the facts the blob itself gives.
fn key_nhi(key: &Key, blob: &[u8], name: String) -> DiscoveredNhi {
    let mut nhi = DiscoveredNhi::new(NhiKind::SshKey, PROVIDER, wire::fingerprint(blob), name);
    let f = &mut nhi.facts;
    f.insert(facts::KEY_TYPE.into(), json!(key.key_type));
    if let Some(bits) = key.bits {
        f.insert(facts::KEY_BITS.into(), json!(bits));
    }
    if let Some(c) = &key.curve {
        f.insert("curve".into(), json!(c));
    }
    f.insert("ssh_type".into(), json!(key.wire_type));
    if let Some(app) = &key.application {
        f.insert("security_key".into(), json!(true));
        f.insert("application".into(), json!(app));
    }
    let Some(c) = &key.cert else {
        return nhi;
    };
    f.insert("certificate".into(), json!(true));
    f.insert("key_fingerprint".into(), json!(key.key_fingerprint));
    f.insert("cert_type".into(), json!(c.cert_type));
    f.insert("key_id".into(), json!(c.key_id));
    f.insert("serial".into(), json!(c.serial));
    f.insert("principals".into(), json!(c.principals));
    let after = (c.valid_after != 0).then(|| time(c.valid_after)).flatten();
    let before = (c.valid_before != u64::MAX)
        .then(|| time(c.valid_before))
        .flatten();
    f.insert("valid_after".into(), time_fact(c.valid_after));
    f.insert(
        "valid_before".into(),
        if c.valid_before == u64::MAX {
            json!("forever")
        } else {
            time_fact(c.valid_before)
        },
    );
    if let (Some(b), Some(a)) = (before, time(c.valid_after)) {
        f.insert(facts::VALIDITY_DAYS.into(), json!((b - a).num_days()));
    }
    let options: Map<String, Value> = c
        .critical_options
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    f.insert("critical_options".into(), Value::Object(options));
    f.insert("extensions".into(), json!(c.extensions));
    f.insert("signing_ca".into(), json!(c.signing_ca));
    f.insert("signing_ca_key_type".into(), json!(c.signing_ca_key_type));
    f.insert(
        facts::SIGNATURE_ALGORITHM.into(),
        json!(c.signature_algorithm),
    );
    nhi.created_at = after;
    nhi.expires_at = before;
    nhi
}

fn time(secs: u64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(i64::try_from(secs).ok()?, 0)
}

/// A certificate time as RFC 3339, or the raw seconds when beyond what a date can hold.
fn time_fact(secs: u64) -> Value {
    time(secs).map_or_else(|| json!(secs), |t| json!(crate::rfc3339(t)))
}

/// The keys in a PEM file: OpenSSH private keys give their public keys (the unencrypted
/// front of the file); other private key blocks are noted as present.
fn private_keys(path: &Path, bytes: &[u8], out: &mut SshFile) -> Result<(), ConnectError> {
    let blocks = pem::blocks(path, bytes, |_| false, |l| l == "OPENSSH PRIVATE KEY")?;
    for b in blocks {
        out.private_key |= b.label.ends_with("PRIVATE KEY");
        let at = format!("{}:{}", path.display(), b.line);
        if b.label == "OPENSSH PRIVATE KEY" {
            let header = openssh_header(&b.text).map_err(|WireError { offset, message }| {
                ConnectError::syntax(
                    path,
                    b.line,
                    1,
                    format!("OpenSSH private key byte {offset}: {message}"),
                )
            })?;
            for (key, blob) in &header.public_keys {
                let mut nhi = key_nhi(key, blob, file_name(path));
                nhi.facts.insert("paths".into(), json!([at]));
                mark_private(&mut nhi.facts, header.encrypted);
                out.keys.push(nhi);
            }
        } else if b.label.ends_with("PRIVATE KEY") {
            let encrypted = b.encrypted_header || b.label == "ENCRYPTED PRIVATE KEY";
            let mut nhi = DiscoveredNhi::new(
                NhiKind::SshKey,
                PROVIDER,
                format!("file:{}", path.display()),
                file_name(path),
            );
            nhi.facts.insert("paths".into(), json!([at]));
            nhi.facts.insert("private_key_format".into(), json!("pem"));
            mark_private(&mut nhi.facts, encrypted);
            out.unpaired_private_keys.push(nhi);
        }
    }
    Ok(())
}

fn mark_private(f: &mut keyward_model::Facts, encrypted: bool) {
    f.insert("private_key_file".into(), json!(true));
    f.insert("private_key_encrypted".into(), json!(encrypted));
}

/// The unencrypted front of an OpenSSH private key (PROTOCOL.key).
struct Header {
    encrypted: bool,
    public_keys: Vec<(Key, Vec<u8>)>,
}

fn openssh_header(b64: &str) -> Result<Header, WireError> {
    // Decode only the front, where the public keys are; what follows is the secret.
    let cut = b64.len().min(PRIVATE_HEADER_CHARS);
    match read_header(b64, cut) {
        Err(e) if cut < b64.len() && e.message.starts_with("truncated") => {
            read_header(b64, b64.len())
        }
        r => r,
    }
}

fn read_header(b64: &str, cut: usize) -> Result<Header, WireError> {
    let mut front = STANDARD
        .decode(&b64.as_bytes()[..cut])
        .map_err(|e| WireError {
            offset: 0,
            message: format!("not base64: {e}"),
        })?;
    let result = header_fields(&front);
    // The front may reach into the secret part; leave none of it behind.
    front.fill(0);
    result
}

fn header_fields(front: &[u8]) -> Result<Header, WireError> {
    const MAGIC: &[u8] = b"openssh-key-v1\0";
    if !front.starts_with(MAGIC) {
        return Err(WireError {
            offset: 0,
            message: "not an `openssh-key-v1` key".into(),
        });
    }
    let mut r = wire::Reader::new(&front[MAGIC.len()..]);
    let cipher = r.text("cipher name")?;
    r.text("KDF name")?;
    r.string("KDF options")?;
    let count_at = r.pos();
    let count = r.u32("key count")?;
    if count == 0 || count > 64 {
        return Err(WireError {
            offset: MAGIC.len() + count_at,
            message: format!("key count {count} is not between 1 and 64"),
        });
    }
    let mut public_keys = Vec::new();
    for _ in 0..count {
        let at = MAGIC.len() + r.pos() + 4;
        let blob = r.string("public key")?;
        let key = wire::parse_key(blob).map_err(|mut e| {
            e.offset += at;
            e
        })?;
        public_keys.push((key, blob.to_vec()));
    }
    Ok(Header {
        encrypted: cipher != "none",
        public_keys,
    })
}

/// Keys seen in one run, merged by fingerprint.
#[derive(Debug, Default)]
struct Merged {
    by_id: BTreeMap<String, DiscoveredNhi>,
}

impl Merged {
    fn add(&mut self, nhi: DiscoveredNhi) {
        let Some(held) = self.by_id.get_mut(&nhi.external_id) else {
            self.by_id.insert(nhi.external_id.clone(), nhi);
            return;
        };
        merge_into(held, &nhi);
    }

    /// Notes a private key file on the key whose `.pub` sits beside it.
    fn attach_private_key(&mut self, id: &str, private: &DiscoveredNhi) {
        if let Some(held) = self.by_id.get_mut(id) {
            merge_into(held, private);
            held.facts.remove("private_key_format");
            if let Some(f) = private.facts.get("private_key_format") {
                held.facts.insert("private_key_format".into(), f.clone());
            }
        }
    }

    fn into_nhis(self) -> Vec<DiscoveredNhi> {
        self.by_id.into_values().collect()
    }
}

/// Merges another sighting of the same key: arrays unioned, flags or-ed, a copy of the private
/// key left unencrypted wins, and a comment names a key that had only a file name.
fn merge_into(held: &mut DiscoveredNhi, more: &DiscoveredNhi) {
    for key in ["paths", "options", "hosts"] {
        union_array(&mut held.facts, key, more.facts.get(key));
    }
    for key in [
        "host_key",
        "cert_authority",
        "revoked",
        "private_key_file",
        "security_key",
    ] {
        if more.facts.get(key) == Some(&Value::Bool(true)) {
            held.facts.insert(key.into(), Value::Bool(true));
        }
    }
    if let Some(Value::Bool(e)) = more.facts.get("private_key_encrypted") {
        let now = match held.facts.get("private_key_encrypted") {
            Some(Value::Bool(h)) => *h && *e,
            _ => *e,
        };
        held.facts
            .insert("private_key_encrypted".into(), Value::Bool(now));
    }
    if !held.facts.contains_key("comment")
        && let Some(c) = more.facts.get("comment")
    {
        held.facts.insert("comment".into(), c.clone());
        held.name.clone_from(&more.name);
    }
    if more.status == Some(NhiStatus::Revoked) {
        held.status = Some(NhiStatus::Revoked);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_keep_quoted_commas_and_blanks() {
        let line = r#"command="echo a, b",no-pty,from="10.0.0.0/8" ssh-ed25519 AAAA c"#;
        let (opts, end) = parse_options(line, 0).unwrap();
        assert_eq!(
            opts,
            [r#"command="echo a, b""#, r#"from="10.0.0.0/8""#, "no-pty"]
        );
        assert_eq!(&line[end..end + 12], " ssh-ed25519");
        assert!(parse_options(r#"command="x ssh-ed25519"#, 0).is_err());
        assert!(parse_options("no-pty,,x ssh-rsa", 0).is_err());
    }

    #[test]
    fn a_file_without_key_types_is_skipped_with_a_warning() {
        let got = parse_ssh(Path::new("ecdsa_1.param.pub"), b"040c59\n").unwrap();
        assert!(got.keys.is_empty());
        assert_eq!(got.warnings.len(), 1);
        let empty = parse_ssh(Path::new("authorized_keys"), b"# none yet\n\n").unwrap();
        assert!(empty.keys.is_empty() && empty.warnings.is_empty());
    }
}
