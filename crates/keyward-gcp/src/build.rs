//! Merges what every file said into one NHI per identity: service accounts by email, with
//! their keys, grants, trust and consumers, and federated workloads that hold roles directly.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Datelike;
use keyward_connect::facts;
use keyward_model::{
    CredentialKind, CredentialStatus, DiscoveredCredential, DiscoveredNhi, Facts, NhiKind,
    NhiStatus,
};
use serde_json::{Value, json};

use crate::names::{self, Member};
use crate::parse::{Binding, Condition, GcpFile, KeyData, Record};

/// The provider name on every NHI.
const PROVIDER: &str = "gcp";

/// Every file's records, merged when the last file is in.
#[derive(Debug, Default)]
struct Builder {
    records: Vec<Record>,
    warnings: Vec<String>,
    inventory: bool,
}

/// What merging parsed files found.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// One NHI per identity, sorted by external id.
    pub nhis: Vec<DiscoveredNhi>,
    /// The scope (`gcp:…`), or `None` when the files name no project or organization and
    /// none was given.
    pub scope: Option<String>,
    /// Whether some file lists a population of service accounts.
    pub complete: bool,
    /// What the files said that did not stop the run, each once, in the order found.
    pub warnings: Vec<String>,
}

/// Merges parsed files into one NHI per identity; `scope` overrides the scope the files
/// tell (a project id, `projects/ID` or `organizations/ID`).
pub fn merge(files: Vec<GcpFile>, scope: Option<&str>) -> Merged {
    let mut b = Builder::default();
    for f in files {
        b.add(f);
    }
    b.finish(scope)
}

/// A role granted on a resource, perhaps under a condition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Grant {
    resource: String,
    role: String,
    condition: Option<Condition>,
}

#[derive(Debug, Default)]
struct Account {
    inventoried: bool,
    display_name: Option<String>,
    description: Option<String>,
    disabled: Option<bool>,
    unique_id: Option<String>,
    project_id: Option<String>,
    keys: BTreeMap<String, DiscoveredCredential>,
    system_keys: BTreeSet<String>,
    never_expires: bool,
    key_file: bool,
    grants: BTreeSet<Grant>,
    trust: BTreeMap<(String, String, Option<Condition>), Value>,
    impersonators: BTreeSet<(String, String)>,
    consumers: BTreeSet<(&'static str, String)>,
    credential_files: BTreeMap<String, Value>,
}

#[derive(Debug)]
struct Workload {
    name: String,
    pool: String,
    single: bool,
    grants: BTreeSet<Grant>,
}

/// The merge's working state.
#[derive(Debug, Default)]
struct State {
    accounts: BTreeMap<String, Account>,
    workloads: BTreeMap<String, Workload>,
    unique: BTreeMap<String, String>,
    orgs: BTreeSet<String>,
    project_refs: BTreeSet<String>,
    number_to_id: BTreeMap<String, String>,
    /// Project ids and numbers the inputs list as projects (assets, inventoried accounts).
    listed_projects: BTreeSet<String>,
    project_assets: bool,
    custom_roles: BTreeMap<String, Vec<String>>,
    ancestors: Vec<(String, Vec<String>)>,
    warnings: Vec<String>,
}

impl Builder {
    /// Adds one parsed file.
    fn add(&mut self, file: GcpFile) {
        self.inventory |= file.inventory;
        self.records.extend(file.records);
        self.warnings.extend(file.warnings);
    }

