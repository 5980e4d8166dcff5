//! The built-in checks' logic. Each check's title, severity, mappings, parameters and test
//! cases are in `data/checks/*.yaml` under the same id; the test suite asserts the two lists
//! match and runs every case against the function here.

use chrono::{DateTime, Utc};
use keyward_model::{
    CredentialKind, Environment, LocationSource, NhiKind, UsageState, pattern_covers as glob,
};
use serde_json::Value;

use crate::paths::PathClass;
use crate::subject::{Place, Standing};
use crate::{Evidence, Outcome, Params, Subject};

/// A built-in check: judges one NHI with its parameters at an instant.
pub type Eval = fn(&Subject, &Params, DateTime<Utc>) -> Outcome;

/// Every built-in, by id.
pub const BUILTINS: &[(&str, Eval)] = &[
    // NHI1 improper offboarding
    ("owner-departed", owner_departed),
    ("owner-not-in-directory", owner_not_in_directory),
    ("unused", unused),
    ("last-use-unknown", last_use_unknown),
    ("no-longer-seen", no_longer_seen),
    // NHI2 secret leakage
    ("secret-in-history", secret_in_history),
    ("secret-in-source", secret_in_source),
    ("secret-in-config", secret_in_config),
    ("secret-in-ci-file", secret_in_ci_file),
    // NHI3 vulnerable third-party NHI
    ("supplier-review-overdue", supplier_review_overdue),
    ("third-party-holds-secret", third_party_holds_secret),
    ("unpinned-action-holds-secret", unpinned_action_holds_secret),
    ("broad-oauth-scopes", broad_oauth_scopes),
    // NHI4 insecure authentication
    ("static-key-where-federation", static_key_where_federation),
    ("weak-key", weak_key),
    ("weak-signature", weak_signature),
    ("password-auth", password_auth),
    // NHI5 overprivileged
    ("admin-permissions", admin_permissions),
    ("cluster-admin", cluster_admin),
    ("wildcard-permissions", wildcard_permissions),
    ("above-ceiling", above_ceiling),
    ("primitive-roles", primitive_roles),
    ("privileged-grants", privileged_grants),
    ("no-privilege-ceiling", no_privilege_ceiling),
    // NHI6 insecure cloud deployment
    ("static-cloud-key-in-ci", static_cloud_key_in_ci),
    ("oidc-trust-without-subject", oidc_trust_without_subject),
    ("trust-any-principal", trust_any_principal),
    ("untrusted-code-with-secrets", untrusted_code_with_secrets),
    // NHI7 long-lived secrets
    ("no-expiry", no_expiry),
    ("not-rotated", not_rotated),
    (
        "certificate-validity-too-long",
        certificate_validity_too_long,
    ),
    ("expiring-soon", expiring_soon),
    ("expired-active", expired_active),
    // NHI8 environment isolation
    ("shared-across-environments", shared_across_environments),
    ("environment-mismatch", environment_mismatch),
    ("environment-unknown", environment_unknown),
    // NHI9 reuse
    ("reused-across-repositories", reused_across_repositories),
    ("shared-by-workloads", shared_by_workloads),
    ("used-from-many-addresses", used_from_many_addresses),
    // NHI10 human use
    ("console-use", console_use),
    ("workstation-use", workstation_use),
    // Governance
    ("unowned", unowned),
    ("no-purpose", no_purpose),
    ("undeclared", undeclared),
    ("review-overdue", review_overdue),
    ("never-reviewed", never_reviewed),
    ("no-review-cadence", no_review_cadence),
    ("no-backup-owner", no_backup_owner),
];

/// The built-in with `id`.
pub fn builtin(id: &str) -> Option<Eval> {
    BUILTINS.iter().find(|(i, _)| *i == id).map(|(_, f)| *f)
}

/// The date part of an instant, as evidence shows it.
fn day(t: DateTime<Utc>) -> String {
    use chrono::Datelike as _;
    // `format("%Y-%m-%d")` parses its pattern on every call; evidence takes millions of dates.
    format!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day())
}

fn time(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// At most this many items of a list go into evidence; the count says how many there were.
const EVIDENCE_ITEMS: usize = 20;

fn capped<'a>(items: impl IntoIterator<Item = &'a str>) -> Value {
    Value::Array(
        items
            .into_iter()
            .take(EVIDENCE_ITEMS)
            .map(|s| Value::String(s.to_owned()))
            .collect(),
    )
}

