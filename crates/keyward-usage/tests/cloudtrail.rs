//! CloudTrail: the corpus samples and generated trails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use keyward_connect::{ConnectError, Connector};
use keyward_model::{CredentialKind, NhiKind, UsageState};
use keyward_usage::{CloudTrailFiles, generate_cloudtrail, parse_cloudtrail};
use serde_json::{Value, json};

use crate::common::{Rng, by_id, corpus, gzip};

fn run(paths: Vec<PathBuf>, threads: usize) -> Result<keyward_connect::Discovery, ConnectError> {
    let mut c = CloudTrailFiles::new(paths);
    c.threads = threads;
    c.discover_now()
}

fn time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    s.parse().ok()
}

#[test]
fn panther_fixture_lines_report_users_roles_and_root() {
    let Some(path) = corpus("events/panther-tests-aws-cloudtrail.jsonl") else {
        return;
    };
    let d = run(vec![path.clone()], 2).unwrap();
    assert_eq!(d.source, "cloudtrail");
    assert_eq!(d.connector, "cloudtrail-files");
    assert!(!d.complete);
    assert_eq!(d.scope, "aws:multiple");
    assert_eq!(d.nhis.len(), 100);
    let kinds = |k: NhiKind| d.nhis.iter().filter(|n| n.kind == k).count();
    assert_eq!(
        (
            kinds(NhiKind::IamUser),
            kinds(NhiKind::IamRole),
            kinds(NhiKind::Other)
        ),
        (32, 67, 1)
    );
    let ids: Vec<_> = d.nhis.iter().map(|n| n.external_id.as_str()).collect();
    assert!(ids.is_sorted());
    assert_eq!(
        d.warnings,
        [
            "skipped 66 of 463 records that name no IAM user, role or root: AWSAccount 5, \
             AWSService 2, AssumedRole without a role ARN 9, FederatedUser 2, IAMUser without an \
             IAM user ARN 23, Root without an account id 2, Unknown 2, no userIdentity 19, \
             userIdentity without type 2",
            "1 records have no usable eventTime: they count towards addresses, agents and \
             services but not last use",
        ]
    );
    assert_eq!(d.inputs.len(), 1);
    assert_eq!(
        d.inputs[0].bytes,
        Some(std::fs::metadata(&path).unwrap().len())
    );

    // A person's IAM user: console sign-ins with and without MFA, a console password.
    let tester = by_id(&d.nhis, "arn:aws:iam::123456789012:user/tester");
    assert_eq!(tester.kind, NhiKind::IamUser);
    assert_eq!(tester.name, "tester");
    assert_eq!(tester.last_used_at, time("2019-01-01T00:00:00Z"));
    assert_eq!(tester.last_used_state, UsageState::Used);
    assert_eq!(tester.facts["events"], json!(14));
    assert_eq!(tester.facts["password_auth"], json!(true));
    assert_eq!(tester.facts["error_codes"], json!({"AccessDenied": 5}));
    assert_eq!(
        tester.facts["human_use"][0],
        json!({"signal": "console_sign_in", "at": "2019-01-01T00:00:00Z",
               "detail": "console sign-ins: 6 (5 succeeded, 1 failed), MFA used on 3"})
    );
    assert_eq!(
        tester.facts["source_addresses"],
        json!([
            "111.111.111.111",
            "3.10.107.144",
            "40.185.186.6",
            "sqs.amazonaws.com"
        ])
    );

    // A user with a long-term key used from the AWS CLI on a Mac.
    let exposed = by_id(&d.nhis, "arn:aws:iam::187901811700:user/exposed.user");
    assert_eq!(exposed.credentials.len(), 1);
    let key = &exposed.credentials[0];
    assert_eq!(key.kind, CredentialKind::AccessKey);
    let key_id = key.external_id.as_deref().unwrap();
    assert!(key_id.starts_with("AKIA") && key_id.len() == 20, "{key_id}");
    assert_eq!(key.last_used_at, time("2024-06-02T20:16:32Z"));
    assert_eq!(exposed.facts["static_cloud_key"], json!(true));
    assert_eq!(
        exposed.facts["services"],
        json!(["lambda.amazonaws.com", "sts.amazonaws.com"])
    );
    assert_eq!(
        exposed.facts["human_use"][0]["signal"],
        "interactive_user_agent"
    );
    assert!(
        exposed.facts["human_use"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("os/macos")
    );

    // Several users with keys and many addresses, none a sign of a person at ten.
    let developer = by_id(&d.nhis, "arn:aws:iam::123456789012:user/developer");
    assert_eq!(developer.facts["source_addresses_total"], json!(5));
    assert_eq!(
        developer.facts["error_codes"],
        json!({"AccessDenied": 10, "InvalidDBInstanceState": 1, "InvalidDBSnapshotState": 1})
    );
    assert!(!developer.facts.contains_key("human_use"));

    // The issuer's ARN keeps an SSO role's path; its sessions are people.
    let sso = by_id(
        &d.nhis,
        "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-west-2/SampleRole",
    );
    assert_eq!(sso.kind, NhiKind::IamRole);
    assert_eq!(sso.name, "SampleRole");
    assert_eq!(sso.facts["events"], json!(26));
    assert_eq!(
        sso.facts["session_names"],
        json!(["bobson.dugnutt", "leroy.jenkins"])
    );
    assert_eq!(sso.facts["services_total"], json!(7));
    assert_eq!(sso.last_used_at, time("2025-02-19T16:32:39Z"));

    // Without an issuer the role comes from the STS ARN, apart from the same-named role of
    // another account.
    let derived = by_id(&d.nhis, "arn:aws:iam::111122223333:role/MakeStuffPublic");
    assert_eq!(derived.facts["events"], json!(4));
    assert_eq!(derived.facts["temporary_credentials_used"], json!(true));
    assert!(derived.credentials.is_empty());
    let other = by_id(&d.nhis, "arn:aws:iam::123123123123:role/MakeStuffPublic");
    assert_eq!(other.facts["events"], json!(7));

    // Root signs in to the console.
    let root = by_id(&d.nhis, "arn:aws:iam::123456789012:root");
    assert_eq!((root.kind, root.name.as_str()), (NhiKind::Other, "root"));
    assert_eq!(root.facts["events"], json!(12));
    assert_eq!(
        root.facts["human_use"][0]["detail"],
        "console sign-ins: 5 (4 succeeded, 1 failed), MFA used on 0"
    );

    // An SSO sign-in is a console sign-in on the role, but no password of the role's.
    let sso_login = by_id(
        &d.nhis,
        "arn:aws:iam::187901811700:role/aws-reserved/sso.amazonaws.com/us-west-2/AWSReservedSSO_DevAdmin_635426549a280cc6",
    );
    assert_eq!(sso_login.facts["human_use"][0]["signal"], "console_sign_in");
    assert!(!sso_login.facts.contains_key("password_auth"));
    assert_eq!(
        sso_login.facts["session_names"],
        json!(["nicholas.hakmiller"])
    );
}

#[test]
fn aws_library_samples_hold_only_placeholder_identities() {
    let dir = "aws/cloudtrail/aws-cloudtrail-processing-library/";
    for (file, records) in [
        ("SerializerTestFile.json", 6),
        ("SerializerTestFileCompact.json.gz", 6),
        ("SerializerTestFileNewFieldsInUserIdentity.json", 2),
        // Its fourth record's eventTime is `ThisIsAWrongEventTime`: the record names no
        // identity, so its time is not read.
        ("SerializerTestFileMissField.json", 4),
    ] {
        let Some(path) = corpus(&format!("{dir}{file}")) else {
            return;
        };
        let d = run(vec![path.clone()], 1).unwrap();
        assert!(d.nhis.is_empty(), "{file}");
        assert_eq!(d.scope, "aws:multiple", "{file}");
        assert_eq!(d.warnings.len(), 1, "{file}: {:?}", d.warnings);
        assert!(
            d.warnings[0].starts_with(&format!("skipped {records} of {records} records")),
            "{file}: {}",
            d.warnings[0]
        );
        let w = &d.warnings[0];
        assert!(w.contains("userIdentityType1 1"), "{w}");
        assert_eq!(
            d.inputs[0].bytes,
            Some(std::fs::metadata(&path).unwrap().len())
        );
    }
    let Some(missing) = corpus(&format!("{dir}SerializerTestFileMissField.json")) else {
        return;
    };
    let d = run(vec![missing], 1).unwrap();
    assert!(
        d.warnings[0].contains("userIdentity without type 1"),
        "{}",
        d.warnings[0]
    );
}

#[test]
fn invalid_json_names_its_file_line_and_column() {
    let Some(dir) = corpus("aws/cloudtrail") else {
        return;
    };
    // The directory holds the good samples and the bad one; the bad one fails the run, the
    // same way however many workers read it.
    for threads in [1, 2, 3] {
        let err = run(vec![dir.clone()], threads).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.ends_with("SerializerTestFileBadJsonFormat.json:37:9: key must be a string"),
            "{msg}"
        );
        assert!(matches!(
            err,
            ConnectError::Syntax {
                line: 37,
                column: 9,
                ..
            }
        ));
    }
}