    /// Merges everything added.
    fn finish(self, scope_override: Option<&str>) -> Merged {
        let mut st = State {
            warnings: self.warnings,
            ..State::default()
        };
        let mut later = Vec::new();
        // First what identifies: accounts (their unique ids), projects, roles; keys and
        // policies name accounts by unique id and roles by name, so they come second.
        for r in self.records {
            match r {
                Record::Organization(id) => {
                    st.orgs.insert(id);
                }
                Record::Project { id, number } => {
                    st.project_assets = true;
                    if let (Some(id), Some(n)) = (&id, &number) {
                        st.number_to_id.insert(n.clone(), id.clone());
                    }
                    st.listed_projects
                        .extend(id.iter().chain(number.iter()).cloned());
                    st.project_refs.extend(id.or(number));
                }
                Record::ProjectRef(p) => {
                    st.project_refs.insert(p);
                }
                Record::Ancestors { asset, orgs } => st.ancestors.push((asset, orgs)),
                Record::Account {
                    data,
                    project_number,
                } => {
                    let email = data.email.0;
                    for id in [&data.unique_id, &data.oauth2_client_id]
                        .into_iter()
                        .flatten()
                    {
                        st.unique.entry(id.clone()).or_insert_with(|| email.clone());
                    }
                    if let (Some(id), Some(n)) = (&data.project_id, project_number) {
                        st.number_to_id.entry(n).or_insert_with(|| id.clone());
                    }
                    if let Some(p) = &data.project_id {
                        st.listed_projects.insert(p.clone());
                    }
                    let a = st.accounts.entry(email).or_default();
                    a.inventoried = true;
                    fill(&mut a.display_name, data.display_name);
                    fill(&mut a.description, data.description);
                    fill(&mut a.unique_id, data.unique_id);
                    fill(&mut a.project_id, data.project_id);
                    if a.disabled.is_none() {
                        a.disabled = data.disabled;
                    }
                }
                Record::KeyFile {
                    ref email,
                    ref client_id,
                    ..
                } => {
                    if let Some(id) = client_id {
                        st.unique.entry(id.clone()).or_insert_with(|| email.clone());
                        let a = st.accounts.entry(email.clone()).or_default();
                        fill(&mut a.unique_id, Some(id.clone()));
                    }
                    later.push(r);
                }
                Record::Role { name, permissions } => {
                    st.custom_roles.insert(name, permissions);
                }
                other => later.push(other),
            }
        }
        // Keys before key files, so a listed key's dates win over a key file's bare id.
        later.sort_by_key(|r| match r {
            Record::Key(_) => 0,
            Record::KeyFile { .. } => 1,
            _ => 2,
        });
        for r in later {
            match r {
                Record::Key(key) => st.key(key),
                Record::KeyFile {
                    email,
                    key_id,
                    project,
                    ..
                } => {
                    let a = st.accounts.entry(email).or_default();
                    a.key_file = true;
                    fill(&mut a.project_id, project);
                    if let Some(id) = key_id {
                        a.keys.entry(id.clone()).or_insert_with(|| {
                            DiscoveredCredential::with_external_id(CredentialKind::PrivateKey, id)
                        });
                    }
                }
                Record::Consumer { email, kind, name } => {
                    st.accounts
                        .entry(email)
                        .or_default()
                        .consumers
                        .insert((kind, name));
                }
                Record::CredentialFile { email, fact } => {
                    st.accounts
                        .entry(email)
                        .or_default()
                        .credential_files
                        .insert(fact.to_string(), fact);
                }
                Record::Policy { resource, bindings } => {
                    for b in bindings {
                        st.binding(&resource, b);
                    }
                }
                _ => {}
            }
        }
        let scope = st.scope(scope_override);
        let nhis = st.nhis();
        let mut seen = BTreeSet::new();
        let warnings = st
            .warnings
            .into_iter()
            .filter(|w| seen.insert(w.clone()))
            .collect();
        Merged {
            nhis,
            scope,
            complete: self.inventory,
            warnings,
        }
    }
}

fn fill(slot: &mut Option<String>, value: Option<String>) {
    if slot.as_deref().is_none_or(str::is_empty)
        && let Some(v) = value.filter(|v| !v.is_empty())
    {
        *slot = Some(v);
    }
}

impl State {
    fn resolve(&self, account: &str) -> Option<String> {
        if account.contains('@') {
            Some(account.to_ascii_lowercase())
        } else {
            self.unique.get(account).cloned()
        }
    }

    fn key(&mut self, key: KeyData) {
        let KeyData {
            name,
            key_type,
            valid_after_time,
            valid_before_time,
            disabled,
            ..
        } = key;
        let Some(email) = self.resolve(&name.account) else {
            self.warnings.push(format!(
                "key `{}` of service account `{}`: the account's email is not in the inputs; key skipped",
                name.id, name.account
            ));
            return;
        };
        let a = self.accounts.entry(email.clone()).or_default();
        match key_type.as_deref() {
            Some("SYSTEM_MANAGED") => {
                a.system_keys.insert(name.id);
                return;
            }
            None | Some("USER_MANAGED") => {}
            Some(other) => self.warnings.push(format!(
                "key `{}` of `{email}` has key type `{other}`, which this connector does not know; reported as user-managed",
                name.id
            )),
        }
        let a = self.accounts.entry(email).or_default();
        let never = valid_before_time.is_some_and(|t| t.0.year() >= 9999);
        a.never_expires |= never;
        let cred = a.keys.entry(name.id.clone()).or_insert_with(|| {
            DiscoveredCredential::with_external_id(CredentialKind::PrivateKey, name.id)
        });
        if cred.created_at.is_none() {
            cred.created_at = valid_after_time.map(|t| t.0);
        }
        if cred.expires_at.is_none() && !never {
            cred.expires_at = valid_before_time.map(|t| t.0);
        }
        if disabled == Some(true) {
            cred.status = CredentialStatus::Inactive;
        }
    }

