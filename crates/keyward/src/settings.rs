//! Resolves raw arguments (and the environment, read only here) into validated settings.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use keyward_model::{Environment, NhiKind, NhiStatus, OwnerRef, SystemClock};
use keyward_service::Settings;
use keyward_store::{Location, NhiFilter};

use crate::args::{FilterArgs, Global};

const DEFAULT_DB: &str = "keyward.db";
const DEFAULT_KEY: &str = "keyward.key";

/// Settings for a command, from global options.
pub fn resolve(g: &Global) -> Result<Settings> {
    let location = match (&g.database_url, &g.db) {
        (Some(_), Some(_)) => bail!("give either --db or --database-url, not both"),
        (Some(url), None) => {
            let l = Location::parse(url);
            if !matches!(l, Location::Postgres(_)) {
                bail!("--database-url must start with postgres:// or postgresql://");
            }
            l
        }
        (None, Some(path)) => Location::Sqlite(path.clone()),
        (None, None) => Location::Sqlite(PathBuf::from(DEFAULT_DB)),
    };
    let key_path = match (&g.key, &location) {
        (Some(k), _) => k.clone(),
        (None, Location::Sqlite(db)) => db.with_extension("key"),
        (None, Location::Postgres(_)) => PathBuf::from(DEFAULT_KEY),
    };
    let actor = match &g.actor {
        Some(a) if a.trim().is_empty() => bail!("--actor must not be empty"),
        Some(a) => a.trim().to_owned(),
        None => format!(
            "os:{}",
            std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .unwrap_or_else(|_| "unknown".into())
        ),
    };
    Ok(Settings {
        location,
        key_path,
        actor,
        clock: Arc::new(SystemClock),
    })
}

/// A store filter from list options, each value checked.
pub fn filter(f: &FilterArgs) -> Result<NhiFilter> {
    Ok(NhiFilter {
        kind: f
            .kind
            .as_deref()
            .map(str::parse::<NhiKind>)
            .transpose()
            .context("--kind")?,
        provider: f.provider.clone(),
        environment: f
            .environment
            .as_deref()
            .map(str::parse::<Environment>)
            .transpose()
            .context("--env")?,
        owner: f
            .owner
            .as_deref()
            .map(OwnerRef::parse)
            .transpose()
            .context("--owner")?,
        status: f
            .status
            .as_deref()
            .map(str::parse::<NhiStatus>)
            .transpose()
            .context("--status")?,
        unowned: f.unowned,
        owner_departed: f.owner_departed,
        expiring_within: f
            .expiring_within
            .map(|d| chrono::Duration::days(i64::from(d))),
        expired: f.expired,
        review_overdue: f.review_overdue,
        undeclared: f.undeclared,
    })
}
