//! `keyward posture`: how well the register answers the four questions.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::{Service, ServiceError};

/// One governance gap: how many live NHIs have it, and what share of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostureLine {
    /// Stable key (`unowned`, `owner_departed`, …).
    pub key: &'static str,
    /// What it means.
    pub label: &'static str,
    /// Live NHIs with the gap.
    pub count: i64,
    /// Share of live NHIs, 0–100, one decimal.
    pub percent: f64,
}

/// The posture summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Posture {
    /// When it was judged.
    pub generated_at: DateTime<Utc>,
    /// Every NHI in the register.
    pub total: i64,
    /// NHIs that can still act (active or disabled); gaps are counted over these.
    pub live: i64,
    /// All NHIs by kind.
    pub by_kind: Vec<(String, i64)>,
    /// All NHIs by environment.
    pub by_environment: Vec<(String, i64)>,
    /// All NHIs by status.
    pub by_status: Vec<(String, i64)>,
    /// The expiring-soon window, in days.
    pub notice_days: i64,
    /// The governance gaps.
    pub gaps: Vec<PostureLine>,
    /// People in the directory.
    pub people: i64,
    /// Of whom departed.
    pub people_departed: i64,
}

fn percent(n: i64, of: i64) -> f64 {
    if of == 0 {
        0.0
    } else {
        // Counts are far below 2^52, so the conversions are exact.
        #[expect(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
        let p = n as f64 * 100.0 / of as f64;
        (p * 10.0).round() / 10.0
    }
}

impl Service {
    /// The posture summary at this service's clock, with `notice_days` as the window for
    /// "expiring soon".
    pub async fn posture(&self, notice_days: i64) -> Result<Posture, ServiceError> {
        let now = self.now();
        let c = self
            .store
            .posture_counts(now, Duration::days(notice_days))
            .await?;
        let line = |key, label, count| PostureLine {
            key,
            label,
            count,
            percent: percent(count, c.live),
        };
        let gaps = vec![
            line("unowned", "without an owner", c.unowned),
            line(
                "owner_departed",
                "owned by a departed person",
                c.owner_departed,
            ),
            line(
                "owner_not_in_directory",
                "owned by someone not in the people directory",
                c.owner_not_in_directory,
            ),
            line("no_expiry", "without an expiry", c.no_expiry),
            line(
                "expired_active",
                "expired but still active",
                c.expired_active,
            ),
            line(
                "expiring_soon",
                "expiring within the notice window",
                c.expiring_soon,
            ),
            line("review_overdue", "review overdue", c.review_overdue),
            line("never_reviewed", "never reviewed", c.never_reviewed),
            line(
                "no_review_cadence",
                "without a review cadence",
                c.no_review_cadence,
            ),
            line("undeclared", "discovered but never declared", c.undeclared),
            line("last_used_unknown", "last use unknown", c.last_used_unknown),
        ];
        Ok(Posture {
            generated_at: now,
            total: c.total,
            live: c.live,
            by_kind: c.by_kind,
            by_environment: c.by_environment,
            by_status: c.by_status,
            notice_days,
            gaps,
            people: c.people,
            people_departed: c.people_departed,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_rounds_to_one_decimal_and_handles_empty() {
        assert_eq!(super::percent(1, 3), 33.3);
        assert_eq!(super::percent(2, 3), 66.7);
        assert_eq!(super::percent(5, 0), 0.0);
    }
}
