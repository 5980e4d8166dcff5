//! What Google Cloud's names say by their shape: whose service account an email is, how
//! much a role grants, what a policy member is.

/// What a service account's email tells about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AccountKind {
    /// A Google-managed service agent (`service-N@gcp-sa-….iam.gserviceaccount.com`,
    /// `N@cloudservices.gserviceaccount.com`, …): Google operates it in the project.
    pub(crate) google_managed: bool,
    /// A default account Google creates with the project (Compute Engine's
    /// `N-compute@developer…`, App Engine's `P@appspot…`, Cloud Build's legacy `N@cloudbuild…`).
    pub(crate) default_account: bool,
    /// The project it lives in, by id, when the email gives it.
    pub(crate) project_id: Option<String>,
    /// The project it lives in, by number, when the email gives it.
    pub(crate) project_number: Option<String>,
}

/// Service agents' domains that do not follow the `gcp-sa-*` pattern.
const AGENT_DOMAINS: &[&str] = &[
    "cloudservices.gserviceaccount.com",
    "container-engine-robot.iam.gserviceaccount.com",
    "compute-system.iam.gserviceaccount.com",
    "containerregistry.iam.gserviceaccount.com",
    "dataflow-service-producer-prod.iam.gserviceaccount.com",
    "dataproc-accounts.iam.gserviceaccount.com",
    "serverless-robot-prod.iam.gserviceaccount.com",
    "gcf-admin-robot.iam.gserviceaccount.com",
    "gs-project-accounts.iam.gserviceaccount.com",
    "cloudcomposer-accounts.iam.gserviceaccount.com",
    "cloud-ml.google.com.iam.gserviceaccount.com",
    "genomics-api.google.com.iam.gserviceaccount.com",
    "sourcerepo-service-accounts.iam.gserviceaccount.com",
    "cloud-redis.iam.gserviceaccount.com",
    "firebase-rules.iam.gserviceaccount.com",
    "system.gserviceaccount.com",
];

fn digits(s: &str) -> Option<String> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.to_owned())
}

/// Classifies a service account by its email.
pub(crate) fn account_kind(email: &str) -> AccountKind {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return AccountKind::default();
    };
    let agent_number = || {
        local
            .strip_prefix("service-")
            .and_then(digits)
            .or_else(|| digits(local))
    };
    if AGENT_DOMAINS.contains(&domain)
        || (domain.starts_with("gcp-sa-") && domain.ends_with(".iam.gserviceaccount.com"))
        || (local.starts_with("service-")
            && agent_number().is_some()
            && domain.ends_with(".iam.gserviceaccount.com"))
    {
        return AccountKind {
            google_managed: true,
            project_number: agent_number(),
            ..AccountKind::default()
        };
    }
    match domain {
        "developer.gserviceaccount.com" => AccountKind {
            default_account: local.ends_with("-compute"),
            project_number: digits(local.trim_end_matches("-compute")),
            ..AccountKind::default()
        },
        "appspot.gserviceaccount.com" => AccountKind {
            default_account: true,
            project_id: Some(local.to_owned()),
            ..AccountKind::default()
        },
        "cloudbuild.gserviceaccount.com" => AccountKind {
            default_account: true,
            project_number: digits(local),
            ..AccountKind::default()
        },
        _ => AccountKind {
            project_id: domain
                .strip_suffix(".iam.gserviceaccount.com")
                .filter(|p| !p.is_empty() && !p.contains('.'))
                .map(str::to_owned),
            ..AccountKind::default()
        },
    }
}

/// Predefined roles that allow escalation or broad control short of `roles/owner`.
const PRIVILEGED_ROLES: &[&str] = &[
    "roles/editor",
    "roles/iam.serviceAccountUser",
    "roles/iam.serviceAccountTokenCreator",
    "roles/iam.serviceAccountOpenIdTokenCreator",
    "roles/iam.serviceAccountKeyAdmin",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.workloadIdentityUser",
    "roles/iam.securityAdmin",
    "roles/iam.roleAdmin",
    "roles/iam.organizationRoleAdmin",
];

