use chrono::NaiveDate;
use serde::Serialize;

use crate::PersonStatus;

/// A person who can own NHIs, as the HR directory describes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    /// Lower-cased email, the person's key.
    pub email: String,
    /// Display name.
    pub name: String,
    /// The team they belong to, if any.
    pub team: Option<String>,
    /// Their manager's email, who inherits their NHIs when they leave.
    pub manager_email: Option<String>,
    /// Active or departed.
    pub status: PersonStatus,
    /// When they left, for departed people.
    pub departed_on: Option<NaiveDate>,
}