fn kind_in(s: &Subject, p: &Params, param: &str) -> bool {
    p.has(param, s.kind.as_str())
}

// ---------------------------------------------------------------- NHI1 improper offboarding

fn owner_departed(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    let Some(owner) = &s.owner else {
        return Outcome::NotApplicable;
    };
    if s.owner_standing == Standing::Departed {
        let mut e = Evidence::new(format!("owner {owner} has left the organisation"))
            .field("owner", owner.as_str())
            .source("register")
            .source("people");
        if let Some(d) = s.owner_departed_on {
            e = e.field("departed_on", d.format("%Y-%m-%d").to_string());
        }
        return Outcome::Fail(e);
    }
    Outcome::Pass
}

fn owner_not_in_directory(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    let Some(owner) = &s.owner else {
        return Outcome::NotApplicable;
    };
    let message = match s.owner_standing {
        Standing::NotInDirectory => format!("owner {owner} is not in the people directory"),
        Standing::EmptyTeam => {
            format!("owner {owner} has no active member in the people directory")
        }
        _ => return Outcome::Pass,
    };
    Outcome::Fail(
        Evidence::new(message)
            .field("owner", owner.as_str())
            .source("register")
            .source("people"),
    )
}

fn unused(s: &Subject, p: &Params, now: DateTime<Utc>) -> Outcome {
    let cutoff = p.days_before("max_idle_days", now);
    let idle = p.int("max_idle_days");
    match (s.latest_use(), s.last_used_state) {
        (Some(at), _) => Outcome::from((at < cutoff).then(|| {
            Evidence::new(format!(
                "last used {}, more than {idle} days before the check",
                day(at)
            ))
            .field("last_used_at", time(at))
            .field("max_idle_days", idle)
            .sources(
                s.sources
                    .iter()
                    .map(String::as_str)
                    .filter(|x| *x != "declaration"),
            )
        })),
        (None, UsageState::Never) => {
            let Some(since) = s.created_at.or(s.registered_at) else {
                return Outcome::NotApplicable;
            };
            Outcome::from((since < cutoff).then(|| {
                Evidence::new(format!(
                    "never used since {}, more than {idle} days before the check",
                    day(since)
                ))
                .field("last_used_state", "never")
                .field("since", time(since))
                .field("max_idle_days", idle)
            }))
        }
        // Unknown use is `last-use-unknown`'s finding, never a pass here.
        (None, _) => Outcome::NotApplicable,
    }
}

fn last_use_unknown(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    Outcome::from(
        (s.latest_use().is_none() && s.last_used_state == UsageState::Unknown).then(|| {
            Evidence::new("no source reports when it was last used")
                .field("last_used_state", "unknown")
                .field("sources", capped(s.sources.iter().map(String::as_str)))
                .source("register")
        }),
    )
}

fn no_longer_seen(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    if s.gone.is_empty() {
        return Outcome::Pass;
    }
    if s.status != keyward_model::NhiStatus::Active {
        return Outcome::Pass;
    }
    let first = &s.gone[0];
    Outcome::Fail(
        Evidence::new(format!(
            "{} no longer sees it (since {}) but it is still active in the register",
            first.source,
            day(first.gone_at)
        ))
        .field(
            "gone_from",
            capped(s.gone.iter().map(|g| g.source.as_str())),
        )
        .field("gone_at", time(first.gone_at))
        .field("status", s.status.as_str())
        .sources(s.gone.iter().map(|g| g.source.as_str())),
    )
}

// ---------------------------------------------------------------- NHI2 secret leakage

/// Fails when any credential was found at a place `select` picks, naming the first.
fn found_at(s: &Subject, what: &str, select: impl Fn(&Place) -> bool) -> Outcome {
    let hits: Vec<(&str, &Place)> = s
        .places()
        .filter(|(_, p)| select(p))
        .map(|(c, p)| (c.id.as_str(), p))
        .collect();
    let Some((cred, first)) = hits.first() else {
        return Outcome::Pass;
    };
    let mut e = Evidence::new(format!(
        "a credential's value was found {what}: {}{}",
        first.path,
        first
            .commit
            .as_deref()
            .map(|c| format!(" in commit {}", &c[..c.len().min(12)]))
            .unwrap_or_default()
    ))
    .field("credential", *cred)
    .field("repository", first.repository.as_str())
    .field("path", first.path.as_str())
    .field("locations", hits.len())
    .source("secrets");
    if let Some(c) = &first.commit {
        e = e.field("commit", c.as_str());
    }
    Outcome::Fail(e)
}

