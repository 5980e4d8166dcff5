use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Parses a timestamp as the sources write them: RFC 3339 with `Z` or an offset
/// (`2026-11-20T08:00:00Z`, `2026-11-20T08:00:00+00:00`, fractional seconds), or without an
/// offset (taken as UTC, as AWS and Kubernetes exports do). `None` when it is none of these.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc())
}

/// Like [`parse_time`], also taking a bare date (`2027-03-31`) as its midnight UTC.
pub fn parse_date_or_time(s: &str) -> Option<DateTime<Utc>> {
    parse_time(s).or_else(|| {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_forms_sources_write() {
        let want = "2026-11-20T08:00:00Z".parse::<DateTime<Utc>>().unwrap();
        for s in [
            "2026-11-20T08:00:00Z",
            "2026-11-20T08:00:00+00:00",
            "2026-11-20T09:00:00+01:00",
            "2026-11-20T08:00:00.000Z",
            "2026-11-20T08:00:00",
            "2026-11-20 08:00:00",
        ] {
            assert_eq!(parse_time(s), Some(want), "{s}");
        }
        assert_eq!(
            parse_date_or_time("2026-11-20"),
            "2026-11-20T00:00:00Z".parse().ok()
        );
        for bad in ["N/A", "no_information", "not_supported", "", "2026-13-01"] {
            assert_eq!(parse_date_or_time(bad), None, "{bad}");
        }
    }
}
