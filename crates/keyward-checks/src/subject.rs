//! What a check sees of one NHI.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use keyward_model::{
    CredentialKind, CredentialStatus, Environment, LocationSource, NhiKind, NhiStatus, Origin,
    UsageState,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::paths::PathClass;

/// One NHI as every check sees it: the register's fields, what its sources currently say, its
/// credentials and where their values were found, and its owner's standing in the people
/// directory. Serialised, it is the `input` document of custom Rego checks (with `now` added;
/// fields that are unknown are left out rather than null); in check files
/// test cases every field may be left out and takes the default below.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Subject {
    /// Register id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// What sort of NHI (default `other`).
    pub kind: NhiKind,
    /// Provider (`aws`, `kubernetes`, `github`, …).
    pub provider: String,
    /// The provider's identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Environment served (default `unknown`).
    pub environment: Environment,
    /// Lifecycle status (default `active`).
    pub status: NhiStatus,
    /// Declared as code or only discovered (default `declared`).
    pub origin: Origin,
    /// Accountable owner: an email or `team:<name>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// How the owner stands in the people directory.
    pub owner_standing: Standing,
    /// When a departed owner left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_departed_on: Option<NaiveDate>,
    /// Backup owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_owner: Option<String>,
    /// How the backup owner stands in the people directory.
    pub backup_owner_standing: Standing,
    /// Why it exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Third party it belongs to or is shared with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    /// Approved scopes.
    pub privilege_ceiling: Vec<String>,
    /// Permissions sources observed it to hold.
    pub observed_permissions: Vec<String>,
    /// Created at its source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// Expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Last rotation of its secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_rotated_at: Option<DateTime<Utc>>,
    /// Last use, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whether last use is known (default `unknown`).
    pub last_used_state: UsageState,
    /// Last review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reviewed_at: Option<DateTime<Utc>>,
    /// Review cadence in days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_every_days: Option<u32>,
    /// When the next review is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_review_due: Option<DateTime<Utc>>,
    /// When it entered the register.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_at: Option<DateTime<Utc>>,
    /// Tags and labels.
    pub tags: BTreeMap<String, String>,
    /// The sources that currently report it (`declaration`, `aws-iam`, `cloudtrail`, …).
    pub sources: Vec<String>,
    /// Sources whose complete runs no longer see it.
    pub gone: Vec<Gone>,
    /// What its current sources say beyond the register's fields, merged (see
    /// [`Subject::merge_fact`]); fact names are in `keyward_connect::facts`.
    pub facts: BTreeMap<String, Value>,
    /// Which sources reported each fact.
    pub fact_sources: BTreeMap<String, Vec<String>>,
    /// Its credentials.
    pub credentials: Vec<CredentialSubject>,
}

impl Default for Subject {
    fn default() -> Self {
        Self {
            id: String::new(),
            name: String::new(),
            kind: NhiKind::Other,
            provider: String::new(),
            external_id: None,
            environment: Environment::Unknown,
            status: NhiStatus::Active,
            origin: Origin::Declared,
            owner: None,
            owner_standing: Standing::None,
            owner_departed_on: None,
            backup_owner: None,
            backup_owner_standing: Standing::None,
            purpose: None,
            supplier: None,
            privilege_ceiling: Vec::new(),
            observed_permissions: Vec::new(),
            created_at: None,
            expires_at: None,
            last_rotated_at: None,
            last_used_at: None,
            last_used_state: UsageState::Unknown,
            last_reviewed_at: None,
            review_every_days: None,
            next_review_due: None,
            registered_at: None,
            tags: BTreeMap::new(),
            sources: Vec::new(),
            gone: Vec::new(),
            facts: BTreeMap::new(),
            fact_sources: BTreeMap::new(),
            credentials: Vec::new(),
        }
    }
}

/// How an owner reference stands in the people directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// No owner named.
    #[default]
    None,
    /// A person in the directory, active.
    Active,
    /// A person in the directory who has left.
    Departed,
    /// A person not in the directory (or the directory is empty).
    NotInDirectory,
    /// A team with at least one active member.
    Team,
    /// A team with no active member in the directory.
    EmptyTeam,
}

/// A source whose complete run no longer sees the NHI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gone {
    /// The source.
    pub source: String,
    /// The scope it ran over.
    #[serde(default)]
    pub locator: String,
    /// When it stopped seeing it.
    pub gone_at: DateTime<Utc>,
}

