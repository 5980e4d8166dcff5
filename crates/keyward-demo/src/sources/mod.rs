//! The sample estate's raw sources, for the real discovery connectors to read: what Northwind's
//! production AWS account, cluster, payments repository and bastion host would export.
//!
//! Each file is in its system's own format, drawn at run time from the estate's seed and dated
//! relative to its `today`, with the risks a real estate has planted where a connector reports
//! them and a posture check judges them:
//!
//! - AWS (`aws/`): `get-account-authorization-details` and a credential report. A deploy user
//!   holding `AdministratorAccess`, a reporting user with a console password, a forgotten
//!   backup user with `s3:*`, a CI role trusting GitHub's OIDC provider with no `sub`
//!   condition, and ordinary roles beside them.
//! - CloudTrail (`cloudtrail/`): a few days of delivery files in which a person signs in to the
//!   console as the reporting user, the deploy user's key is used from a laptop and from many
//!   runner addresses, and the roles do their jobs.
//! - Kubernetes (`kubernetes/manifests/`, `kubernetes/audit/`): one service account running three
//!   deployments, a CI account bound to `cluster-admin` with a long-lived token, and an audit
//!   log in which that account's token is used by `kubectl` on a workstation.
//! - GitHub Actions (`payments-api/.github/workflows/`): a static AWS key stored as secrets and
//!   used by the staging and the production jobs, in a repository whose build job already
//!   federates through OIDC; a Slack webhook handed to an unpinned third-party action; a
//!   `pull_request_target` workflow that checks out the pull request with a token in reach.
//! - SSH (`ssh/`): a bastion's `authorized_keys` with an RSA 1024 and a DSA key beside an
//!   Ed25519 one, and a deploy key.

mod aws;
mod ci;
mod kube;
mod ssh;

use chrono::{DateTime, Utc};
use keyward_model::{Environment, PersonStatus};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::Estate;
use crate::nhis::random_string;
use crate::pools::ORG;

/// The cluster the Kubernetes sources describe.
pub(crate) const CLUSTER: &str = "northwind-prod";

/// The repository whose CI files and configuration the sources hold (under `payments-api/`).
pub(crate) const SERVICE_REPOSITORY: &str = "payments-api";

/// The bastion host whose keys `ssh/` holds.
pub(crate) const BASTION: &str = "bastion.northwind.internal";

/// The files of the sample sources, relative to their directory, and what the connectors
/// reading them must be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sources {
    /// Relative path and content.
    pub files: Vec<(String, String)>,
    /// The AWS account the AWS sources describe.
    pub account: String,
}

/// What every source generator shares: the random stream, the reference "now", the account and
/// the people who own things.
pub(crate) struct Ctx {
    pub rng: StdRng,
    pub now: DateTime<Utc>,
    pub account: String,
    people: Vec<(String, Option<String>, PersonStatus)>,
}

impl Ctx {
    /// An active member of `team` (the `n`-th, wrapping), else the team itself as an owner.
    pub fn member(&self, team: &str, n: usize) -> String {
        let members: Vec<&str> = self
            .people
            .iter()
            .filter(|(_, t, s)| t.as_deref() == Some(team) && *s == PersonStatus::Active)
            .map(|(e, _, _)| e.as_str())
            .collect();
        match members.get(n % members.len().max(1)) {
            Some(e) => (*e).to_owned(),
            None => format!("team:{team}"),
        }
    }

    /// Someone who has left, else a team.
    pub fn leaver(&self) -> String {
        self.people
            .iter()
            .find(|(_, _, s)| *s == PersonStatus::Departed)
            .map_or_else(|| "team:platform".to_owned(), |(e, _, _)| e.clone())
    }

    /// `days` days and `secs` seconds before now.
    pub fn ago(&self, days: i64, secs: i64) -> DateTime<Utc> {
        self.now - chrono::Duration::days(days) - chrono::Duration::seconds(secs)
    }

    /// Random characters of `alphabet`.
    pub fn chars(&mut self, alphabet: &[u8], len: usize) -> String {
        random_string(&mut self.rng, alphabet, len)
    }
}

/// The GitHub repository the CI sources belong to (`northwind/payments-api`).
pub(crate) fn repository() -> String {
    format!("{ORG}/{SERVICE_REPOSITORY}")
}