/// What an independent reading of generated records says about each identity.
#[derive(Debug, Default)]
struct Expected {
    events: u64,
    last: Option<String>,
    ips: BTreeSet<String>,
    agents: BTreeSet<String>,
    services: BTreeSet<String>,
    keys: BTreeMap<String, String>,
    temporary: bool,
    sign_ins: u64,
}

fn expected(records: &[Value]) -> (BTreeMap<String, Expected>, u64) {
    let mut out: BTreeMap<String, Expected> = BTreeMap::new();
    let mut skipped = 0;
    for r in records {
        let ui = &r["userIdentity"];
        let id = match ui["type"].as_str() {
            Some("IAMUser") => ui["arn"].as_str().unwrap().to_owned(),
            Some("AssumedRole") => match ui["sessionContext"]["sessionIssuer"]["arn"].as_str() {
                Some(a) => a.to_owned(),
                None => {
                    let sts = ui["arn"].as_str().unwrap();
                    let role = sts.split('/').nth(1).unwrap();
                    format!(
                        "arn:aws:iam::{}:role/{role}",
                        ui["accountId"].as_str().unwrap()
                    )
                }
            },
            Some("Root") => format!("arn:aws:iam::{}:root", ui["accountId"].as_str().unwrap()),
            _ => {
                skipped += 1;
                continue;
            }
        };
        let e = out.entry(id).or_default();
        let at = r["eventTime"].as_str().unwrap().to_owned();
        e.events += 1;
        e.last = e.last.clone().max(Some(at.clone()));
        e.ips
            .insert(r["sourceIPAddress"].as_str().unwrap().to_owned());
        e.agents.insert(r["userAgent"].as_str().unwrap().to_owned());
        e.services
            .insert(r["eventSource"].as_str().unwrap().to_owned());
        match ui["accessKeyId"].as_str() {
            Some(k) if k.starts_with("AKIA") => {
                let last = e.keys.entry(k.to_owned()).or_default();
                *last = last.clone().max(at);
            }
            Some(k) if k.starts_with("ASIA") => e.temporary = true,
            _ => {}
        }
        if r["eventName"] == "ConsoleLogin" {
            e.sign_ins += 1;
        }
    }
    (out, skipped)
}

