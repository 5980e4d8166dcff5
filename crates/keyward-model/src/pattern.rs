/// Whether permission pattern `pattern` (`*` any run, `?` one character, case-insensitive, as
/// IAM, OAuth scope lists and privilege ceilings write them) matches `text`. With `text` itself
/// a pattern, a match means every permission `text` names is also named by `pattern`: `*` in
/// `pattern` may swallow `*` in `text`, but `?` never stands for one. So a ceiling of `s3:*`
/// covers an observed `s3:Get*`, and a ceiling of `s3:Get*` does not cover `s3:*`.
pub fn pattern_covers(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut back: Option<(usize, usize)> = None;
    while ti < t.len() {
        let pc = p.get(pi).map(u8::to_ascii_lowercase);
        let tc = t[ti].to_ascii_lowercase();
        match pc {
            Some(b'*') => {
                back = Some((pi, ti));
                pi += 1;
            }
            Some(c) if c == tc || (c == b'?' && tc != b'*') => {
                pi += 1;
                ti += 1;
            }
            _ => match back {
                Some((bp, bt)) => {
                    pi = bp + 1;
                    ti = bt + 1;
                    back = Some((bp, bt + 1));
                }
                None => return false,
            },
        }
    }
    p[pi.min(p.len())..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::pattern_covers as glob;

    #[test]
    fn patterns_match_permissions_and_cover_narrower_patterns() {
        assert!(glob("*", "iam:PassRole"));
        assert!(glob("iam:*", "IAM:passrole"));
        assert!(glob("iam:Pass*", "iam:PassRole"));
        assert!(glob("iam:*", "iam:Pass*"));
        assert!(glob("iam:*", "iam:*"));
        assert!(!glob("iam:Pass*", "iam:*"));
        assert!(glob("iam:?assRole", "iam:PassRole"));
        assert!(!glob("iam:?", "iam:*"));
        assert!(!glob("s3:*", "iam:PassRole"));
        assert!(glob("*Role", "iam:PassRole"));
        assert!(!glob("", "a"));
        assert!(glob("s3:*", "s3:GetObject"));
        assert!(glob("*", "anything"));
        assert!(glob("*.ReadWrite.All", "Files.ReadWrite.All"));
        assert!(glob("s3:Get*Acl", "s3:GetObjectAcl"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
        assert!(!glob("s3:*", "ec2:RunInstances"));
        assert!(!glob("a*b*c", "a-c"));
        assert!(!glob("ab*ba", "aba"));
    }
}
