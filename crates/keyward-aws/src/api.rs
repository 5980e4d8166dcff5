//! The live connector: the same documents the offline one reads, asked of the IAM API
//! (`GetAccountAuthorizationDetails` over every page, the credential report), plus each user's
//! access keys with their ids and last use, signing certificates and SSH public keys.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::error::DisplayErrorContext;
use aws_sdk_iam::primitives::{DateTime as SdkTime, DateTimeFormat};
use aws_sdk_iam::types::{AttachedPolicy, PolicyDetail, ReportStateType, StatusType, Tag};
use chrono::{DateTime, Utc};
use keyward_connect::{ConnectError, Connector, Discovery, InputRecord};
use keyward_model::{CredentialKind, CredentialStatus, DiscoveredCredential, UsageState};
use serde_json::{Value, json};

use crate::authz::parse_authorization_details;
use crate::report::parse_credential_report;
use crate::resolve::{ListedCredentials, resolve_with};
use crate::{SOURCE, files::check_account};

/// How long to wait for IAM to finish a credential report.
const REPORT_WAIT: Duration = Duration::from_secs(120);
/// Users whose credentials are listed at once.
const CONCURRENCY: usize = 8;

/// Reads an account live through the IAM API, with the standard credential chain (or the
/// given SDK configuration).
#[derive(Debug, Clone, Default)]
pub struct AwsIamApi {
    /// The endpoint to talk to instead of AWS's (`http://127.0.0.1:5000` for moto); it serves
    /// both IAM and STS.
    pub endpoint: Option<String>,
    /// The region for signing (IAM is global); `us-east-1` when neither this nor the
    /// environment says.
    pub region: Option<String>,
    /// An SDK configuration to use instead of loading the standard one (credentials, profile,
    /// retries); `endpoint` and `region`, when set, still apply over it.
    pub sdk_config: Option<SdkConfig>,
}

impl AwsIamApi {
    /// The connector's stable name.
    pub const NAME: &'static str = "aws-iam-api";

    /// The endpoint as recorded in the run: the given one, or AWS's global IAM endpoint.
    fn locator(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| "https://iam.amazonaws.com".to_owned())
    }

    async fn config(&self) -> SdkConfig {
        let base = match &self.sdk_config {
            Some(c) => c.clone(),
            None => aws_config::defaults(BehaviorVersion::latest()).load().await,
        };
        let region = match &self.region {
            Some(r) => Some(Region::new(r.clone())),
            None if base.region().is_none() => Some(Region::new("us-east-1")),
            None => None,
        };
        let mut b = base.into_builder();
        if region.is_some() {
            b.set_region(region);
        }
        if let Some(e) = &self.endpoint {
            b.set_endpoint_url(Some(e.clone()));
        }
        b.build()
    }

    async fn run(&self) -> Result<Discovery, ConnectError> {
        let locator = self.locator();
        let fail = |op: &str, e: &dyn std::fmt::Display| {
            ConnectError::endpoint(&locator, format!("{op}: {e}"))
        };
        let config = self.config().await;

        let sts = aws_sdk_sts::Client::new(&config);
        let me = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| fail("GetCallerIdentity", &DisplayErrorContext(e)))?;
        let account = me
            .account()
            .ok_or_else(|| fail("GetCallerIdentity", &"no account in the answer"))?
            .to_owned();
        check_account(&account)?;
        let identity = format!(
            "account {account} as {}",
            me.arn().unwrap_or("an unnamed caller")
        );

        let iam = aws_sdk_iam::Client::new(&config);
        let document = authorization_details(&iam)
            .await
            .map_err(|e| fail("GetAccountAuthorizationDetails", &e))?;
        let bytes = serde_json::to_vec(&document)
            .map_err(|e| fail("GetAccountAuthorizationDetails", &e))?;
        let details = parse_authorization_details(
            Path::new(&format!("{locator} GetAccountAuthorizationDetails")),
            &bytes,
        )?;
        let csv = credential_report(&iam)
            .await
            .map_err(|e| fail("credential report", &e))?;
        let report =
            parse_credential_report(Path::new(&format!("{locator} GetCredentialReport")), &csv)?;
        let users: Vec<(String, String)> = details
            .users
            .iter()
            .map(|u| (u.name.clone(), u.arn.clone()))
            .collect();
        let listed = list_credentials(&iam, users)
            .await
            .map_err(|e| fail("listing user credentials", &e))?;

        let resolved = resolve_with(&[details], &[report], &listed, Some(&account))?;
        Ok(Discovery {
            source: SOURCE.to_owned(),
            scope: format!("aws:{account}"),
            complete: true,
            connector: Self::NAME,
            connector_version: env!("CARGO_PKG_VERSION"),
            inputs: vec![InputRecord::endpoint(locator.clone(), Some(identity))],
            parameters: json!({
                "endpoint": self.endpoint,
                "region": config.region().map(ToString::to_string),
            }),
            nhis: resolved.nhis,
            warnings: resolved.warnings,
        })
    }
}

