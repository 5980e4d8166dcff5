//! What policies grant, approximately: the union of allowed action strings, less what an
//! unconditional Deny on every resource covers; whether that amounts to admin; which
//! escalation actions it reaches; and who a role's trust policy lets in.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::document::{Effect, PolicyDocument, Principal, Statement};

/// Actions that let an identity raise its own or another identity's privileges, or take over
/// other identities, without being admin. The flag says the action counts only when allowed on
/// every resource (`iam:PassRole` on one role is ordinary; on `*` it hands out any role).
/// Kept here as data, not logic, so the list can move to the top-level `data/` unchanged.
pub const PRIVILEGED_ACTIONS: &[(&str, bool)] = &[
    // Full control of IAM: matched only by a grant covering all of `iam:`.
    ("iam:*", false),
    ("iam:AddUserToGroup", false),
    ("iam:AttachGroupPolicy", false),
    ("iam:AttachRolePolicy", false),
    ("iam:AttachUserPolicy", false),
    ("iam:CreateAccessKey", false),
    ("iam:CreateLoginProfile", false),
    ("iam:CreatePolicyVersion", false),
    ("iam:DeleteRolePermissionsBoundary", false),
    ("iam:DeleteUserPermissionsBoundary", false),
    ("iam:PassRole", true),
    ("iam:PutGroupPolicy", false),
    ("iam:PutRolePermissionsBoundary", false),
    ("iam:PutRolePolicy", false),
    ("iam:PutUserPermissionsBoundary", false),
    ("iam:PutUserPolicy", false),
    ("iam:SetDefaultPolicyVersion", false),
    ("iam:UpdateAssumeRolePolicy", false),
    ("iam:UpdateLoginProfile", false),
    ("sts:AssumeRole", true),
];

pub(crate) use keyward_model::pattern_covers as glob_matches;

/// Whether two IAM patterns might name a common action: their literal parts before the first
/// wildcard are prefixes of one another. Errs towards yes, so a NotAction exclusion that might
/// cover a privileged action is taken to cover it.
fn may_overlap(a: &str, b: &str) -> bool {
    let lit = |s: &str| s[..s.find(['*', '?']).unwrap_or(s.len())].to_ascii_lowercase();
    let (a, b) = (lit(a), lit(b));
    a.starts_with(&b) || b.starts_with(&a)
}

/// What a set of policies grants one identity, accumulated policy by policy.
#[derive(Debug, Clone, Default)]
pub(crate) struct Grants {
    /// Allowed action strings as written (NotAction allows add `*`).
    allowed: BTreeSet<String>,
    /// The actions a NotAction allow excludes, across all such statements.
    not_action: BTreeSet<String>,
    /// Some Allow grants `*` (or `*:*`) on every resource.
    admin: bool,
    /// Privileged actions reached.
    privileged: BTreeSet<&'static str>,
    /// Patterns an unconditional Deny on every resource refuses.
    denied: Vec<String>,
}

/// The grants of one identity once denies are applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Effective {
    pub(crate) actions: Vec<String>,
    pub(crate) wildcards: Vec<String>,
    pub(crate) not_action: Vec<String>,
    pub(crate) admin: bool,
    pub(crate) privileged: Vec<String>,
}

impl Grants {
    /// Adds what one document grants or refuses.
    pub(crate) fn add(&mut self, doc: &PolicyDocument) {
        for s in &doc.statements {
            match s.effect {
                Effect::Allow => self.allow(s),
                Effect::Deny => {
                    // A Deny bounded by resources or conditions refuses only sometimes; the
                    // action stays granted elsewhere, so only blanket denies subtract.
                    if s.condition.is_none()
                        && s.not_resource.is_none()
                        && s.on_every_resource()
                        && let Some(a) = &s.action
                    {
                        self.denied.extend(a.0.iter().cloned());
                    }
                }
            }
        }
    }

    /// Adds another identity's accumulated grants (a group's, for its members).
    pub(crate) fn merge(&mut self, other: &Grants) {
        self.allowed.extend(other.allowed.iter().cloned());
        self.not_action.extend(other.not_action.iter().cloned());
        self.admin |= other.admin;
        self.privileged.extend(other.privileged.iter().copied());
        self.denied.extend(other.denied.iter().cloned());
    }

    fn allow(&mut self, s: &Statement) {
        let everywhere = s.on_every_resource();
        if let Some(actions) = &s.action {
            for a in &actions.0 {
                self.allowed.insert(a.clone());
                if everywhere && (a == "*" || a == "*:*") {
                    self.admin = true;
                }
                for &(p, needs_all) in PRIVILEGED_ACTIONS {
                    if (everywhere || !needs_all) && glob_matches(a, p) {
                        self.privileged.insert(p);
                    }
                }
            }
        }
        if let Some(excluded) = &s.not_action {
            // Everything but a few: counted as a wildcard grant, the exclusions kept.
            self.allowed.insert("*".to_owned());
            self.not_action.extend(excluded.0.iter().cloned());
            for &(p, needs_all) in PRIVILEGED_ACTIONS {
                if (everywhere || !needs_all) && !excluded.0.iter().any(|x| may_overlap(x, p)) {
                    self.privileged.insert(p);
                }
            }
        }
    }

