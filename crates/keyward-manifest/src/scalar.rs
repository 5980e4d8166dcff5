//! Checks on single values shared by the YAML and CSV readers.

use chrono::{DateTime, NaiveDate, Utc};
use keyward_model::OwnerRef;

/// A strict `YYYY-MM-DD` calendar date (no signs, no short years, a day that exists).
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shaped {
        return None;
    }
    // Digits only now: read them directly (chrono's format parser costs more than the rest of
    // a declaration's dates together), and let the calendar say whether the day exists.
    let number = |from: usize, to: usize| {
        b[from..to]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
    };
    let year = i32::try_from(number(0, 4)).ok()?;
    NaiveDate::from_ymd_opt(year, number(5, 7), number(8, 10))
}

/// A date (midnight UTC that day) or an RFC 3339 timestamp, kept to the microsecond as the stores
/// keep it.
pub(crate) fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    if let Some(day) = parse_date(s) {
        return day.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    let t = DateTime::parse_from_rfc3339(s).ok()?.to_utc();
    DateTime::from_timestamp_micros(t.timestamp_micros())
}

/// The lower-cased address when `s` is an email address, by the model's own rule for owners.
pub(crate) fn parse_email(s: &str) -> Option<String> {
    match OwnerRef::parse(s) {
        Ok(OwnerRef::Person(email)) => Some(email),
        _ => None,
    }
}

/// Whether `s` is a team name, by the model's own rule for `team:` owners.
pub(crate) fn is_team_name(s: &str) -> bool {
    !s.contains(':')
        && matches!(OwnerRef::parse(&format!("team:{s}")), Ok(OwnerRef::Team(t)) if t == s)
}

/// Whether `s` is a declaration name: a DNS-label-like `[a-z0-9]([-a-z0-9.]*[a-z0-9])?`, at most
/// 253 characters.
pub(crate) fn is_declaration_name(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    (1..=253).contains(&b.len())
        && b.first().is_some_and(edge)
        && b.last().is_some_and(edge)
        && b.iter().all(|c| edge(c) || matches!(c, b'-' | b'.'))
}

/// Whether `s` is a provider name: lower-case `[a-z0-9._-]+`.
pub(crate) fn is_provider(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
        })
}

/// Whether `s` is a label key: `[A-Za-z0-9._/-]+`.
pub(crate) fn is_label_key(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'/' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_must_be_real_and_well_shaped() {
        assert_eq!(
            parse_date("2027-03-31"),
            NaiveDate::from_ymd_opt(2027, 3, 31)
        );
        assert_eq!(
            parse_date("2028-02-29"),
            NaiveDate::from_ymd_opt(2028, 2, 29)
        );
        assert_eq!(parse_date("0000-01-01"), NaiveDate::from_ymd_opt(0, 1, 1));
        for bad in [
            "2027-02-30",
            "2027-02-29",
            "2027-13-01",
            "2027-00-10",
            "2027-01-00",
            "2027-04-31",
            "27-03-31",
            "2027-3-31",
            "+2027-03-3",
            "",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn instants_accept_dates_and_timestamps() {
        assert_eq!(
            parse_instant("2027-03-31").unwrap().to_rfc3339(),
            "2027-03-31T00:00:00+00:00"
        );
        assert_eq!(
            parse_instant("2027-03-31T12:00:00.123456789+02:00")
                .unwrap()
                .to_rfc3339(),
            "2027-03-31T10:00:00.123456+00:00"
        );
        assert!(parse_instant("2027-03-31T12:00:00").is_none());
        assert!(parse_instant("tomorrow").is_none());
    }

    #[test]
    fn names() {
        assert!(is_declaration_name("payments-ci-deployer"));
        assert!(is_declaration_name("a"));
        assert!(is_declaration_name("a.b-1"));
        for bad in ["", "-a", "a-", "A", "a_b", "a b", &"a".repeat(254)] {
            assert!(!is_declaration_name(bad), "{bad}");
        }
        assert!(is_team_name("pay.ments_1-x"));
        assert!(!is_team_name("team:x"));
        assert!(!is_team_name("a b"));
        assert!(!is_team_name(""));
        assert_eq!(
            parse_email("Bob@Example.COM").as_deref(),
            Some("bob@example.com")
        );
        assert_eq!(parse_email("team:bob"), None);
        assert!(is_provider("aws") && !is_provider("AWS") && !is_provider(""));
        assert!(is_label_key("app.kubernetes.io/name") && !is_label_key("a b"));
    }
}