/// Permissions that let a custom role's holder escalate: act as or mint credentials for
/// service accounts, or rewrite who holds what.
const ESCALATING_PERMISSIONS: &[&str] = &[
    "iam.serviceAccounts.actAs",
    "iam.serviceAccounts.getAccessToken",
    "iam.serviceAccounts.getOpenIdToken",
    "iam.serviceAccounts.signBlob",
    "iam.serviceAccounts.signJwt",
    "iam.serviceAccounts.implicitDelegation",
    "iam.serviceAccountKeys.create",
    "iam.roles.update",
];

/// Whether a role is full admin (`roles/owner`).
pub(crate) fn is_admin(role: &str) -> bool {
    role == "roles/owner"
}

/// Whether a role is one of the basic (primitive) roles.
pub(crate) fn is_primitive(role: &str) -> bool {
    matches!(role, "roles/owner" | "roles/editor" | "roles/viewer")
}

/// Whether a predefined role is privileged (see [`PRIVILEGED_ROLES`]), a `*.admin` role, or
/// a Resource Manager `*Admin` role.
pub(crate) fn is_privileged_predefined(role: &str) -> bool {
    PRIVILEGED_ROLES.contains(&role)
        || (role.starts_with("roles/") && role.ends_with(".admin"))
        || role
            .strip_prefix("roles/resourcemanager.")
            .is_some_and(|r| r.ends_with("Admin"))
}

/// Whether a custom role's permissions make it privileged.
pub(crate) fn is_privileged_custom(permissions: &[String]) -> bool {
    permissions
        .iter()
        .any(|p| ESCALATING_PERMISSIONS.contains(&p.as_str()) || p.ends_with(".setIamPolicy"))
}

/// Roles that, granted on a service account, let the member act as it, mint its tokens or
/// keys, or grant others that.
pub(crate) fn lets_act_as(role: &str) -> bool {
    matches!(
        role,
        "roles/owner"
            | "roles/editor"
            | "roles/iam.serviceAccountUser"
            | "roles/iam.serviceAccountTokenCreator"
            | "roles/iam.serviceAccountOpenIdTokenCreator"
            | "roles/iam.serviceAccountKeyAdmin"
            | "roles/iam.serviceAccountAdmin"
            | "roles/iam.workloadIdentityUser"
    )
}

/// What a policy member is, as far as this connector cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Member<'a> {
    /// `serviceAccount:EMAIL`.
    Account(String),
    /// A federated workload: `principal://…/workloadIdentityPools/…`, `principalSet://…`, or a
    /// GKE `serviceAccount:PROJECT.svc.id.goog[NS/KSA]`.
    Workload {
        /// The member without a `serviceAccount:` prefix.
        id: &'a str,
        /// The pool (`projects/N/locations/global/workloadIdentityPools/P`, or
        /// `PROJECT.svc.id.goog`).
        pool: String,
        /// A short name: the part after the pool.
        name: String,
        /// One principal (true) or a set of them (false).
        single: bool,
    },
    /// `deleted:serviceAccount:EMAIL?uid=…`.
    DeletedAccount(&'a str),
    /// A person, group, domain, convenience value or workforce identity.
    Other,
}

/// Classifies a policy member.
pub(crate) fn member(m: &str) -> Member<'_> {
    if let Some(sa) = m.strip_prefix("serviceAccount:") {
        if let Some((pool, rest)) = sa.split_once('[')
            && pool.ends_with(".svc.id.goog")
        {
            return Member::Workload {
                id: sa,
                pool: pool.to_owned(),
                name: rest.trim_end_matches(']').to_owned(),
                single: true,
            };
        }
        return if crate::parse::is_account_email(sa) {
            Member::Account(sa.to_ascii_lowercase())
        } else {
            Member::Other
        };
    }
    if let Some(rest) = m.strip_prefix("deleted:serviceAccount:") {
        return Member::DeletedAccount(rest.split('?').next().unwrap_or(rest));
    }
    let (single, rest) = if let Some(r) = m.strip_prefix("principal://iam.googleapis.com/") {
        (true, r)
    } else if let Some(r) = m.strip_prefix("principalSet://iam.googleapis.com/") {
        (false, r)
    } else {
        return Member::Other;
    };
    let Some((before, after)) = rest.split_once("/workloadIdentityPools/") else {
        return Member::Other;
    };
    let (pool_name, tail) = after.split_once('/').unwrap_or((after, ""));
    Member::Workload {
        id: m,
        pool: format!("{before}/workloadIdentityPools/{pool_name}"),
        name: if tail.is_empty() {
            pool_name.to_owned()
        } else {
            format!("{pool_name}/{tail}")
        },
        single,
    }
}