fn secret_in_history(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    found_at(s, "in git history", |p| p.source == LocationSource::Git)
}

fn secret_in_source(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    found_at(s, "in a source file", |p| {
        p.source == LocationSource::File
            && matches!(
                p.class(),
                PathClass::Source | PathClass::Test | PathClass::Docs
            )
    })
}

fn secret_in_config(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    found_at(s, "in a plain configuration file", |p| {
        p.source == LocationSource::File && p.class() == PathClass::Config
    })
}

fn secret_in_ci_file(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    found_at(s, "in a CI/CD pipeline file", |p| {
        p.class() == PathClass::Ci
    })
}

// ---------------------------------------------------------------- NHI3 third parties

fn supplier_review_overdue(s: &Subject, _: &Params, now: DateTime<Utc>) -> Outcome {
    let third = s.supplier.is_some() || s.flag("third_party");
    if !third {
        return Outcome::NotApplicable;
    }
    let who = s.supplier.as_deref().unwrap_or("a third party");
    let message = match (s.last_reviewed_at, s.next_review_due) {
        (None, _) => format!("shared with {who} and never reviewed"),
        (_, None) => format!("shared with {who} and has no review cadence"),
        (Some(_), Some(due)) if due < now => {
            format!("shared with {who}; its review was due {}", day(due))
        }
        _ => return Outcome::Pass,
    };
    let mut e = Evidence::new(message).source("register");
    if let Some(sup) = &s.supplier {
        e = e.field("supplier", sup.as_str());
    }
    if let Some(d) = s.next_review_due {
        e = e.field("next_review_due", time(d));
    }
    if let Some(d) = s.last_reviewed_at {
        e = e.field("last_reviewed_at", time(d));
    }
    Outcome::Fail(e)
}

fn third_party_holds_secret(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    if !s.flag("third_party") {
        return Outcome::Pass;
    }
    let actions: Vec<&str> = s.strings("third_party_actions").collect();
    let message = if actions.is_empty() {
        "operated by or handed to a third party".to_owned()
    } else {
        format!("passed to third-party code: {}", actions.join(", "))
    };
    Outcome::Fail(
        Evidence::new(message)
            .field("third_party_actions", capped(actions))
            .sources(s.sources_of("third_party").iter().map(String::as_str)),
    )
}

fn unpinned_action_holds_secret(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    let actions: Vec<&str> = s.strings("unpinned_actions").collect();
    if actions.is_empty() {
        return Outcome::Pass;
    }
    Outcome::Fail(
        Evidence::new(format!(
            "jobs holding it run third-party actions not pinned to a commit: {}",
            actions.join(", ")
        ))
        .field("unpinned_actions", capped(actions))
        .sources(s.sources_of("unpinned_actions").iter().map(String::as_str)),
    )
}

fn broad_oauth_scopes(s: &Subject, p: &Params, _: DateTime<Utc>) -> Outcome {
    if !s.facts.contains_key("scopes") {
        return Outcome::NotApplicable;
    }
    let broad: Vec<&str> = s
        .strings("scopes")
        .filter(|sc| p.list("broad_scopes").iter().any(|pat| glob(pat, sc)))
        .collect();
    if broad.is_empty() {
        return Outcome::Pass;
    }
    Outcome::Fail(
        Evidence::new(format!("holds broad scopes: {}", broad.join(", ")))
            .field("broad_scopes", capped(broad))
            .sources(s.sources_of("scopes").iter().map(String::as_str)),
    )
}

// ---------------------------------------------------------------- NHI4 insecure authentication

fn static_key_where_federation(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    if !s.flag("static_cloud_key") {
        return Outcome::NotApplicable;
    }
    Outcome::from(s.flag("federation_available").then(|| {
        let mut e = Evidence::new(
            "a static cloud key is used where the platform already federates without one",
        )
        .field("static_cloud_key", true)
        .field("federation_available", true)
        .sources(
            s.sources_of("federation_available")
                .iter()
                .map(String::as_str),
        );
        if let Some(c) = s.text("cloud") {
            e = e.field("cloud", c);
        }
        e
    }))
}

