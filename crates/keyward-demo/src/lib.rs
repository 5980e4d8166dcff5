//! A deterministic sample estate of non-human identities, for `keyward demo` and benchmarks.
//!
//! [`generate`] draws "Northwind Payments" (domain `example.com`): about forty people in eight
//! teams, and as many NHIs as asked for across every kind, environment and a dozen providers,
//! with the governance gaps a real estate has (unowned, owned by a leaver, no expiry, expired
//! but active, review overdue or never done, undeclared, permissions beyond the ceiling). The
//! same [`EstateSpec`] always gives the same [`Estate`]: randomness comes from the spec's seed and
//! every date is relative to the spec's `today`, never the wall clock. Nothing is read or written.
//!
//! Credential values are drawn at run time, fingerprinted with the caller's [`Fingerprinter`] and
//! dropped; only fingerprints and redacted previews leave this crate.
//!
//! [`to_yaml`] and [`manifest_files`] render the declarations as `keyward/v1` manifests and
//! [`people_csv`] renders the directory, so a demo or benchmark can write them as files.
//!
//! [`run`] is `keyward demo`: it writes all of that into a fresh store's directory, together
//! with the sample sources the real discovery connectors read (an AWS IAM export and credential
//! report, CloudTrail, Kubernetes manifests and audit logs, GitHub Actions workflows, SSH keys)
//! and the repositories [`leaked_repositories`] fills with leaked credentials, runs every use
//! case over them and then the built-in posture checks, so that each OWASP NHI Top 10 risk has
//! findings that real data produced.

mod leaks;
mod nhis;
mod people;
mod pools;
mod run;
mod sources;
mod yaml;

use chrono::{DateTime, Utc};
use keyward_model::{DeclaredNhi, DiscoveredNhi, Fingerprinter, Person};
use rand::SeedableRng;
use rand::rngs::StdRng;

pub use leaks::{LeakedRepositories, leaked_repositories};
pub use people::people_csv;
pub use run::{DemoReport, run};
pub use yaml::{manifest_files, to_yaml};

/// How many NHIs an estate holds unless told otherwise.
pub const DEFAULT_NHIS: usize = 360;

/// The seed `keyward demo` uses unless told otherwise.
pub const DEFAULT_SEED: u64 = 2026;

/// What estate to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EstateSpec {
    /// Distinct NHIs: declared plus discovered-only (declared ones that discovery also reports
    /// are counted once).
    pub nhis: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// The reference "now"; every date in the estate is relative to it.
    pub today: DateTime<Utc>,
}

impl EstateSpec {
    /// The default-sized estate ([`DEFAULT_NHIS`], [`DEFAULT_SEED`]) as of `today`.
    pub fn new(today: DateTime<Utc>) -> Self {
        Self {
            nhis: DEFAULT_NHIS,
            seed: DEFAULT_SEED,
            today,
        }
    }
}

/// A generated estate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estate {
    /// The people directory: the CTO, then each team's lead and members.
    pub people: Vec<Person>,
    /// What the teams declared (about three NHIs in five), with `source` naming the line of
    /// `demo/<team>.yaml` that [`manifest_files`] writes it at.
    pub declared: Vec<DeclaredNhi>,
    /// What discovery reports: every undeclared NHI, and about one declared NHI in seven under
    /// the same provider and external id.
    pub discovered: Vec<DiscoveredNhi>,
}

