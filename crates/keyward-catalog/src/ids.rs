//! The shapes of each framework's ids.

/// `NHI<n>:<year>` with `n` from 1; returns `n`.
pub(crate) fn owasp_number(id: &str) -> Option<u8> {
    let (short, year) = id.split_once(':')?;
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    short_owasp_number(short)
}

/// `NHI<n>` with `n` from 1 (no leading zero); returns `n`.
pub(crate) fn short_owasp_number(short: &str) -> Option<u8> {
    let digits = short.strip_prefix("NHI")?;
    if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n > 0)
}

/// `A.<clause>.<n>` with clause 5 to 8 and `n` from 1; returns the clause.
pub(crate) fn annex_clause(id: &str) -> Option<u8> {
    let rest = id.strip_prefix("A.")?;
    let (clause, n) = rest.split_once('.')?;
    let clause: u8 = clause.parse().ok().filter(|c| (5..=8).contains(c))?;
    if n.starts_with('0') || n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(clause)
}

fn upper2(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// `PR`.
pub(crate) fn is_csf_function(id: &str) -> bool {
    upper2(id)
}

/// `PR.AA`.
pub(crate) fn is_csf_category(id: &str) -> bool {
    id.split_once('.')
        .is_some_and(|(f, c)| upper2(f) && upper2(c))
}

/// `PR.AA-01`.
pub(crate) fn is_csf_subcategory(id: &str) -> bool {
    id.split_once('-').is_some_and(|(cat, n)| {
        is_csf_category(cat) && n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owasp_ids() {
        assert_eq!(owasp_number("NHI1:2025"), Some(1));
        assert_eq!(owasp_number("NHI10:2025"), Some(10));
        assert_eq!(owasp_number("NHI0:2025"), None);
        assert_eq!(owasp_number("NHI01:2025"), None);
        assert_eq!(owasp_number("NHI1"), None);
        assert_eq!(owasp_number("NHI1:25"), None);
        assert_eq!(short_owasp_number("NHI7"), Some(7));
        assert_eq!(short_owasp_number("nhi7"), None);
    }

    #[test]
    fn annex_ids() {
        assert_eq!(annex_clause("A.5.9"), Some(5));
        assert_eq!(annex_clause("A.8.34"), Some(8));
        assert_eq!(annex_clause("A.9.1"), None);
        assert_eq!(annex_clause("A.5."), None);
        assert_eq!(annex_clause("A.5.09"), None);
        assert_eq!(annex_clause("5.9"), None);
    }

    #[test]
    fn csf_ids() {
        assert!(is_csf_function("PR"));
        assert!(is_csf_category("PR.AA"));
        assert!(!is_csf_category("PR.AA-01"));
        assert!(is_csf_subcategory("PR.AA-01"));
        assert!(!is_csf_subcategory("PR.AA-1"));
        assert!(!is_csf_subcategory("pr.aa-01"));
    }
}