fn weak_key(s: &Subject, p: &Params, _: DateTime<Utc>) -> Outcome {
    let Some(key_type) = s.text("key_type") else {
        return Outcome::NotApplicable;
    };
    let bits = s.number("key_bits");
    #[expect(clippy::cast_precision_loss, reason = "key sizes are small integers")]
    let below = |param: &str| bits.is_some_and(|b| b < p.int(param) as f64);
    let weak = match key_type.to_ascii_lowercase().as_str() {
        "dsa" => true,
        "rsa" => below("min_rsa_bits"),
        "ec" | "ecdsa" => below("min_ec_bits"),
        _ => false,
    };
    Outcome::from(weak.then(|| {
        let mut e = Evidence::new(match bits {
            Some(b) => format!("{key_type} key of {b} bits"),
            None => format!("{key_type} key"),
        })
        .field("key_type", key_type)
        .sources(s.sources_of("key_type").iter().map(String::as_str));
        if let Some(b) = bits {
            e = e.field("key_bits", b);
        }
        e
    }))
}

fn weak_signature(s: &Subject, p: &Params, _: DateTime<Utc>) -> Outcome {
    let Some(alg) = s.text("signature_algorithm") else {
        return Outcome::NotApplicable;
    };
    let lower = alg.to_ascii_lowercase();
    Outcome::from(
        p.list("weak_digests")
            .iter()
            .any(|d| lower.contains(d.as_str()))
            .then(|| {
                Evidence::new(format!("signed with {alg}"))
                    .field("signature_algorithm", alg)
                    .sources(
                        s.sources_of("signature_algorithm")
                            .iter()
                            .map(String::as_str),
                    )
            }),
    )
}

fn password_auth(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    Outcome::from(s.flag("password_auth").then(|| {
        Evidence::new("authenticates with a password")
            .field("password_auth", true)
            .sources(s.sources_of("password_auth").iter().map(String::as_str))
    }))
}

// ---------------------------------------------------------------- NHI5 overprivileged

fn is_kubernetes(s: &Subject) -> bool {
    s.kind == NhiKind::K8sServiceAccount || s.provider == "kubernetes"
}

fn admin_evidence(s: &Subject, message: &str) -> Evidence {
    Evidence::new(message)
        .field("admin", true)
        .sources(s.sources_of("admin").iter().map(String::as_str))
}

fn admin_permissions(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    if is_kubernetes(s) {
        return Outcome::NotApplicable;
    }
    Outcome::from(
        s.flag("admin")
            .then(|| admin_evidence(s, "holds full administrative permissions")),
    )
}

fn cluster_admin(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    if !is_kubernetes(s) {
        return Outcome::NotApplicable;
    }
    Outcome::from(s.flag("admin").then(|| {
        admin_evidence(
            s,
            "bound to cluster-admin or equivalent (every verb on every resource)",
        )
    }))
}

fn wildcard_permissions(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    let mut found: Vec<&str> = s.strings("wildcard_permissions").collect();
    let mut sources: Vec<&str> = s
        .sources_of("wildcard_permissions")
        .iter()
        .map(String::as_str)
        .collect();
    if found.is_empty() {
        found = s
            .observed_permissions
            .iter()
            .map(String::as_str)
            .filter(|p| p.contains('*'))
            .collect();
        sources = vec!["register"];
    }
    if found.is_empty() {
        return Outcome::Pass;
    }
    Outcome::Fail(
        Evidence::new(format!(
            "holds wildcard permissions: {}",
            found.iter().take(5).copied().collect::<Vec<_>>().join(", ")
        ))
        .field("wildcard_permissions", capped(found.iter().copied()))
        .field("count", found.len())
        .sources(sources),
    )
}

fn above_ceiling(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    if s.privilege_ceiling.is_empty() || s.observed_permissions.is_empty() {
        return Outcome::NotApplicable;
    }
    let excess: Vec<&str> = s
        .observed_permissions
        .iter()
        .map(String::as_str)
        .filter(|perm| !s.privilege_ceiling.iter().any(|c| glob(c, perm)))
        .collect();
    if excess.is_empty() {
        return Outcome::Pass;
    }
    Outcome::Fail(
        Evidence::new(format!(
            "{} observed permission(s) above the approved ceiling, first {}",
            excess.len(),
            excess[0]
        ))
        .field("above_ceiling", capped(excess.iter().copied()))
        .field("count", excess.len())
        .field(
            "privilege_ceiling",
            capped(s.privilege_ceiling.iter().map(String::as_str)),
        )
        .sources(
            s.sources
                .iter()
                .map(String::as_str)
                .filter(|x| *x != "declaration"),
        )
        .source("declaration"),
    )
}

