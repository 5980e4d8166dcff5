//! A DER structure walk that finds where an encoding goes wrong, so an error names the byte
//! offset: the X.509 parser says what is wrong but not where.

/// The deepest nesting walked; real certificates stay under 15, and a bound keeps hostile
/// input from exhausting the stack.
const MAX_DEPTH: usize = 64;

/// The end of the TLV starting at `at`, or where and why its encoding is broken.
pub(crate) fn tlv_end(bytes: &[u8], at: usize) -> Result<usize, (usize, String)> {
    walk(bytes, at, bytes.len(), 0)
}

/// Walks the TLV at `at`, which must end by `limit`; returns its end.
fn walk(bytes: &[u8], at: usize, limit: usize, depth: usize) -> Result<usize, (usize, String)> {
    if depth > MAX_DEPTH {
        return Err((at, format!("nested deeper than {MAX_DEPTH} levels")));
    }
    let Some(&tag) = bytes.get(at).filter(|_| at < limit) else {
        return Err((at, "truncated: expected a tag".into()));
    };
    let mut p = at + 1;
    if tag & 0x1f == 0x1f {
        // High tag number form: base-128 digits, the last without its top bit.
        loop {
            let Some(&b) = bytes.get(p).filter(|_| p < limit) else {
                return Err((p, "truncated tag".into()));
            };
            p += 1;
            if b & 0x80 == 0 {
                break;
            }
            if p - at > 5 {
                return Err((at, "tag number too large".into()));
            }
        }
    }
    let Some(&first) = bytes.get(p).filter(|_| p < limit) else {
        return Err((p, "truncated: expected a length".into()));
    };
    let len_at = p;
    p += 1;
    let len = if first < 0x80 {
        usize::from(first)
    } else if first == 0x80 {
        return Err((len_at, "indefinite length is not DER".into()));
    } else {
        let n = usize::from(first & 0x7f);
        if n > 4 {
            return Err((len_at, format!("length of {n} bytes is too long")));
        }
        let mut len = 0usize;
        for _ in 0..n {
            let Some(&b) = bytes.get(p).filter(|_| p < limit) else {
                return Err((p, "truncated length".into()));
            };
            len = (len << 8) | usize::from(b);
            p += 1;
        }
        len
    };
    let end = p.checked_add(len).filter(|&e| e <= limit).ok_or_else(|| {
        (
            len_at,
            format!(
                "length {len} runs past the end of its {} (at byte {limit})",
                if limit == bytes.len() {
                    "input"
                } else {
                    "container"
                }
            ),
        )
    })?;
    if tag & 0x20 != 0 {
        let mut q = p;
        while q < end {
            q = walk(bytes, q, end, depth + 1)?;
        }
    }
    Ok(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_offset_of_a_broken_length() {
        // SEQUENCE { INTEGER 5, OCTET STRING (claims 9 bytes, has 1) }
        let bytes = [0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x09, 0x00];
        assert_eq!(tlv_end(&bytes, 0).unwrap_err().0, 6);
        let ok = [0x30, 0x03, 0x02, 0x01, 0x05, 0xff];
        assert_eq!(tlv_end(&ok, 0), Ok(5));
        assert_eq!(tlv_end(&[0x30], 0).unwrap_err().0, 1);
        assert_eq!(tlv_end(&[0x30, 0x80], 0).unwrap_err().0, 1);
    }
}
