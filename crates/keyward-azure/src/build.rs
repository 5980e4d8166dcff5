//! Merges every file's service principals and applications into one NHI per client id
//! (`appId`): an app registration and its service principal are one identity.

use std::collections::{BTreeMap, BTreeSet};

use keyward_connect::{ConnectError, facts};
use keyward_model::{
    CredentialKind, DiscoveredCredential, DiscoveredNhi, Environment, Facts, NhiKind, NhiStatus,
    OwnerRef,
};
use serde_json::{Value, json};

use crate::graph::{self, Risk};
use crate::parse::{
    Application, AzureFile, KeyCredential, Owner, PasswordCredential, ServicePrincipal, Shape,
};

/// The provider name on every NHI.
const PROVIDER: &str = "azure";

/// What merging parsed files found.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// One NHI per client id, sorted by it.
    pub nhis: Vec<DiscoveredNhi>,
    /// The tenant id the NHIs belong to.
    pub tenant: String,
    /// Whether complete listings of both service principals and applications were read.
    pub complete: bool,
    /// What the files said that did not stop the run, each once, in the order found.
    pub warnings: Vec<String>,
}

/// One identity's objects from every file.
#[derive(Debug, Default)]
struct Group<'a> {
    apps: Vec<&'a Application>,
    sps: Vec<&'a ServicePrincipal>,
}

/// An API's permissions by id, from its service principal or app registration.
#[derive(Debug, Default)]
struct Api {
    name: Option<String>,
    roles: BTreeMap<String, String>,
    scopes: BTreeMap<String, String>,
}

/// Merges parsed files into one NHI per client id. `tenant` is the directory's tenant id;
/// without it the tenant is told by the data (a `tenantId` field, or the owner organization
/// of service principals whose app registration is in the inputs), and a run where the data
/// names none, or several, fails and asks for it.
pub fn merge(files: Vec<AzureFile>, tenant: Option<&str>) -> Result<Merged, ConnectError> {
    let mut warnings = Vec::new();
    let (mut sp_listed, mut app_listed) = (false, false);
    let mut sps = Vec::new();
    let mut apps = Vec::new();
    for f in files {
        let ends = f.last_page;
        sp_listed |= ends && matches!(f.shape, Shape::ServicePrincipals | Shape::Mixed);
        app_listed |= ends && matches!(f.shape, Shape::Applications | Shape::Mixed);
        sps.extend(f.principals);
        apps.extend(f.applications);
        warnings.extend(f.warnings);
    }
    let mut groups: BTreeMap<String, Group<'_>> = BTreeMap::new();
    for a in &apps {
        groups
            .entry(a.app_id.to_ascii_lowercase())
            .or_default()
            .apps
            .push(a);
    }
    for s in &sps {
        groups
            .entry(s.app_id.to_ascii_lowercase())
            .or_default()
            .sps
            .push(s);
    }
    let tenant = match tenant {
        Some(t) => t.trim().to_ascii_lowercase(),
        None => tenant_of(&groups)?,
    };
    let apis = apis(&apps, &sps);
    let nhis = groups
        .iter()
        .map(|(id, g)| nhi(id, g, &tenant, &apis, &mut warnings))
        .collect();
    let mut seen = BTreeSet::new();
    warnings.retain(|w| seen.insert(w.clone()));
    Ok(Merged {
        nhis,
        tenant,
        complete: sp_listed && app_listed,
        warnings,
    })
}