    fn binding(&mut self, resource: &str, b: Binding) {
        let target = names::account_resource(resource).map(|x| (x, self.resolve(x)));
        if let Some((x, None)) = &target {
            self.warnings.push(format!(
                "IAM policy on `{resource}`: service account `{x}` is not in the inputs, so who may act as it is not recorded"
            ));
        }
        let target = target.and_then(|(_, e)| e);
        let custom_privileged = self
            .custom_roles
            .get(&b.role)
            .is_some_and(|p| names::is_privileged_custom(p));
        let acts_as = names::lets_act_as(&b.role) || custom_privileged;
        let mut members = b.members.clone();
        members.sort();
        members.dedup();
        let grant = Grant {
            resource: resource.to_owned(),
            role: b.role.clone(),
            condition: b.condition.clone(),
        };
        for m in &members {
            match names::member(m) {
                Member::Account(email) => {
                    self.accounts
                        .entry(email)
                        .or_default()
                        .grants
                        .insert(grant.clone());
                }
                Member::Workload {
                    id,
                    pool,
                    name,
                    single,
                } => {
                    if let (Some(t), true) = (&target, acts_as) {
                        let mut entry = json!({
                            "principal": id,
                            "principal_type": "workload_identity",
                            "pool": pool,
                            "role": b.role,
                            "subject_condition": single || b.condition.is_some(),
                        });
                        if let (Some(c), Some(obj)) = (&b.condition, entry.as_object_mut()) {
                            obj.insert("conditions".into(), json!(c));
                        }
                        self.accounts
                            .entry(t.clone())
                            .or_default()
                            .trust
                            .insert((id.to_owned(), b.role.clone(), b.condition.clone()), entry);
                        continue;
                    }
                    self.workloads
                        .entry(id.to_owned())
                        .or_insert_with(|| Workload {
                            name,
                            pool,
                            single,
                            grants: BTreeSet::new(),
                        })
                        .grants
                        .insert(grant.clone());
                }
                Member::DeletedAccount(email) => self.warnings.push(format!(
                    "IAM policy on `{resource}` grants `{}` to deleted service account `{email}`",
                    b.role
                )),
                Member::Other => {}
            }
            if let (Some(t), true) = (&target, acts_as)
                && !matches!(names::member(m), Member::Workload { .. })
            {
                self.accounts
                    .entry(t.clone())
                    .or_default()
                    .impersonators
                    .insert((m.clone(), b.role.clone()));
            }
        }
    }

    fn scope(&mut self, scope_override: Option<&str>) -> Option<String> {
        if let Some(s) = scope_override {
            let s = s.strip_prefix("gcp:").unwrap_or(s);
            return Some(format!("gcp:{s}"));
        }
        if self.orgs.len() == 1 {
            let org = self.orgs.first().cloned().unwrap_or_default();
            let mut foreign = BTreeSet::new();
            for (asset, orgs) in &self.ancestors {
                for o in orgs.iter().filter(|o| **o != org) {
                    if foreign.insert(o.clone()) {
                        self.warnings.push(format!(
                            "`{asset}` lists `organizations/{o}` among its ancestors, outside `organizations/{org}` that the inputs cover"
                        ));
                    }
                }
            }
            return Some(format!("gcp:organizations/{org}"));
        }
        if self.orgs.len() > 1 {
            return Some("gcp:multiple".into());
        }
        let projects: BTreeSet<&String> = self
            .project_refs
            .iter()
            .map(|p| self.number_to_id.get(p).unwrap_or(p))
            .collect();
        match projects.len() {
            0 => None,
            1 => projects.first().map(|p| format!("gcp:projects/{p}")),
            _ => Some("gcp:multiple".into()),
        }
    }