#[test]
fn generated_trails_aggregate_as_an_independent_count_says() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("AWSLogs/111/CloudTrail/eu-west-1")).unwrap();
    std::fs::create_dir_all(dir.path().join("AWSLogs/111/CloudTrail-Digest")).unwrap();
    let plain = generate_cloudtrail(2000, 11);
    let zipped = generate_cloudtrail(1500, 12);
    let lines_src = generate_cloudtrail(800, 13);
    let mut records: Vec<Value> = Vec::new();
    for doc in [&plain, &zipped, &lines_src] {
        let v: Value = serde_json::from_slice(doc).unwrap();
        records.extend(v["Records"].as_array().unwrap().iter().cloned());
    }
    // One event per line, every third one in the rule-test wrapper.
    let mut lines = String::new();
    for (i, r) in records[3500..].iter().enumerate() {
        let line = if i % 3 == 0 {
            json!({"_source_rule_file": "rules/x.yml", "_test_name": format!("case {i}"),
                   "_expected_result": false, "log": r})
        } else {
            r.clone()
        };
        lines.push_str(&line.to_string());
        lines.push('\n');
    }
    let base = dir.path().join("AWSLogs/111/CloudTrail/eu-west-1");
    std::fs::write(base.join("a_CloudTrail_eu-west-1_1.json"), &plain).unwrap();
    std::fs::write(base.join("b_CloudTrail_eu-west-1_2.json.gz"), gzip(&zipped)).unwrap();
    std::fs::write(base.join("c.jsonl"), &lines).unwrap();
    std::fs::write(base.join("README.txt"), "not a log").unwrap();
    // Digest files are not events; a broken one shows the directory is not read.
    std::fs::write(
        dir.path().join("AWSLogs/111/CloudTrail-Digest/d.json.gz"),
        "{",
    )
    .unwrap();

    let d = run(vec![dir.path().to_owned()], 2).unwrap();
    assert_eq!(d.inputs.len(), 3);
    assert_eq!(d.scope, "aws:multiple");
    let (want, skipped) = expected(&records);
    assert!(skipped > 0);
    assert!(
        d.warnings[0].starts_with(&format!("skipped {skipped} of 4300 records")),
        "{}",
        d.warnings[0]
    );
    let got: Vec<_> = d.nhis.iter().map(|n| n.external_id.clone()).collect();
    assert_eq!(got, want.keys().cloned().collect::<Vec<_>>());
    // Three accounts, each with every user, role and its root.
    assert_eq!(d.nhis.len(), 3 * 65);
    for n in &d.nhis {
        let e = &want[&n.external_id];
        let id = &n.external_id;
        assert_eq!(n.facts["events"], json!(e.events), "{id}");
        assert_eq!(n.last_used_at, e.last.as_deref().and_then(time), "{id}");
        assert_eq!(
            n.facts["source_addresses_total"],
            json!(e.ips.len()),
            "{id}"
        );
        let listed: Vec<_> = e.ips.iter().take(50).cloned().collect();
        assert_eq!(n.facts["source_addresses"], json!(listed), "{id}");
        assert_eq!(n.facts["user_agents_total"], json!(e.agents.len()), "{id}");
        assert_eq!(n.facts["services_total"], json!(e.services.len()), "{id}");
        let keys: Vec<_> = n
            .credentials
            .iter()
            .map(|c| (c.external_id.clone().unwrap(), c.last_used_at))
            .collect();
        let want_keys: Vec<_> = e.keys.iter().map(|(k, t)| (k.clone(), time(t))).collect();
        assert_eq!(keys, want_keys, "{id}");
        assert_eq!(
            n.facts.contains_key("temporary_credentials_used"),
            e.temporary,
            "{id}"
        );
        let signals: Vec<&str> = n
            .facts
            .get("human_use")
            .map(|h| {
                h.as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["signal"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(signals.contains(&"console_sign_in"), e.sign_ins > 0, "{id}");
        let many = e.ips.len() > 10;
        assert_eq!(signals.contains(&"many_source_addresses"), many, "{id}");
        // People's users and SSO roles, and only they, show interactive agents.
        let person = (n.kind == NhiKind::IamUser && n.name.contains('.'))
            || id.contains(":role/aws-reserved/sso.amazonaws.com/")
            || n.kind == NhiKind::Other;
        assert_eq!(signals.contains(&"interactive_user_agent"), person, "{id}");
    }

    // The same inputs give the same discovery whatever the number of workers.
    for threads in [1, 3] {
        assert_eq!(run(vec![dir.path().to_owned()], threads).unwrap(), d);
    }
    let mut one = CloudTrailFiles::new(vec![dir.path().to_owned()]);
    one.account = Some("111".into());
    assert_eq!(one.discover_now().unwrap().scope, "aws:111");
}

#[test]
fn one_generated_account_is_the_scope() {
    let bytes = generate_cloudtrail(500, 5);
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    let account = v["Records"][0]["recipientAccountId"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trail.json");
    std::fs::write(&path, &bytes).unwrap();
    let d = run(vec![path], 2).unwrap();
    assert_eq!(d.scope, format!("aws:{account}"));
    assert_eq!(
        parse_cloudtrail(&dir.path().join("trail.json"), &bytes).unwrap(),
        d.nhis
    );
}

#[test]
fn secret_values_in_responses_are_not_kept() {
    let mut rng = Rng(0x5eed);
    let alphabet: Vec<char> = ('A'..='Z').chain('a'..='z').chain('0'..='9').collect();
    let mut secret = |n: usize| {
        (0..n)
            .map(|_| alphabet[rng.below(alphabet.len())])
            .collect::<String>()
    };
    let token = secret(300);
    let secret_key = secret(40);
    let key_id = format!("AKIA{}", secret(16).to_uppercase());
    let record = json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/ci",
                         "accountId": "111122223333", "accessKeyId": key_id, "userName": "ci"},
        "eventTime": "2024-02-01T08:00:00Z", "eventSource": "iam.amazonaws.com",
        "eventName": "CreateAccessKey", "sourceIPAddress": "198.51.100.1",
        "userAgent": "Boto3/1.34.0", "requestParameters": {"userName": "ci"},
        "responseElements": {"accessKey": {"accessKeyId": key_id, "secretAccessKey": secret_key,
                             "status": "Active"}, "credentials": {"sessionToken": token}},
        "recipientAccountId": "111122223333"
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, format!("{record}\n")).unwrap();
    let d = run(vec![path], 1).unwrap();
    assert_eq!(
        d.nhis[0].credentials[0].external_id.as_deref(),
        Some(key_id.as_str())
    );
    let all = serde_json::to_string(&d).unwrap();
    assert!(!all.contains(&token) && !all.contains(&secret_key));
}

#[test]
fn a_field_of_the_wrong_type_names_file_line_column_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let ok =
        r#"{"eventTime":"2024-02-01T08:00:00Z","userIdentity":{"type":"Root","accountId":"1"}}"#;
    std::fs::write(
        &path,
        format!("{ok}\n{ok}\n{{\"_test_name\":\"t\",\"log\":{{\"userIdentity\":{{\"type\":\"Root\",\"accountId\":[1]}}}}}}\n"),
    )
    .unwrap();
    let err = run(vec![path.clone()], 1).unwrap_err();
    assert!(matches!(err, ConnectError::Field { line: 3, .. }), "{err}");
    assert!(
        err.to_string().ends_with(
            "events.jsonl:3:67: log.userIdentity.accountId: invalid type: sequence, expected a string"
        ),
        "{err}"
    );
    std::fs::write(&path, format!("{ok}\n{}", &ok[..40])).unwrap();
    let err = run(vec![path], 1).unwrap_err();
    assert!(matches!(err, ConnectError::Syntax { line: 2, .. }), "{err}");
    assert!(err.to_string().contains("EOF while parsing"), "{err}");
}

#[tokio::test]
async fn the_connector_interface() {
    let c = CloudTrailFiles::new(Vec::new());
    assert_eq!(c.name(), "cloudtrail-files");
    assert_eq!(c.many_source_addresses, 10);
    let err = c.discover().await.unwrap_err();
    assert!(matches!(err, ConnectError::Usage(_)), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    std::fs::write(&path, generate_cloudtrail(100, 1)).unwrap();
    let mut c = CloudTrailFiles::new(vec![path.clone()]);
    c.many_source_addresses = 0;
    let d = c.discover().await.unwrap();
    assert_eq!(d.connector_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        d.parameters,
        json!({"paths": [path.display().to_string()], "many_source_addresses": 0, "account": null})
    );
    // With no address allowed, every identity with an IP address shows the signal.
    assert!(d.nhis.iter().all(|n| {
        n.facts["human_use"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["signal"] == "many_source_addresses")
    }));
    let missing = dir.path().join("nope");
    let err = CloudTrailFiles::new(vec![missing])
        .discover()
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::Io { .. }), "{err}");
}
