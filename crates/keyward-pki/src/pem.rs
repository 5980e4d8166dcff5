//! A PEM scanner that keeps line numbers, so a bad block is reported where it is, and that
//! decodes only the blocks asked for: a private key's body is checked for shape, never decoded.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyward_connect::ConnectError;

/// One `-----BEGIN x-----` … `-----END x-----` block.
#[derive(Debug)]
pub(crate) struct Block {
    /// The label between `BEGIN ` and the dashes (`CERTIFICATE`, `RSA PRIVATE KEY`).
    pub label: String,
    /// 1-based line of the BEGIN line.
    pub line: usize,
    /// Whether RFC 1421 headers say the body is encrypted (`Proc-Type: 4,ENCRYPTED`).
    pub encrypted_header: bool,
    /// The decoded body, when the label was one asked for.
    pub der: Option<Vec<u8>>,
    /// The body's base64 text with line breaks removed, when the label was not decoded and
    /// the caller asked to keep it (OpenSSH private keys, whose public half the SSH reader
    /// needs); otherwise empty.
    pub text: String,
}

/// Whether the bytes contain a PEM BEGIN line anywhere (text around blocks is allowed: bundles
/// carry comments, `openssl x509 -text` output precedes the block).
pub(crate) fn has_begin_line(bytes: &[u8]) -> bool {
    lines(bytes).any(|(_, l)| trim(l).starts_with(b"-----BEGIN "))
}

/// The lines of `bytes` with their 1-based numbers, without line endings.
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    bytes
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
}

/// ASCII whitespace trimmed from both ends.
pub(crate) fn trim(mut l: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = l
        && first.is_ascii_whitespace()
    {
        l = rest;
    }
    while let [rest @ .., last] = l
        && last.is_ascii_whitespace()
    {
        l = rest;
    }
    l
}

/// Every block in the file. `decode` says which labels to base64-decode; `keep` which to keep
/// as text. A block without its END line, an END that does not match, a non-base64 character
/// or bad padding is an error naming the line and column.
pub(crate) fn blocks(
    path: &Path,
    bytes: &[u8],
    decode: impl Fn(&str) -> bool,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<Block>, ConnectError> {
    let mut out = Vec::new();
    let mut open: Option<Open> = None;
    for (n, raw) in lines(bytes) {
        let line = trim(raw);
        let indent = raw.len() - raw.trim_ascii_start().len();
        match open.as_mut() {
            None => {
                if let Some(label) = boundary(line, b"-----BEGIN ") {
                    let label = label_text(path, n, indent, label)?;
                    open = Some(Open {
                        want: decode(&label) || keep(&label),
                        block: Block {
                            label,
                            line: n,
                            encrypted_header: false,
                            der: None,
                            text: String::new(),
                        },
                        body: String::new(),
                        in_headers: true,
                        last_body_line: n,
                    });
                }
            }
            Some(o) => {
                if let Some(label) = boundary(line, b"-----END ") {
                    if label != o.block.label.as_bytes() {
                        return Err(ConnectError::syntax(
                            path,
                            n,
                            indent + 1,
                            format!(
                                "END line does not match `BEGIN {}` on line {}",
                                o.block.label, o.block.line
                            ),
                        ));
                    }
                    let Some(mut o) = open.take() else { continue };
                    if decode(&o.block.label) {
                        o.block.der = Some(decode_body(path, &o)?);
                    } else if keep(&o.block.label) {
                        o.block.text = std::mem::take(&mut o.body);
                    }
                    out.push(o.block);
                    continue;
                }
                if line.starts_with(b"-----BEGIN ") {
                    return Err(ConnectError::syntax(
                        path,
                        o.block.line,
                        1,
                        format!("`BEGIN {}` block has no END line", o.block.label),
                    ));
                }
                if line.is_empty() {
                    // The blank line that ends RFC 1421 headers, or stray whitespace.
                    o.in_headers = false;
                    continue;
                }
                if o.in_headers && line.contains(&b':') {
                    if line.starts_with(b"Proc-Type:") && line.ends_with(b"ENCRYPTED") {
                        o.block.encrypted_header = true;
                    }
                    continue;
                }
                o.in_headers = false;
                if let Some(i) = line
                    .iter()
                    .position(|&b| !(b.is_ascii_alphanumeric() || b"+/=".contains(&b)))
                {
                    return Err(ConnectError::syntax(
                        path,
                        n,
                        indent + i + 1,
                        format!("not base64 in `{}` block", o.block.label),
                    ));
                }
                if o.want {
                    // Checked ASCII just above, so this never replaces anything.
                    o.body.push_str(&String::from_utf8_lossy(line));
                }
                o.last_body_line = n;
            }
        }
    }
    match open {
        Some(o) => Err(ConnectError::syntax(
            path,
            o.block.line,
            1,
            format!("`BEGIN {}` block has no END line", o.block.label),
        )),
        None => Ok(out),
    }
}

struct Open {
    want: bool,
    block: Block,
    body: String,
    in_headers: bool,
    last_body_line: usize,
}

/// The label of a `-----BEGIN x-----` or `-----END x-----` line.
fn boundary<'a>(line: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    line.strip_prefix(prefix)?.strip_suffix(b"-----")
}

