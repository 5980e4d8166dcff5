//! SSH files generated here: `authorized_keys` with options, an OpenSSH certificate, private
//! keys beside their `.pub` and alone, and every way a line can be broken. Key material is
//! random bytes made at test time.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyward_connect::{ConnectError, Connector};
use keyward_model::NhiKind;
use keyward_pki::{SshFiles, parse_ssh};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::common::{by_id, fact, file_name, random_bytes, strings};

pub fn put(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

pub fn ed25519_blob() -> Vec<u8> {
    let mut b = Vec::new();
    put(&mut b, b"ssh-ed25519");
    put(&mut b, &random_bytes(32));
    b
}

fn rsa_blob(bits: usize) -> Vec<u8> {
    let mut n = vec![0u8];
    n.extend(random_bytes(bits / 8));
    n[1] |= 0x80;
    let mut b = Vec::new();
    put(&mut b, b"ssh-rsa");
    put(&mut b, &[1, 0, 1]);
    put(&mut b, &n);
    b
}

pub fn fp(blob: &[u8]) -> String {
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(Sha256::digest(blob))
    )
}

fn b64(b: &[u8]) -> String {
    STANDARD.encode(b)
}

/// A user certificate for an Ed25519 key, signed (with random bytes) by `ca`.
fn user_cert(key: &[u8], ca: &[u8]) -> Vec<u8> {
    let mut c = Vec::new();
    put(&mut c, b"ssh-ed25519-cert-v01@openssh.com");
    put(&mut c, &random_bytes(32));
    c.extend_from_slice(&key[4 + 11..]); // the key's fields after its type name
    c.extend_from_slice(&42u64.to_be_bytes());
    c.extend_from_slice(&1u32.to_be_bytes());
    put(&mut c, b"deploy@ci-42");
    let mut principals = Vec::new();
    put(&mut principals, b"git");
    put(&mut principals, b"deploy");
    put(&mut c, &principals);
    c.extend_from_slice(&1_767_225_600u64.to_be_bytes()); // 2026-01-01
    c.extend_from_slice(&u64::MAX.to_be_bytes());
    let mut critical = Vec::new();
    put(&mut critical, b"force-command");
    let mut v = Vec::new();
    put(&mut v, b"/usr/bin/git-shell");
    put(&mut critical, &v);
    put(&mut c, &critical);
    let mut ext = Vec::new();
    put(&mut ext, b"permit-pty");
    put(&mut ext, b"");
    put(&mut c, &ext);
    put(&mut c, b"");
    put(&mut c, ca);
    let mut sig = Vec::new();
    put(&mut sig, b"ssh-ed25519");
    put(&mut sig, &random_bytes(64));
    put(&mut c, &sig);
    c
}

/// An OpenSSH private key file for `public`, its secret part random; `cipher` "none" or an
/// encryption, with a comment inside the (secret) part that must never surface.
fn openssh_private(public: &[u8], cipher: &str, secret: &[u8]) -> String {
    let mut f = b"openssh-key-v1\0".to_vec();
    put(&mut f, cipher.as_bytes());
    put(&mut f, if cipher == "none" { b"none" } else { b"bcrypt" });
    put(
        &mut f,
        if cipher == "none" {
            &[][..]
        } else {
            &[
                0, 0, 0, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0, 0, 0, 24,
            ][..]
        },
    );
    f.extend_from_slice(&1u32.to_be_bytes());
    put(&mut f, public);
    let mut private = Vec::new();
    private.extend_from_slice(&[7, 7, 7, 7, 7, 7, 7, 7]);
    private.extend_from_slice(public);
    put(&mut private, secret);
    put(&mut private, b"comment-inside-the-secret-part");
    put(&mut f, &private);
    let body = b64(&f);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(70)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

fn legacy_private(secret: &[u8]) -> String {
    format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
        b64(secret)
    )
}

