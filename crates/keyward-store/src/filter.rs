use chrono::Duration;
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

/// Appends the filter's `WHERE` clause to a query builder, for either backend.
macro_rules! push_filter {
    ($qb:expr, $f:expr, $now:expr) => {{
        let qb = $qb;
        let f: &$crate::NhiFilter = $f;
        let now: chrono::DateTime<chrono::Utc> = $now;
        qb.push(" WHERE 1 = 1");
        if let Some(k) = f.kind {
            qb.push(" AND kind = ").push_bind(k.as_str());
        }
        if let Some(p) = &f.provider {
            qb.push(" AND provider = ").push_bind(p.clone());
        }
        if let Some(e) = f.environment {
            qb.push(" AND environment = ").push_bind(e.as_str());
        }
        if let Some(o) = &f.owner {
            let o = o.to_string();
            qb.push(" AND (owner = ").push_bind(o.clone());
            qb.push(" OR backup_owner = ").push_bind(o).push(")");
        }
        if let Some(s) = f.status {
            qb.push(" AND status = ").push_bind(s.as_str());
        }
        if f.unowned {
            qb.push(" AND owner IS NULL");
        }
        if f.owner_departed {
            qb.push(" AND owner IN (SELECT email FROM people WHERE status = 'departed')");
        }
        if let Some(d) = f.expiring_within {
            qb.push(" AND expires_at >= ").push_bind(now);
            qb.push(" AND expires_at < ").push_bind(now + d);
        }
        if f.expired {
            qb.push(" AND expires_at < ").push_bind(now);
        }
        if f.review_overdue {
            qb.push(" AND next_review_due < ").push_bind(now);
        }
        if f.undeclared {
            qb.push(" AND declaration IS NULL");
        }
    }};
}
