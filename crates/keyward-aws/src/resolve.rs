//! From parsed inputs to NHIs: users and roles with their effective permissions (through
//! groups, attached managed policies and inline policies), trust, credentials and last use,
//! merged per ARN across every input of the run.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use keyward_connect::{ConnectError, facts};
use keyward_model::{
    CredentialKind, CredentialStatus, DiscoveredCredential, DiscoveredNhi, Environment, Facts,
    NhiKind, OwnerRef, UsageState,
};
use serde_json::{Value, json};

use crate::authz::{
    AttachedPolicy, AuthorizationDetails, GroupDetail, InlinePolicy, ManagedPolicy, RoleDetail,
    Tag, UserDetail,
};
use crate::document::PolicyDocument;
use crate::grants::{self, Grants};
use crate::report::{CredentialReport, ReportRow, Stamp};
use crate::{PROVIDER, account_of};

/// What the inputs of one run resolve to.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The account the run covers (its scope is `aws:<account>`).
    pub account: String,
    /// One NHI per user, role and root row, sorted by ARN.
    pub nhis: Vec<DiscoveredNhi>,
    /// What could not be resolved, once each.
    pub warnings: Vec<String>,
}

/// Credentials a live run listed per user ARN (access keys with their real ids, signing
/// certificates, SSH public keys); for those users they replace the report's slots.
pub type ListedCredentials = BTreeMap<String, Vec<DiscoveredCredential>>;

/// Resolves parsed inputs into NHIs. `account`, when given, is the run's account; otherwise
/// it is the account most identities in the inputs belong to (ties go to the lowest id), and
/// a warning names the others. Fails only when no account can be told at all.
pub fn resolve(
    details: &[AuthorizationDetails],
    reports: &[CredentialReport],
    account: Option<&str>,
) -> Result<Resolved, ConnectError> {
    resolve_with(details, reports, &ListedCredentials::new(), account)
}

/// [`resolve`], with credentials a live run listed.
pub(crate) fn resolve_with(
    details: &[AuthorizationDetails],
    reports: &[CredentialReport],
    listed: &ListedCredentials,
    account: Option<&str>,
) -> Result<Resolved, ConnectError> {
    let mut r = Resolver::new(details);
    let mut rows: BTreeMap<&str, &ReportRow> = BTreeMap::new();
    for row in reports.iter().flat_map(|r| &r.rows) {
        rows.insert(row.arn.as_str(), row);
    }
    let account = match account {
        Some(a) => a.to_owned(),
        None => r.majority_account(rows.keys().copied())?,
    };

    let mut nhis: BTreeMap<String, DiscoveredNhi> = BTreeMap::new();
    let users: BTreeMap<&str, &UserDetail> = r.users.iter().map(|(k, v)| (*k, *v)).collect();
    for (arn, u) in users {
        let n = r.user(u, &account);
        nhis.insert(arn.to_owned(), n);
    }
    let roles: BTreeMap<&str, &RoleDetail> = r.roles.iter().map(|(k, v)| (*k, *v)).collect();
    for (arn, role) in roles {
        let n = r.role(role, &account);
        nhis.insert(arn.to_owned(), n);
    }
    for (&arn, &row) in &rows {
        let n = nhis.entry(arn.to_owned()).or_insert_with(|| {
            let (kind, name) = if row.is_root() {
                (NhiKind::Other, row.user.clone())
            } else {
                (NhiKind::IamUser, row.user.clone())
            };
            DiscoveredNhi::new(kind, PROVIDER, arn, name)
        });
        apply_row(n, row, listed.get(arn).map(Vec::as_slice));
    }
    for (arn, creds) in listed {
        if let Some(n) = nhis.get_mut(arn)
            && !rows.contains_key(arn.as_str())
        {
            apply_listed(n, creds);
        }
    }

    let mut foreign: BTreeMap<String, usize> = BTreeMap::new();
    for n in nhis.values() {
        if let Some(a) = account_of(&n.external_id)
            && a != account
        {
            *foreign.entry(a.to_owned()).or_default() += 1;
        }
    }
    let mut warnings = r.warnings();
    if !foreign.is_empty() {
        let list: Vec<String> = foreign.iter().map(|(a, n)| format!("{a} ({n})")).collect();
        warnings.push(format!(
            "the inputs also describe identities of other accounts: {}; they are reported in scope `aws:{account}` with the rest",
            list.join(", ")
        ));
    }
    Ok(Resolved {
        account,
        nhis: nhis.into_values().collect(),
        warnings,
    })
}