fn primitive_roles(s: &Subject, p: &Params, _: DateTime<Utc>) -> Outcome {
    let roles = p.list("roles");
    let held: Vec<&str> = s
        .observed_permissions
        .iter()
        .map(String::as_str)
        .chain(s.strings("privileged_grants"))
        .filter(|g| {
            roles
                .iter()
                .any(|r| g == r || g.ends_with(&format!(" {r}")))
        })
        .collect();
    if held.is_empty() {
        return Outcome::Pass;
    }
    Outcome::Fail(
        Evidence::new(format!("holds primitive roles: {}", held.join(", ")))
            .field("roles", capped(held))
            .sources(s.sources_of("privileged_grants").iter().map(String::as_str))
            .source("register"),
    )
}

fn privileged_grants(s: &Subject, p: &Params, _: DateTime<Utc>) -> Outcome {
    let roles = p.list("except");
    let grants: Vec<&str> = s
        .strings("privileged_grants")
        .filter(|g| !roles.iter().any(|r| g == r))
        .collect();
    if grants.is_empty() {
        return Outcome::Pass;
    }
    Outcome::Fail(
        Evidence::new(format!(
            "holds grants that allow escalation or broad control: {}",
            grants
                .iter()
                .take(5)
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .field("privileged_grants", capped(grants.iter().copied()))
        .field("count", grants.len())
        .sources(s.sources_of("privileged_grants").iter().map(String::as_str)),
    )
}

fn no_privilege_ceiling(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    Outcome::from(s.privilege_ceiling.is_empty().then(|| {
        Evidence::new("no approved privilege ceiling is declared")
            .field("observed_permissions", s.observed_permissions.len())
            .source("register")
    }))
}

// ---------------------------------------------------------------- NHI6 cloud deployment

fn static_cloud_key_in_ci(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    if s.kind == NhiKind::CiSecret && s.flag("static_cloud_key") {
        let mut e = Evidence::new("a CI/CD secret holds a static cloud key")
            .field("static_cloud_key", true)
            .sources(s.sources_of("static_cloud_key").iter().map(String::as_str));
        if let Some(c) = s.text("cloud") {
            e = e.field("cloud", c);
        }
        return Outcome::Fail(e);
    }
    let in_ci = s
        .places()
        .find(|(c, p)| c.kind == CredentialKind::AccessKey && p.class() == PathClass::Ci);
    Outcome::from(in_ci.map(|(c, p)| {
        Evidence::new(format!("a cloud access key is written into {}", p.path))
            .field("credential", c.id.as_str())
            .field("path", p.path.as_str())
            .field("repository", p.repository.as_str())
            .source("secrets")
    }))
}

/// The trust entries, as objects.
fn trusts(s: &Subject) -> impl Iterator<Item = &serde_json::Map<String, Value>> {
    s.list("trust").iter().filter_map(Value::as_object)
}

fn str_of<'a>(o: &'a serde_json::Map<String, Value>, k: &str) -> &'a str {
    o.get(k).and_then(Value::as_str).unwrap_or("")
}

fn oidc_trust_without_subject(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    let federated: Vec<_> = trusts(s)
        .filter(|t| matches!(str_of(t, "principal_type"), "oidc" | "workload_identity"))
        .collect();
    if federated.is_empty() {
        return Outcome::NotApplicable;
    }
    let open: Vec<&str> = federated
        .iter()
        .filter(|t| t.get("subject_condition").and_then(Value::as_bool) != Some(true))
        .map(|t| str_of(t, "principal"))
        .collect();
    if open.is_empty() {
        return Outcome::Pass;
    }
    Outcome::Fail(
        Evidence::new(format!(
            "federated trust without a subject condition: any identity of {} may assume it",
            open[0]
        ))
        .field("principals", capped(open))
        .sources(s.sources_of("trust").iter().map(String::as_str)),
    )
}

fn trust_any_principal(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    if !s.facts.contains_key("trust") {
        return Outcome::NotApplicable;
    }
    let any = trusts(s).find(|t| str_of(t, "principal_type") == "any");
    Outcome::from(any.map(|t| {
        Evidence::new("any principal may assume it")
            .field("principal", str_of(t, "principal"))
            .sources(s.sources_of("trust").iter().map(String::as_str))
    }))
}

