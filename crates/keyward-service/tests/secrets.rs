//! `discover secrets`: leaked credentials into the register, tied to the NHIs they belong to.

use keyward_model::{CredentialKind, CredentialStatus, DiscoveredCredential, UsageState};
use keyward_rules::RuleSet;
use keyward_scan::ScanOptions;
use keyward_store::testing::backends;

use crate::ingest::{reported, source};
use crate::support::*;

/// Values made at run time, so the repository holds none.
fn key_id() -> String {
    format!("AKIA{}", "RX4MZQ7TW2KJ5NBV")
}
fn secret_key() -> String {
    format!("{}{}", "q8Z3mT7vK2pX9wR4nL6yB1", "cF5hJ0dS8gA3eU7iO2")
}
fn slack_token() -> String {
    format!(
        "xoxb-{}-{}-{}",
        "2048613975", "4096128374951", "Qm7Zt4Rw9Xk2Vn5Lp8Hs3Jd6"
    )
}

#[tokio::test]
async fn leaked_secrets_join_the_register_once_each_with_every_place_seen() {
    for ts in backends().await {
        let svc = service(&ts, NOW).await;
        // The register already holds the AWS key (by its id) from IAM discovery.
        let mut iam = reported("arn:aws:iam::123456789012:user/deployer", None);
        iam.credentials = vec![DiscoveredCredential {
            kind: CredentialKind::AccessKey,
            external_id: Some(key_id()),
            fingerprint: None,
            preview: None,
            status: CredentialStatus::Active,
            created_at: None,
            expires_at: None,
            last_rotated_at: None,
            last_used_at: None,
            last_used_state: UsageState::Unknown,
        }];
        svc.ingest(&source(), &[iam]).await.unwrap();

        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path();
        write(
            repo,
            "deploy/aws.env",
            &format!(
                "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\n",
                key_id(),
                secret_key()
            ),
        );
        write(
            repo,
            "bot/a.py",
            &format!("SLACK = \"{}\"\n", slack_token()),
        );
        write(
            repo,
            "bot/b.py",
            &format!("\n\nSLACK = \"{}\"\n", slack_token()),
        );
        let rules = RuleSet::builtin().unwrap();
        let options = ScanOptions::default();
        let r = svc
            .discover_secrets(&[repo.to_path_buf()], false, &rules, &options)
            .await
            .unwrap();
        assert_eq!(
            (
                r.findings,
                r.secrets,
                r.linked,
                r.created_nhis,
                r.new_credentials,
                r.new_locations
            ),
            (4, 3, 2, 1, 2, 4),
            "{}: {r:?}",
            ts.backend()
        );

        // The key id and the secret key beside it are the IAM user's; the Slack token is a new
        // undeclared bot with one credential seen in two files.
        let user = svc
            .show_nhi("arn:aws:iam::123456789012:user/deployer")
            .await
            .unwrap();
        assert_eq!(user.credentials.len(), 2, "{}", ts.backend());
        assert_eq!(user.locations.len(), 2, "{}", ts.backend());
        assert!(user.locations.iter().all(|l| l.path == "deploy/aws.env"));
        let mut bots = Vec::new();
        svc.list_nhis(
            &keyward_store::NhiFilter {
                undeclared: true,
                ..Default::default()
            },
            |n, sources| {
                if n.tags.get("found-by").is_some_and(|v| v == "secret-scan") {
                    assert_eq!(sources, ["secret-scan"]);
                    bots.push(n);
                }
                Ok(())
            },
        )
        .await
        .unwrap();
        assert_eq!(bots.len(), 1, "{}", ts.backend());
        assert_eq!(
            (bots[0].provider.as_str(), bots[0].kind.as_str()),
            ("slack", "bot")
        );
        let bot = svc.show_nhi(&bots[0].id.0).await.unwrap();
        assert_eq!(bot.credentials.len(), 1);
        let mut paths: Vec<_> = bot
            .locations
            .iter()
            .map(|l| (l.path.clone(), l.line))
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            [("bot/a.py".to_owned(), 1), ("bot/b.py".to_owned(), 3)]
        );

        // Running again on the same files changes nothing.
        let before = ledger_len(&svc).await;
        let again = svc
            .discover_secrets(&[repo.to_path_buf()], false, &rules, &options)
            .await
            .unwrap();
        assert_eq!(
            (again.new_locations, again.created_nhis, again.run_id),
            (0, 0, None)
        );
        assert_eq!(ledger_len(&svc).await, before, "{}", ts.backend());

        // A run is recorded with the rules' version.
        let runs = svc.store().runs(10).await.unwrap();
        let run = runs
            .iter()
            .find(|r| r.connector == "secrets-files")
            .unwrap();
        assert_eq!(run.parameters["rules_version"], rules.version());
        assert_eq!(run.counts["secrets"], 3);
        svc.close().await;

        // No secret value is anywhere in the store.
        if let keyward_store::Location::Sqlite(db) = &ts.location {
            let mut bytes = std::fs::read(db).unwrap();
            if let Ok(wal) = std::fs::read(db.with_extension("db-wal")) {
                bytes.extend(wal);
            }
            for v in [secret_key(), slack_token()] {
                assert!(
                    !bytes.windows(v.len()).any(|w| w == v.as_bytes()),
                    "the store holds a secret value"
                );
            }
        }
    }
}
