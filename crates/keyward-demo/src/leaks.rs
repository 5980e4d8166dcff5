//! Sample repositories with credentials leaked into them, for `keyward discover secrets`.
//!
//! The first holds what teams really leak: an inventoried, active AWS access key with its
//! secret in the production and the staging environment files (one credential seen in two
//! places and two environments), a Stripe live key in source, a Slack webhook in a CI script
//! and a database URL with its password in config. The second, the payments API, has the same
//! Stripe key copied into its production and its staging configuration: one secret in two
//! repositories and two environments. Every value is generated from the estate's seed.

use rand::SeedableRng;
use rand::rngs::StdRng;

use keyward_model::{NhiKind, NhiStatus};

use crate::Estate;
use crate::nhis::{ALNUM, BASE64, UPPER_ALNUM, random_string};

/// The files of the sample repositories: relative path and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakedRepositories {
    /// The repository the demo writes as `sample-repo`.
    pub sample: Vec<(String, String)>,
    /// The payments API's configuration, which the demo writes into that repository beside
    /// its CI files.
    pub payments_api: Vec<(String, String)>,
}

/// An AWS access key the inventory knows and the register holds as active, so a leak of it is
/// tied to a live NHI and its owner: discovered active and not declared otherwise.
fn live_access_key(estate: &Estate) -> Option<String> {
    estate
        .discovered
        .iter()
        .filter(|d| d.kind == NhiKind::AccessKey && d.provider == "aws")
        .filter(|d| d.status == Some(NhiStatus::Active))
        .find(|d| {
            estate
                .declared
                .iter()
                .filter(|x| x.provider == d.provider)
                .find(|x| x.external_id.as_deref() == Some(d.external_id.as_str()))
                .is_none_or(|x| x.status == NhiStatus::Active)
        })
        .map(|d| d.external_id.clone())
}

/// The sample repositories' files for `estate`.
pub fn leaked_repositories(estate: &Estate, seed: u64) -> LeakedRepositories {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6c65_616b);
    let mut files = Vec::new();
    if let Some(key_id) = live_access_key(estate) {
        let secret = random_string(&mut rng, BASE64, 40);
        for env in ["production", "staging"] {
            files.push((
                format!("deploy/{env}.env"),
                format!(
                    "# {env} settings for the export job\nAWS_REGION=eu-west-1\nAWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\n"
                ),
            ));
        }
    }
    let stripe = format!("sk_live_{}", random_string(&mut rng, ALNUM, 24));
    files.push((
        "src/billing/client.py".into(),
        format!(
            "import stripe\n\n# TODO: move to the vault before launch\nstripe.api_key = \"{stripe}\"\n"
        ),
    ));
    files.push((
        "ci/notify.sh".into(),
        format!(
            "#!/bin/sh\ncurl -s -X POST -d \"{{\\\"text\\\": \\\"deployed $1\\\"}}\" https://hooks.slack.com/services/T{}/B{}/{}\n",
            random_string(&mut rng, UPPER_ALNUM, 10),
            random_string(&mut rng, UPPER_ALNUM, 10),
            random_string(&mut rng, ALNUM, 24)
        ),
    ));
    files.push((
        "config/database.yml".into(),
        format!(
            "production:\n  url: postgresql://orders:{}@orders-db.internal:5432/orders\n",
            random_string(&mut rng, ALNUM, 20)
        ),
    ));
    // Staging was set up by copying production's file, key and all.
    let payments_api = [("prod", "payments"), ("staging", "payments-staging")]
        .into_iter()
        .map(|(env, cluster)| {
            (
                format!("config/{env}/app.yaml"),
                format!(
                    "cluster: {cluster}\nlisten: :8080\nstripe:\n  api_key: \"{stripe}\"\n  webhook_tolerance: 300s\nledger:\n  table: payments-ledger\n"
                ),
            )
        })
        .collect();
    LeakedRepositories {
        sample: files,
        payments_api,
    }
}