fn untrusted_code_with_secrets(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    if !s.flag("pull_request_target") {
        return Outcome::NotApplicable;
    }
    Outcome::from(s.flag("checks_out_pr_head").then(|| {
        Evidence::new(
            "consumed by a pull_request_target or workflow_run job that checks out the pull request's code",
        )
        .field(
            "workflows",
            capped(s.strings("pull_request_target_workflows")),
        )
        .sources(s.sources_of("checks_out_pr_head").iter().map(String::as_str))
    }))
}

// ---------------------------------------------------------------- NHI7 long-lived secrets

fn latest_expiry(s: &Subject) -> Option<DateTime<Utc>> {
    s.expires_at.or_else(|| {
        s.credentials
            .iter()
            .filter(|c| c.status == keyward_model::CredentialStatus::Active)
            .filter_map(|c| c.expires_at)
            .max()
    })
}

fn no_expiry(s: &Subject, p: &Params, _: DateTime<Utc>) -> Outcome {
    if !kind_in(s, p, "kinds") {
        return Outcome::NotApplicable;
    }
    Outcome::from(latest_expiry(s).is_none().then(|| {
        Evidence::new("neither it nor any of its active credentials has an expiry")
            .field("kind", s.kind.as_str())
            .source("register")
    }))
}

fn not_rotated(s: &Subject, p: &Params, now: DateTime<Utc>) -> Outcome {
    if !kind_in(s, p, "kinds") {
        return Outcome::NotApplicable;
    }
    let max = p.int("max_age_days");
    let cutoff = p.days_before("max_age_days", now);
    // The oldest active secret decides: a rotated key next to a stale one is still stale.
    let mut ages: Vec<(Option<DateTime<Utc>>, &str)> = s
        .credentials
        .iter()
        .filter(|c| c.status == keyward_model::CredentialStatus::Active)
        .map(|c| (c.last_rotated_at.or(c.created_at), c.id.as_str()))
        .collect();
    if ages.is_empty() {
        ages.push((s.last_rotated_at.or(s.created_at), "register"));
    }
    if let Some((_, which)) = ages.iter().find(|(a, _)| a.is_none()) {
        return Outcome::Fail(
            Evidence::new("no rotation or creation date is known, so its age cannot be shown")
                .field("secret", *which)
                .field("max_age_days", max)
                .source("register"),
        );
    }
    let oldest = ages.iter().filter_map(|(a, w)| a.map(|a| (a, *w))).min();
    Outcome::from(oldest.filter(|(a, _)| *a < cutoff).map(|(a, w)| {
        Evidence::new(format!(
            "secret last rotated {}, more than {max} days before the check",
            day(a)
        ))
        .field("rotated_or_created_at", time(a))
        .field("secret", w)
        .field("max_age_days", max)
        .source("register")
    }))
}

fn certificate_validity_too_long(s: &Subject, p: &Params, _: DateTime<Utc>) -> Outcome {
    let Some(days) = s.number("validity_days") else {
        return Outcome::NotApplicable;
    };
    if s.kind != NhiKind::Certificate {
        return Outcome::NotApplicable;
    }
    let max = p.int("max_validity_days");
    #[expect(
        clippy::cast_precision_loss,
        reason = "validity limits are small integers"
    )]
    let too_long = days > max as f64;
    Outcome::from(too_long.then(|| {
        Evidence::new(format!("valid for {days} days, more than {max}"))
            .field("validity_days", days)
            .field("max_validity_days", max)
            .sources(s.sources_of("validity_days").iter().map(String::as_str))
    }))
}

fn expiring_soon(s: &Subject, p: &Params, now: DateTime<Utc>) -> Outcome {
    let Some(exp) = latest_expiry(s) else {
        return Outcome::NotApplicable;
    };
    if exp <= now {
        return Outcome::NotApplicable;
    }
    let notice = p.int("notice_days");
    Outcome::from((exp <= now + p.days("notice_days")).then(|| {
        Evidence::new(format!(
            "expires {}, within the {notice}-day notice period",
            day(exp)
        ))
        .field("expires_at", time(exp))
        .field("notice_days", notice)
        .source("register")
    }))
}

fn expired_active(s: &Subject, _: &Params, now: DateTime<Utc>) -> Outcome {
    let Some(exp) = s.expires_at else {
        return Outcome::NotApplicable;
    };
    Outcome::from(
        (exp <= now && s.status == keyward_model::NhiStatus::Active).then(|| {
            Evidence::new(format!("expired {} but still active", day(exp)))
                .field("expires_at", time(exp))
                .field("status", "active")
                .source("register")
        }),
    )
}