impl Connector for AwsIamApi {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn discover(&self) -> Result<Discovery, ConnectError> {
        self.run().await
    }
}

/// An error of one call, with the SDK's full context.
fn sdk_error<E: std::error::Error + 'static>(op: &str, e: E) -> String {
    format!("{op}: {}", DisplayErrorContext(e))
}

/// Every page of `GetAccountAuthorizationDetails`, as one document in the CLI's shape (the
/// policy documents stay URL-encoded, as the API returns them; the parser decodes them).
async fn authorization_details(iam: &aws_sdk_iam::Client) -> Result<Value, String> {
    let (mut users, mut groups, mut roles, mut policies) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut pages = iam
        .get_account_authorization_details()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("page", e))?;
        for u in page.user_detail_list() {
            users.push(json!({
                "Path": u.path(),
                "UserName": u.user_name(),
                "UserId": u.user_id(),
                "Arn": u.arn(),
                "CreateDate": time_text(u.create_date()),
                "UserPolicyList": inline(u.user_policy_list()),
                "GroupList": u.group_list(),
                "AttachedManagedPolicies": attached(u.attached_managed_policies()),
                "PermissionsBoundary": u.permissions_boundary().map(|b| json!({"PermissionsBoundaryArn": b.permissions_boundary_arn()})),
                "Tags": tags(u.tags()),
            }));
        }
        for g in page.group_detail_list() {
            groups.push(json!({
                "Path": g.path(),
                "GroupName": g.group_name(),
                "Arn": g.arn(),
                "CreateDate": time_text(g.create_date()),
                "GroupPolicyList": inline(g.group_policy_list()),
                "AttachedManagedPolicies": attached(g.attached_managed_policies()),
            }));
        }
        for r in page.role_detail_list() {
            let last = r.role_last_used();
            roles.push(json!({
                "Path": r.path().unwrap_or("/"),
                "RoleName": r.role_name(),
                "Arn": r.arn(),
                "CreateDate": time_text(r.create_date()),
                "AssumeRolePolicyDocument": r.assume_role_policy_document(),
                "InstanceProfileList": r.instance_profile_list().iter().map(|p| json!({"Arn": p.arn()})).collect::<Vec<_>>(),
                "RolePolicyList": inline(r.role_policy_list()),
                "AttachedManagedPolicies": attached(r.attached_managed_policies()),
                "PermissionsBoundary": r.permissions_boundary().map(|b| json!({"PermissionsBoundaryArn": b.permissions_boundary_arn()})),
                "Tags": tags(r.tags()),
                "RoleLastUsed": {
                    "LastUsedDate": time_text(last.and_then(|l| l.last_used_date())),
                    "Region": last.and_then(|l| l.region()),
                },
            }));
        }
        for p in page.policies() {
            policies.push(json!({
                "PolicyName": p.policy_name(),
                "Arn": p.arn(),
                "PolicyVersionList": p.policy_version_list().iter().map(|v| json!({
                    "Document": v.document(),
                    "VersionId": v.version_id(),
                    "IsDefaultVersion": v.is_default_version(),
                })).collect::<Vec<_>>(),
            }));
        }
    }
    Ok(json!({
        "UserDetailList": users,
        "GroupDetailList": groups,
        "RoleDetailList": roles,
        "Policies": policies,
    }))
}

fn inline(list: &[PolicyDetail]) -> Vec<Value> {
    list.iter()
        .map(|p| json!({"PolicyName": p.policy_name(), "PolicyDocument": p.policy_document()}))
        .collect()
}

fn attached(list: &[AttachedPolicy]) -> Vec<Value> {
    list.iter()
        .map(|p| json!({"PolicyName": p.policy_name(), "PolicyArn": p.policy_arn()}))
        .collect()
}

fn tags(list: &[Tag]) -> Vec<Value> {
    list.iter()
        .map(|t| json!({"Key": t.key(), "Value": t.value()}))
        .collect()
}

fn time_text(t: Option<&SdkTime>) -> Value {
    t.and_then(|t| t.fmt(DateTimeFormat::DateTime).ok())
        .map_or(Value::Null, Value::String)
}