#[tokio::test]
async fn a_home_ssh_directory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let backup = ed25519_blob();
    let ops = rsa_blob(3072);
    let ca = ed25519_blob();
    let laptop = ed25519_blob();
    let work = ed25519_blob();
    let old = rsa_blob(2048);
    let secret = random_bytes(64);

    let authorized = format!(
        "# deploy keys, managed by hand\n\
         command=\"/usr/bin/rrsync -ro /srv/backup\",no-pty,from=\"10.0.0.0/8\" ssh-ed25519 {} backup@ci\n\
         restrict,port-forwarding ssh-rsa {} ops@bastion\n\
         cert-authority,principals=\"deploy\" ssh-ed25519 {}   deploy CA 2026\n\
         \n\
         \tssh-ed25519 {} backup@ci-2\r\n",
        b64(&backup),
        b64(&ops),
        b64(&ca),
        b64(&backup),
    );
    std::fs::write(d.join("authorized_keys"), authorized).unwrap();
    let cert = user_cert(&laptop, &ca);
    std::fs::write(
        d.join("id_ed25519-cert.pub"),
        format!(
            "ssh-ed25519-cert-v01@openssh.com {} alice@laptop\n",
            b64(&cert)
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("id_ed25519"),
        openssh_private(&laptop, "none", &secret),
    )
    .unwrap();
    std::fs::write(
        d.join("id_ed25519.pub"),
        format!("ssh-ed25519 {} alice@laptop\n", b64(&laptop)),
    )
    .unwrap();
    std::fs::write(
        d.join("id_work"),
        openssh_private(&work, "aes256-ctr", &secret),
    )
    .unwrap();
    std::fs::write(d.join("id_rsa"), legacy_private(&secret)).unwrap();
    std::fs::write(
        d.join("id_rsa.pub"),
        format!("ssh-rsa {} alice@old-laptop\n", b64(&old)),
    )
    .unwrap();
    std::fs::write(d.join("config"), "Host *\n  IdentitiesOnly yes\n").unwrap();

    let run = SshFiles {
        paths: vec![d.to_owned()],
        scope: None,
    }
    .discover()
    .await
    .unwrap();
    let read: Vec<_> = run
        .inputs
        .iter()
        .map(|i| file_name(&i.locator).to_owned())
        .collect();
    assert_eq!(
        read,
        [
            "authorized_keys",
            "id_ed25519",
            "id_ed25519-cert.pub",
            "id_ed25519.pub",
            "id_rsa",
            "id_rsa.pub",
            "id_work"
        ]
    );
    assert!(run.warnings.is_empty(), "{:?}", run.warnings);
    let digested: Vec<bool> = run.inputs.iter().map(|i| i.sha256.is_some()).collect();
    assert_eq!(digested, [true, false, true, true, false, true, false]);
    // backup, ops, the CA, alice's laptop key and its certificate, the work key, the old key.
    assert_eq!(run.nhis.len(), 7);
    assert!(run.nhis.iter().all(|n| n.kind == NhiKind::SshKey));

    let b = by_id(&run.nhis, &fp(&backup));
    assert_eq!(b.name, "backup@ci");
    assert_eq!(fact(b, "comment"), "backup@ci");
    assert_eq!(
        strings(b, "options"),
        [
            "command=\"/usr/bin/rrsync -ro /srv/backup\"",
            "from=\"10.0.0.0/8\"",
            "no-pty"
        ]
    );
    let at: Vec<_> = strings(b, "paths")
        .iter()
        .map(|p| p.rsplit(':').next().unwrap().to_owned())
        .collect();
    assert_eq!(at, ["2", "6"]);
    assert_eq!(fact(b, "host_key"), &json!(null));

    let o = by_id(&run.nhis, &fp(&ops));
    assert_eq!(fact(o, "key_type"), "rsa");
    assert_eq!(fact(o, "key_bits"), 3072);
    assert_eq!(strings(o, "options"), ["port-forwarding", "restrict"]);

    let c = by_id(&run.nhis, &fp(&ca));
    assert_eq!(c.name, "deploy CA 2026");
    assert_eq!(fact(c, "cert_authority"), true);

    let l = by_id(&run.nhis, &fp(&laptop));
    assert_eq!(l.name, "alice@laptop", "the .pub's comment names the key");
    assert_eq!(fact(l, "private_key_file"), true);
    assert_eq!(fact(l, "private_key_encrypted"), false);
    let files: Vec<_> = strings(l, "paths")
        .iter()
        .map(|p| file_name(p).to_owned())
        .collect();
    assert_eq!(
        files,
        ["id_ed25519.pub", "id_ed25519"],
        "`.` sorts before `:`"
    );

    let cert_nhi = by_id(&run.nhis, &fp(&cert));
    assert_eq!(fact(cert_nhi, "key_fingerprint"), &json!(fp(&laptop)));
    assert_eq!(fact(cert_nhi, "signing_ca"), &json!(fp(&ca)));
    assert_eq!(strings(cert_nhi, "principals"), ["deploy", "git"]);
    assert_eq!(fact(cert_nhi, "key_id"), "deploy@ci-42");
    assert_eq!(fact(cert_nhi, "serial"), 42);
    assert_eq!(fact(cert_nhi, "cert_type"), "user");
    assert_eq!(fact(cert_nhi, "valid_after"), "2026-01-01T00:00:00Z");
    assert_eq!(fact(cert_nhi, "valid_before"), "forever");
    assert_eq!(cert_nhi.expires_at, None);
    assert_eq!(cert_nhi.created_at, "2026-01-01T00:00:00Z".parse().ok());
    assert_eq!(
        fact(cert_nhi, "critical_options"),
        &json!({"force-command": "/usr/bin/git-shell"})
    );
    assert_eq!(strings(cert_nhi, "extensions"), ["permit-pty"]);

    let w = by_id(&run.nhis, &fp(&work));
    assert_eq!(w.name, "id_work");
    assert_eq!(fact(w, "private_key_file"), true);
    assert_eq!(fact(w, "private_key_encrypted"), true);

    let r = by_id(&run.nhis, &fp(&old));
    assert_eq!(r.name, "alice@old-laptop");
    assert_eq!(fact(r, "private_key_file"), true);
    assert_eq!(fact(r, "private_key_format"), "pem");
    assert_eq!(fact(r, "private_key_encrypted"), false);
    let files: Vec<_> = strings(r, "paths")
        .iter()
        .map(|p| file_name(p).to_owned())
        .collect();
    assert_eq!(files, ["id_rsa.pub", "id_rsa"]);

    // Nothing of a secret part surfaces, not even the comment kept inside it.
    let out = serde_json::to_string(&run).unwrap();
    assert!(!out.contains("comment-inside-the-secret-part"));
    assert!(!out.contains(&b64(&secret)) && !out.contains(&hex::encode(&secret)));
    assert!(!out.contains(&b64(&secret)[..20]));
}