// ---------------------------------------------------------------- NHI8 environment isolation

/// The environments it is used in: where its credentials were found and where the jobs that
/// consume it run. Each with what showed it.
fn used_in(s: &Subject) -> Vec<(Environment, String)> {
    let mut out: Vec<(Environment, String)> = s
        .places()
        .filter_map(|(_, p)| {
            p.environment
                .map(|e| (e, format!("{}:{}", p.repository, p.path)))
        })
        .collect();
    for c in s.list("consumers").iter().filter_map(Value::as_object) {
        let env = c
            .get("environment")
            .and_then(Value::as_str)
            .and_then(Environment::named_in);
        if let Some(e) = env {
            out.push((e, str_of(c, "name").to_owned()));
        }
    }
    out
}

fn shared_across_environments(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    let uses = used_in(s);
    let prod = uses.iter().find(|(e, _)| *e == Environment::Production);
    let other = uses.iter().find(|(e, _)| *e != Environment::Production);
    match (prod, other) {
        (Some((_, p)), Some((e, o))) => Outcome::Fail(
            Evidence::new(format!(
                "the same credential is used in production ({p}) and {e} ({o})"
            ))
            .field("production_use", p.as_str())
            .field("other_use", o.as_str())
            .field("other_environment", e.as_str())
            .source("secrets")
            .sources(s.sources_of("consumers").iter().map(String::as_str)),
        ),
        _ if uses.is_empty() => Outcome::NotApplicable,
        _ => Outcome::Pass,
    }
}

fn environment_mismatch(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    if s.environment == Environment::Unknown {
        return Outcome::NotApplicable;
    }
    let uses = used_in(s);
    if uses.is_empty() {
        return Outcome::NotApplicable;
    }
    let off = uses.iter().find(|(e, _)| *e != s.environment);
    Outcome::from(off.map(|(e, w)| {
        Evidence::new(format!(
            "registered for {} but used in {e} ({w})",
            s.environment
        ))
        .field("environment", s.environment.as_str())
        .field("used_in", e.as_str())
        .field("where", w.as_str())
        .source("register")
    }))
}

fn environment_unknown(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    Outcome::from((s.environment == Environment::Unknown).then(|| {
        Evidence::new("its environment is unknown, so isolation cannot be judged")
            .field("environment", "unknown")
            .source("register")
    }))
}

// ---------------------------------------------------------------- NHI9 reuse

fn reused_across_repositories(s: &Subject, p: &Params, _: DateTime<Utc>) -> Outcome {
    let max = usize::try_from(p.int("max_repositories")).unwrap_or(1);
    for c in &s.credentials {
        let mut repos: Vec<&str> = c.locations.iter().map(|l| l.repository.as_str()).collect();
        repos.sort_unstable();
        repos.dedup();
        if repos.len() > max {
            return Outcome::Fail(
                Evidence::new(format!(
                    "one credential is found in {} repositories",
                    repos.len()
                ))
                .field("credential", c.id.as_str())
                .field("repositories", capped(repos.iter().copied()))
                .field("count", repos.len())
                .source("secrets"),
            );
        }
    }
    if s.places().next().is_none() {
        return Outcome::NotApplicable;
    }
    Outcome::Pass
}

fn shared_by_workloads(s: &Subject, p: &Params, _: DateTime<Utc>) -> Outcome {
    let consumers = s.list("consumers");
    // A CI platform's job token is minted afresh for every job run: its consumers are
    // workflows, not workloads sharing one identity.
    if consumers.is_empty()
        || s.kind == NhiKind::Token && matches!(s.provider.as_str(), "github" | "gitlab")
    {
        return Outcome::NotApplicable;
    }
    let mut workloads: Vec<String> = consumers
        .iter()
        .filter_map(Value::as_object)
        .map(|c| {
            ["workflow", "file"]
                .iter()
                .find_map(|k| c.get(*k).and_then(Value::as_str))
                .map_or_else(
                    || format!("{}/{}", str_of(c, "kind"), str_of(c, "name")),
                    str::to_owned,
                )
        })
        .collect();
    workloads.sort_unstable();
    workloads.dedup();
    let max = usize::try_from(p.int("max_workloads")).unwrap_or(1);
    Outcome::from((workloads.len() > max).then(|| {
        Evidence::new(format!(
            "used by {} distinct workloads, more than {max}",
            workloads.len()
        ))
        .field("workloads", capped(workloads.iter().map(String::as_str)))
        .field("count", workloads.len())
        .sources(s.sources_of("consumers").iter().map(String::as_str))
    }))
}