/// One credential of the NHI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CredentialSubject {
    /// Register id.
    pub id: String,
    /// What sort of secret (default `other`).
    pub kind: CredentialKind,
    /// Whether it can still authenticate (default `active`).
    pub status: CredentialStatus,
    /// Its non-secret identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// Expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Last rotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_rotated_at: Option<DateTime<Utc>>,
    /// Last used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    /// Where secret scans found its value.
    pub locations: Vec<Place>,
}

impl Default for CredentialSubject {
    fn default() -> Self {
        Self {
            id: String::new(),
            kind: CredentialKind::Other,
            status: CredentialStatus::Active,
            external_id: None,
            created_at: None,
            expires_at: None,
            last_rotated_at: None,
            last_used_at: None,
            locations: Vec::new(),
        }
    }
}

/// Where a secret scan found a credential's value, classified by its path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Place {
    /// A work tree (`file`) or history (`git`).
    pub source: LocationSource,
    /// The scanned root.
    pub repository: String,
    /// The file.
    pub path: String,
    /// The commit that introduced it, in history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// What sort of file: filled in from the path when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<PathClass>,
    /// The environment the path names, if any: filled in from the path when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
}

impl Place {
    /// A place classified from its path.
    pub fn new(
        source: LocationSource,
        repository: String,
        path: String,
        commit: Option<String>,
    ) -> Self {
        let mut p = Self {
            source,
            repository,
            path,
            commit,
            class: None,
            environment: None,
        };
        p.classify();
        p
    }

    /// Fills in the class and environment from the path where not given.
    pub fn classify(&mut self) {
        if self.class.is_none() {
            self.class = Some(crate::paths::classify(&self.path));
        }
        if self.environment.is_none() {
            self.environment = crate::paths::environment(&self.path);
        }
    }

    /// The path's class (classified from the path if not set).
    pub fn class(&self) -> PathClass {
        self.class
            .unwrap_or_else(|| crate::paths::classify(&self.path))
    }
}

impl Subject {
    /// Adds what one current source says about a fact: booleans are true when any source
    /// says so, arrays are the sorted union, anything else keeps the first source's value
    /// (sources are merged in name order).
    pub fn merge_fact(&mut self, source: &str, name: &str, value: Value) {
        let by = self.fact_sources.entry(name.to_owned()).or_default();
        if !by.iter().any(|s| s == source) {
            by.push(source.to_owned());
        }
        match self.facts.get_mut(name) {
            None => {
                self.facts.insert(name.to_owned(), value);
            }
            Some(Value::Bool(b)) => {
                if value.as_bool() == Some(true) {
                    *b = true;
                }
            }
            Some(Value::Array(have)) => {
                if let Value::Array(more) = value {
                    for v in more {
                        if !have.contains(&v) {
                            have.push(v);
                        }
                    }
                }
            }
            Some(_) => {}
        }
    }

    /// A fact that is `true`.
    pub fn flag(&self, name: &str) -> bool {
        self.facts.get(name).and_then(Value::as_bool) == Some(true)
    }

    /// A fact's array members (empty when absent or not an array).
    pub fn list(&self, name: &str) -> &[Value] {
        self.facts
            .get(name)
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    /// A fact's string members.
    pub fn strings(&self, name: &str) -> impl Iterator<Item = &str> {
        self.list(name).iter().filter_map(Value::as_str)
    }

    /// A numeric fact.
    pub fn number(&self, name: &str) -> Option<f64> {
        self.facts.get(name).and_then(Value::as_f64)
    }

    /// A string fact.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.facts.get(name).and_then(Value::as_str)
    }

    /// The sources that reported a fact, or none.
    pub fn sources_of(&self, name: &str) -> &[String] {
        self.fact_sources.get(name).map_or(&[], Vec::as_slice)
    }

    /// Every place any of its credentials was found, with the credential.
    pub fn places(&self) -> impl Iterator<Item = (&CredentialSubject, &Place)> {
        self.credentials
            .iter()
            .flat_map(|c| c.locations.iter().map(move |p| (c, p)))
    }

    /// Whether it can still act: active or disabled.
    pub fn is_live(&self) -> bool {
        matches!(self.status, NhiStatus::Active | NhiStatus::Disabled)
    }

    /// The latest use known from the NHI or any credential.
    pub fn latest_use(&self) -> Option<DateTime<Utc>> {
        self.credentials
            .iter()
            .filter_map(|c| c.last_used_at)
            .chain(self.last_used_at)
            .max()
    }
}
