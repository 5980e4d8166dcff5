//! The live connector against the moto emulator (a real IAM API implementation, run here as
//! a server): identities are created through the SDK, then discovered and checked.
//!
//! moto comes from `KEYWARD_TEST_MOTO_URL` (a running server, reset first) or is started from
//! `moto_server` on PATH; with neither the test is skipped, except under `CI=true`, where it
//! fails.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::config::Credentials;
use aws_sdk_iam::types::{StatusType, Tag};
use keyward_aws::AwsIamApi;
use keyward_connect::{ConnectError, Connector};
use keyward_model::{CredentialKind, CredentialStatus, Environment, NhiKind, OwnerRef, UsageState};

use crate::{nhi, strings};

/// A moto server for one test, stopped when dropped if this test started it.
struct Moto {
    url: String,
    child: Option<Child>,
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

/// Sends one HTTP request without a client library; returns the status line.
fn http(addr: &str, request: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(request.as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out.lines().next().unwrap_or("").to_owned())
}

fn moto() -> Option<Moto> {
    let moto = if let Ok(url) = std::env::var("KEYWARD_TEST_MOTO_URL") {
        Moto { url, child: None }
    } else if on_path("moto_server") {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Moto {
            url: format!("http://127.0.0.1:{port}"),
            child: Some(child),
        }
    } else {
        let why = "moto_server is not on PATH and KEYWARD_TEST_MOTO_URL is not set";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{why}: CI must run the live test"
        );
        eprintln!("skipped: {why}");
        return None;
    };
    let addr = moto
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    // Ready when it answers; then start from an empty account whoever ran it before.
    loop {
        let reset = format!(
            "POST /moto-api/reset HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        match http(&addr, &reset) {
            Ok(status) if status.contains(" 200") => break,
            Ok(status) => panic!("moto at {} answered the reset with `{status}`", moto.url),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => panic!("moto at {} did not come up: {e}", moto.url),
        }
    }
    Some(moto)
}

async fn config(url: &str, key: &str, secret: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(Credentials::new(key, secret, None, None, "keyward-test"))
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .load()
        .await
}