/// The service account a `//iam.googleapis.com/projects/P/serviceAccounts/X` resource is,
/// as `X` (an email or a unique id), when the resource is one.
pub(crate) fn account_resource(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("//iam.googleapis.com/projects/")?;
    let (_, account) = rest.split_once("/serviceAccounts/")?;
    (!account.is_empty() && !account.contains('/')).then_some(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_tell_agents_defaults_and_projects() {
        let k = account_kind("service-1042@gcp-sa-pubsub.iam.gserviceaccount.com");
        assert!(k.google_managed && !k.default_account);
        assert_eq!(k.project_number.as_deref(), Some("1042"));
        let k = account_kind("3@cloudservices.gserviceaccount.com");
        assert!(k.google_managed);
        assert_eq!(k.project_number.as_deref(), Some("3"));
        let k = account_kind("1041-compute@developer.gserviceaccount.com");
        assert!(k.default_account && !k.google_managed);
        assert_eq!(k.project_number.as_deref(), Some("1041"));
        let k = account_kind("proj-a@appspot.gserviceaccount.com");
        assert!(k.default_account);
        assert_eq!(k.project_id.as_deref(), Some("proj-a"));
        let k = account_kind("deployer@proj-a.iam.gserviceaccount.com");
        assert_eq!(k.project_id.as_deref(), Some("proj-a"));
        assert!(!k.google_managed && !k.default_account);
        assert_eq!(
            account_kind("service-account@example.com"),
            AccountKind::default()
        );
    }

    #[test]
    fn roles_are_graded() {
        assert!(is_admin("roles/owner") && is_primitive("roles/owner"));
        assert!(is_privileged_predefined("roles/editor"));
        assert!(is_privileged_predefined("roles/cloudkms.admin"));
        assert!(is_privileged_predefined(
            "roles/resourcemanager.folderAdmin"
        ));
        assert!(is_privileged_predefined("roles/iam.serviceAccountKeyAdmin"));
        assert!(!is_privileged_predefined("roles/viewer"));
        assert!(!is_privileged_predefined("roles/storage.objectViewer"));
        assert!(is_privileged_custom(&[
            "compute.instances.setIamPolicy".into()
        ]));
        assert!(!is_privileged_custom(&["compute.firewalls.get".into()]));
    }

    #[test]
    fn members_are_classified() {
        assert_eq!(
            member("serviceAccount:A@p.iam.gserviceaccount.com"),
            Member::Account("a@p.iam.gserviceaccount.com".into())
        );
        assert_eq!(
            member("serviceAccount:p.svc.id.goog[ns/ksa]"),
            Member::Workload {
                id: "p.svc.id.goog[ns/ksa]",
                pool: "p.svc.id.goog".into(),
                name: "ns/ksa".into(),
                single: true
            }
        );
        let m = "principalSet://iam.googleapis.com/projects/9/locations/global/workloadIdentityPools/gh/attribute.repository/org/repo";
        assert_eq!(
            member(m),
            Member::Workload {
                id: m,
                pool: "projects/9/locations/global/workloadIdentityPools/gh".into(),
                name: "gh/attribute.repository/org/repo".into(),
                single: false
            }
        );
        assert_eq!(
            member("deleted:serviceAccount:x@p.iam.gserviceaccount.com?uid=1"),
            Member::DeletedAccount("x@p.iam.gserviceaccount.com")
        );
        assert_eq!(
            member("principal://iam.googleapis.com/locations/global/workforcePools/w/subject/s"),
            Member::Other
        );
        assert_eq!(member("user:a@b.c"), Member::Other);
        assert_eq!(
            account_resource("//iam.googleapis.com/projects/p/serviceAccounts/1101"),
            Some("1101")
        );
        assert_eq!(
            account_resource("//iam.googleapis.com/projects/p/serviceAccounts/1/keys/k"),
            None
        );
    }
}
