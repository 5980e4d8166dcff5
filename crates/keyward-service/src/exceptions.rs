//! Risk exceptions: a time-bound acceptance of one open finding, requested by one person and
//! approved or rejected by another who holds the approver role. An approved exception
//! suppresses its finding until it expires; the first change after that (a check run, any
//! exception command) expires it and ledgers the finding as open again.

use chrono::{DateTime, Duration, Utc};
use keyward_model::{ExceptionState, FindingState, OwnerRef, RiskException};
use serde::Serialize;

use crate::{Service, ServiceError};

/// Who may approve and for how long, from `keyward.toml`'s `[exceptions]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionPolicy {
    /// Emails holding the approver role.
    pub approvers: Vec<String>,
    /// The longest an exception may run.
    pub max_days: i64,
}

impl Default for ExceptionPolicy {
    fn default() -> Self {
        Self {
            approvers: Vec::new(),
            max_days: 365,
        }
    }
}

/// A request to accept a finding's risk.
#[derive(Debug, Clone)]
pub struct ExceptionRequest {
    /// The finding.
    pub finding: String,
    /// Why.
    pub reason: String,
    /// What compensates meanwhile.
    pub compensating_controls: String,
    /// Until when; refused when absent.
    pub expires: Option<DateTime<Utc>>,
    /// Who asks.
    pub requested_by: String,
}

/// An exception with the finding it covers, for lists.
#[derive(Debug, Clone, Serialize)]
pub struct ExceptionView {
    /// The exception.
    #[serde(flatten)]
    pub exception: RiskException,
    /// The finding's check.
    pub check: String,
    /// The NHI.
    pub nhi: String,
    /// Whether it suppresses its finding now.
    pub in_force: bool,
}

fn email(who: &str, what: &str) -> Result<String, ServiceError> {
    match OwnerRef::parse(who) {
        Ok(OwnerRef::Person(e)) => Ok(e),
        _ => Err(ServiceError::Refused(format!(
            "{what} must be a person's email address, not `{who}`"
        ))),
    }
}

impl Service {
    /// Records a request to accept an open finding's risk until `expires`.
    pub async fn request_exception(
        &self,
        req: ExceptionRequest,
        policy: &ExceptionPolicy,
    ) -> Result<RiskException, ServiceError> {
        let now = self.now();
        let Some(expires) = req.expires else {
            return Err(ServiceError::Refused(
                "an exception needs an expiry (--expires DATE): risk is accepted for a time, never for good".into(),
            ));
        };
        if expires <= now {
            return Err(ServiceError::Refused(format!(
                "the expiry {} is not in the future",
                expires.format("%Y-%m-%d")
            )));
        }
        if expires > now + Duration::days(policy.max_days) {
            return Err(ServiceError::Refused(format!(
                "the expiry {} is more than {} days away (keyward.toml [exceptions] max_days)",
                expires.format("%Y-%m-%d"),
                policy.max_days
            )));
        }
        if req.reason.trim().is_empty() {
            return Err(ServiceError::Refused(
                "an exception needs a reason (--reason)".into(),
            ));
        }
        if req.compensating_controls.trim().is_empty() {
            return Err(ServiceError::Refused(
                "an exception needs its compensating controls (--compensating-controls)".into(),
            ));
        }
        let requested_by = email(&req.requested_by, "the requester")?;
        let mut tx = self.begin().await?;
        self.expire_exceptions(&mut tx).await?;
        let finding = tx.finding(&req.finding).await?;
        if finding.state != FindingState::Open {
            return Err(ServiceError::Refused(format!(
                "finding `{}` is resolved; only an open finding's risk can be accepted",
                finding.id
            )));
        }
        if let Some(live) = tx.exceptions_of(&finding.id).await?.into_iter().find(|e| {
            matches!(
                e.state,
                ExceptionState::Requested | ExceptionState::Approved
            )
        }) {
            return Err(ServiceError::Refused(format!(
                "finding `{}` already has exception `{}` ({})",
                finding.id, live.id, live.state
            )));
        }
        let e = RiskException {
            id: self.new_id("exc"),
            finding_id: finding.id.clone(),
            state: ExceptionState::Requested,
            reason: req.reason.trim().to_owned(),
            compensating_controls: req.compensating_controls.trim().to_owned(),
            requested_by,
            requested_at: now,
            expires_at: expires,
            decided_by: None,
            decided_at: None,
            decision_note: None,
        };
        tx.upsert_exceptions(std::slice::from_ref(&e)).await?;
        self.append(
            &mut tx,
            "exception.requested",
            &e.id,
            &serde_json::json!({
                "exception": e,
                "check": finding.check_id,
                "nhi": finding.nhi_id,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(e)
    }

    /// Approves or rejects a requested exception as `by`, who must hold the approver role
    /// and may not be its requester.
    pub async fn decide_exception(
        &self,
        id: &str,
        by: &str,
        approve: bool,
        note: Option<String>,
        policy: &ExceptionPolicy,
    ) -> Result<RiskException, ServiceError> {
        let by = email(by, "the approver")?;
        if !policy.approvers.iter().any(|a| a.eq_ignore_ascii_case(&by)) {
            return Err(ServiceError::Refused(format!(
                "{by} does not hold the approver role (keyward.toml [exceptions] approvers)"
            )));
        }
        let mut tx = self.begin().await?;
        self.expire_exceptions(&mut tx).await?;
        let mut e = tx.exception(id).await?;
        if e.state != ExceptionState::Requested {
            // Expiry found by the sweep above is still worth recording.
            tx.commit().await?;
            return Err(ServiceError::Refused(format!(
                "exception `{id}` is {}, not waiting for a decision",
                e.state
            )));
        }
        if e.requested_by.eq_ignore_ascii_case(&by) {
            return Err(ServiceError::Refused(format!(
                "{by} requested exception `{id}` and may not decide it: the approver must be someone else"
            )));
        }
        e.state = if approve {
            ExceptionState::Approved
        } else {
            ExceptionState::Rejected
        };
        e.decided_by = Some(by);
        e.decided_at = Some(tx.now());
        e.decision_note = note.filter(|n| !n.trim().is_empty());
        tx.upsert_exceptions(std::slice::from_ref(&e)).await?;
        let action = if approve {
            "exception.approved"
        } else {
            "exception.rejected"
        };
        self.append(&mut tx, action, &e.id, &e).await?;
        tx.commit().await?;
        Ok(e)
    }

    /// Every exception, newest first, with its finding's check and NHI. Expires those whose
    /// time has come first when the key file is at hand.
    pub async fn list_exceptions(&self) -> Result<Vec<ExceptionView>, ServiceError> {
        if self.keyring.is_some() {
            let mut tx = self.begin().await?;
            if self.expire_exceptions(&mut tx).await? > 0 {
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
        }
        let now = self.now();
        let mut out = Vec::new();
        for e in self.store.exceptions(None).await? {
            let f = self.store.finding(&e.finding_id).await?;
            out.push(ExceptionView {
                in_force: e.in_force(now),
                check: f.check_id,
                nhi: f.nhi_id.0,
                exception: e,
            });
        }
        Ok(out)
    }
}
