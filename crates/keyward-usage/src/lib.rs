//! Usage-log discovery: when identities were last used, from where, with what, and signs that
//! a person rather than a workload uses them, from AWS CloudTrail and Kubernetes audit logs.
//!
//! Usage logs are a window, not a population: every discovery is `complete = false`, so it
//! updates the identities it mentions and never marks others unseen. It reports every
//! identity it sees, declared or not; the register merges by provider and external id.
//!
//! Both connectors read files and directories (recursively: `*.json`, `*.jsonl`, `*.ndjson`,
//! `*.log`, each also gzipped), several files at once (two workers by default), and take any
//! stream of JSON values: one document, JSON lines, or documents one after another. A line
//! of a rule-test fixture (`{"_test_name": …, "log": <event>, …}`, the panther-analysis
//! format) stands for its `log`. Only the fields read are parsed, borrowing strings from the
//! input; the rest is skipped without allocating. Malformed JSON, or a read field of the wrong
//! type, fails the run naming `file:line:column` and the field path; nothing partial is
//! returned. Unknown fields are ignored. Output is deterministic: NHIs sorted by external id,
//! lists sorted, whatever the order files were read in.
//!
//! # CloudTrail ([`CloudTrailFiles`], connector `cloudtrail-files`, source `cloudtrail`)
//!
//! S3 delivery files (`{"Records":[…]}`) and JSON lines of events. Identities, provider
//! `aws`, from `userIdentity`:
//!
//! - `IAMUser` with an IAM user ARN: kind `iam_user`, external id the ARN, name its last
//!   path segment.
//! - `AssumedRole`: kind `iam_role`, external id the role's IAM ARN: that of
//!   `sessionContext.sessionIssuer.arn` when it is a role ARN (it carries the role's path),
//!   else built from the STS ARN `arn:aws:sts::<acct>:assumed-role/<role>/<session>` as
//!   `arn:aws:iam::<acct>:role/<role>` (the path is unknown from STS ARNs, so a role with a
//!   path is then reported without it). Name the role name.
//! - `Root`: kind `other`, external id `arn:<partition>:iam::<acct>:root` (the account from
//!   `accountId`, else the ARN), name `root`.
//! - ARNs found are kept as written; an id built from parts needs an account of digits.
//! - Anything else (`AWSService`, `AWSAccount`, `FederatedUser`, `IdentityCenterUser`,
//!   `WebIdentityUser`, `SAMLUser`, `Unknown`), or a record without the type or ARN that
//!   identifies it, is skipped; one warning counts the skipped records by reason.
//!
//! Every field is optional. An `eventTime` that is missing or not a timestamp (some exports
//! redact it) leaves the record out of last use only, counted in a warning. Last use (NHI and
//! key) is the latest `eventTime`, state `used`. A long-term access key (`accessKeyId`
//! `AKIA…`) of an IAM user or root is a credential of kind `access_key` with its own last
//! use (roles have none; such a key on a role's record is ignored); temporary keys
//! (`ASIA…`) are not credentials, only the fact `temporary_credentials_used`. No record holds
//! a secret value; none is kept.
//!
//! The scope is `aws:<account>` for the one account the records were delivered for
//! (`recipientAccountId`, else the identity's `accountId`), `aws:multiple` when they span
//! accounts (an organization trail), `aws:unknown` when none names one, or `aws:<account>`
//! as given by [`CloudTrailFiles::account`].
//!
//! Facts on each AWS NHI:
//!
//! | fact | JSON | meaning |
//! |---|---|---|
//! | `events` | number | records attributed to it in the window |
//! | `first_used_at` | string | RFC 3339, the earliest `eventTime` (the window's start for it) |
//! | `source_addresses` | \[string\] | distinct `sourceIPAddress` values (IPs, or a service name when a service called for it), sorted, the first 50 |
//! | `source_addresses_total` | number | how many distinct addresses |
//! | `user_agents` | \[string\] | distinct `userAgent`s, sorted, the first 20 |
//! | `user_agents_total` | number | how many distinct user agents |
//! | `services` | \[string\] | distinct `eventSource`s (`s3.amazonaws.com`), sorted, the first 50 |
//! | `services_total` | number | how many distinct services |
//! | `session_names` | \[string\] | roles: distinct role session names, sorted, the first 20 (instance ids, CI run ids, or people's names for SSO roles) |
//! | `session_names_total` | number | how many distinct session names |
//! | `error_codes` | object | `errorCode` → number of records, the first 50 codes by name |
//! | `temporary_credentials_used` | bool | `true` when records used a temporary (`ASIA…`) key; absent otherwise |
//! | `static_cloud_key` | bool | `true` when a long-term (`AKIA…`) key was used; absent otherwise |
//! | `password_auth` | bool | IAM users and root: `true` after a successful `ConsoleLogin` (it has a console password); absent otherwise |
//! | `human_use` | \[object\] | signs of a person, below; absent when none |
//!
//! `human_use` objects (`signal`, `detail`, `at`: RFC 3339 of the latest occurrence, `null`
//! when no record of it had a usable time), sorted by signal:
//! - `console_sign_in`: `ConsoleLogin` events (for any identity kind: an IAM user's password,
//!   root, or a role signed in to through SSO or SAML); the detail counts them, successes,
//!   failures and those with MFA (`additionalEventData.MFAUsed`), and says when long-term
//!   access keys were also used in the window (one identity used by a person and by code).
//! - `interactive_user_agent`: agents of the console (`signin.amazonaws.com`,
//!   `console.amazonaws.com`, `console.<service>.amazonaws.com`, `S3Console/…`), browsers
//!   (`Mozilla/…`), and the AWS CLI on a desktop system (`aws-cli/…` with `Darwin`,
//!   `Windows` or `macOS`); the detail lists up to five of them.
//! - `many_source_addresses`: more distinct IP addresses than
//!   [`CloudTrailFiles::many_source_addresses`] (default 10); service names do not count.
//!
//! # Kubernetes audit ([`K8sAuditFiles`], connector `k8s-audit-files`, source `kubernetes-audit`)
//!
//! `audit.k8s.io/v1` `Event`s (a record without `kind` is taken as one), one per line, and
//! `EventList`s with `items`; other kinds are counted in a warning. Events by a user
//! `system:serviceaccount:<ns>:<name>` are one NHI per account: kind `k8s_service_account`,
//! provider `kubernetes`, external id `<cluster>/<ns>/<name>`, name `<ns>/<name>` (as the
//! manifest connector reports them), scope `k8s:<cluster>` ([`K8sAuditFiles::cluster`],
//! default `default`). Events by other users are counted in one warning, records without
//! `user.username` in another. When `impersonatedUser` is a service account, the request is
//! also that account's use (and its permission); the impersonating service account gets the
//! permission `impersonate:serviceaccounts` (or `impersonate:users`) instead. Last use is the
//! latest `requestReceivedTimestamp` or `stageTimestamp`; these must be timestamps when
//! present, else the run fails at their position.
//!
//! `observed_permissions` are the `verb:resource` pairs the account was allowed, sorted:
//! `objectRef.resource` with `/subresource` (`get:secrets`, `create:pods/exec`), or the path
//! of a non-resource request (`get:/healthz`). Allowed means the authorizer's decision
//! annotation `allow` or a response code other than 401 and 403; a record of the
//! `RequestReceived` stage (before authorization) counts when no record denied the same pair.
//!
//! Facts on each service account:
//!
//! | fact | JSON | meaning |
//! |---|---|---|
//! | `events` | number | audit records attributed to it (a request may log several stages) |
//! | `first_used_at` | string | RFC 3339, the earliest timestamp |
//! | `source_addresses` | \[string\] | distinct `sourceIPs`, sorted, the first 50 |
//! | `source_addresses_total` | number | how many distinct addresses |
//! | `user_agents` | \[string\] | distinct `userAgent`s, sorted, the first 20 |
//! | `user_agents_total` | number | how many distinct user agents |
//! | `verbs` | \[string\] | distinct `verb resource` pairs requested, allowed or not (`get secrets`, `create pods/exec`), sorted, the first 100 |
//! | `verbs_total` | number | how many distinct pairs |
//! | `denied_permissions` | \[string\] | `verb:resource` pairs denied at least once (401, 403 or decision `forbid`), sorted, the first 100 |
//! | `impersonated_by` | \[string\] | users who impersonated it, sorted, the first 20 |
//! | `impersonated_by_total` | number | how many distinct impersonators |
//! | `human_use` | \[object\] | `kubectl_use` (a `kubectl/…` user agent: a person holding the account's token) and `interactive_user_agent` (a browser's); detail and `at` as for CloudTrail |
//!
//! # For fuzzing and benchmarks
//!
//! [`parse_cloudtrail`] and [`parse_k8s_audit`] parse one file's bytes;
//! [`generate_cloudtrail`] writes a realistic delivery file of any size.

mod agg;
mod cloudtrail;
mod generate;
mod json;
mod k8s;

pub use cloudtrail::{CLOUDTRAIL_SOURCE, CloudTrailFiles, parse_cloudtrail};
pub use generate::generate_cloudtrail;
pub use k8s::{K8S_AUDIT_SOURCE, K8sAuditFiles, parse_k8s_audit};
