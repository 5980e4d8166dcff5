//! A sample repository with credentials leaked into it, for `keyward discover secrets`.
//!
//! It holds what teams really leak: an inventoried AWS access key with its secret in the
//! production and the staging environment files (one credential seen in two places and two
//! environments), a Stripe live key in source, a Slack webhook in a CI script and a database
//! URL with its password in config. Every value is generated from the estate's seed.

use rand::SeedableRng;
use rand::rngs::StdRng;

use keyward_model::{DiscoveredNhi, NhiKind};

use crate::nhis::{ALNUM, BASE64, UPPER_ALNUM, random_string};

/// The files of the sample repository: relative path and text.
pub fn leaked_repository(discovered: &[DiscoveredNhi], seed: u64) -> Vec<(String, String)> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6c65_616b);
    // An access key the inventory knows, so the leak is tied to its NHI and owner.
    let key_id = discovered
        .iter()
        .filter(|d| d.kind == NhiKind::AccessKey && d.provider == "aws")
        .map(|d| d.external_id.clone())
        .next();
    let mut files = Vec::new();
    if let Some(key_id) = key_id {
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
    files.push((
        "src/billing/client.py".into(),
        format!(
            "import stripe\n\n# TODO: move to the vault before launch\nstripe.api_key = \"sk_live_{}\"\n",
            random_string(&mut rng, ALNUM, 24)
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
    files
}
