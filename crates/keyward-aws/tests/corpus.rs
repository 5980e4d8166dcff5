//! The connector on the corpus's real exports: moto's, and cloudsplaining's test accounts.

use keyward_aws::AwsIamFiles;
use keyward_connect::{ConnectError, Connector};
use keyward_model::{CredentialKind, CredentialStatus, NhiKind, UsageState};

use crate::{corpus, nhi, strings};

fn files(details: &[&str], reports: &[&str]) -> Option<AwsIamFiles> {
    let mut c = AwsIamFiles::default();
    for d in details {
        c.auth_details
            .push(corpus(&format!("aws/authorization-details/{d}"))?);
    }
    for r in reports {
        c.credential_reports
            .push(corpus(&format!("aws/credential-report/{r}"))?);
    }
    Some(c)
}

#[tokio::test]
async fn moto_export_and_report_merge_per_user() {
    let Some(c) = files(&["moto-generated.json"], &["moto-generated.csv"]) else {
        return;
    };
    assert_eq!(c.name(), "aws-iam-files");
    let d = c.discover().await.unwrap();
    assert_eq!(d.source, "aws-iam");
    assert_eq!(d.scope, "aws:123456789012");
    assert!(d.complete);
    assert_eq!(d.connector, "aws-iam-files");
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    assert_eq!(d.inputs.len(), 2);
    assert!(
        d.inputs
            .iter()
            .all(|i| i.kind == "file" && i.sha256.as_ref().is_some_and(|s| s.len() == 64))
    );
    let ids: Vec<&str> = d.nhis.iter().map(|n| n.external_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "arn:aws:iam::123456789012:role/app-runtime",
            "arn:aws:iam::123456789012:user/ci-deployer",
            "arn:aws:iam::123456789012:user/legacy-batch",
        ]
    );

    let ci = nhi(&d.nhis, "arn:aws:iam::123456789012:user/ci-deployer");
    assert_eq!(ci.kind, NhiKind::IamUser);
    assert_eq!(ci.provider, "aws");
    assert_eq!(ci.name, "ci-deployer");
    assert_eq!(ci.observed_permissions, ["s3:GetObject", "s3:PutObject"]);
    assert_eq!(strings(ci, "groups"), ["deployers"]);
    assert_eq!(strings(ci, "policies"), ["artifacts-rw"]);
    assert_eq!(
        ci.tags.get("owner").map(String::as_str),
        Some("team-platform")
    );
    // `team-platform` is neither an email nor `team:<name>`.
    assert_eq!(ci.owner, None);
    assert_eq!(
        ci.created_at.unwrap().to_rfc3339(),
        "2026-11-22T01:51:51.397715+00:00"
    );
    assert_eq!(ci.last_used_state, UsageState::Used);
    assert_eq!(
        ci.last_used_at.unwrap().to_rfc3339(),
        "2026-11-22T01:51:58+00:00"
    );
    assert_eq!(ci.facts["admin"], false);
    assert_eq!(ci.facts["password_auth"], false);
    assert_eq!(ci.facts["mfa_active"], false);
    assert_eq!(ci.facts["static_cloud_key"], true);
    assert_eq!(ci.credentials.len(), 1);
    let key = &ci.credentials[0];
    assert_eq!(key.kind, CredentialKind::AccessKey);
    assert_eq!(
        key.external_id.as_deref(),
        Some("arn:aws:iam::123456789012:user/ci-deployer#access_key_1")
    );
    assert_eq!(key.status, CredentialStatus::Active);
    assert_eq!(
        key.created_at.unwrap().to_rfc3339(),
        "2026-11-22T01:51:52+00:00"
    );
    assert_eq!(key.last_used_state, UsageState::Used);

    let legacy = nhi(&d.nhis, "arn:aws:iam::123456789012:user/legacy-batch");
    assert_eq!(legacy.facts["admin"], true);
    assert_eq!(legacy.observed_permissions, ["*"]);
    assert_eq!(strings(legacy, "wildcard_permissions"), ["*"]);
    assert!(strings(legacy, "privileged_grants").contains(&"iam:PassRole".to_owned()));
    assert_eq!(legacy.credentials[0].status, CredentialStatus::Inactive);
    assert_eq!(legacy.facts["static_cloud_key"], false);
    assert_eq!(legacy.last_used_state, UsageState::Never);

    let role = nhi(&d.nhis, "arn:aws:iam::123456789012:role/app-runtime");
    assert_eq!(role.kind, NhiKind::IamRole);
    assert_eq!(role.observed_permissions, ["s3:GetObject", "s3:PutObject"]);
    assert_eq!(
        role.facts["trust"],
        serde_json::json!([{"principal": "ec2.amazonaws.com", "principal_type": "aws_service"}])
    );
    assert_eq!(role.last_used_state, UsageState::Never);
    assert!(role.credentials.is_empty());
}