fn tenant_of(groups: &BTreeMap<String, Group<'_>>) -> Result<String, ConnectError> {
    let mut found = BTreeSet::new();
    for g in groups.values() {
        for a in &g.apps {
            found.extend(a.tenant_id.iter().map(|t| t.to_ascii_lowercase()));
        }
        for s in &g.sps {
            found.extend(s.tenant_id.iter().map(|t| t.to_ascii_lowercase()));
            if !g.apps.is_empty() {
                found.extend(
                    s.app_owner_organization_id
                        .iter()
                        .map(|t| t.to_ascii_lowercase()),
                );
            }
        }
    }
    let mut found = found.into_iter();
    match (found.next(), found.next()) {
        (Some(t), None) => Ok(t),
        (None, _) => Err(ConnectError::Usage(
            "cannot tell the Entra ID tenant from the inputs (no `tenantId`, and no service principal whose app registration is among them); give the tenant id".into(),
        )),
        (Some(a), Some(b)) => {
            let rest: Vec<String> = found.collect();
            let mut all = vec![a, b];
            all.extend(rest);
            Err(ConnectError::Usage(format!(
                "the inputs name several tenants ({}); give the tenant id",
                all.iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }
}

fn apis(apps: &[Application], sps: &[ServicePrincipal]) -> BTreeMap<String, Api> {
    let mut out: BTreeMap<String, Api> = BTreeMap::new();
    let lower = |s: &str| s.to_ascii_lowercase();
    for s in sps {
        let api = out.entry(lower(&s.app_id)).or_default();
        if api.name.is_none() {
            api.name = s.display_name.clone();
        }
        for p in &s.app_roles {
            if let Some(v) = &p.value {
                api.roles.entry(lower(&p.id)).or_insert_with(|| v.clone());
            }
        }
        for p in &s.oauth2_permission_scopes {
            if let Some(v) = &p.value {
                api.scopes.entry(lower(&p.id)).or_insert_with(|| v.clone());
            }
        }
    }
    for a in apps {
        let api = out.entry(lower(&a.app_id)).or_default();
        if api.name.is_none() {
            api.name = a.display_name.clone();
        }
        for p in &a.app_roles {
            if let Some(v) = &p.value {
                api.roles.entry(lower(&p.id)).or_insert_with(|| v.clone());
            }
        }
        for p in a.api.iter().flat_map(|x| &x.oauth2_permission_scopes) {
            if let Some(v) = &p.value {
                api.scopes.entry(lower(&p.id)).or_insert_with(|| v.clone());
            }
        }
    }
    out
}

/// A requested permission as `API/NAME:TYPE` (or `RESOURCE_APP_ID/ID:TYPE` when it cannot
/// be resolved), with how risky it is.
fn permission(
    resource: &str,
    id: &str,
    kind: &str,
    apis: &BTreeMap<String, Api>,
) -> (String, Risk) {
    let resource = resource.to_ascii_lowercase();
    let id = id.to_ascii_lowercase();
    let is_graph = resource == graph::GRAPH;
    if let Some(api) = apis.get(&resource) {
        let table = if kind == "Role" {
            &api.roles
        } else {
            &api.scopes
        };
        if let Some(value) = table.get(&id) {
            let name = api.name.clone().unwrap_or_else(|| resource.clone());
            let risk = if is_graph {
                graph::graph_risk_by_name(value, kind)
            } else {
                Risk::Ordinary
            };
            return (format!("{name}/{value}:{kind}"), risk);
        }
    }
    if is_graph && let Some((name, risk)) = graph::graph_permission(&id, kind) {
        return (format!("Microsoft Graph/{name}:{kind}"), risk);
    }
    (format!("{resource}/{id}:{kind}"), Risk::Ordinary)
}

fn first<'a, T: 'a, R>(
    items: impl IntoIterator<Item = &'a T>,
    f: impl Fn(&'a T) -> Option<R>,
) -> Option<R> {
    items.into_iter().find_map(f)
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().filter(|s| !s.trim().is_empty()).cloned()
}

fn nhi(
    app_id: &str,
    g: &Group<'_>,
    tenant: &str,
    apis: &BTreeMap<String, Api>,
    warnings: &mut Vec<String>,
) -> DiscoveredNhi {
    let sp_type = first(&g.sps, |s| non_empty(&s.service_principal_type));
    let managed = sp_type.as_deref() == Some("ManagedIdentity");
    let kind = if !g.apps.is_empty() {
        NhiKind::OauthApp
    } else if managed {
        NhiKind::WorkloadIdentity
    } else {
        NhiKind::ServiceAccount
    };
    let name = first(&g.apps, |a| non_empty(&a.display_name))
        .or_else(|| first(&g.sps, |s| non_empty(&s.display_name)))
        .or_else(|| first(&g.sps, |s| non_empty(&s.app_display_name)))
        .unwrap_or_else(|| app_id.to_owned());
    let mut n = DiscoveredNhi::new(kind, PROVIDER, app_id, name);
    n.created_at = first(&g.apps, |a| a.created_date_time.map(|t| t.0))
        .or_else(|| first(&g.sps, |s| s.created_date_time.map(|t| t.0)));
    n.purpose = first(&g.apps, |a| non_empty(&a.description))
        .or_else(|| first(&g.apps, |a| non_empty(&a.notes)))
        .or_else(|| first(&g.sps, |s| non_empty(&s.description)))
        .or_else(|| first(&g.sps, |s| non_empty(&s.notes)))
        .or_else(|| first(&g.sps, |s| non_empty(&s.app_description)));
    n.status = first(&g.sps, |s| s.account_enabled).map(|e| {
        if e.0 {
            NhiStatus::Active
        } else {
            NhiStatus::Disabled
        }
    });
    let owners: Vec<&Owner> = g
        .apps
        .iter()
        .flat_map(|a| &a.owners)
        .chain(g.sps.iter().flat_map(|s| &s.owners))
        .collect();
    n.owner = owners.iter().find_map(|o| person(o));
    for t in g
        .apps
        .iter()
        .flat_map(|a| &a.tags)
        .chain(g.sps.iter().flat_map(|s| &s.tags))
    {
        let (k, v) = t
            .split_once([':', '='])
            .map_or((t.as_str(), ""), |(k, v)| (k.trim(), v.trim()));
        if !k.is_empty() {
            n.tags.entry(k.to_owned()).or_insert_with(|| v.to_owned());
        }
    }
    n.environment = n
        .tags
        .iter()
        .find(|(k, _)| matches!(k.to_ascii_lowercase().as_str(), "env" | "environment"))
        .and_then(|(_, v)| environment(v));

    let mut f = Facts::new();
    // Credentials: the app's and the service principal's, one per key id. A managed
    // identity's certificates are Azure's own, rotated by the platform.
    let mut creds: BTreeMap<String, DiscoveredCredential> = BTreeMap::new();
    let mut validity: Option<i64> = None;
    let (mut passwords, mut certificates, mut platform) = (0usize, 0usize, 0usize);
    let mut note_validity = |start: Option<crate::parse::Time>, end: Option<crate::parse::Time>| {
        if let (Some(s), Some(e)) = (start, end) {
            let days = (e.0 - s.0).num_days();
            validity = Some(validity.map_or(days, |v: i64| v.max(days)));
        }
    };
    let pw: Vec<&PasswordCredential> = g
        .apps
        .iter()
        .flat_map(|a| &a.password_credentials)
        .chain(g.sps.iter().flat_map(|s| &s.password_credentials))
        .collect();
    for p in pw {
        let Some(id) = non_empty(&p.key_id) else {
            warnings.push(format!(
                "`{app_id}`: a password credential without a key id (`{}`); skipped",
                p.display_name.as_deref().unwrap_or("")
            ));
            continue;
        };
        let key = id.to_ascii_lowercase();
        if creds.contains_key(&key) {
            continue;
        }
        passwords += 1;
        note_validity(p.start_date_time, p.end_date_time);
        let mut c =
            DiscoveredCredential::with_external_id(CredentialKind::ClientSecret, key.clone());
        c.created_at = p.start_date_time.map(|t| t.0);
        c.expires_at = p.end_date_time.map(|t| t.0);
        creds.insert(key, c);
    }
    let app_keys = g.apps.iter().flat_map(|a| &a.key_credentials);
    let sp_keys = g.sps.iter().flat_map(|s| &s.key_credentials);
    let keys: Vec<(&KeyCredential, bool)> = app_keys
        .map(|k| (k, false))
        .chain(sp_keys.map(|k| (k, managed)))
        .collect();
    for (k, platform_managed) in keys {
        if platform_managed {
            platform += 1;
            continue;
        }
        let Some(id) = non_empty(&k.key_id) else {
            warnings.push(format!(
                "`{app_id}`: a key credential without a key id (`{}`); skipped",
                k.display_name.as_deref().unwrap_or("")
            ));
            continue;
        };
        let key = id.to_ascii_lowercase();
        if creds.contains_key(&key) {
            continue;
        }
        let kind = if k.kind.as_deref() == Some("Symmetric") {
            CredentialKind::ClientSecret
        } else {
            certificates += 1;
            CredentialKind::Certificate
        };
        note_validity(k.start_date_time, k.end_date_time);
        let mut c = DiscoveredCredential::with_external_id(kind, key.clone());
        c.created_at = k.start_date_time.map(|t| t.0);
        c.expires_at = k.end_date_time.map(|t| t.0);
        creds.insert(key, c);
    }
    n.credentials = creds.into_values().collect();
    if passwords > 0 {
        f.insert("password_credentials".into(), json!(passwords));
        f.insert(facts::PASSWORD_AUTH.into(), json!(true));
    }
    if certificates > 0 {
        f.insert("certificate_credentials".into(), json!(certificates));
    }
    if platform > 0 {
        f.insert("platform_managed_keys".into(), json!(platform));
    }
    if let Some(days) = validity {
        f.insert("credential_expiry_days".into(), json!(days));
    }

    // The registration: audience and requested permissions.
    if let Some(a) = first(&g.apps, |a| non_empty(&a.id)) {
        f.insert("app_object_id".into(), json!(a));
    }
    let audience = first(&g.apps, |a| non_empty(&a.sign_in_audience))
        .or_else(|| first(&g.sps, |s| non_empty(&s.sign_in_audience)));
    let other_tenants = first(&g.apps, |a| a.available_to_other_tenants).map(|f| f.0);
    if let Some(a) = &audience {
        f.insert("sign_in_audience".into(), json!(a));
    }
    if audience.as_deref().is_some_and(|a| a != "AzureADMyOrg") || other_tenants == Some(true) {
        f.insert("multi_tenant".into(), json!(true));
    }
    if let Some(d) = first(&g.apps, |a| non_empty(&a.publisher_domain)) {
        f.insert("publisher_domain".into(), json!(d));
    }
    let mut scopes = BTreeSet::new();
    let mut privileged = BTreeSet::new();
    let mut admin = false;
    for rra in g.apps.iter().flat_map(|a| &a.required_resource_access) {
        for ra in &rra.resource_access {
            let (text, risk) = permission(&rra.resource_app_id, &ra.id, &ra.kind, apis);
            match risk {
                Risk::Admin if ra.kind == "Role" => admin = true,
                Risk::Admin | Risk::Privileged => {
                    privileged.insert(text.clone());
                }
                Risk::Ordinary => {}
            }
            scopes.insert(text);
        }
    }
    if admin {
        f.insert(facts::ADMIN.into(), json!(true));
    }
    if !privileged.is_empty() {
        f.insert(facts::PRIVILEGED_GRANTS.into(), json!(privileged));
    }
    if !scopes.is_empty() {
        f.insert(facts::SCOPES.into(), json!(scopes));
    }
    let mut trust = BTreeMap::new();
    for fic in g
        .apps
        .iter()
        .flat_map(|a| &a.federated_identity_credentials)
    {
        let expression = fic
            .claims_matching_expression
            .as_ref()
            .and_then(|c| c.value.clone());
        let mut audiences = fic.audiences.clone();
        audiences.sort();
        let mut entry = json!({
            "principal": fic.subject,
            "principal_type": "oidc",
            "issuer": fic.issuer,
            "audiences": audiences,
            "name": fic.name,
            "subject_condition": fic.subject.is_some() && expression.is_none(),
        });
        if let (Some(e), Some(obj)) = (expression, entry.as_object_mut()) {
            obj.insert("conditions".into(), json!({"claimsMatchingExpression": e}));
        }
        trust.insert(entry.to_string(), entry);
    }
    if !trust.is_empty() {
        f.insert(
            facts::TRUST.into(),
            Value::Array(trust.into_values().collect()),
        );
    }

    // The service principal: its type, owner tenant and managed identity.
    if let Some(id) = first(&g.sps, |s| non_empty(&s.id)) {
        f.insert("service_principal_object_id".into(), json!(id));
    }
    if let Some(t) = &sp_type {
        f.insert("service_principal_type".into(), json!(t));
    }
    let owner_org =
        first(&g.sps, |s| non_empty(&s.app_owner_organization_id)).map(|o| o.to_ascii_lowercase());
    if let Some(o) = &owner_org {
        f.insert("app_owner_organization_id".into(), json!(o));
    }
    let microsoft = owner_org
        .as_deref()
        .is_some_and(|o| graph::MICROSOFT_TENANTS.contains(&o));
    let publisher = first(&g.apps, |a| {
        a.verified_publisher
            .as_ref()
            .and_then(|p| non_empty(&p.display_name))
    })
    .or_else(|| {
        first(&g.sps, |s| {
            s.verified_publisher
                .as_ref()
                .and_then(|p| non_empty(&p.display_name))
        })
    });
    if let Some(p) = &publisher {
        f.insert("verified_publisher".into(), json!(p));
    }
    if microsoft {
        f.insert("microsoft_first_party".into(), json!(true));
        n.supplier = Some("Microsoft".into());
    } else if let Some(o) = owner_org.as_deref().filter(|o| *o != tenant) {
        f.insert(facts::THIRD_PARTY.into(), json!(true));
        n.supplier = publisher
            .clone()
            .or_else(|| first(&g.sps, |s| non_empty(&s.publisher_name)))
            .or_else(|| Some(o.to_owned()));
    }
    if managed {
        f.insert("managed_identity".into(), json!(true));
        let names: Vec<&String> = g.sps.iter().flat_map(|s| &s.alternative_names).collect();
        let explicit = names
            .iter()
            .any(|n| n.eq_ignore_ascii_case("isExplicit=True"));
        f.insert(
            "managed_identity_type".into(),
            json!(if explicit {
                "user_assigned"
            } else {
                "system_assigned"
            }),
        );
        if let Some(r) = names.iter().find(|n| n.starts_with("/subscriptions/")) {
            f.insert("azure_resource_id".into(), json!(r));
        }
    }
    let owner_names: BTreeSet<String> = owners.iter().filter_map(|o| owner_name(o)).collect();
    if !owner_names.is_empty() {
        f.insert("owners".into(), json!(owner_names));
    }
    n.facts = f;
    n
}

fn is_user(o: &Owner) -> bool {
    match o.odata_type.as_deref() {
        Some(t) => t == "#microsoft.graph.user",
        None => o.user_principal_name.is_some(),
    }
}

/// The owner as a person, when it is a user with a mail or user principal name.
fn person(o: &Owner) -> Option<OwnerRef> {
    if !is_user(o) {
        return None;
    }
    [&o.mail, &o.user_principal_name]
        .into_iter()
        .flatten()
        .find_map(|e| OwnerRef::parse(e).ok())
}

/// How an owner is named in the `owners` fact.
fn owner_name(o: &Owner) -> Option<String> {
    if is_user(o) {
        non_empty(&o.mail)
            .or_else(|| non_empty(&o.user_principal_name))
            .or_else(|| non_empty(&o.id))
            .map(|s| s.to_ascii_lowercase())
    } else if let Some(app) = non_empty(&o.app_id) {
        Some(format!("app:{}", app.to_ascii_lowercase()))
    } else {
        non_empty(&o.display_name).or_else(|| non_empty(&o.id))
    }
}

fn environment(v: &str) -> Option<Environment> {
    match v.to_ascii_lowercase().as_str() {
        "prod" | "production" | "prd" => Some(Environment::Production),
        "staging" | "stage" | "preprod" | "pre-production" => Some(Environment::Staging),
        "dev" | "development" => Some(Environment::Development),
        "test" | "testing" | "qa" => Some(Environment::Test),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_resolve_from_the_inputs_then_the_table_else_stay_raw() {
        let mut apis = BTreeMap::new();
        let mut own = Api {
            name: Some("orders".into()),
            ..Api::default()
        };
        own.roles.insert("r1".into(), "Orders.Write".into());
        apis.insert("api-1".to_owned(), own);
        assert_eq!(
            permission("API-1", "R1", "Role", &apis),
            ("orders/Orders.Write:Role".into(), Risk::Ordinary)
        );
        assert_eq!(
            permission(
                graph::GRAPH,
                "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
                "Role",
                &apis
            ),
            (
                "Microsoft Graph/RoleManagement.ReadWrite.Directory:Role".into(),
                Risk::Admin
            )
        );
        assert_eq!(
            permission("api-1", "r1", "Scope", &apis),
            ("api-1/r1:Scope".into(), Risk::Ordinary)
        );
    }

    #[test]
    fn only_users_with_an_email_become_owners() {
        let o = |t: Option<&str>, mail: Option<&str>, upn: Option<&str>| Owner {
            odata_type: t.map(str::to_owned),
            id: Some("x".into()),
            display_name: None,
            mail: mail.map(str::to_owned),
            user_principal_name: upn.map(str::to_owned),
            app_id: None,
        };
        assert_eq!(
            person(&o(
                Some("#microsoft.graph.user"),
                None,
                Some("Ann@Example.com")
            )),
            Some(OwnerRef::Person("ann@example.com".into()))
        );
        assert_eq!(
            person(&o(
                Some("#microsoft.graph.servicePrincipal"),
                Some("a@b.co"),
                None
            )),
            None
        );
        assert_eq!(
            person(&o(Some("#microsoft.graph.user"), Some("not mail"), None)),
            None
        );
        assert_eq!(environment("PROD"), Some(Environment::Production));
    }
}