/// Generates the estate `spec` describes; the same spec and key give the same estate.
pub fn generate(spec: &EstateSpec, fingerprinter: &Fingerprinter) -> Estate {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let people = people::generate(&mut rng, spec.today.date_naive());
    let (declared, discovered) =
        nhis::Generator::new(rng, spec.today, fingerprinter, &people).run(spec.nhis);
    Estate {
        people,
        declared,
        discovered,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap, HashSet};

    use chrono::Duration;
    use keyward_model::{
        Cadence, Environment, FingerprintKey, NhiKind, NhiStatus, OwnerRef, PersonStatus,
        UsageState,
    };

    use super::*;

    fn today() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-06-01T09:30:00Z")
            .unwrap()
            .to_utc()
    }

    fn fingerprinter() -> Fingerprinter {
        Fingerprinter::new(FingerprintKey::from_bytes([7; 32]))
    }

    fn estate(nhis: usize, seed: u64) -> Estate {
        let spec = EstateSpec {
            nhis,
            seed,
            today: today(),
        };
        generate(&spec, &fingerprinter())
    }

    fn default_estate() -> Estate {
        generate(&EstateSpec::new(today()), &fingerprinter())
    }

    fn is_name(s: &str) -> bool {
        let b = s.as_bytes();
        let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        b.first().is_some_and(edge)
            && b.last().is_some_and(edge)
            && b.iter().all(|c| edge(c) || matches!(c, b'-' | b'.'))
    }

    /// Checks every uniqueness rule and returns how many discovered records are declared ones.
    fn check_unique(e: &Estate) -> usize {
        let mut names = HashSet::new();
        let mut ids: HashMap<(&str, &str), &DeclaredNhi> = HashMap::new();
        for d in &e.declared {
            assert!(is_name(&d.name), "{}", d.name);
            assert!(names.insert(d.name.as_str()), "duplicate name {}", d.name);
            let id = d.external_id.as_deref().unwrap();
            assert!(
                ids.insert((d.provider.as_str(), id), d).is_none(),
                "duplicate id {id}"
            );
        }
        let mut overlaps = 0;
        let mut seen = HashSet::new();
        for n in &e.discovered {
            let key = (n.provider.as_str(), n.external_id.as_str());
            assert!(seen.insert(key), "discovered twice: {key:?}");
            if let Some(d) = ids.get(&key) {
                // The intended overlap: the same NHI, seen by discovery.
                assert_eq!((d.kind, d.name.as_str()), (n.kind, n.name.as_str()));
                overlaps += 1;
            } else {
                assert!(is_name(&n.name), "{}", n.name);
                assert!(names.insert(n.name.as_str()), "duplicate name {}", n.name);
            }
        }
        overlaps
    }

    #[test]
    fn same_spec_same_estate_and_another_seed_another() {
        let a = default_estate();
        assert_eq!(a, default_estate());
        let b = estate(DEFAULT_NHIS, DEFAULT_SEED + 1);
        assert_ne!(a.people, b.people);
        assert_ne!(a.declared, b.declared);
        assert_ne!(a.discovered, b.discovered);
    }

    #[test]
    fn dates_move_with_today_and_nothing_else() {
        let a = default_estate();
        let mut spec = EstateSpec::new(today() + Duration::days(10));
        let b = generate(&spec, &fingerprinter());
        for (x, y) in a.declared.iter().zip(&b.declared) {
            assert_eq!(x.expires_at.map(|t| t + Duration::days(10)), y.expires_at);
            assert_eq!(
                x.last_reviewed_at.map(|t| t + Duration::days(10)),
                y.last_reviewed_at
            );
            assert_eq!(x.name, y.name);
        }
        for (x, y) in a.people.iter().zip(&b.people) {
            assert_eq!(x.departed_on.map(|d| d + Duration::days(10)), y.departed_on);
        }
        spec.nhis = 0;
        let empty = generate(&spec, &fingerprinter());
        assert!(empty.declared.is_empty() && empty.discovered.is_empty());
        assert_eq!(empty.people.len(), a.people.len());
    }

    #[test]
    fn every_kind_environment_and_provider_appears() {
        let e = default_estate();
        assert_eq!(
            e.declared.len() + e.discovered.len() - check_unique(&e),
            360
        );
        let kinds: HashSet<_> = e
            .declared
            .iter()
            .map(|d| d.kind)
            .chain(e.discovered.iter().map(|n| n.kind))
            .collect();
        assert_eq!(kinds.len(), NhiKind::ALL.len());
        let envs: HashSet<_> = e
            .declared
            .iter()
            .map(|d| d.environment)
            .chain(
                e.discovered
                    .iter()
                    .map(|n| n.environment.unwrap_or(Environment::Unknown)),
            )
            .collect();
        assert_eq!(envs.len(), Environment::ALL.len());
        let production = e
            .declared
            .iter()
            .filter(|d| d.environment == Environment::Production)
            .count();
        let share = production * 100 / e.declared.len();
        assert!((35..=55).contains(&share), "{share}%");
        let providers: HashSet<_> = e
            .declared
            .iter()
            .map(|d| d.provider.as_str())
            .chain(e.discovered.iter().map(|n| n.provider.as_str()))
            .collect();
        for p in [
            "aws",
            "gcp",
            "azure",
            "kubernetes",
            "github",
            "gitlab",
            "openbao",
            "slack",
            "stripe",
            "datadog",
            "pagerduty",
            "okta",
            "internal",
        ] {
            assert!(providers.contains(p), "{p}");
        }
    }

    #[test]
    fn external_ids_have_their_providers_formats() {
        let e = default_estate();
        let all = e
            .declared
            .iter()
            .map(|d| {
                (
                    d.kind,
                    d.provider.as_str(),
                    d.external_id.as_deref().unwrap(),
                )
            })
            .chain(
                e.discovered
                    .iter()
                    .map(|n| (n.kind, n.provider.as_str(), n.external_id.as_str())),
            );
        let arn = |id: &str, what: &str| {
            let rest = id.strip_prefix("arn:aws:iam::").unwrap();
            let (acct, name) = rest.split_once(':').unwrap();
            assert!(
                acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit()),
                "{id}"
            );
            assert!(is_name(name.strip_prefix(what).unwrap()), "{id}");
        };
        for (kind, provider, id) in all {
            match (kind, provider) {
                (NhiKind::IamUser, "aws") => arn(id, "user/"),
                (NhiKind::IamRole | NhiKind::WorkloadIdentity, "aws") => arn(id, "role/"),
                (NhiKind::AccessKey, "aws") => {
                    let rest = id.strip_prefix("AKIA").unwrap();
                    assert_eq!(rest.len(), 16, "{id}");
                    assert!(
                        rest.bytes()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                    );
                }
                (NhiKind::ServiceAccount, "gcp") => {
                    assert!(id.ends_with(".iam.gserviceaccount.com"), "{id}");
                }
                (NhiKind::K8sServiceAccount, "kubernetes") => {
                    assert_eq!(id.split(':').count(), 4, "{id}");
                    assert!(id.starts_with("system:serviceaccount:"), "{id}");
                }
                (NhiKind::CiSecret, "github") => {
                    let (repo, secret) = id.split_once(":secret/").unwrap();
                    assert!(repo.starts_with("repo:northwind/"), "{id}");
                    assert!(
                        secret
                            .bytes()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                        "{id}"
                    );
                }
                (NhiKind::CiSecret, "gitlab") => assert!(id.starts_with("project:northwind/")),
                (NhiKind::IamUser | NhiKind::IamRole | NhiKind::AccessKey, _)
                | (NhiKind::K8sServiceAccount, _) => panic!("{kind} on {provider}"),
                _ => assert!(!id.is_empty()),
            }
        }
    }

    #[test]
    fn every_planted_gap_is_present() {
        for seed in [DEFAULT_SEED, 0, 1, 2, 3] {
            let gaps = gap_counts(&estate(DEFAULT_NHIS, seed));
            if seed == DEFAULT_SEED {
                eprintln!("{gaps:#?}");
            }
            for (gap, n) in &gaps {
                assert!(*n > 0, "no NHI has `{gap}` with seed {seed}");
            }
            assert!(gaps["undeclared_with_owner"] * 2 < gaps["undeclared"]);
        }
        let e = default_estate();
        let cadences: HashSet<_> = e.declared.iter().filter_map(|d| d.review_every).collect();
        assert_eq!(cadences.len(), 4);
    }

    /// How many NHIs have each gap, and other counts the demo relies on.
    fn gap_counts(e: &Estate) -> BTreeMap<&'static str, usize> {
        let now = today();
        let departed: HashSet<&str> = e
            .people
            .iter()
            .filter(|p| p.status == PersonStatus::Departed)
            .map(|p| p.email.as_str())
            .collect();
        let known: HashSet<&str> = e.people.iter().map(|p| p.email.as_str()).collect();
        let declared: HashMap<(&str, &str), &DeclaredNhi> = e
            .declared
            .iter()
            .map(|d| ((d.provider.as_str(), d.external_id.as_deref().unwrap()), d))
            .collect();
        let count = |f: &dyn Fn(&DeclaredNhi) -> bool| e.declared.iter().filter(|d| f(d)).count();
        let owner_email = |d: &DeclaredNhi| {
            d.owner
                .as_ref()
                .and_then(OwnerRef::email)
                .map(str::to_owned)
        };
        let overdue = |d: &DeclaredNhi| match (d.review_every, d.last_reviewed_at) {
            (Some(c), Some(r)) => Cadence::due_after(c, r) < now,
            _ => false,
        };
        let mut gaps = BTreeMap::from([
            ("declared", e.declared.len()),
            ("unowned", count(&|d| d.owner.is_none())),
            (
                "owner_departed",
                count(&|d| owner_email(d).is_some_and(|m| departed.contains(m.as_str()))),
            ),
            (
                "owner_not_in_directory",
                count(&|d| owner_email(d).is_some_and(|m| !known.contains(m.as_str()))),
            ),
            (
                "owner_team",
                count(&|d| matches!(d.owner, Some(OwnerRef::Team(_)))),
            ),
            ("no_expiry", count(&|d| d.expires_at.is_none())),
            (
                "expired_active",
                count(&|d| d.status == NhiStatus::Active && d.expires_at.is_some_and(|x| x < now)),
            ),
            (
                "expiring_30d",
                count(&|d| {
                    d.expires_at
                        .is_some_and(|x| x >= now && x < now + Duration::days(30))
                }),
            ),
            ("review_overdue", count(&overdue)),
            ("never_reviewed", count(&|d| d.last_reviewed_at.is_none())),
            ("no_review_cadence", count(&|d| d.review_every.is_none())),
            ("not_active", count(&|d| d.status != NhiStatus::Active)),
            ("supplier", count(&|d| d.supplier.is_some())),
            ("no_ceiling", count(&|d| d.privilege_ceiling.is_empty())),
        ]);
        let mut overlaps = 0;
        let mut beyond_ceiling = 0;
        let mut undeclared_owned = 0;
        let mut credentials = 0;
        let mut usage: BTreeMap<&str, usize> = BTreeMap::new();
        for n in &e.discovered {
            *usage.entry(n.last_used_state.as_str()).or_default() += 1;
            assert_eq!(
                n.last_used_state == UsageState::Used,
                n.last_used_at.is_some()
            );
            credentials += n.credentials.len();
            match declared.get(&(n.provider.as_str(), n.external_id.as_str())) {
                Some(d) => {
                    overlaps += 1;
                    if n.observed_permissions
                        .iter()
                        .any(|p| !d.privilege_ceiling.contains(p))
                    {
                        beyond_ceiling += 1;
                    }
                }
                None => undeclared_owned += usize::from(n.owner.is_some()),
            }
        }
        gaps.insert("discovered_also_declared", overlaps);
        gaps.insert("undeclared", e.discovered.len() - overlaps);
        gaps.insert("undeclared_with_owner", undeclared_owned);
        gaps.insert("observed_beyond_ceiling", beyond_ceiling);
        gaps.insert("credentials", credentials);
        for (state, n) in usage {
            gaps.insert(state, n);
        }
        gaps
    }

    #[test]
    fn departed_people_own_nhis() {
        let e = default_estate();
        let departed: Vec<&str> = e
            .people
            .iter()
            .filter(|p| p.status == PersonStatus::Departed)
            .map(|p| p.email.as_str())
            .collect();
        assert!((5..=6).contains(&departed.len()));
        let owned = e
            .declared
            .iter()
            .filter(|d| {
                d.owner
                    .as_ref()
                    .and_then(OwnerRef::email)
                    .is_some_and(|m| departed.contains(&m))
            })
            .count();
        assert!(owned > 0);
        assert!(
            people_csv(&e.people).starts_with("email,name,team,manager_email,status,departed_on\n")
        );
    }

    #[test]
    fn credentials_are_known_by_fingerprint_and_preview_only() {
        let e = default_estate();
        let mut fingerprints = HashSet::new();
        let creds: Vec<_> = e.discovered.iter().flat_map(|n| &n.credentials).collect();
        assert!(!creds.is_empty());
        for c in creds {
            let fp = c.fingerprint.as_deref().unwrap();
            assert!(fp.len() == 64 && fp.bytes().all(|b| b.is_ascii_hexdigit()));
            assert!(fingerprints.insert(fp));
            let preview = c.preview.as_deref().unwrap();
            let (shown, len) = preview.split_once('…').unwrap();
            assert!(
                shown.chars().count() <= 4 && len.starts_with('('),
                "{preview}"
            );
        }
        for n in e.discovered.iter().filter(|n| n.kind == NhiKind::AccessKey) {
            let first = &n.credentials[0];
            assert_eq!(first.external_id.as_deref(), Some(n.external_id.as_str()));
        }
        // Another key, other fingerprints of the same draws.
        let other = Fingerprinter::new(FingerprintKey::from_bytes([8; 32]));
        let f = generate(&EstateSpec::new(today()), &other);
        let a = &e
            .discovered
            .iter()
            .find(|n| !n.credentials.is_empty())
            .unwrap();
        let b = f.discovered.iter().find(|n| n.name == a.name).unwrap();
        assert_eq!(a.credentials[0].preview, b.credentials[0].preview);
        assert_ne!(a.credentials[0].fingerprint, b.credentials[0].fingerprint);
    }

    #[test]
    fn yaml_round_trips_through_the_manifest_reader() {
        let e = default_estate();
        let back = keyward_manifest::parse_str("demo.yaml", &to_yaml(&e.declared)).unwrap();
        assert_eq!(back.len(), e.declared.len());
        for (b, d) in back.iter().zip(&e.declared) {
            assert_eq!(
                DeclaredNhi {
                    source: d.source.clone(),
                    ..b.clone()
                },
                *d
            );
        }
        // Written file by file, even the sources match.
        let files = manifest_files(&e.declared);
        assert_eq!(files.len(), 8);
        let mut all = Vec::new();
        for (path, text) in &files {
            assert!(
                path.starts_with("demo/") && path.ends_with(".yaml"),
                "{path}"
            );
            all.extend(keyward_manifest::parse_str(path, text).unwrap());
        }
        let key = |d: &DeclaredNhi| d.name.clone();
        let mut expected = e.declared.clone();
        expected.sort_by_key(key);
        all.sort_by_key(key);
        assert_eq!(all, expected);
    }

    #[test]
    fn larger_estates_stay_unique() {
        let e = estate(20_000, 3);
        let overlaps = check_unique(&e);
        assert_eq!(e.declared.len() + e.discovered.len() - overlaps, 20_000);
        assert!(e.declared.iter().any(|d| d.name.ends_with("-2")));
        let share = overlaps * 100 / e.declared.len();
        assert!((13..=17).contains(&share), "{share}%");
    }
}