#[test]
fn a_report_alone_lists_users_and_is_not_complete() {
    let Some(c) = files(&[], &["moto-generated.csv"]) else {
        return;
    };
    let d = c.discover_now().unwrap();
    assert_eq!(d.scope, "aws:123456789012");
    assert!(!d.complete);
    assert_eq!(d.nhis.len(), 2);
    let ci = nhi(&d.nhis, "arn:aws:iam::123456789012:user/ci-deployer");
    assert_eq!(ci.kind, NhiKind::IamUser);
    assert_eq!(
        ci.created_at.unwrap().to_rfc3339(),
        "2026-11-22T01:51:51+00:00"
    );
    // Permissions are unknown without the policies, so no permission facts at all.
    assert!(!ci.facts.contains_key("admin"));
    assert!(ci.observed_permissions.is_empty());
}

#[test]
fn administrator_access_counts_by_name_when_its_document_is_absent() {
    let Some(c) = files(&["cloudsplaining-test-example_authz_v2.json"], &[]) else {
        return;
    };
    let d = c.discover_now().unwrap();
    assert_eq!(d.scope, "aws:012345678901");
    assert_eq!(d.nhis.len(), 3);
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    let blake = nhi(&d.nhis, "arn:aws:iam::012345678901:user/BlakeBortles");
    assert_eq!(blake.facts["admin"], true);
    assert_eq!(strings(blake, "groups"), ["GOAT"]);
    assert_eq!(strings(blake, "policies"), ["AdministratorAccess"]);
    assert_eq!(blake.last_used_state, UsageState::Unknown);
    let goat = nhi(&d.nhis, "arn:aws:iam::012345678901:role/GOAT");
    assert_eq!(goat.facts["admin"], false);
    assert_eq!(goat.observed_permissions, ["s3:GetObject", "s3:PutObject"]);
    assert_eq!(goat.facts["trust"][0]["principal"], "ssm.amazonaws.com");
}

#[test]
fn cloudsplaining_test_account() {
    let Some(c) = files(&["cloudsplaining-test-example-authz-details.json"], &[]) else {
        return;
    };
    let d = c.discover_now().unwrap();
    assert_eq!(d.nhis.len(), 6);
    let ec2 = nhi(&d.nhis, "arn:aws:iam::012345678901:role/OverprivilegedEC2");
    assert_eq!(
        strings(ec2, "instance_profiles"),
        ["arn:aws:iam::012345678901:instance-profile/OverprivilegedEC2"]
    );
    assert_eq!(ec2.last_used_state, UsageState::Used);
    assert_eq!(
        ec2.last_used_at.unwrap().to_rfc3339(),
        "2019-01-20T18:48:00+00:00"
    );
    assert_eq!(ec2.facts["last_used_region"], "us-east-1");
    assert_eq!(strings(ec2, "privileged_grants"), ["iam:CreateAccessKey"]);
    assert!(
        ec2.observed_permissions
            .contains(&"secretsmanager:GetSecretValue".to_owned())
    );
    let biden = nhi(&d.nhis, "arn:aws:iam::012345678901:user/biden");
    assert_eq!(
        strings(biden, "policies"),
        [
            "AWSLambdaFullAccess",
            "AmazonRDSFullAccess",
            "InlinePolicyForBidenGroup",
            "InsecureUserPolicy"
        ]
    );
    assert!(strings(biden, "wildcard_permissions").contains(&"rds:*".to_owned()));
    assert_eq!(biden.facts["admin"], false);
    let obama = nhi(&d.nhis, "arn:aws:iam::012345678901:user/obama");
    assert_eq!(obama.facts["admin"], true);
}

