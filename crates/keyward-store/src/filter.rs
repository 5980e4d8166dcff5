use chrono::{DateTime, Duration, Utc};
use keyward_model::{Environment, NhiKind, NhiStatus, OwnerRef};

/// Which NHIs to list. Every set field narrows the result; time-based fields are judged at `now`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NhiFilter {
    /// Only this kind.
    pub kind: Option<NhiKind>,
    /// Only this provider.
    pub provider: Option<String>,
    /// Only this environment.
    pub environment: Option<Environment>,
    /// Only NHIs this person or team owns (primary or backup).
    pub owner: Option<OwnerRef>,
    /// Only this status.
    pub status: Option<NhiStatus>,
    /// Only NHIs without an owner.
    pub unowned: bool,
    /// Only NHIs whose owner has departed.
    pub owner_departed: bool,
    /// Only NHIs that expire between now and now + this.
    pub expiring_within: Option<Duration>,
    /// Only NHIs past their expiry.
    pub expired: bool,
    /// Only NHIs whose next review is past due.
    pub review_overdue: bool,
    /// Only NHIs that were discovered and never declared.
    pub undeclared: bool,
}

/// A piece of the filter's `WHERE` clause: SQL text, or a value to bind in its place.
pub(crate) enum Part {
    /// SQL text.
    Sql(&'static str),
    /// A text value.
    Text(String),
    /// An instant.
    Time(DateTime<Utc>),
}

impl NhiFilter {
    /// The `WHERE` clause, written once for every backend and driver.
    pub(crate) fn parts(&self, now: DateTime<Utc>) -> Vec<Part> {
        use Part::{Sql, Text, Time};
        let mut p = vec![Sql(" WHERE 1 = 1")];
        if let Some(k) = self.kind {
            p.extend([Sql(" AND kind = "), Text(k.as_str().into())]);
        }
        if let Some(v) = &self.provider {
            p.extend([Sql(" AND provider = "), Text(v.clone())]);
        }
        if let Some(e) = self.environment {
            p.extend([Sql(" AND environment = "), Text(e.as_str().into())]);
        }
        if let Some(o) = &self.owner {
            let o = o.to_string();
            p.extend([Sql(" AND (owner = "), Text(o.clone())]);
            p.extend([Sql(" OR backup_owner = "), Text(o), Sql(")")]);
        }
        if let Some(s) = self.status {
            p.extend([Sql(" AND status = "), Text(s.as_str().into())]);
        }
        if self.unowned {
            p.push(Sql(" AND owner IS NULL"));
        }
        if self.owner_departed {
            p.push(Sql(
                " AND owner IN (SELECT email FROM people WHERE status = 'departed')",
            ));
        }
        if let Some(d) = self.expiring_within {
            p.extend([Sql(" AND expires_at >= "), Time(now)]);
            p.extend([Sql(" AND expires_at < "), Time(now + d)]);
        }
        if self.expired {
            p.extend([Sql(" AND expires_at < "), Time(now)]);
        }
        if self.review_overdue {
            p.extend([Sql(" AND next_review_due < "), Time(now)]);
        }
        if self.undeclared {
            p.push(Sql(" AND declaration IS NULL"));
        }
        p
    }
}

/// Appends the filter's `WHERE` clause to a query builder, for either backend.
macro_rules! push_filter {
    ($qb:expr, $f:expr, $now:expr) => {{
        let qb = $qb;
        let f: &$crate::NhiFilter = $f;
        for part in f.parts($now) {
            match part {
                $crate::filter::Part::Sql(s) => {
                    qb.push(s);
                }
                $crate::filter::Part::Text(v) => {
                    qb.push_bind(v);
                }
                $crate::filter::Part::Time(t) => {
                    qb.push_bind(t);
                }
            }
        }
    }};
}