#[tokio::test]
async fn a_pem_key_alone_is_known_by_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("deploy_key");
    std::fs::write(&key, legacy_private(&random_bytes(600)).replace(
        "-----BEGIN RSA PRIVATE KEY-----\n",
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n",
    ))
    .unwrap();
    let run = SshFiles {
        paths: vec![key.clone()],
        scope: Some("files:deploy".into()),
    }
    .discover()
    .await
    .unwrap();
    assert_eq!(run.nhis.len(), 1);
    let n = &run.nhis[0];
    assert_eq!(n.external_id, format!("file:{}", key.display()));
    assert_eq!(n.name, "deploy_key");
    assert_eq!(fact(n, "private_key_file"), true);
    assert_eq!(fact(n, "private_key_encrypted"), true);
    assert_eq!(strings(n, "paths"), [format!("{}:1", key.display())]);
}

fn err(name: &str, text: &str) -> String {
    parse_ssh(Path::new(name), text.as_bytes())
        .unwrap_err()
        .to_string()
}

#[test]
fn broken_lines_name_line_and_column() {
    let k = b64(&ed25519_blob());
    let ok = format!("ssh-ed25519 {k} ok\n");
    let cut = &k[..k.len() - 8];
    assert_eq!(
        err("authorized_keys", &format!("{ok}\nssh-ed25519 {cut} cut\n")),
        "authorized_keys:3:13: key data byte 15: truncated Ed25519 key: needs 32 bytes, 26 left"
    );
    assert_eq!(
        err(
            "authorized_keys",
            &format!("{ok}no-pty,command=\"x ssh-ed25519 {k}\n")
        ),
        "authorized_keys:2:1: options: unterminated quote"
    );
    assert_eq!(
        err("a.pub", &format!("ssh-rsa {k} mislabelled\n")),
        "a.pub:1:9: key data is a `ssh-ed25519` key, the line says `ssh-rsa`"
    );
    assert_eq!(
        err("a.pub", &format!("ssh-ed25519 {}* x\n", &k[..8])),
        "a.pub:1:13: key data is not base64: Invalid symbol 42, offset 8."
    );
    assert_eq!(
        err("authorized_keys", &format!("{ok}no-pty ssh-foo {k}\n")),
        "authorized_keys:2:8: unknown key type `ssh-foo`"
    );
    assert_eq!(
        err("authorized_keys", &format!("{ok}  no-pty ssh-ed25519\n")),
        "authorized_keys:2:21: missing `ssh-ed25519` key data"
    );
    let mut long = ed25519_blob();
    long.push(0);
    assert_eq!(
        err("a.pub", &format!("ssh-ed25519 {}\n", b64(&long))),
        "a.pub:1:13: key data byte 51: 1 bytes after the key"
    );
    assert_eq!(
        err(
            "id_x",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
        ),
        "id_x:1:1: OpenSSH private key byte 0: not an `openssh-key-v1` key"
    );
    assert_eq!(
        err(
            "id_y",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n"
        ),
        "id_y:1:1: `BEGIN OPENSSH PRIVATE KEY` block has no END line"
    );
}

#[tokio::test]
async fn one_bad_line_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.pub"),
        format!("ssh-ed25519 {}\n", b64(&ed25519_blob())),
    )
    .unwrap();
    std::fs::write(dir.path().join("authorized_keys"), "ssh-ed25519 AAAA\n").unwrap();
    let e = SshFiles {
        paths: vec![dir.path().to_owned()],
        scope: None,
    }
    .discover()
    .await
    .unwrap_err();
    assert!(
        matches!(
            e,
            ConnectError::Syntax {
                line: 1,
                column: 13,
                ..
            }
        ),
        "{e}"
    );
    let e = SshFiles::default().discover().await.unwrap_err();
    assert!(matches!(e, ConnectError::Usage(_)), "{e}");
}