    fn nhis(&self) -> Vec<DiscoveredNhi> {
        let mut out = Vec::with_capacity(self.accounts.len() + self.workloads.len());
        for (email, a) in &self.accounts {
            out.push(self.account_nhi(email, a));
        }
        for (id, w) in &self.workloads {
            let mut nhi = DiscoveredNhi::new(NhiKind::WorkloadIdentity, PROVIDER, id, &w.name);
            nhi.observed_permissions = permissions(&w.grants);
            nhi.facts = self.grant_facts(&w.grants);
            nhi.facts.insert("pool".into(), json!(w.pool));
            if !w.single {
                nhi.facts.insert("principal_set".into(), json!(true));
            }
            out.push(nhi);
        }
        out.sort_by(|a, b| a.external_id.cmp(&b.external_id));
        out
    }

    fn account_nhi(&self, email: &str, a: &Account) -> DiscoveredNhi {
        let local = email.split('@').next().unwrap_or(email);
        let mut nhi = DiscoveredNhi::new(NhiKind::ServiceAccount, PROVIDER, email, local);
        nhi.purpose = a.description.clone();
        if a.inventoried {
            nhi.status = Some(if a.disabled == Some(true) {
                NhiStatus::Disabled
            } else {
                NhiStatus::Active
            });
        }
        nhi.observed_permissions = permissions(&a.grants);
        nhi.credentials = a.keys.values().cloned().collect();
        let kind = names::account_kind(email);
        if kind.google_managed {
            nhi.supplier = Some("Google".into());
        }

        let mut f = self.grant_facts(&a.grants);
        f.insert("inventoried".into(), json!(a.inventoried));
        let mut flag = |name: &str, on: bool| {
            if on {
                f.insert(name.into(), json!(true));
            }
        };
        flag("google_managed", kind.google_managed);
        flag("default_service_account", kind.default_account);
        flag("key_never_expires", a.never_expires);
        flag("key_file_found", a.key_file);
        let active_key = a
            .keys
            .values()
            .any(|k| k.status == CredentialStatus::Active);
        flag(facts::STATIC_CLOUD_KEY, active_key);
        let project = a
            .project_id
            .clone()
            .or_else(|| kind.project_id.clone())
            .or_else(|| {
                let n = kind.project_number.as_ref()?;
                Some(self.number_to_id.get(n).unwrap_or(n).clone())
            });
        // Only a listed population of projects can tell an account is from elsewhere; a
        // service agent is Google's wherever it lives.
        let home = kind.project_id.as_ref().or(kind.project_number.as_ref());
        let foreign = self.project_assets
            && !a.inventoried
            && !kind.google_managed
            && home.is_some_and(|h| !self.listed_projects.contains(h));
        flag(facts::THIRD_PARTY, foreign);
        if let Some(p) = project {
            f.insert("project".into(), json!(p));
        }
        if let Some(d) = &a.display_name {
            f.insert("display_name".into(), json!(d));
        }
        if let Some(u) = &a.unique_id {
            f.insert("unique_id".into(), json!(u));
        }
        if !a.keys.is_empty() {
            f.insert("user_managed_keys".into(), json!(a.keys.len()));
        }
        if !a.system_keys.is_empty() {
            f.insert("system_managed_keys".into(), json!(a.system_keys.len()));
        }
        if !a.trust.is_empty() {
            f.insert(
                facts::TRUST.into(),
                Value::Array(a.trust.values().cloned().collect()),
            );
        }
        if !a.impersonators.is_empty() {
            let list: Vec<Value> = a
                .impersonators
                .iter()
                .map(|(m, r)| json!({"member": m, "role": r}))
                .collect();
            f.insert("impersonators".into(), Value::Array(list));
        }
        if !a.consumers.is_empty() {
            let list: Vec<Value> = a
                .consumers
                .iter()
                .map(|(k, n)| json!({"kind": k, "name": n}))
                .collect();
            f.insert(facts::CONSUMERS.into(), Value::Array(list));
        }
        if !a.credential_files.is_empty() {
            f.insert(
                "credential_files".into(),
                Value::Array(a.credential_files.values().cloned().collect()),
            );
        }
        nhi.facts = f;
        nhi
    }

