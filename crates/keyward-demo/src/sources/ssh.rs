//! The bastion's SSH keys: its `authorized_keys`, where an RSA 1024 key from an old build server
//! and a DSA key from a backup appliance still sit beside the configuration tool's Ed25519 key,
//! and the payments repository's deploy key.
//!
//! Public keys only, in the OpenSSH wire format; the key material is random bytes of the right
//! shape (a modulus, a DSA group), which is all an inventory reads of a public key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::Rng;

use super::{BASTION, Ctx, SERVICE_REPOSITORY};

/// The SSH files, relative to the sources directory.
pub(super) fn files(ctx: &mut Ctx) -> Vec<(String, String)> {
    let ansible = ed25519(ctx);
    let jenkins = rsa(ctx, 1024);
    let backup = dsa(ctx);
    let deploy = ed25519(ctx);
    vec![
        (
            "ssh/bastion/authorized_keys".to_owned(),
            format!(
                "# {BASTION}: ~deploy/.ssh/authorized_keys\n\
                 ssh-ed25519 {ansible} ansible@northwind-platform\n\
                 from=\"10.20.0.0/16\",no-pty,no-agent-forwarding ssh-rsa {jenkins} jenkins@build01-legacy\n\
                 ssh-dss {backup} backup@nas01\n"
            ),
        ),
        (
            format!("ssh/deploy-keys/{SERVICE_REPOSITORY}-deploy.pub"),
            format!("ssh-ed25519 {deploy} {SERVICE_REPOSITORY}-deploy@github\n"),
        ),
    ]
}

/// Appends an SSH wire string: its length, then its bytes.
fn string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(0).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Random bytes of an unsigned integer of exactly `bits` bits (a multiple of eight), as an
/// SSH mpint: a leading zero byte keeps its top bit from reading as a sign.
fn mpint(ctx: &mut Ctx, bits: usize, odd: bool) -> Vec<u8> {
    let mut n: Vec<u8> = (0..bits / 8).map(|_| ctx.rng.r#gen()).collect();
    if let Some(first) = n.first_mut() {
        *first |= 0x80;
    }
    if let (true, Some(last)) = (odd, n.last_mut()) {
        *last |= 1;
    }
    let mut out = vec![0];
    out.append(&mut n);
    out
}

fn ed25519(ctx: &mut Ctx) -> String {
    let key: Vec<u8> = (0..32).map(|_| ctx.rng.r#gen()).collect();
    let mut blob = Vec::new();
    string(&mut blob, b"ssh-ed25519");
    string(&mut blob, &key);
    STANDARD.encode(blob)
}

fn rsa(ctx: &mut Ctx, bits: usize) -> String {
    let n = mpint(ctx, bits, true);
    let mut blob = Vec::new();
    string(&mut blob, b"ssh-rsa");
    string(&mut blob, &[0x01, 0x00, 0x01]);
    string(&mut blob, &n);
    STANDARD.encode(blob)
}

fn dsa(ctx: &mut Ctx) -> String {
    let p = mpint(ctx, 1024, true);
    let q = mpint(ctx, 160, true);
    // g and y are below p: one bit shorter.
    let mut g = mpint(ctx, 1024, false);
    let mut y = mpint(ctx, 1024, false);
    for v in [&mut g, &mut y] {
        v.remove(0);
        if let Some(first) = v.first_mut() {
            *first &= 0x7f;
        }
    }
    let mut blob = Vec::new();
    string(&mut blob, b"ssh-dss");
    for part in [&p, &q, &g, &y] {
        string(&mut blob, part);
    }
    STANDARD.encode(blob)
}