    /// Applies the denies.
    pub(crate) fn effective(&self) -> Effective {
        let refused = |a: &str| self.denied.iter().any(|d| glob_matches(d, a));
        let actions: Vec<String> = self
            .allowed
            .iter()
            .filter(|a| !refused(a))
            .cloned()
            .collect();
        let wildcards = actions
            .iter()
            .filter(|a| a.contains('*'))
            .cloned()
            .collect();
        Effective {
            wildcards,
            not_action: self.not_action.iter().cloned().collect(),
            admin: self.admin && !refused("*"),
            privileged: self
                .privileged
                .iter()
                .filter(|p| !refused(p))
                .map(|p| (*p).to_owned())
                .collect(),
            actions,
        }
    }
}

/// Who a trust policy lets assume the role: one object per allowed principal (the shape of
/// [`keyward_connect::facts::TRUST`]), sorted, and the other accounts named.
pub(crate) fn trust(doc: &PolicyDocument, own_account: &str) -> (Vec<Value>, Vec<String>) {
    let mut out = Vec::new();
    let mut accounts = BTreeSet::new();
    for s in doc.statements.iter().filter(|s| s.effect == Effect::Allow) {
        let actions: Vec<&str> = s
            .action
            .as_ref()
            .map(|a| a.0.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let mut push = |principal: &str, kind: &str| {
            let mut o = Map::new();
            o.insert("principal".into(), json!(principal));
            o.insert("principal_type".into(), json!(kind));
            if matches!(kind, "oidc" | "saml") {
                let constrained = s.condition.as_ref().is_some_and(constrains_subject);
                o.insert("subject_condition".into(), json!(constrained));
            }
            if let Some(c) = &s.condition {
                o.insert("conditions".into(), Value::Object(c.clone()));
            }
            out.push(Value::Object(o));
        };
        if let Some(p) = &s.not_principal {
            // Allow with NotPrincipal lets in everyone but the named: anyone, in effect.
            let names = principal_names(p).join(", ");
            push(&format!("* except {names}"), "any");
        }
        match &s.principal {
            None => {}
            Some(Principal::Bare(p)) => push(p, if p == "*" { "any" } else { "aws_principal" }),
            Some(Principal::Typed(entries)) => {
                for (kind, values) in entries {
                    for v in values {
                        let t = principal_type(kind, v, &actions);
                        if matches!(t, "aws_account" | "aws_principal")
                            && let Some(acct) = account_of_principal(v)
                            && acct != own_account
                        {
                            accounts.insert(acct.to_owned());
                        }
                        push(v, t);
                    }
                }
            }
        }
    }
    out.sort_by_cached_key(Value::to_string);
    out.dedup();
    (out, accounts.into_iter().collect())
}

fn principal_names(p: &Principal) -> Vec<String> {
    match p {
        Principal::Bare(s) => vec![s.clone()],
        Principal::Typed(e) => e.iter().flat_map(|(_, v)| v.iter().cloned()).collect(),
    }
}

/// The `principal_type` of one principal of a trust statement.
fn principal_type(kind: &str, value: &str, actions: &[&str]) -> &'static str {
    let acts = |name: &str| actions.iter().any(|a| glob_matches(a, name));
    match kind {
        "AWS" if value == "*" => "any",
        "AWS" if is_account(value) => "aws_account",
        "AWS" => "aws_principal",
        "Service" => "aws_service",
        "Federated" if value.contains(":saml-provider/") || acts("sts:AssumeRoleWithSAML") => {
            "saml"
        }
        "Federated"
            if value.contains(":oidc-provider/") || acts("sts:AssumeRoleWithWebIdentity") =>
        {
            "oidc"
        }
        "Federated" => "federated",
        "CanonicalUser" => "aws_canonical_user",
        _ => "other",
    }
}

/// A bare account id or an account's root ARN.
fn is_account(v: &str) -> bool {
    let id = v
        .strip_prefix("arn:")
        .and_then(|r| r.split_once(":iam::"))
        .and_then(|(_, r)| r.strip_suffix(":root"))
        .unwrap_or(v);
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// The account a principal belongs to, when it names one.
fn account_of_principal(v: &str) -> Option<&str> {
    if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(v);
    }
    crate::account_of(v)
}