fn used_from_many_addresses(s: &Subject, p: &Params, _: DateTime<Utc>) -> Outcome {
    let addresses = s.list("source_addresses");
    let signal = s
        .list("human_use")
        .iter()
        .any(|h| h.get("signal").and_then(Value::as_str) == Some("many_source_addresses"));
    if addresses.is_empty() && !signal {
        return Outcome::NotApplicable;
    }
    let max = usize::try_from(p.int("max_addresses")).unwrap_or(1);
    Outcome::from((addresses.len() > max || signal).then(|| {
        Evidence::new(format!(
            "used from {} source addresses, more than {max}",
            addresses.len()
        ))
        .field("addresses", addresses.len())
        .field("max_addresses", max)
        .sources(s.sources_of("source_addresses").iter().map(String::as_str))
    }))
}

// ---------------------------------------------------------------- NHI10 human use

fn human_signal(s: &Subject, signals: &[&str], message: &str) -> Outcome {
    let hit = s.list("human_use").iter().find(|h| {
        h.get("signal")
            .and_then(Value::as_str)
            .is_some_and(|x| signals.contains(&x))
    });
    Outcome::from(hit.map(|h| {
        let mut e = Evidence::new(format!(
            "{message}: {}",
            h.get("detail").and_then(Value::as_str).unwrap_or("")
        ))
        .field("signal", h.get("signal").cloned().unwrap_or(Value::Null))
        .sources(s.sources_of("human_use").iter().map(String::as_str));
        if let Some(at) = h.get("at").filter(|v| !v.is_null()) {
            e = e.field("at", at.clone());
        }
        e
    }))
}

fn console_use(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    human_signal(
        s,
        &["console_sign_in"],
        "a person signed in to the console with it",
    )
}

fn workstation_use(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    human_signal(
        s,
        &["interactive_user_agent", "kubectl_use"],
        "used from a workstation or browser",
    )
}

// ---------------------------------------------------------------- governance

fn unowned(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    Outcome::from(
        s.owner
            .is_none()
            .then(|| Evidence::new("no accountable owner").source("register")),
    )
}

fn no_purpose(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    let missing = s.purpose.as_deref().is_none_or(|p| p.trim().is_empty());
    Outcome::from(missing.then(|| Evidence::new("no purpose recorded").source("register")))
}

fn undeclared(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    Outcome::from((s.origin == keyward_model::Origin::Discovered).then(|| {
        Evidence::new(format!(
            "discovered by {} and never declared or approved",
            s.sources.first().map_or("discovery", String::as_str)
        ))
        .field("origin", "discovered")
        .sources(s.sources.iter().map(String::as_str))
    }))
}

fn review_overdue(s: &Subject, _: &Params, now: DateTime<Utc>) -> Outcome {
    let Some(due) = s.next_review_due else {
        return Outcome::NotApplicable;
    };
    Outcome::from((due < now).then(|| {
        Evidence::new(format!("review was due {}", day(due)))
            .field("next_review_due", time(due))
            .source("register")
    }))
}

fn never_reviewed(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    Outcome::from(
        s.last_reviewed_at
            .is_none()
            .then(|| Evidence::new("never reviewed").source("register")),
    )
}

fn no_review_cadence(s: &Subject, _: &Params, _: DateTime<Utc>) -> Outcome {
    Outcome::from(
        s.review_every_days
            .is_none()
            .then(|| Evidence::new("no review cadence set").source("register")),
    )
}

fn no_backup_owner(s: &Subject, p: &Params, _: DateTime<Utc>) -> Outcome {
    if !p.has("environments", s.environment.as_str()) {
        return Outcome::NotApplicable;
    }
    Outcome::from(s.backup_owner.is_none().then(|| {
        Evidence::new(format!("a {} NHI without a backup owner", s.environment))
            .field("environment", s.environment.as_str())
            .source("register")
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn evidence_dates_are_iso_days() {
        for (at, expected) in [
            ("2026-03-04T23:59:59Z", "2026-03-04"),
            ("0999-12-31T00:00:00Z", "0999-12-31"),
        ] {
            let t = DateTime::parse_from_rfc3339(at).unwrap().to_utc();
            assert_eq!(day(t), expected);
            assert_eq!(day(t), t.format("%Y-%m-%d").to_string());
        }
    }
}
