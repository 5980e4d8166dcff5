//! Documents built here: a generated account (the benchmark's generator) with a credential
//! report that has the `<root_account>` row and every marker real reports use.

use std::collections::BTreeSet;
use std::io::Write;

use keyward_aws::{AwsIamFiles, generate_account, parse_authorization_details, resolve};
use keyward_connect::ConnectError;
use keyward_model::{CredentialKind, CredentialStatus, Environment, NhiKind, OwnerRef, UsageState};

use crate::{nhi, strings};

const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

/// A report row: the 22 columns in header order.
struct Row<'a> {
    user: &'a str,
    arn: String,
    created: &'a str,
    password: [&'a str; 4],
    mfa: &'a str,
    keys: [[&'a str; 5]; 2],
    certs: [[&'a str; 2]; 2],
}

impl Row<'_> {
    fn line(&self) -> String {
        let mut cells = vec![
            self.user.to_owned(),
            self.arn.clone(),
            self.created.to_owned(),
        ];
        cells.extend(self.password.iter().map(|s| (*s).to_owned()));
        cells.push(self.mfa.to_owned());
        for k in &self.keys {
            cells.extend(k.iter().map(|s| (*s).to_owned()));
        }
        for c in &self.certs {
            cells.extend(c.iter().map(|s| (*s).to_owned()));
        }
        cells.join(",")
    }
}

const NO_KEY: [&str; 5] = ["false", "N/A", "N/A", "N/A", "N/A"];
const NO_CERT: [&str; 2] = ["false", "N/A"];

/// A realistic report for `account`: the root row with an active, never-used key and MFA;
/// a user with a console password last used before IAM kept records; a user whose two keys
/// were used (timestamps with `Z` and with `+00:00`); a user with nothing ever used.
fn report(account: &str, users: &[&str]) -> String {
    let arn = |u: &str| format!("arn:aws:iam::{account}:user/service/{u}");
    let rows = [
        Row {
            user: "<root_account>",
            arn: format!("arn:aws:iam::{account}:root"),
            created: "2017-04-03T09:00:00+00:00",
            password: [
                "not_supported",
                "2026-10-01T08:30:00+00:00",
                "not_supported",
                "not_supported",
            ],
            mfa: "true",
            keys: [
                ["true", "2018-01-01T00:00:00+00:00", "N/A", "N/A", "N/A"],
                NO_KEY,
            ],
            certs: [NO_CERT, NO_CERT],
        },
        Row {
            user: users[0],
            arn: arn(users[0]),
            created: "2018-05-06T07:08:09+00:00",
            password: [
                "true",
                "no_information",
                "2018-05-06T07:08:09+00:00",
                "2019-05-06T07:08:09+00:00",
            ],
            mfa: "false",
            keys: [NO_KEY, NO_KEY],
            certs: [["true", "2020-02-02T02:02:02+00:00"], NO_CERT],
        },
        Row {
            user: users[1],
            arn: arn(users[1]),
            created: "2019-01-01T00:00:00+00:00",
            password: ["false", "N/A", "N/A", "N/A"],
            mfa: "false",
            keys: [
                [
                    "true",
                    "2019-01-02T00:00:00+00:00",
                    "2026-11-20T10:00:00Z",
                    "eu-west-1",
                    "s3",
                ],
                [
                    "false",
                    "2020-01-02T00:00:00Z",
                    "2026-11-21T11:00:00+00:00",
                    "us-east-1",
                    "sts",
                ],
            ],
            certs: [NO_CERT, NO_CERT],
        },
        Row {
            user: users[2],
            arn: arn(users[2]),
            created: "2019-01-01T00:00:00+00:00",
            password: ["false", "N/A", "N/A", "N/A"],
            mfa: "false",
            keys: [
                ["true", "2019-03-04T00:00:00+00:00", "N/A", "N/A", "N/A"],
                NO_KEY,
            ],
            certs: [NO_CERT, NO_CERT],
        },
        Row {
            user: "report-only",
            arn: format!("arn:aws:iam::{account}:user/report-only"),
            created: "2021-01-01T00:00:00+00:00",
            password: ["false", "N/A", "N/A", "N/A"],
            mfa: "false",
            keys: [NO_KEY, NO_KEY],
            certs: [NO_CERT, NO_CERT],
        },
    ];
    let mut out = format!("{HEADER}\n");
    for r in &rows {
        out.push_str(&r.line());
        out.push('\n');
    }
    out
}

/// The generated users' names, in document order.
fn user_names(document: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(document).unwrap();
    v["UserDetailList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["UserName"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_generator_plants_admins_the_parser_finds() {
    let g = generate_account(400, 300, 7);
    assert_eq!(g.document, generate_account(400, 300, 7).document);
    let details = parse_authorization_details("gen.json".as_ref(), g.document.as_bytes()).unwrap();
    assert_eq!(details.counts().0, 300);
    assert_eq!(details.counts().2, 400);
    let r = resolve(&[details], &[], None).unwrap();
    assert_eq!(r.account, g.account);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.nhis.len(), 700);
    let admins: Vec<&str> = r
        .nhis
        .iter()
        .filter(|n| n.facts["admin"] == true)
        .map(|n| n.external_id.as_str())
        .collect();
    assert_eq!(admins, g.admin_arns);
    assert_eq!(admins.len(), 300 / 25 + 400 / 20);

    // The generated account has what real ones have.
    let count =
        |f: &dyn Fn(&keyward_model::DiscoveredNhi) -> bool| r.nhis.iter().filter(|n| f(n)).count();
    let trusts = |n: &keyward_model::DiscoveredNhi, t: &str| {
        n.facts
            .get("trust")
            .and_then(|v| v.as_array())
            .is_some_and(|a| a.iter().any(|o| o["principal_type"] == t))
    };
    let unpinned_oidc = count(&|n| {
        n.facts
            .get("trust")
            .and_then(|v| v.as_array())
            .is_some_and(|a| {
                a.iter()
                    .any(|o| o["principal_type"] == "oidc" && o["subject_condition"] == false)
            })
    });
    assert!(unpinned_oidc > 0);
    assert!(count(&|n| trusts(n, "oidc")) > unpinned_oidc);
    assert!(count(&|n| trusts(n, "saml")) > 0);
    assert!(count(&|n| trusts(n, "aws_service")) > 0);
    assert!(count(&|n| n.facts.contains_key("cross_account_trust")) > 0);
    assert!(count(&|n| n.facts.contains_key("service_linked")) > 0);
    assert!(count(&|n| n.facts.contains_key("instance_profiles")) > 0);
    assert!(count(&|n| n.facts.contains_key("permissions_boundary")) > 0);
    assert!(count(&|n| n.facts.contains_key("not_action_allows")) > 0);
    assert!(count(&|n| matches!(n.owner, Some(OwnerRef::Team(_)))) > 0);
    assert!(count(&|n| matches!(n.owner, Some(OwnerRef::Person(_)))) > 0);
    assert!(count(&|n| n.environment == Some(Environment::Production)) > 0);
    assert!(count(&|n| n.last_used_state == UsageState::Used) > 0);
    assert!(
        count(&|n| !strings(n, "wildcard_permissions").is_empty() && n.facts["admin"] == false) > 0
    );
    assert!(count(&|n| strings(n, "privileged_grants") == ["iam:PassRole"]) > 0);
    // Some inline policies are URL-encoded, as the raw API returns them.
    assert!(
        g.document
            .contains("\"PolicyDocument\": \"%7B%22Version%22")
    );
}

#[test]
fn the_benchmark_size_generates_and_resolves() {
    let g = generate_account(10_000, 5_000, 1);
    let details = parse_authorization_details("big.json".as_ref(), g.document.as_bytes()).unwrap();
    let r = resolve(&[details], &[], None).unwrap();
    assert_eq!(r.nhis.len(), 15_000);
    let admins = r.nhis.iter().filter(|n| n.facts["admin"] == true).count();
    assert_eq!(admins, g.admin_arns.len());
    assert_eq!(admins, 5_000 / 25 + 10_000 / 20);
}

#[test]
fn a_report_with_the_root_row_merges_with_the_export() {
    let g = generate_account(30, 12, 42);
    let names = user_names(&g.document);
    let acct = &g.account;
    let dir = tempfile::tempdir().unwrap();
    let details = dir.path().join("details.json");
    std::fs::write(&details, &g.document).unwrap();
    // The report, gzipped as it might be stored.
    let csv = report(acct, &[&names[1], &names[2], &names[3]]);
    let report_path = dir.path().join("report.csv.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(csv.as_bytes()).unwrap();
    std::fs::write(&report_path, gz.finish().unwrap()).unwrap();

    let c = AwsIamFiles {
        auth_details: vec![details],
        credential_reports: vec![dir.path().to_owned()],
        account: None,
    };
    let d = c.discover_now().unwrap();
    assert!(d.complete);
    assert_eq!(d.scope, format!("aws:{acct}"));
    assert_eq!(d.inputs.len(), 2);
    // 30 roles, 12 users, the root row and one user only the report knows.
    assert_eq!(d.nhis.len(), 44);
    let sorted: Vec<&str> = d.nhis.iter().map(|n| n.external_id.as_str()).collect();
    let mut again = sorted.clone();
    again.sort_unstable();
    assert_eq!(sorted, again);

    let root = nhi(&d.nhis, &format!("arn:aws:iam::{acct}:root"));
    assert_eq!(root.kind, NhiKind::Other);
    assert_eq!(root.name, "<root_account>");
    assert_eq!(root.facts["root"], true);
    assert_eq!(root.facts["admin"], true);
    assert_eq!(root.facts["mfa_active"], true);
    assert_eq!(root.facts["static_cloud_key"], true);
    assert!(!root.facts.contains_key("password_auth"));
    assert_eq!(
        root.created_at.unwrap().to_rfc3339(),
        "2017-04-03T09:00:00+00:00"
    );
    assert_eq!(root.credentials.len(), 1);
    assert_eq!(
        root.credentials[0].external_id.as_deref(),
        Some(format!("arn:aws:iam::{acct}:root#access_key_1").as_str())
    );
    assert_eq!(root.credentials[0].last_used_state, UsageState::Never);
    // The root's password was used; its key never.
    assert_eq!(root.last_used_state, UsageState::Used);
    assert_eq!(
        root.last_used_at.unwrap().to_rfc3339(),
        "2026-10-01T08:30:00+00:00"
    );

    let arn = |i: usize| format!("arn:aws:iam::{acct}:user/service/{}", names[i]);
    let console = nhi(&d.nhis, &arn(1));
    assert_eq!(console.facts["password_auth"], true);
    assert_eq!(console.facts["static_cloud_key"], false);
    // Facts from the export are still there.
    assert!(console.facts.contains_key("policies"));
    assert_eq!(console.last_used_state, UsageState::Unknown);
    let kinds: Vec<(CredentialKind, &str)> = console
        .credentials
        .iter()
        .map(|c| {
            (
                c.kind,
                c.external_id
                    .as_deref()
                    .unwrap()
                    .rsplit('#')
                    .next()
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (CredentialKind::Certificate, "cert_1"),
            (CredentialKind::Password, "password")
        ]
    );
    let password = &console.credentials[1];
    assert_eq!(
        password.last_rotated_at.unwrap().to_rfc3339(),
        "2018-05-06T07:08:09+00:00"
    );
    assert_eq!(
        password.expires_at.unwrap().to_rfc3339(),
        "2019-05-06T07:08:09+00:00"
    );
    assert_eq!(password.last_used_state, UsageState::Unknown);

    let keys = nhi(&d.nhis, &arn(2));
    assert_eq!(keys.last_used_state, UsageState::Used);
    assert_eq!(
        keys.last_used_at.unwrap().to_rfc3339(),
        "2026-11-21T11:00:00+00:00"
    );
    assert_eq!(keys.credentials.len(), 2);
    assert_eq!(keys.credentials[0].status, CredentialStatus::Active);
    assert_eq!(keys.credentials[1].status, CredentialStatus::Inactive);
    assert_eq!(
        strings(keys, "access_key_last_used_services"),
        ["s3", "sts"]
    );
    assert_eq!(keys.facts["static_cloud_key"], true);

    let idle = nhi(&d.nhis, &arn(3));
    assert_eq!(idle.last_used_state, UsageState::Never);
    assert_eq!(idle.credentials[0].last_used_state, UsageState::Never);

    let only = nhi(&d.nhis, &format!("arn:aws:iam::{acct}:user/report-only"));
    assert_eq!(only.kind, NhiKind::IamUser);
    assert_eq!(only.last_used_state, UsageState::Never);
    assert!(only.credentials.is_empty());

    // Nothing secret-shaped in the output: only ARNs and slot names identify credentials.
    let json = serde_json::to_string(&d).unwrap();
    assert!(!json.contains("AKIA"));
    assert_eq!(c.discover_now().unwrap(), d);
}

#[test]
fn several_exports_of_one_account_merge_per_arn() {
    let g = generate_account(20, 10, 3);
    let v: serde_json::Value = serde_json::from_str(&g.document).unwrap();
    // Split as the raw API pages it: users and groups first, roles and policies after.
    let first = serde_json::json!({"UserDetailList": v["UserDetailList"], "GroupDetailList": v["GroupDetailList"], "IsTruncated": false});
    let second = serde_json::json!({"RoleDetailList": v["RoleDetailList"], "Policies": v["Policies"], "UserDetailList": [v["UserDetailList"][0]]});
    let a = parse_authorization_details("a.json".as_ref(), first.to_string().as_bytes()).unwrap();
    let b = parse_authorization_details("b.json".as_ref(), second.to_string().as_bytes()).unwrap();
    let whole = parse_authorization_details("g.json".as_ref(), g.document.as_bytes()).unwrap();
    let split = resolve(&[a, b], &[], None).unwrap();
    let one = resolve(&[whole], &[], None).unwrap();
    assert_eq!(split.nhis.len(), 30);
    assert_eq!(split, one);
}

#[test]
fn a_truncated_page_is_not_complete() {
    let g = generate_account(5, 5, 9);
    let mut v: serde_json::Value = serde_json::from_str(&g.document).unwrap();
    v["IsTruncated"] = serde_json::json!(true);
    v["Marker"] = serde_json::json!("next-page");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("page1.json");
    std::fs::write(&p, v.to_string()).unwrap();
    let d = AwsIamFiles {
        auth_details: vec![p],
        ..AwsIamFiles::default()
    }
    .discover_now()
    .unwrap();
    assert!(!d.complete);
    assert!(
        d.warnings.iter().any(|w| w.contains("IsTruncated")),
        "{:?}",
        d.warnings
    );
}

#[test]
fn bad_input_names_file_and_position_and_returns_nothing() {
    let g = generate_account(5, 5, 11);
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, text: &str, report: bool| -> ConnectError {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let c = if report {
            AwsIamFiles {
                credential_reports: vec![p],
                ..AwsIamFiles::default()
            }
        } else {
            AwsIamFiles {
                auth_details: vec![p],
                ..AwsIamFiles::default()
            }
        };
        c.discover_now().unwrap_err()
    };

    // Truncated in the middle.
    let cut = &g.document[..g.document.len() / 2];
    let err = run("cut.json", cut, false);
    let lines = cut.lines().count();
    assert!(
        matches!(err, ConnectError::Syntax { line, .. } if line == lines),
        "{err}"
    );
    assert!(err.to_string().contains("cut.json:"), "{err}");

    // A date that is not one, deep in a role.
    let mut v: serde_json::Value = serde_json::from_str(&g.document).unwrap();
    v["RoleDetailList"][2]["CreateDate"] = serde_json::json!("someday");
    let err = run(
        "date.json",
        &serde_json::to_string_pretty(&v).unwrap(),
        false,
    );
    assert!(
        matches!(err, ConnectError::Field { line, .. } if line > 1),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("RoleDetailList[2].CreateDate: `someday` is not a timestamp"),
        "{err}"
    );

    // A wrong type.
    let bad = g.document.replacen(
        "\"IsDefaultVersion\": true",
        "\"IsDefaultVersion\": \"yes\"",
        1,
    );
    let err = run("type.json", &bad, false);
    assert!(
        err.to_string().contains("Policies[0].PolicyVersionList"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("IsDefaultVersion: invalid type: string \"yes\", expected a boolean"),
        "{err}"
    );

    // An effect IAM does not know.
    let bad = g
        .document
        .replacen("\"Effect\": \"Allow\"", "\"Effect\": \"Permit\"", 1);
    let err = run("effect.json", &bad, false);
    assert!(
        err.to_string().contains("unknown variant `Permit`"),
        "{err}"
    );

    // A report row cut short, and a bad flag.
    let csv = report(&g.account, &["a", "b", "c"]);
    let cut = &csv[..csv.len() - 40];
    let err = run("cut.csv", cut, true);
    assert!(
        matches!(
            err,
            ConnectError::Syntax {
                line: 6,
                column: 1,
                ..
            }
        ),
        "{err}"
    );
    let bad = csv.replacen(",true,true,", ",true,yes,", 1);
    let err = run("flag.csv", &bad, true);
    assert!(
        err.to_string().contains("flag.csv:2:")
            && err
                .to_string()
                .contains(": access_key_1_active: `yes` is not `true` or `false`"),
        "{err}"
    );
    let bad = csv.replacen("2019-03-04T00:00:00+00:00", "2019-03-04 at noon", 1);
    let err = run("when.csv", &bad, true);
    assert!(err.to_string().contains("when.csv:5:"), "{err}");
    assert!(
        err.to_string()
            .contains("access_key_1_last_rotated: `2019-03-04 at noon` is not a timestamp"),
        "{err}"
    );

    // No input at all, or a directory without any.
    let err = AwsIamFiles::default().discover_now().unwrap_err();
    assert!(matches!(err, ConnectError::Usage(_)), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let err = AwsIamFiles {
        auth_details: vec![empty.path().to_owned()],
        ..AwsIamFiles::default()
    }
    .discover_now()
    .unwrap_err();
    assert!(
        err.to_string().starts_with("no authorization-details file"),
        "{err}"
    );
}

#[test]
fn unknown_fields_are_tolerated() {
    let g = generate_account(3, 3, 5);
    let mut v: serde_json::Value = serde_json::from_str(&g.document).unwrap();
    v["SomethingNew"] = serde_json::json!({"x": [1, 2]});
    v["RoleDetailList"][0]["RoleLastUsed"]["NewField"] = serde_json::json!(true);
    v["UserDetailList"][0]["LoginProfile"] =
        serde_json::json!({"CreateDate": "2020-01-01T00:00:00Z"});
    let text = v.to_string();
    let with = resolve(
        &[parse_authorization_details("x.json".as_ref(), text.as_bytes()).unwrap()],
        &[],
        None,
    )
    .unwrap();
    let without = resolve(
        &[parse_authorization_details("x.json".as_ref(), g.document.as_bytes()).unwrap()],
        &[],
        None,
    )
    .unwrap();
    assert_eq!(with, without);
    let ids: BTreeSet<&str> = with.nhis.iter().map(|n| n.external_id.as_str()).collect();
    assert_eq!(ids.len(), 6);
}