/// A public key in OpenSSH's format, made here (its body is arbitrary bytes; moto does not
/// parse it, and a public key is no secret).
fn ssh_public_key() -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut blob = vec![0, 0, 0, 11];
    blob.extend_from_slice(b"ssh-ed25519");
    blob.extend_from_slice(&[0, 0, 0, 32]);
    blob.extend((0u8..32).map(|i| i.wrapping_mul(37)));
    let mut text = String::new();
    for chunk in blob.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, &b| (n << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            text.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
        }
        text.push_str(&"=".repeat(3 - chunk.len()));
    }
    format!("ssh-ed25519 {text} ops@example")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovers_what_was_created_through_the_api() {
    let Some(moto) = moto() else {
        return;
    };
    let admin = config(&moto.url, "testing", "testing").await;
    let iam = aws_sdk_iam::Client::new(&admin);

    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    iam.create_user()
        .user_name("deployer")
        .path("/service/")
        .tags(tag("owner", "team:platform"))
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap();
    let policy = iam
        .create_policy()
        .policy_name("artifacts-rw")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::artifacts/*"},{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let policy_arn = policy.policy().unwrap().arn().unwrap().to_owned();
    iam.attach_user_policy()
        .user_name("deployer")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("deployer")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let deployer_key = key.access_key_id().to_owned();
    // Use the key once, so the emulator may record its last use.
    let as_deployer = config(&moto.url, &deployer_key, key.secret_access_key()).await;
    aws_sdk_sts::Client::new(&as_deployer)
        .get_caller_identity()
        .send()
        .await
        .unwrap();

    iam.create_user().user_name("batch").send().await.unwrap();
    iam.put_user_policy()
        .user_name("batch")
        .policy_name("inline-admin")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let mut batch_keys = Vec::new();
    for _ in 0..2 {
        let k = iam
            .create_access_key()
            .user_name("batch")
            .send()
            .await
            .unwrap();
        batch_keys.push(k.access_key().unwrap().access_key_id().to_owned());
    }
    iam.update_access_key()
        .user_name("batch")
        .access_key_id(&batch_keys[1])
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();

    // moto loads no AWS-managed policies unless told to, so the admins' is the account's own.
    let full = iam
        .create_policy()
        .policy_name("full-admin")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*:*","Resource":["*"]}]}"#)
        .send()
        .await
        .unwrap();
    iam.create_group()
        .group_name("admins")
        .send()
        .await
        .unwrap();
    iam.attach_group_policy()
        .group_name("admins")
        .policy_arn(full.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    iam.create_user().user_name("ops").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("admins")
        .user_name("ops")
        .send()
        .await
        .unwrap();
    let ssh = iam
        .upload_ssh_public_key()
        .user_name("ops")
        .ssh_public_key_body(ssh_public_key())
        .send()
        .await
        .unwrap();
    let ssh_id = ssh.ssh_public_key().unwrap().ssh_public_key_id().to_owned();

    iam.create_role()
        .role_name("gha-deploy")
        .path("/ci/")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}]}"#)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("gha-deploy")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("app-runtime")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .tags(tag("Environment", "staging"))
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("app-runtime")
        .policy_name("queue")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:*"],"Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    iam.create_instance_profile()
        .instance_profile_name("app-runtime")
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile()
        .instance_profile_name("app-runtime")
        .role_name("app-runtime")
        .send()
        .await
        .unwrap();

    let connector = AwsIamApi {
        endpoint: Some(moto.url.clone()),
        region: None,
        sdk_config: Some(admin.clone()),
    };
    assert_eq!(connector.name(), "aws-iam-api");
    let d = connector.discover().await.unwrap();
    assert_eq!(d.source, "aws-iam");
    assert_eq!(d.scope, "aws:123456789012");
    assert!(d.complete);
    assert_eq!(d.connector, "aws-iam-api");
    assert_eq!(d.inputs.len(), 1);
    assert_eq!(d.inputs[0].kind, "endpoint");
    assert_eq!(d.inputs[0].locator, moto.url);
    assert!(
        d.inputs[0]
            .identity
            .as_deref()
            .unwrap()
            .starts_with("account 123456789012 as arn:aws:")
    );
    assert_eq!(d.parameters["region"], "us-east-1");
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    let acct = "arn:aws:iam::123456789012";

    let deployer = nhi(&d.nhis, &format!("{acct}:user/service/deployer"));
    assert_eq!(deployer.kind, NhiKind::IamUser);
    assert_eq!(deployer.owner, Some(OwnerRef::Team("platform".into())));
    assert_eq!(deployer.environment, Some(Environment::Production));
    assert_eq!(
        deployer.observed_permissions,
        ["iam:PassRole", "s3:GetObject", "s3:PutObject"]
    );
    assert_eq!(strings(deployer, "privileged_grants"), ["iam:PassRole"]);
    assert_eq!(strings(deployer, "policies"), ["artifacts-rw"]);
    assert_eq!(deployer.facts["admin"], false);
    assert_eq!(deployer.facts["static_cloud_key"], true);
    assert_eq!(deployer.facts["password_auth"], false);
    // The real key id, not a report slot.
    assert_eq!(deployer.credentials.len(), 1);
    let c = &deployer.credentials[0];
    assert_eq!(c.kind, CredentialKind::AccessKey);
    assert_eq!(c.external_id.as_deref(), Some(deployer_key.as_str()));
    assert_eq!(c.status, CredentialStatus::Active);
    assert!(c.created_at.is_some());
    // moto records the key's use by the call above; the user's last use follows it.
    assert_eq!(c.last_used_state, UsageState::Used);
    assert_eq!(deployer.last_used_state, UsageState::Used);
    assert_eq!(deployer.last_used_at, c.last_used_at);

    let batch = nhi(&d.nhis, &format!("{acct}:user/batch"));
    assert_eq!(batch.facts["admin"], true);
    let mut want = batch_keys.clone();
    want.sort();
    let got: Vec<&str> = batch
        .credentials
        .iter()
        .map(|c| c.external_id.as_deref().unwrap())
        .collect();
    assert_eq!(got, want);
    let inactive = batch
        .credentials
        .iter()
        .find(|c| c.external_id.as_deref() == Some(batch_keys[1].as_str()))
        .unwrap();
    assert_eq!(inactive.status, CredentialStatus::Inactive);
    assert_eq!(batch.last_used_state, UsageState::Never);

    let ops = nhi(&d.nhis, &format!("{acct}:user/ops"));
    assert_eq!(ops.facts["admin"], true);
    assert_eq!(strings(ops, "groups"), ["admins"]);
    assert_eq!(strings(ops, "policies"), ["full-admin"]);
    assert_eq!(ops.facts["static_cloud_key"], false);
    assert_eq!(ops.credentials.len(), 1);
    assert_eq!(ops.credentials[0].kind, CredentialKind::SshKey);
    assert_eq!(
        ops.credentials[0].external_id.as_deref(),
        Some(ssh_id.as_str())
    );

    let gha = nhi(&d.nhis, &format!("{acct}:role/ci/gha-deploy"));
    assert_eq!(gha.kind, NhiKind::IamRole);
    let t = &gha.facts["trust"][0];
    assert_eq!(t["principal_type"], "oidc");
    assert_eq!(t["subject_condition"], false);
    assert_eq!(
        t["conditions"]["StringEquals"]["token.actions.githubusercontent.com:aud"],
        "sts.amazonaws.com"
    );
    assert_eq!(strings(gha, "privileged_grants"), ["iam:PassRole"]);

    let app = nhi(&d.nhis, &format!("{acct}:role/app-runtime"));
    assert_eq!(app.environment, Some(Environment::Staging));
    assert_eq!(app.observed_permissions, ["sqs:*"]);
    assert_eq!(strings(app, "wildcard_permissions"), ["sqs:*"]);
    assert_eq!(
        strings(app, "instance_profiles"),
        [format!("{acct}:instance-profile/app-runtime")]
    );
    assert_eq!(app.facts["trust"][0]["principal"], "ec2.amazonaws.com");

    // Nothing but what was created (moto's account has no other users or roles).
    let users = d.nhis.iter().filter(|n| n.kind == NhiKind::IamUser).count();
    assert_eq!(users, 3);
    // Secret access keys never reach the discovery.
    let json = serde_json::to_string(&d).unwrap();
    assert!(!json.contains(key.secret_access_key()));
}

#[tokio::test]
async fn an_unreachable_endpoint_names_itself() {
    // A port nothing listens on: bound, then released.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut cfg = config(&url, "testing", "testing").await.into_builder();
    cfg.set_retry_config(Some(aws_config::retry::RetryConfig::disabled()));
    let connector = AwsIamApi {
        endpoint: Some(url.clone()),
        region: Some("eu-west-1".into()),
        sdk_config: Some(cfg.build()),
    };
    let err = connector.discover().await.unwrap_err();
    assert!(matches!(err, ConnectError::Endpoint { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("{url}: GetCallerIdentity: ")),
        "{err}"
    );
}
