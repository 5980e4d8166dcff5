//! Checks a candidate secret must pass beyond its rule's pattern.

/// Shannon entropy of `bytes`, in bits per byte.
pub fn entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let n = f64::from(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Whether a GitHub token (`ghp_…`, `gho_…`, `ghu_…`, `ghs_…`, `ghr_…`) carries a valid
/// checksum: its last six characters are the CRC-32 of the 30 random characters before them,
/// in base62, zero-padded on the left.
pub fn github_checksum(token: &[u8]) -> bool {
    let Some(underscore) = token.iter().position(|&b| b == b'_') else {
        return false;
    };
    let body = &token[underscore + 1..];
    if body.len() != 36 {
        return false;
    }
    let (random, check) = body.split_at(30);
    let mut crc = crc32fast::hash(random);
    let mut digits = [b'0'; 6];
    for d in digits.iter_mut().rev() {
        *d = BASE62[(crc % 62) as usize];
        crc /= 62;
    }
    crc == 0 && digits == check
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant_strings() {
        assert!((entropy(b"abcdefgh") - 3.0).abs() < 1e-9);
        assert_eq!(entropy(b"aaaaaaaa"), 0.0);
        assert_eq!(entropy(b""), 0.0);
    }

    /// Builds a token the way the issuer does, so the test holds no live-looking literal.
    fn github_token(prefix: &str, random: &str) -> Vec<u8> {
        let mut crc = crc32fast::hash(random.as_bytes());
        let mut digits = [b'0'; 6];
        for d in digits.iter_mut().rev() {
            *d = BASE62[(crc % 62) as usize];
            crc /= 62;
        }
        [prefix.as_bytes(), b"_", random.as_bytes(), &digits].concat()
    }

    #[test]
    fn github_checksums_verify_and_a_changed_digit_fails() {
        let random = "Q4sT9xLm2Pv7Rk3Wn8Yb5Hc1Jd6Fg0";
        let token = github_token("ghp", random);
        assert!(github_checksum(&token));
        let mut wrong = token.clone();
        let last = wrong.len() - 1;
        wrong[last] = if wrong[last] == b'A' { b'B' } else { b'A' };
        assert!(!github_checksum(&wrong));
        assert!(!github_checksum(&token[..token.len() - 1]));
        assert!(!github_checksum(b"no-underscore"));
    }
}