    /// `admin`, `privileged_grants`, `primitive_roles` and `bindings` from the grants.
    fn grant_facts(&self, grants: &BTreeSet<Grant>) -> Facts {
        let mut f = Facts::new();
        let mut privileged = BTreeSet::new();
        let mut primitive = BTreeSet::new();
        let mut admin = false;
        let mut bindings = Vec::new();
        for g in grants {
            let text = grant_text(g);
            admin |= names::is_admin(&g.role);
            if names::is_primitive(&g.role) {
                primitive.insert(text.clone());
            }
            let custom = self
                .custom_roles
                .get(&g.role)
                .is_some_and(|p| names::is_privileged_custom(p));
            if !names::is_admin(&g.role) && (names::is_privileged_predefined(&g.role) || custom) {
                privileged.insert(text);
            }
            let mut b = json!({"role": g.role, "resource": g.resource});
            if let (Some(c), Some(obj)) = (&g.condition, b.as_object_mut()) {
                obj.insert("condition".into(), json!(c));
            }
            bindings.push(b);
        }
        if admin {
            f.insert(facts::ADMIN.into(), json!(true));
        }
        if !privileged.is_empty() {
            f.insert(facts::PRIVILEGED_GRANTS.into(), json!(privileged));
        }
        if !primitive.is_empty() {
            f.insert("primitive_roles".into(), json!(primitive));
        }
        if !bindings.is_empty() {
            f.insert("bindings".into(), Value::Array(bindings));
        }
        f
    }
}

/// `roles/editor on //cloudresourcemanager.googleapis.com/projects/p1`, with
/// ` (conditional)` when a condition limits it.
fn grant_text(g: &Grant) -> String {
    let mut s = format!("{} on {}", g.role, g.resource);
    if g.condition.is_some() {
        s.push_str(" (conditional)");
    }
    s
}

fn permissions(grants: &BTreeSet<Grant>) -> Vec<String> {
    let set: BTreeSet<String> = grants.iter().map(grant_text).collect();
    set.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::parse::parse_gcp;

    fn merged(text: &str) -> Merged {
        merge(
            vec![parse_gcp(Path::new("k.json"), text.as_bytes()).unwrap()],
            None,
        )
    }

    #[test]
    fn keys_valid_until_9999_never_expire_and_system_keys_are_only_counted() {
        let name =
            |id: &str| format!("projects/p/serviceAccounts/a@p.iam.gserviceaccount.com/keys/{id}");
        let m = merged(&format!(
            r#"[{{"name": "{}", "keyType": "USER_MANAGED", "validAfterTime": "2024-01-01T00:00:00Z", "validBeforeTime": "9999-12-31T23:59:59Z"}},
                {{"name": "{}", "keyType": "SYSTEM_MANAGED", "validAfterTime": "2026-01-01T00:00:00Z", "validBeforeTime": "2026-01-17T00:00:00Z"}},
                {{"name": "{}", "keyType": "KEY_TYPE_FUTURE"}}]"#,
            name("k1"),
            name("k2"),
            name("k3")
        ));
        assert_eq!(m.scope.as_deref(), Some("gcp:projects/p"));
        assert!(!m.complete);
        let a = &m.nhis[0];
        let ids: Vec<_> = a
            .credentials
            .iter()
            .map(|c| c.external_id.as_deref().unwrap())
            .collect();
        assert_eq!(ids, ["k1", "k3"]);
        assert_eq!(a.credentials[0].expires_at, None);
        assert_eq!(a.facts["key_never_expires"], true);
        assert_eq!(a.facts["system_managed_keys"], 1);
        assert_eq!(a.facts["project"], "p");
        assert!(
            m.warnings[0].contains("`KEY_TYPE_FUTURE`"),
            "{:?}",
            m.warnings
        );
    }

    #[test]
    fn grants_are_graded_and_written_role_on_resource() {
        let m = merged(
            r#"{"name": "//cloudresourcemanager.googleapis.com/projects/p", "asset_type": "cloudresourcemanager.googleapis.com/Project",
                "iam_policy": {"bindings": [
                  {"role": "roles/owner", "members": ["serviceAccount:a@p.iam.gserviceaccount.com"]},
                  {"role": "roles/viewer", "members": ["serviceAccount:a@p.iam.gserviceaccount.com"]},
                  {"role": "roles/storage.admin", "members": ["serviceAccount:a@p.iam.gserviceaccount.com"],
                   "condition": {"title": "t", "expression": "resource.name.startsWith('x')"}}]}}"#,
        );
        let a = &m.nhis[0];
        let on = "//cloudresourcemanager.googleapis.com/projects/p";
        assert_eq!(a.facts["admin"], true);
        assert_eq!(
            a.facts["privileged_grants"],
            json!([format!("roles/storage.admin on {on} (conditional)")])
        );
        assert_eq!(
            a.facts["primitive_roles"],
            json!([
                format!("roles/owner on {on}"),
                format!("roles/viewer on {on}")
            ])
        );
        assert_eq!(a.facts["inventoried"], false);
        assert_eq!(a.status, None);
    }
}