/// The AWS-managed policy known to grant everything, recognised by ARN when its document is
/// not in the inputs.
const ADMINISTRATOR_ACCESS: &str = "policy/AdministratorAccess";

/// Indexes over every authorization-details input, and what resolution found missing.
struct Resolver<'a> {
    users: HashMap<&'a str, &'a UserDetail>,
    roles: HashMap<&'a str, &'a RoleDetail>,
    groups: HashMap<(Option<&'a str>, &'a str), &'a GroupDetail>,
    policies: HashMap<&'a str, &'a ManagedPolicy>,
    managed: HashMap<&'a str, Option<Grants>>,
    group_grants: HashMap<(Option<&'a str>, &'a str), Grants>,
    missing_policies: BTreeMap<&'a str, usize>,
    no_default: BTreeSet<&'a str>,
    missing_groups: BTreeMap<String, usize>,
    truncated: usize,
}

impl<'a> Resolver<'a> {
    fn new(details: &'a [AuthorizationDetails]) -> Self {
        let mut r = Self {
            users: HashMap::new(),
            roles: HashMap::new(),
            groups: HashMap::new(),
            policies: HashMap::new(),
            managed: HashMap::new(),
            group_grants: HashMap::new(),
            missing_policies: BTreeMap::new(),
            no_default: BTreeSet::new(),
            missing_groups: BTreeMap::new(),
            truncated: 0,
        };
        // A later input's entry for the same ARN replaces an earlier one: several exports of
        // one account are taken in the order given, the last as the newest.
        for d in details {
            r.truncated += usize::from(d.is_truncated);
            for u in &d.users {
                r.users.insert(&u.arn, u);
            }
            for role in &d.roles {
                r.roles.insert(&role.arn, role);
            }
            for g in &d.groups {
                r.groups.insert((account_of(&g.arn), &g.name), g);
            }
            for p in &d.policies {
                r.policies.insert(&p.arn, p);
            }
        }
        r
    }

