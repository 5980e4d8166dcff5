//! AWS IAM discovery: the account's users and roles as NHIs, with what they may do, who may
//! assume them, their keys and when they were last used.
//!
//! Two connectors feed one resolution. [`AwsIamFiles`] (`aws-iam-files`) reads the output of
//! `aws iam get-account-authorization-details` and IAM credential reports; [`AwsIamApi`]
//! (`aws-iam-api`, feature `api`, on by default) asks the IAM API for the same documents and
//! also lists each user's access keys (with their real ids), signing certificates and SSH
//! public keys. Both report source `aws-iam`, scope `aws:<account id>`, provider `aws`.
//!
//! What becomes an NHI, keyed by ARN: every IAM user ([`NhiKind::IamUser`]), every role
//! ([`NhiKind::IamRole`]), and the credential report's `<root_account>` row (kind `other`,
//! external id `arn:aws:iam::<account>:root`). Groups are not identities: their attached and
//! inline policies count towards their members. A user in several inputs is one NHI.
//!
//! Credentials: access keys ([`CredentialKind::AccessKey`]), signing certificates
//! (`Certificate`), SSH public keys (`SshKey`, live only), and a console password
//! (`Password`) when the report says it is enabled. The credential report names no key ids,
//! only slots 1 and 2, so from files a key's external id is `<user arn>#access_key_1` (or
//! `_2`), a certificate's `<user arn>#cert_1`, a password's `<user arn>#password`; the live
//! connector uses the key's, certificate's and SSH key's ids.
//!
//! Last use of a user or the root: the latest of its password's and access keys' last uses;
//! `never` when the report says `N/A` for all; `unknown` when it says `no_information` or no
//! report was given. A role's is `RoleLastUsed.LastUsedDate`; with none it is `never`, since
//! IAM tracks role use for 400 days and no date means no use in that window.
//!
//! Effective permissions (an approximation, by design): the union of the `Action` strings of
//! every Allow statement of every policy that applies (attached managed policies' default
//! version, inline policies, and the same for each group of a user), whatever their
//! resources; minus each action an unconditional Deny on every resource covers (`iam:*`
//! denied removes `iam:*` and `iam:PassRole`, but a denied `iam:Pass*` does not remove
//! `iam:*`); denies bounded by a resource or a condition, and Deny with `NotAction`, subtract
//! nothing. An Allow with `NotAction` counts as `*`, its exclusions kept in
//! `not_action_allows`. Permissions boundaries are recorded, not applied. A managed policy
//! whose document is not in the inputs adds nothing and is warned about once, except the
//! AWS-managed `AdministratorAccess`, known to grant `*` on `*`.
//!
//! Scope: from the account ids in the inputs' ARNs. When they name several accounts (the
//! cloudsplaining example does), the scope is the account most identities belong to (ties go
//! to the lowest id), every identity is still reported, and a warning names the others;
//! [`AwsIamFiles::account`] sets it explicitly. A run is `complete` when it read at least one
//! authorization-details input and none was a truncated page; a run on credential reports
//! alone is not, because it lists no roles and would mark them all as no longer seen.
//!
//! Facts, besides the shared ones in [`keyward_connect::facts`] (`admin`,
//! `wildcard_permissions`, `privileged_grants`, `trust`, `password_auth`,
//! `static_cloud_key`):
//!
//! | fact | JSON | on | meaning |
//! |---|---|---|---|
//! | `policies` | `[string]` | users, roles | names of the attached managed and inline policies that apply, a user's groups' included |
//! | `groups` | `[string]` | users | the groups it belongs to |
//! | `permissions_boundary` | string | users, roles | the ARN of its permissions boundary |
//! | `not_action_allows` | `[string]` | users, roles | actions excluded by Allow statements written with `NotAction` (each such statement counts as `*`) |
//! | `mfa_active` | bool | users, root | the credential report's `mfa_active` |
//! | `access_key_last_used_services` | `[string]` | users, root | services its access keys were last used with (credential report) |
//! | `root` | bool | root | the account's root user (always `true`; `admin` is `true` too) |
//! | `cross_account_trust` | `[string]` | roles | account ids other than its own that its trust policy names |
//! | `service_linked` | bool | roles | a service-linked role (path `/aws-service-role/`), present only when `true` |
//! | `aws_sso` | bool | roles | an IAM Identity Center permission-set role (path `/aws-reserved/sso.amazonaws.com/`), which people assume; present only when `true` |
//! | `instance_profiles` | `[string]` | roles | ARNs of the instance profiles it is in |
//! | `last_used_region` | string | roles | the region of its last use |
//!
//! `admin`, `wildcard_permissions`, `privileged_grants` and `policies` are present exactly
//! when the identity's policies were in the inputs (not on users known only from a report);
//! `privileged_grants` are the entries of [`PRIVILEGED_ACTIONS`] reached. Each `trust`
//! object has `principal` and `principal_type` (`aws_account`, `aws_principal`,
//! `aws_service`, `oidc`, `saml`, `federated`, `aws_canonical_user`, `any`), `conditions`
//! when the statement has any, and for `oidc` and `saml` `subject_condition`: whether a
//! `StringEquals`/`StringLike` condition on a key ending `:sub` restricts the subject to
//! something narrower than `*`.
//!
//! Secrets never appear: the inputs hold none (no key secrets, no passwords), and key ids are
//! identifiers, not secrets.

mod authz;
mod document;
mod files;
mod generate;
mod grants;
mod report;
mod resolve;

#[cfg(feature = "api")]
mod api;

#[cfg(feature = "api")]
pub use api::AwsIamApi;
pub use authz::{AuthorizationDetails, parse_authorization_details};
pub use files::AwsIamFiles;
pub use generate::{GeneratedAccount, generate_account, generate_authorization_details};
pub use grants::PRIVILEGED_ACTIONS;
pub use report::{CredentialReport, parse_credential_report};
pub use resolve::{Resolved, resolve};

#[cfg(doc)]
use keyward_model::{CredentialKind, NhiKind};

/// The provider name of every NHI this crate reports.
pub const PROVIDER: &str = "aws";
/// The discovery source both connectors report.
pub const SOURCE: &str = "aws-iam";

/// The account id of an ARN (`arn:aws:iam::123456789012:user/x` → `123456789012`; `aws` for
/// AWS-managed policies), when it has one.
pub(crate) fn account_of(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    if parts.next() != Some("arn") {
        return None;
    }
    let account = parts.nth(3)?;
    parts.next()?;
    let digits = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    (digits || account == "aws").then_some(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_come_from_arns() {
        assert_eq!(
            account_of("arn:aws:iam::123456789012:user/a"),
            Some("123456789012")
        );
        assert_eq!(
            account_of("arn:aws:sts::200611803367:assumed-role/x/y"),
            Some("200611803367")
        );
        assert_eq!(
            account_of("arn:aws:iam::aws:policy/AdministratorAccess"),
            Some("aws")
        );
        assert_eq!(account_of("arn:aws:s3:::bucket"), None);
        assert_eq!(account_of("123456789012"), None);
        assert_eq!(account_of("arn:aws:iam::1234"), None);
    }
}