/// Whether a condition block restricts the federated subject (`…:sub`) with a string
/// comparison that every request must pass. `…IfExists` and `ForAllValues:` operators pass
/// when the key is absent, and a bare `*` value admits every subject, so neither counts.
fn constrains_subject(condition: &Map<String, Value>) -> bool {
    condition.iter().any(|(op, keys)| {
        let base = op.strip_prefix("ForAnyValue:").unwrap_or(op);
        let binding = matches!(
            base,
            "StringEquals" | "StringLike" | "StringEqualsIgnoreCase"
        );
        binding
            && keys.as_object().is_some_and(|keys| {
                keys.iter().any(|(k, v)| {
                    k.to_ascii_lowercase().ends_with(":sub")
                        && match v {
                            Value::String(s) => s != "*",
                            Value::Array(a) => {
                                !a.is_empty() && a.iter().all(|s| s.as_str() != Some("*"))
                            }
                            _ => false,
                        }
                })
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> PolicyDocument {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn notaction_overlap_errs_towards_covering() {
        assert!(may_overlap("iam:Update*", "iam:*"));
        assert!(may_overlap("iam:*", "iam:PassRole"));
        assert!(!may_overlap("iam:Update*", "iam:PassRole"));
        assert!(!may_overlap("organizations:*", "iam:*"));
    }

    #[test]
    fn denies_on_everything_subtract_and_scoped_ones_do_not() {
        let mut g = Grants::default();
        g.add(&doc(
            r#"{"Statement":[
                {"Effect":"Allow","Action":["iam:*","s3:GetObject","ec2:*"],"Resource":"*"},
                {"Effect":"Deny","Action":"iam:*","Resource":"*"},
                {"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
                {"Effect":"Deny","Action":"ec2:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}
            ]}"#,
        ));
        let e = g.effective();
        assert_eq!(e.actions, ["ec2:*", "s3:GetObject"]);
        assert_eq!(e.wildcards, ["ec2:*"]);
        assert!(e.privileged.is_empty());
        assert!(!e.admin);
    }

    #[test]
    fn admin_privileged_and_not_action() {
        let mut g = Grants::default();
        g.add(&doc(
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
        ));
        let e = g.effective();
        assert!(e.admin);
        assert_eq!(e.privileged.len(), PRIVILEGED_ACTIONS.len());

        let mut g = Grants::default();
        g.add(&doc(
            r#"{"Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::1:role/x"},
                            {"Effect":"Allow","Action":["iam:CreateAccessKey","sts:AssumeRole"],"Resource":"arn:aws:iam::1:user/*"}]}"#,
        ));
        assert_eq!(g.effective().privileged, ["iam:CreateAccessKey"]);

        let mut g = Grants::default();
        g.add(&doc(
            r#"{"Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}]}"#,
        ));
        let e = g.effective();
        assert_eq!(e.actions, ["*"]);
        assert_eq!(e.not_action, ["iam:*", "organizations:*"]);
        assert!(!e.admin);
        assert_eq!(e.privileged, ["sts:AssumeRole"]);
    }

    #[test]
    fn trust_classifies_principals_and_subject_conditions() {
        let d = doc(r#"{"Statement":[
              {"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","lambda.amazonaws.com"]},"Action":"sts:AssumeRole"},
              {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root","111122223333","arn:aws:iam::111122223333:role/ci"]},"Action":"sts:AssumeRole"},
              {"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity",
               "Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}},
              {"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"},"Action":"sts:AssumeRoleWithWebIdentity",
               "Condition":{"StringLike":{"oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub":"system:serviceaccount:app:*"}}},
              {"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},
              {"Effect":"Deny","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}
            ]}"#);
        let (t, accounts) = trust(&d, "111122223333");
        let kinds: Vec<(&str, &str)> = t
            .iter()
            .map(|o| {
                (
                    o["principal"].as_str().unwrap(),
                    o["principal_type"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(t.len(), 8, "{kinds:?}");
        assert!(kinds.contains(&("*", "any")));
        assert!(kinds.contains(&("111122223333", "aws_account")));
        assert!(kinds.contains(&("arn:aws:iam::444455556666:root", "aws_account")));
        assert!(kinds.contains(&("arn:aws:iam::111122223333:role/ci", "aws_principal")));
        assert!(kinds.contains(&("ec2.amazonaws.com", "aws_service")));
        assert_eq!(accounts, ["444455556666"]);
        let oidc: Vec<&Value> = t.iter().filter(|o| o["principal_type"] == "oidc").collect();
        assert_eq!(oidc.len(), 2);
        let github = oidc
            .iter()
            .find(|o| o["principal"].as_str().unwrap().contains("github"))
            .unwrap();
        assert_eq!(github["subject_condition"], false);
        assert_eq!(
            github["conditions"]["StringEquals"]["token.actions.githubusercontent.com:aud"],
            "sts.amazonaws.com"
        );
        let eks = oidc
            .iter()
            .find(|o| o["principal"].as_str().unwrap().contains("eks"))
            .unwrap();
        assert_eq!(eks["subject_condition"], true);
    }

    #[test]
    fn a_wildcard_or_optional_subject_does_not_constrain() {
        for cond in [
            r#"{"StringLike":{"x:sub":"*"}}"#,
            r#"{"StringLikeIfExists":{"x:sub":"repo:a/b:*"}}"#,
            r#"{"ForAllValues:StringEquals":{"x:sub":"repo:a/b"}}"#,
            r#"{"StringNotEquals":{"x:sub":"repo:a/b"}}"#,
        ] {
            let c: Map<String, Value> = serde_json::from_str(cond).unwrap();
            assert!(!constrains_subject(&c), "{cond}");
        }
        let c: Map<String, Value> =
            serde_json::from_str(r#"{"StringEquals":{"X:SUB":["repo:a/b:ref:refs/heads/main"]}}"#)
                .unwrap();
        assert!(constrains_subject(&c));
    }
}