    fn majority_account<'r>(
        &self,
        report_arns: impl Iterator<Item = &'r str>,
    ) -> Result<String, ConnectError>
    where
        'a: 'r,
    {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        let arns = self
            .users
            .keys()
            .chain(self.roles.keys())
            .copied()
            .chain(report_arns);
        for arn in arns {
            if let Some(a) = account_of(arn) {
                *counts.entry(a).or_default() += 1;
            }
        }
        if counts.is_empty() {
            // An account with no users or roles still has customer-managed policies or
            // groups that name it.
            for arn in self
                .policies
                .keys()
                .copied()
                .chain(self.groups.values().map(|g| g.arn.as_str()))
            {
                if let Some(a) = account_of(arn).filter(|a| *a != "aws") {
                    *counts.entry(a).or_default() += 1;
                }
            }
        }
        // BTreeMap order makes the lowest id win a tie.
        let best = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
        best.map(|(a, _)| (*a).to_owned()).ok_or_else(|| {
            ConnectError::Usage(
                "cannot tell the AWS account: no input names an identity with an ARN; give the account explicitly"
                    .into(),
            )
        })
    }

    /// The grants of one managed policy, computed once per ARN.
    fn managed(&mut self, a: &'a AttachedPolicy) -> Option<Grants> {
        if let Some(g) = self.managed.get(a.arn.as_str()) {
            return g.clone();
        }
        let grants = match self.policies.get(a.arn.as_str()) {
            Some(p) => match p.default_document() {
                Some(doc) => Some(grants_of([doc])),
                None => {
                    self.no_default.insert(&a.arn);
                    None
                }
            },
            None if is_administrator_access(&a.arn) => Some(grants_of([&admin_document()])),
            None => None,
        };
        self.managed.insert(&a.arn, grants.clone());
        grants
    }

    /// Adds attached and inline policies to `grants` and their names to `names`.
    fn add_policies(
        &mut self,
        attached: &'a [AttachedPolicy],
        inline: &'a [InlinePolicy],
        grants: &mut Grants,
        names: &mut BTreeSet<String>,
    ) {
        for a in attached {
            names.insert(policy_name(a));
            match self.managed(a) {
                Some(g) => grants.merge(&g),
                None => {
                    if !self.no_default.contains(a.arn.as_str()) {
                        *self.missing_policies.entry(&a.arn).or_default() += 1;
                    }
                }
            }
        }
        for p in inline {
            names.insert(p.name.clone());
            grants.add(&p.document);
        }
    }

    fn user(&mut self, u: &'a UserDetail, account: &str) -> DiscoveredNhi {
        let mut n = DiscoveredNhi::new(NhiKind::IamUser, PROVIDER, &u.arn, &u.name);
        n.created_at = u.created.map(|t| t.0);
        apply_tags(&mut n, &u.tags);
        let mut grants = Grants::default();
        let mut names = BTreeSet::new();
        self.add_policies(&u.attached, &u.inline, &mut grants, &mut names);
        let user_account = account_of(&u.arn);
        for g in &u.groups {
            let key = (user_account, g.as_str());
            let Some(group) = self.groups.get(&key).copied() else {
                *self
                    .missing_groups
                    .entry(format!("{}/{g}", user_account.unwrap_or(account)))
                    .or_default() += 1;
                continue;
            };
            let group_grants = match self.group_grants.get(&key) {
                Some(gg) => gg.clone(),
                None => {
                    let mut gg = Grants::default();
                    let mut gnames = BTreeSet::new();
                    self.add_policies(&group.attached, &group.inline, &mut gg, &mut gnames);
                    self.group_grants.insert(key, gg.clone());
                    gg
                }
            };
            grants.merge(&group_grants);
            names.extend(group.attached.iter().map(policy_name));
            names.extend(group.inline.iter().map(|p| p.name.clone()));
        }
        apply_grants(&mut n.facts, &mut n.observed_permissions, &grants, names);
        let groups: BTreeSet<&str> = u.groups.iter().map(String::as_str).collect();
        n.facts.insert("groups".into(), json!(groups));
        if let Some(b) = &u.boundary {
            n.facts.insert("permissions_boundary".into(), json!(b.arn));
        }
        n
    }

    fn role(&mut self, role: &'a RoleDetail, account: &str) -> DiscoveredNhi {
        let mut n = DiscoveredNhi::new(NhiKind::IamRole, PROVIDER, &role.arn, &role.name);
        n.created_at = role.created.map(|t| t.0);
        n.purpose = role.description.clone().filter(|d| !d.trim().is_empty());
        apply_tags(&mut n, &role.tags);
        let mut grants = Grants::default();
        let mut names = BTreeSet::new();
        self.add_policies(&role.attached, &role.inline, &mut grants, &mut names);
        apply_grants(&mut n.facts, &mut n.observed_permissions, &grants, names);
        if let Some(b) = &role.boundary {
            n.facts.insert("permissions_boundary".into(), json!(b.arn));
        }
        // IAM tracks role use for a trailing 400 days: no date means no use in that window,
        // which is what any staleness check asks.
        match role.last_used.date {
            Some(t) => {
                n.last_used_at = Some(t.0);
                n.last_used_state = UsageState::Used;
            }
            None => n.last_used_state = UsageState::Never,
        }
        if let Some(region) = &role.last_used.region {
            n.facts.insert("last_used_region".into(), json!(region));
        }
        let own = account_of(&role.arn).unwrap_or(account);
        let (trust, other_accounts) = role
            .trust
            .as_ref()
            .map(|d| grants::trust(d, own))
            .unwrap_or_default();
        n.facts.insert(facts::TRUST.into(), Value::Array(trust));
        if !other_accounts.is_empty() {
            n.facts
                .insert("cross_account_trust".into(), json!(other_accounts));
        }
        if role.path.starts_with("/aws-service-role/") {
            n.facts.insert("service_linked".into(), json!(true));
        }
        if role.path.starts_with("/aws-reserved/sso.amazonaws.com/") {
            n.facts.insert("aws_sso".into(), json!(true));
        }
        let profiles: BTreeSet<&str> = role
            .instance_profiles
            .iter()
            .map(|p| p.arn.as_str())
            .collect();
        if !profiles.is_empty() {
            n.facts.insert("instance_profiles".into(), json!(profiles));
        }
        n
    }

    fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (arn, count) in &self.missing_policies {
            out.push(format!(
                "managed policy `{arn}` is not in the inputs (attached {count} time(s)); its permissions are not counted"
            ));
        }
        for arn in &self.no_default {
            out.push(format!(
                "managed policy `{arn}` has no default version in the inputs; its permissions are not counted"
            ));
        }
        for (group, count) in &self.missing_groups {
            out.push(format!(
                "group `{group}` is not in the inputs ({count} member(s)); its policies are not counted"
            ));
        }
        if self.truncated > 0 {
            out.push(format!(
                "{} input(s) are one page of a longer listing (IsTruncated); identities on other pages are missing",
                self.truncated
            ));
        }
        out
    }
}