#[test]
fn cloudsplaining_example_spans_two_accounts_and_resolves_denies() {
    let Some(c) = files(&["cloudsplaining-example.json"], &[]) else {
        return;
    };
    let d = c.discover_now().unwrap();
    assert_eq!(d.nhis.len(), 44 + 78);
    assert_eq!(d.scope, "aws:200611803367");
    assert_eq!(
        d.warnings,
        [
            "the inputs also describe identities of other accounts: 012345678901 (6); they are reported in scope `aws:200611803367` with the rest"
        ]
    );
    assert_eq!(
        d.nhis.iter().filter(|n| n.kind == NhiKind::IamUser).count(),
        44
    );
    let acct = "arn:aws:iam::200611803367";

    // Allow iam:* and Deny iam:* cancel; Allow * with Deny * in another policy too.
    for who in [
        "role/fp1-allow-and-deny-role",
        "user/fp1-allow-and-deny-user",
    ] {
        let n = nhi(&d.nhis, &format!("{acct}:{who}"));
        assert!(
            n.observed_permissions.is_empty(),
            "{who}: {:?}",
            n.observed_permissions
        );
        assert_eq!(strings(n, "privileged_grants"), Vec::<String>::new());
    }
    let fp2 = nhi(
        &d.nhis,
        &format!("{acct}:user/fp2-allow-and-deny-multiple-policies-user"),
    );
    assert_eq!(fp2.facts["admin"], false);
    assert_eq!(strings(fp2, "policies"), ["deny-all", "fp2-allow-all"]);

    // NotAction counts as a wildcard; what it excludes is kept and not granted.
    let fn4 = nhi(
        &d.nhis,
        &format!("{acct}:role/fn4-exploitableNotAction-role"),
    );
    assert_eq!(fn4.observed_permissions, ["*"]);
    assert_eq!(fn4.facts["admin"], false);
    assert_eq!(
        strings(fn4, "not_action_allows"),
        ["iam:Attach*", "iam:Create*", "iam:Update*"]
    );
    let grants = strings(fn4, "privileged_grants");
    assert!(grants.contains(&"iam:PassRole".to_owned()), "{grants:?}");
    assert!(grants.contains(&"sts:AssumeRole".to_owned()), "{grants:?}");
    for excluded in [
        "iam:*",
        "iam:CreateAccessKey",
        "iam:AttachUserPolicy",
        "iam:UpdateAssumeRolePolicy",
    ] {
        assert!(
            !grants.contains(&excluded.to_owned()),
            "{excluded}: {grants:?}"
        );
    }

    // Group policies reach the members.
    let sre = nhi(&d.nhis, &format!("{acct}:user/privesc-sre-user"));
    assert_eq!(strings(sre, "groups"), ["privesc-sre-group"]);
    assert!(strings(sre, "privileged_grants").contains(&"iam:*".to_owned()));
    assert_eq!(
        strings(sre, "wildcard_permissions"),
        ["ec2:*", "iam:*", "s3:*"]
    );

    // Trust: another account, SAML SSO, service-linked roles.
    let org = nhi(
        &d.nhis,
        &format!("{acct}:role/OrganizationAccountAccessRole"),
    );
    assert_eq!(org.facts["admin"], true);
    assert_eq!(
        org.facts["trust"],
        serde_json::json!([{"principal": "arn:aws:iam::072528804237:root", "principal_type": "aws_account"}])
    );
    assert_eq!(strings(org, "cross_account_trust"), ["072528804237"]);
    let sso = nhi(
        &d.nhis,
        &format!(
            "{acct}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_dc6414f7f2ab04fc"
        ),
    );
    assert_eq!(sso.facts["aws_sso"], true);
    assert_eq!(sso.facts["admin"], true);
    let t = &sso.facts["trust"][0];
    assert_eq!(t["principal_type"], "saml");
    assert_eq!(t["subject_condition"], false);
    assert_eq!(
        t["conditions"]["StringEquals"]["SAML:aud"],
        "https://signin.aws.amazon.com/saml"
    );
    let linked = d
        .nhis
        .iter()
        .filter(|n| n.facts.get("service_linked") == Some(&serde_json::json!(true)))
        .count();
    assert_eq!(linked, 8);
    let assumed = nhi(
        &d.nhis,
        &format!("{acct}:role/privesc-AssumeRole-starting-role"),
    );
    assert_eq!(assumed.facts["trust"][0]["principal_type"], "aws_principal");
    assert!(!assumed.facts.contains_key("cross_account_trust"));

    // Same input, same output.
    assert_eq!(c.discover_now().unwrap(), d);
}

#[test]
fn an_explicit_account_sets_the_scope() {
    let Some(mut c) = files(&["cloudsplaining-example.json"], &[]) else {
        return;
    };
    c.account = Some("012345678901".into());
    let d = c.discover_now().unwrap();
    assert_eq!(d.scope, "aws:012345678901");
    assert_eq!(d.parameters["account"], "012345678901");
    assert!(
        d.warnings[0].contains("200611803367 (116)"),
        "{:?}",
        d.warnings
    );
    c.account = Some("12345".into());
    let err = c.discover_now().unwrap_err();
    assert!(matches!(err, ConnectError::Usage(_)), "{err}");
    assert!(
        err.to_string().contains("`12345` is not an AWS account id"),
        "{err}"
    );
}

#[test]
fn a_directory_of_exports_is_read_in_order() {
    let Some(dir) = corpus("aws/authorization-details") else {
        return;
    };
    let c = AwsIamFiles {
        auth_details: vec![dir],
        ..AwsIamFiles::default()
    };
    let d = c.discover_now().unwrap();
    assert_eq!(d.inputs.len(), 4);
    assert!(d.inputs[0].locator.ends_with("cloudsplaining-example.json"));
    // 122, the moto account's 3, and the v2 test file's BlakeBortles and GOAT role; the
    // other identities of the test files repeat those of the example.
    assert_eq!(d.nhis.len(), 127);
    assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
}