/// An instant as the sources write it: RFC 3339, whole seconds, `Z`.
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The production AWS account the estate's own identities name, so the sources describe the
/// same account; one drawn from the seed when the estate has none.
fn production_account(estate: &Estate, rng: &mut StdRng) -> String {
    let declared = estate
        .declared
        .iter()
        .filter(|d| d.provider == "aws" && d.environment == Environment::Production)
        .filter_map(|d| d.external_id.as_deref());
    let discovered = estate
        .discovered
        .iter()
        .filter(|d| d.provider == "aws" && d.environment == Some(Environment::Production))
        .map(|d| d.external_id.as_str());
    declared
        .chain(discovered)
        .find_map(|id| {
            let acct = id.strip_prefix("arn:aws:iam::")?.split(':').next()?;
            (acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit())).then(|| acct.to_owned())
        })
        .unwrap_or_else(|| random_string(rng, b"0123456789", 12))
}

/// The sample sources for `estate`; the same estate, seed and `now` give the same files.
pub(crate) fn sources(estate: &Estate, seed: u64, now: DateTime<Utc>) -> Sources {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x736f_7572_6365);
    let account = production_account(estate, &mut rng);
    // Whole seconds: sources write seconds, and the register keeps what it is given.
    let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    let mut ctx = Ctx {
        rng,
        now,
        account: account.clone(),
        people: estate
            .people
            .iter()
            .map(|p| (p.email.clone(), p.team.clone(), p.status))
            .collect(),
    };
    let mut files = Vec::new();
    files.extend(aws::files(&mut ctx));
    files.extend(kube::files(&mut ctx));
    files.extend(ci::files(&ctx));
    files.extend(ssh::files(&mut ctx));
    Sources { files, account }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::DateTime;
    use keyward_model::{FingerprintKey, Fingerprinter};

    use super::*;
    use crate::{EstateSpec, generate};

    fn today() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-06-01T09:30:00Z")
            .unwrap()
            .to_utc()
    }

    fn sample() -> (Estate, Sources) {
        let spec = EstateSpec::new(today());
        let estate = generate(
            &spec,
            &Fingerprinter::new(FingerprintKey::from_bytes([7; 32])),
        );
        let s = sources(&estate, spec.seed, today());
        (estate, s)
    }

    fn file<'a>(s: &'a Sources, path: &str) -> &'a str {
        s.files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, t)| t.as_str())
            .unwrap_or_else(|| panic!("no {path}"))
    }

    #[test]
    fn the_same_estate_gives_the_same_sources_in_the_estates_account() {
        let (estate, a) = sample();
        let (_, b) = sample();
        assert_eq!(a, b);
        assert!(
            estate
                .declared
                .iter()
                .filter_map(|d| d.external_id.as_deref())
                .any(|id| id.starts_with(&format!("arn:aws:iam::{}:", a.account))),
            "{}",
            a.account
        );
        let mut paths: Vec<&str> = a.files.iter().map(|(p, _)| p.as_str()).collect();
        let n = paths.len();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), n, "a path written twice");
    }

    #[test]
    fn every_source_parses_with_its_connectors_parser() {
        let (_, s) = sample();
        let details = file(&s, "aws/authorization-details.json");
        let parsed =
            keyward_aws::parse_authorization_details(Path::new("a.json"), details.as_bytes())
                .unwrap();
        assert_eq!(parsed.counts().0, 3, "three users");
        let report = file(&s, "aws/credential-report.csv");
        let parsed =
            keyward_aws::parse_credential_report(Path::new("r.csv"), report.as_bytes()).unwrap();
        assert_eq!(parsed.len(), 4, "the root and three users");
        let mut trail = 0;
        for (path, text) in &s.files {
            if path.starts_with("cloudtrail/") {
                trail += keyward_usage::parse_cloudtrail(Path::new(path), text.as_bytes())
                    .unwrap()
                    .len();
            }
        }
        assert!(trail >= 4, "{trail}");
        let (nhis, _) = keyward_cicd::discover_bytes(
            &repository(),
            &s.files
                .iter()
                .filter(|(p, _)| p.contains("/.github/workflows/"))
                .map(|(p, t)| (p.into(), t.clone().into_bytes()))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        assert!(
            nhis.iter().any(|n| n.name == "AWS_SECRET_ACCESS_KEY"),
            "{nhis:?}"
        );
        let keys = keyward_pki::parse_ssh(
            Path::new("authorized_keys"),
            file(&s, "ssh/bastion/authorized_keys").as_bytes(),
        )
        .unwrap();
        let bits: Vec<_> = keys
            .keys
            .iter()
            .map(|k| (k.facts["key_type"].clone(), k.facts["key_bits"].clone()))
            .collect();
        assert_eq!(
            bits,
            [
                (serde_json::json!("ed25519"), serde_json::json!(256)),
                (serde_json::json!("rsa"), serde_json::json!(1024)),
                (serde_json::json!("dsa"), serde_json::json!(1024)),
            ]
        );
    }
}