fn is_administrator_access(arn: &str) -> bool {
    arn.ends_with(ADMINISTRATOR_ACCESS) && account_of(arn) == Some("aws")
}

fn admin_document() -> PolicyDocument {
    PolicyDocument::from_encoded(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
    .unwrap_or_default()
}

fn grants_of<'d>(docs: impl IntoIterator<Item = &'d PolicyDocument>) -> Grants {
    let mut g = Grants::default();
    for d in docs {
        g.add(d);
    }
    g
}

fn policy_name(a: &AttachedPolicy) -> String {
    a.name
        .clone()
        .unwrap_or_else(|| a.arn.rsplit('/').next().unwrap_or(&a.arn).to_owned())
}

fn apply_grants(
    facts: &mut Facts,
    permissions: &mut Vec<String>,
    grants: &Grants,
    names: BTreeSet<String>,
) {
    let e = grants.effective();
    facts.insert(facts::ADMIN.into(), json!(e.admin));
    facts.insert(facts::WILDCARD_PERMISSIONS.into(), json!(e.wildcards));
    facts.insert(facts::PRIVILEGED_GRANTS.into(), json!(e.privileged));
    facts.insert("policies".into(), json!(names));
    if !e.not_action.is_empty() {
        facts.insert("not_action_allows".into(), json!(e.not_action));
    }
    *permissions = e.actions;
}

/// Tags into the map, and the owner and environment they name.
fn apply_tags(n: &mut DiscoveredNhi, tags: &[Tag]) {
    for t in tags {
        n.tags.insert(t.key.clone(), t.value.clone());
    }
    n.owner = tags
        .iter()
        .filter(|t| t.key.eq_ignore_ascii_case("owner"))
        .find_map(|t| OwnerRef::parse(&t.value).ok());
    n.environment = tags
        .iter()
        .filter(|t| t.key.eq_ignore_ascii_case("env") || t.key.eq_ignore_ascii_case("environment"))
        .find_map(|t| environment_of(&t.value));
}

/// The environment a tag value names, when it names one.
pub(crate) fn environment_of(value: &str) -> Option<Environment> {
    match value.trim().to_ascii_lowercase().as_str() {
        "production" | "prod" => Some(Environment::Production),
        "staging" | "stage" => Some(Environment::Staging),
        "development" | "dev" => Some(Environment::Development),
        "test" => Some(Environment::Test),
        _ => None,
    }
}

/// A report value as a use: when, and what is known.
fn usage(s: Stamp) -> (Option<DateTime<Utc>>, UsageState) {
    match s {
        Stamp::At(t) => (Some(t), UsageState::Used),
        Stamp::NotApplicable | Stamp::NotSupported => (None, UsageState::Never),
        Stamp::NoInformation => (None, UsageState::Unknown),
    }
}

/// The identity's last use from its credentials' uses: the latest time when any was used;
/// else unknown when any is unknown; else never.
fn combine(
    uses: impl IntoIterator<Item = (Option<DateTime<Utc>>, UsageState)>,
) -> (Option<DateTime<Utc>>, UsageState) {
    let mut latest = None;
    let mut unknown = false;
    for (t, s) in uses {
        match s {
            UsageState::Used => latest = latest.max(t),
            UsageState::Unknown => unknown = true,
            UsageState::Never => {}
        }
    }
    match (latest, unknown) {
        (Some(t), _) => (Some(t), UsageState::Used),
        (None, true) => (None, UsageState::Unknown),
        (None, false) => (None, UsageState::Never),
    }
}