fn label_text(
    path: &Path,
    line: usize,
    indent: usize,
    label: &[u8],
) -> Result<String, ConnectError> {
    if label.is_empty() || !label.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return Err(ConnectError::syntax(
            path,
            line,
            indent + 1,
            "PEM label is empty or not printable ASCII",
        ));
    }
    Ok(String::from_utf8_lossy(label).into_owned())
}

fn decode_body(path: &Path, o: &Open) -> Result<Vec<u8>, ConnectError> {
    STANDARD.decode(o.body.as_bytes()).map_err(|e| {
        ConnectError::syntax(
            path,
            o.last_body_line,
            1,
            format!("bad base64 in `{}` block: {e}", o.block.label),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        STANDARD.encode(bytes)
    }

    #[test]
    fn decodes_asked_blocks_and_skips_text_around_them() {
        let body = b64(&[0x30, 0x03, 0x02, 0x01, 0x05]);
        let text = format!(
            "# a bundle comment\r\nSubject: x\r\n-----BEGIN CERTIFICATE-----\r\n{body}\r\n-----END CERTIFICATE-----\r\n\
             -----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"
        );
        let got = blocks(
            Path::new("b.pem"),
            text.as_bytes(),
            |l| l == "CERTIFICATE",
            |_| false,
        )
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].label, "CERTIFICATE");
        assert_eq!(got[0].line, 3);
        assert_eq!(
            got[0].der.as_deref(),
            Some(&[0x30, 0x03, 0x02, 0x01, 0x05][..])
        );
        assert_eq!(got[1].label, "RSA PRIVATE KEY");
        assert!(got[1].encrypted_header);
        assert!(got[1].der.is_none() && got[1].text.is_empty());
    }

    #[test]
    fn bad_blocks_name_line_and_column() {
        let p = Path::new("x.pem");
        let dec = |l: &str| l == "CERTIFICATE";
        let no = |_: &str| false;
        let e = blocks(p, b"-----BEGIN CERTIFICATE-----\nAAAA\n", dec, no).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.pem:1:1: `BEGIN CERTIFICATE` block has no END line"
        );
        let e = blocks(
            p,
            b"-----BEGIN CERTIFICATE-----\nAA*A\n-----END CERTIFICATE-----\n",
            dec,
            no,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.pem:2:3: not base64 in `CERTIFICATE` block"
        );
        let e = blocks(
            p,
            b"-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n",
            dec,
            no,
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("x.pem:2:1: bad base64"), "{e}");
        let e = blocks(
            p,
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CRL-----\n",
            dec,
            no,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("x.pem:3:1: END line does not match"),
            "{e}"
        );
    }
}