fn chrono_time(t: &SdkTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// Asks IAM for a fresh credential report, waits until it is ready, and returns its CSV.
async fn credential_report(iam: &aws_sdk_iam::Client) -> Result<Vec<u8>, String> {
    let started = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(200);
    loop {
        let out = iam
            .generate_credential_report()
            .send()
            .await
            .map_err(|e| sdk_error("GenerateCredentialReport", e))?;
        if out.state() == Some(&ReportStateType::Complete) {
            break;
        }
        if started.elapsed() > REPORT_WAIT {
            return Err(format!(
                "the report was not ready after {} s",
                REPORT_WAIT.as_secs()
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
    let out = iam
        .get_credential_report()
        .send()
        .await
        .map_err(|e| sdk_error("GetCredentialReport", e))?;
    out.content()
        .map(|b| b.as_ref().to_vec())
        .ok_or_else(|| "GetCredentialReport returned no content".to_owned())
}

fn status(s: Option<&StatusType>) -> CredentialStatus {
    match s {
        Some(StatusType::Inactive) => CredentialStatus::Inactive,
        // Expired SSH keys and unknown future states cannot authenticate either.
        Some(StatusType::Active) | None => CredentialStatus::Active,
        Some(_) => CredentialStatus::Inactive,
    }
}

/// Each user's access keys (with last use), signing certificates and SSH public keys.
async fn list_credentials(
    iam: &aws_sdk_iam::Client,
    users: Vec<(String, String)>,
) -> Result<ListedCredentials, String> {
    let mut out = BTreeMap::new();
    for chunk in users.chunks(CONCURRENCY) {
        let mut tasks = tokio::task::JoinSet::new();
        for (name, arn) in chunk {
            let (iam, name, arn) = (iam.clone(), name.clone(), arn.clone());
            tasks.spawn(async move { user_credentials(&iam, &name).await.map(|c| (arn, c)) });
        }
        while let Some(done) = tasks.join_next().await {
            let (arn, creds) = done.map_err(|e| e.to_string())??;
            out.insert(arn, creds);
        }
    }
    Ok(out)
}

async fn user_credentials(
    iam: &aws_sdk_iam::Client,
    user: &str,
) -> Result<Vec<DiscoveredCredential>, String> {
    let mut out = Vec::new();
    let mut keys = iam
        .list_access_keys()
        .user_name(user)
        .into_paginator()
        .items()
        .send();
    while let Some(k) = keys.next().await {
        let k = k.map_err(|e| sdk_error("ListAccessKeys", e))?;
        let Some(id) = k.access_key_id() else {
            continue;
        };
        let mut c = DiscoveredCredential::with_external_id(CredentialKind::AccessKey, id);
        c.status = status(k.status());
        c.created_at = k.create_date().and_then(chrono_time);
        c.last_rotated_at = c.created_at;
        let used = iam
            .get_access_key_last_used()
            .access_key_id(id)
            .send()
            .await
            .map_err(|e| sdk_error("GetAccessKeyLastUsed", e))?;
        match used
            .access_key_last_used()
            .and_then(|u| u.last_used_date())
            .and_then(chrono_time)
        {
            Some(t) => {
                c.last_used_at = Some(t);
                c.last_used_state = UsageState::Used;
            }
            None => c.last_used_state = UsageState::Never,
        }
        out.push(c);
    }
    let certs = iam
        .list_signing_certificates()
        .user_name(user)
        .send()
        .await
        .map_err(|e| sdk_error("ListSigningCertificates", e))?;
    for cert in certs.certificates() {
        let mut c = DiscoveredCredential::with_external_id(
            CredentialKind::Certificate,
            cert.certificate_id(),
        );
        c.status = status(Some(cert.status()));
        c.created_at = cert.upload_date().and_then(chrono_time);
        c.last_rotated_at = c.created_at;
        out.push(c);
    }
    let mut ssh = iam
        .list_ssh_public_keys()
        .user_name(user)
        .into_paginator()
        .items()
        .send();
    while let Some(k) = ssh.next().await {
        let k = k.map_err(|e| sdk_error("ListSSHPublicKeys", e))?;
        let mut c =
            DiscoveredCredential::with_external_id(CredentialKind::SshKey, k.ssh_public_key_id());
        c.status = status(Some(k.status()));
        c.created_at = chrono_time(k.upload_date());
        c.last_rotated_at = c.created_at;
        out.push(c);
    }
    Ok(out)
}