/// What a credential-report row says, merged into its identity. `listed`, when the live run
/// listed this user's credentials, replaces the report's anonymous key and certificate slots.
fn apply_row(n: &mut DiscoveredNhi, row: &ReportRow, listed: Option<&[DiscoveredCredential]>) {
    if n.created_at.is_none() {
        n.created_at = row.created.time();
    }
    if row.is_root() {
        n.facts.insert("root".into(), json!(true));
        // The root user can do everything in its account, whatever policies say.
        n.facts.insert(facts::ADMIN.into(), json!(true));
    }
    if let Some(p) = row.password_enabled {
        n.facts.insert(facts::PASSWORD_AUTH.into(), json!(p));
    }
    if let Some(m) = row.mfa_active {
        n.facts.insert("mfa_active".into(), json!(m));
    }
    let mut creds = Vec::new();
    let mut uses = vec![usage(row.password_last_used)];
    if row.password_enabled == Some(true) {
        let mut c = DiscoveredCredential::with_external_id(
            CredentialKind::Password,
            format!("{}#password", row.arn),
        );
        c.created_at = row.password_last_changed.time();
        c.last_rotated_at = row.password_last_changed.time();
        c.expires_at = row.password_next_rotation.time();
        (c.last_used_at, c.last_used_state) = usage(row.password_last_used);
        creds.push(c);
    }
    match listed {
        Some(l) => {
            creds.extend(l.iter().cloned());
            uses.extend(
                l.iter()
                    .filter(|c| c.kind == CredentialKind::AccessKey)
                    .map(|c| (c.last_used_at, c.last_used_state)),
            );
        }
        None => {
            for (i, k) in row.keys.iter().enumerate().filter(|(_, k)| k.exists()) {
                let mut c = DiscoveredCredential::with_external_id(
                    CredentialKind::AccessKey,
                    format!("{}#access_key_{}", row.arn, i + 1),
                );
                c.status = status(k.active);
                // An access key cannot change: its last rotation is its creation.
                c.created_at = k.last_rotated.time();
                c.last_rotated_at = k.last_rotated.time();
                (c.last_used_at, c.last_used_state) = usage(k.last_used);
                uses.push((c.last_used_at, c.last_used_state));
                creds.push(c);
            }
            for (i, k) in row.certs.iter().enumerate().filter(|(_, k)| k.exists()) {
                let mut c = DiscoveredCredential::with_external_id(
                    CredentialKind::Certificate,
                    format!("{}#cert_{}", row.arn, i + 1),
                );
                c.status = status(k.active);
                c.created_at = k.last_rotated.time();
                c.last_rotated_at = k.last_rotated.time();
                creds.push(c);
            }
        }
    }
    let services: BTreeSet<&str> = row
        .keys
        .iter()
        .filter_map(|k| k.last_used_service.as_deref())
        .collect();
    if !services.is_empty() {
        n.facts
            .insert("access_key_last_used_services".into(), json!(services));
    }
    (n.last_used_at, n.last_used_state) = combine(uses);
    set_credentials(n, creds);
}

/// Credentials a live run listed, for a user the credential report does not mention.
fn apply_listed(n: &mut DiscoveredNhi, creds: &[DiscoveredCredential]) {
    let uses: Vec<_> = creds
        .iter()
        .filter(|c| c.kind == CredentialKind::AccessKey)
        .map(|c| (c.last_used_at, c.last_used_state))
        .collect();
    if !uses.is_empty() {
        (n.last_used_at, n.last_used_state) = combine(uses);
    }
    set_credentials(n, creds.to_vec());
}

fn set_credentials(n: &mut DiscoveredNhi, mut creds: Vec<DiscoveredCredential>) {
    creds.sort_by(|a, b| a.external_id.cmp(&b.external_id));
    let static_key = creds
        .iter()
        .any(|c| c.kind == CredentialKind::AccessKey && c.status == CredentialStatus::Active);
    n.facts
        .insert(facts::STATIC_CLOUD_KEY.into(), json!(static_key));
    n.credentials = creds;
}

fn status(active: Option<bool>) -> CredentialStatus {
    if active == Some(false) {
        CredentialStatus::Inactive
    } else {
        CredentialStatus::Active
    }
}
