//! The NHIs: what each team declared, what discovery found, and the gaps between them.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use keyward_model::{
    Cadence, CredentialKind, CredentialStatus, DeclaredNhi, DiscoveredCredential, DiscoveredNhi,
    Environment, Fingerprinter, NhiKind, NhiStatus, OwnerRef, Person, PersonStatus, SecretValue,
    UsageState,
};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::pools::{
    self, ENV_SHORT, ENV_WEIGHTS, KIND_WEIGHTS, ORG, SLOPPY_ROLES, STRANGER_OWNERS, TEAMS,
};
use crate::yaml;

pub(crate) const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// The alphabet of AWS access key ids after their prefix.
const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub(crate) const BASE64: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &[u8] = b"0123456789abcdef";

/// What every NHI is before it becomes a declaration or a discovery.
struct Blueprint {
    kind: NhiKind,
    provider: &'static str,
    environment: Environment,
    team: usize,
    service: &'static str,
    name: String,
    external_id: String,
}

/// Who can own what: per team, its active people; and the leavers.
struct Owners {
    active: Vec<Vec<String>>,
    departed: Vec<String>,
}

impl Owners {
    fn new(people: &[Person]) -> Self {
        let mut active = vec![Vec::new(); TEAMS.len()];
        let mut departed = Vec::new();
        for p in people {
            if p.status == PersonStatus::Departed {
                departed.push(p.email.clone());
                continue;
            }
            let team = p
                .team
                .as_deref()
                .and_then(|t| TEAMS.iter().position(|team| team.name == t));
            if let Some(members) = team.and_then(|i| active.get_mut(i)) {
                members.push(p.email.clone());
            }
        }
        Self { active, departed }
    }
}

/// Per-environment cloud accounts and projects, drawn once per estate.
struct Accounts {
    aws: Vec<String>,
    gcp_numbers: Vec<String>,
    azure_subscriptions: Vec<String>,
    stripe: Vec<String>,
}

/// The generator's state: the random stream, the clock's "now", and what is already taken.
pub(crate) struct Generator<'a> {
    rng: StdRng,
    now: DateTime<Utc>,
    today: NaiveDate,
    fingerprinter: &'a Fingerprinter,
    owners: Owners,
    accounts: Accounts,
    /// Next counter per base name; see [`Generator::claim_name`].
    names: HashMap<String, u32, BuildHasherDefault<NameHasher>>,
    /// How many random-looking identifiers were handed out; see [`Generator::unique`].
    drawn: u64,
    /// Per-estate key of the permutation that scrambles the counter in those identifiers.
    scramble: u64,
    /// Lines already written to each team's manifest file.
    file_lines: Vec<usize>,
    /// Declarations made so far, and where each [`Gap`]'s sequence starts.
    declared_so_far: u64,
    gap_starts: [f64; Gap::COUNT],
}

/// The choices that plant governance gaps in declarations, and which declarations discovery
/// reports too. They are drawn from a low-discrepancy sequence rather than the random stream, so
/// the share of every gap, and of every pair of gaps, is what the generator asks for at any size
/// rather than give or take a few points at a few hundred NHIs.
#[derive(Clone, Copy)]
enum Gap {
    Owner,
    Expiry,
    Review,
    Supplier,
    Status,
    Discovered,
}

impl Gap {
    const COUNT: usize = 6;

    /// The sequence's step in this gap's dimension: Roberts' R-sequence, `φ^-k` for the
    /// dimension `k` and `φ` the positive root of `x^7 = x + 1`, whose points cover the
    /// six-dimensional unit cube evenly from the first few.
    fn step(self) -> f64 {
        const PHI: f64 = 1.112_775_684_278_705_5;
        PHI.powi(-(self as i32 + 1))
    }
}

impl<'a> Generator<'a> {
    pub(crate) fn new(
        mut rng: StdRng,
        now: DateTime<Utc>,
        fingerprinter: &'a Fingerprinter,
        people: &[Person],
    ) -> Self {
        let per_env = |rng: &mut StdRng, f: &dyn Fn(&mut StdRng) -> String| {
            (0..Environment::ALL.len())
                .map(|_| f(rng))
                .collect::<Vec<_>>()
        };
        let accounts = Accounts {
            aws: per_env(&mut rng, &|r| random_string(r, b"0123456789", 12)),
            gcp_numbers: per_env(&mut rng, &|r| {
                format!(
                    "{}{}",
                    r.gen_range(1..=9),
                    random_string(r, b"0123456789", 11)
                )
            }),
            azure_subscriptions: per_env(&mut rng, &guid),
            stripe: per_env(&mut rng, &|r| {
                format!("acct_1{}", random_string(r, ALNUM, 15))
            }),
        };
        let scramble = rng.r#gen();
        let gap_starts = [(); Gap::COUNT].map(|()| rng.gen_range(0.0..1.0));
        // Whole seconds: sources report seconds, and the stores keep what they are given.
        let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
        Self {
            rng,
            now,
            today: now.date_naive(),
            fingerprinter,
            owners: Owners::new(people),
            accounts,
            names: HashMap::default(),
            drawn: 0,
            scramble,
            file_lines: vec![0; TEAMS.len()],
            declared_so_far: 0,
            gap_starts,
        }
    }

    /// Generates `total` NHIs: three in five declared, the rest discovered only, and about one
    /// declared in seven discovered as well.
    pub(crate) fn run(mut self, total: usize) -> (Vec<DeclaredNhi>, Vec<DiscoveredNhi>) {
        let declared_count = (total * 3 + 2) / 5;
        let undeclared_count = total - declared_count;
        let mut declared = Vec::with_capacity(declared_count);
        let mut discovered = Vec::with_capacity(undeclared_count + declared_count / 6);
        for i in 0..declared_count {
            let bp = self.blueprint(i, false);
            let also_discovered = self.spread(Gap::Discovered) < 0.15;
            let d = self.declared(&bp);
            if also_discovered {
                let seen = self.seen_declared(&bp, &d);
                discovered.push(seen);
            }
            declared.push(d);
        }
        for i in 0..undeclared_count {
            let bp = self.blueprint(i, true);
            let seen = self.undeclared(bp);
            discovered.push(seen);
        }
        (declared, discovered)
    }

    /// The `i`-th NHI of its group; the first few cover every kind and environment.
    fn blueprint(&mut self, i: usize, undeclared: bool) -> Blueprint {
        let k = if i < NhiKind::ALL.len() {
            i
        } else {
            pick_index(&mut self.rng, KIND_WEIGHTS.iter().copied())
        };
        let kind = NhiKind::ALL.get(k).copied().unwrap_or(NhiKind::Other);
        // Offset by the group so the forced kinds and environments do not pair up the same way.
        let e = match i.checked_sub(usize::from(undeclared)) {
            Some(e) if e < Environment::ALL.len() => e,
            _ => pick_index(&mut self.rng, ENV_WEIGHTS.iter().copied()),
        };
        let environment = Environment::ALL
            .get(e)
            .copied()
            .unwrap_or(Environment::Unknown);
        let team = pick_index(&mut self.rng, TEAMS.iter().map(|t| t.weight));
        let services = TEAMS.get(team).map_or(&[][..], |t| t.services);
        let service = services.choose(&mut self.rng).copied().unwrap_or("misc");
        let providers = pools::providers(kind);
        let p = pick_index(&mut self.rng, providers.iter().map(|(_, w)| *w));
        let provider = providers.get(p).map_or("internal", |(name, _)| *name);
        let role = if undeclared && self.rng.gen_bool(0.35) {
            SLOPPY_ROLES.choose(&mut self.rng)
        } else {
            pools::roles(kind).choose(&mut self.rng)
        }
        .copied()
        .unwrap_or("nhi");
        let base = match environment {
            Environment::Production | Environment::Unknown => format!("{service}-{role}"),
            e => format!("{service}-{role}-{}", env_short(e)),
        };
        let name = self.claim_name(base);
        let external_id = self.external_id(kind, provider, environment, team, service, &name);
        Blueprint {
            kind,
            provider,
            environment,
            team,
            service,
            name,
            external_id,
        }
    }

    /// A name no other NHI has: the base the first time, then `base-2`, `base-3`, …
    ///
    /// No base ends in `-<digits>` (no pool word is all digits), so a numbered name never meets
    /// another base.
    fn claim_name(&mut self, base: String) -> String {
        if let Some(next) = self.names.get_mut(&base) {
            let n = *next;
            *next = n.saturating_add(1);
            return format!("{base}-{n}");
        }
        self.names.insert(base.clone(), 2);
        base
    }

    /// `prefix`, `random` characters of `alphabet`, then `width` more that never repeat.
    ///
    /// The last characters encode how many identifiers were drawn before, put through a
    /// permutation of `0..2^bits` (the largest power of two that `width` characters can write):
    /// so identifiers look random yet are unique by construction, with no set of past ones to
    /// keep. That holds for `2^bits` identifiers, over two billion for the narrowest format.
    fn unique(&mut self, prefix: &str, alphabet: &[u8], random: usize, width: u32) -> String {
        let base = alphabet.len().max(2) as u128;
        let bits = (127 - base.pow(width).leading_zeros()).min(64);
        let mut code = scramble(u128::from(self.drawn), bits, self.scramble);
        self.drawn += 1;
        let mut out = String::with_capacity(prefix.len() + random + width as usize);
        out.push_str(prefix);
        out.push_str(&random_string(&mut self.rng, alphabet, random));
        let mut tail = vec![0u8; width as usize];
        for digit in tail.iter_mut().rev() {
            let i = usize::try_from(code % base).unwrap_or(0);
            *digit = alphabet.get(i).copied().unwrap_or(b'0');
            code /= base;
        }
        out.extend(tail.iter().map(|b| char::from(*b)));
        out
    }

    /// A version-4-shaped GUID whose last twelve hex digits never repeat (see [`Self::unique`]).
    fn unique_guid(&mut self) -> String {
        let h = self.unique("", HEX, 20, 12);
        let variant = char::from(
            b"89ab"
                .get(self.rng.gen_range(0..4))
                .copied()
                .unwrap_or(b'8'),
        );
        format!(
            "{}-{}-4{}-{variant}{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }

    /// `AKIA` and sixteen base-32 characters, as AWS writes them.
    fn access_key_id(&mut self) -> String {
        self.unique("AKIA", BASE32, 6, 10)
    }

    /// The provider's identifier, in the provider's own format. Name-based formats are unique
    /// because names are; random-looking ones by construction (see [`Self::unique`]).
    fn external_id(
        &mut self,
        kind: NhiKind,
        provider: &str,
        env: Environment,
        team: usize,
        service: &str,
        name: &str,
    ) -> String {
        let e = env_index(env);
        let aws = self.accounts.aws.get(e).map_or("", String::as_str);
        let team_name = TEAMS.get(team).map_or("misc", |t| t.name);
        let short = env_short(env);
        // Repository secrets are named after the rest of the NHI name, upper-cased.
        let secret = || {
            name.strip_prefix(service)
                .and_then(|r| r.strip_prefix('-'))
                .unwrap_or(name)
                .replace('-', "_")
                .to_ascii_uppercase()
        };
        match (kind, provider) {
            (NhiKind::IamUser, _) => format!("arn:aws:iam::{aws}:user/{name}"),
            (NhiKind::IamRole | NhiKind::WorkloadIdentity, "aws") => {
                format!("arn:aws:iam::{aws}:role/{name}")
            }
            (NhiKind::AccessKey, _) => self.access_key_id(),
            (NhiKind::ServiceAccount, "okta") => self.unique("00u", ALNUM, 7, 10),
            (NhiKind::ServiceAccount, _) => {
                format!("{name}@northwind-{short}.iam.gserviceaccount.com")
            }
            (NhiKind::K8sServiceAccount, _) => {
                format!("system:serviceaccount:{team_name}:{name}")
            }
            (NhiKind::CiSecret, "github") => {
                format!("repo:{ORG}/{service}:secret/{}", secret())
            }
            (NhiKind::CiSecret, _) => format!("project:{ORG}/{service}:variable/{}", secret()),
            (NhiKind::WorkloadIdentity, "gcp") => {
                let number = self
                    .accounts
                    .gcp_numbers
                    .get(e)
                    .cloned()
                    .unwrap_or_default();
                format!(
                    "principal://iam.googleapis.com/projects/{number}/locations/global/workloadIdentityPools/{short}-pool/subject/{name}"
                )
            }
            (NhiKind::WorkloadIdentity, _) => {
                let sub = self
                    .accounts
                    .azure_subscriptions
                    .get(e)
                    .cloned()
                    .unwrap_or_default();
                format!(
                    "/subscriptions/{sub}/resourceGroups/rg-{team_name}-{short}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
                )
            }
            (NhiKind::OauthApp, "azure") => self.unique_guid(),
            (NhiKind::OauthApp, "okta") => self.unique("0oa", ALNUM, 7, 10),
            (NhiKind::OauthApp, _) => format!("https://github.com/apps/{ORG}-{name}"),
            (NhiKind::Certificate, "aws") => {
                let id = self.unique_guid();
                let aws = self.accounts.aws.get(e).map_or("", String::as_str);
                format!("arn:aws:acm:eu-west-1:{aws}:certificate/{id}")
            }
            (NhiKind::Certificate, _) => format!("CN={name}.{short}.{ORG}.internal"),
            (NhiKind::SshKey, "github") => {
                format!("repo:{ORG}/{service}:deploy-key/{name}")
            }
            (NhiKind::SshKey, _) => self.unique("SHA256:", BASE64, 33, 10),
            (NhiKind::Token, "openbao") => format!("auth/approle/role/{name}"),
            (NhiKind::Token, "github") => format!("fine-grained-pat/{ORG}/{name}"),
            (NhiKind::Token, _) => format!("group/{ORG}/access-tokens/{name}"),
            (NhiKind::ApiKey, "stripe") => {
                let acct = self.accounts.stripe.get(e).cloned().unwrap_or_default();
                format!("{acct}/restricted_keys/{name}")
            }
            (NhiKind::ApiKey, "datadog") => self.unique_guid(),
            (NhiKind::ApiKey, "pagerduty") => self.unique("P", UPPER_ALNUM, 0, 6),
            (NhiKind::ApiKey, _) => self.unique("A0", UPPER_ALNUM, 0, 9),
            (NhiKind::Bot, "slack") => self.unique("B0", UPPER_ALNUM, 0, 9),
            (NhiKind::Bot, _) => format!("{name}[bot]"),
            (NhiKind::IamRole, _) | (NhiKind::Other, _) => format!("internal:{name}"),
        }
    }

    /// Midnight UTC, `offset` days from today.
    fn day(&self, offset: i64) -> DateTime<Utc> {
        (self.today + Duration::days(offset))
            .and_hms_opt(0, 0, 0)
            .map_or(self.now, |t| t.and_utc())
    }

    /// A moment between `min_days` and `max_days` days ago, to the second.
    fn ago(&mut self, min_days: i64, max_days: i64) -> DateTime<Utc> {
        let secs = self.rng.gen_range(min_days * 86_400..=max_days * 86_400);
        self.now - Duration::seconds(secs)
    }

    fn team_member(&mut self, team: usize) -> Option<String> {
        self.owners
            .active
            .get(team)
            .and_then(|m| m.choose(&mut self.rng))
            .cloned()
    }

    /// Up to `max` approved scopes for what `bp` is, sorted.
    fn scopes(&mut self, bp: &Blueprint, max: usize) -> Vec<String> {
        let (normal, _) = pools::scopes(bp.provider, bp.kind);
        let n = self.rng.gen_range(1..=max.min(normal.len()).max(1));
        let team = TEAMS.get(bp.team).map_or("misc", |t| t.name);
        let mut out: Vec<String> = normal
            .choose_multiple(&mut self.rng, n)
            .map(|s| s.replace("{team}", team))
            .collect();
        out.sort_unstable();
        out
    }

    /// A scope nobody should hold.
    fn excess_scope(&mut self, bp: &Blueprint) -> String {
        let (_, excess) = pools::scopes(bp.provider, bp.kind);
        excess
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("*")
            .to_owned()
    }

    /// The current declaration's point in `gap`'s sequence, in `0..1`.
    fn spread(&self, gap: Gap) -> f64 {
        let start = self.gap_starts.get(gap as usize).copied().unwrap_or(0.0);
        // Exact for the first 2^53 declarations; the product's rounding does not matter.
        #[expect(clippy::cast_precision_loss, reason = "an index far below 2^53")]
        let i = self.declared_so_far as f64;
        (start + i * gap.step()).fract()
    }

    /// What the team declared. The draws below plant each governance gap in its share.
    fn declared(&mut self, bp: &Blueprint) -> DeclaredNhi {
        let team_name = TEAMS.get(bp.team).map_or("misc", |t| t.name);
        let roll = self.spread(Gap::Owner);
        let owner = if roll < 0.10 {
            None
        } else if roll < 0.16 {
            self.owners
                .departed
                .choose(&mut self.rng)
                .map(|e| OwnerRef::Person(e.clone()))
        } else if roll < 0.19 {
            STRANGER_OWNERS
                .choose(&mut self.rng)
                .map(|e| OwnerRef::Person((*e).to_owned()))
        } else if roll < 0.82 {
            self.team_member(bp.team).map(OwnerRef::Person)
        } else {
            Some(OwnerRef::Team(team_name.to_owned()))
        };
        let backup_owner = if self.rng.gen_bool(0.45) {
            match &owner {
                Some(OwnerRef::Team(_)) => self.team_member(bp.team).map(OwnerRef::Person),
                _ => Some(OwnerRef::Team(team_name.to_owned())),
            }
        } else {
            None
        };

        let roll = self.spread(Gap::Expiry);
        let expires_at = if roll < 0.25 {
            None
        } else if roll < 0.30 {
            Some(-self.rng.gen_range(1..=120))
        } else if roll < 0.35 {
            Some(self.rng.gen_range(1..=29))
        } else {
            Some(self.rng.gen_range(31..=730))
        }
        .map(|offset| self.day(offset));

        let review_every = if self.rng.gen_bool(0.05) {
            None
        } else {
            const CADENCES: [(u32, u32); 4] = [(30, 15), (90, 45), (180, 25), (365, 15)];
            let c = pick_index(&mut self.rng, CADENCES.iter().map(|(_, w)| *w));
            CADENCES
                .get(c)
                .and_then(|(days, _)| Cadence::from_days(*days))
        };
        let cadence_days = i64::from(review_every.map_or(365, Cadence::days));
        let roll = self.spread(Gap::Review);
        let last_reviewed_at = if roll < 0.20 {
            None
        } else if roll < 0.35 {
            Some(-(cadence_days + self.rng.gen_range(1..=120)))
        } else {
            Some(-self.rng.gen_range(0..cadence_days))
        }
        .map(|offset| self.day(offset));

        let mut created_at = self
            .rng
            .gen_bool(0.9)
            .then(|| self.rng.gen_range(60..=1500))
            .map(|d| self.day(-d));
        // Nothing is reviewed, rotated or expires before it exists.
        if let Some(c) = created_at.as_mut() {
            if let Some(r) = last_reviewed_at {
                *c = (*c).min(r - Duration::days(7));
            }
            if let Some(x) = expires_at {
                *c = (*c).min(x - Duration::days(90));
            }
        }
        let last_rotated_at = match created_at {
            Some(c) if self.rng.gen_bool(0.55) => {
                let age = (self.today - c.date_naive()).num_days().max(1);
                let offset = -self.rng.gen_range(0..age);
                Some(self.day(offset))
            }
            _ => None,
        };

        let supplier = (self.spread(Gap::Supplier) < 0.10).then(|| {
            pools::vendor(bp.provider)
                .or_else(|| pools::SUPPLIERS.choose(&mut self.rng).copied())
                .unwrap_or("Datadog Inc.")
                .to_owned()
        });
        let roll = self.spread(Gap::Status);
        let status = if roll < 0.92 {
            NhiStatus::Active
        } else if roll < 0.95 {
            NhiStatus::Disabled
        } else if roll < 0.97 {
            NhiStatus::Revoked
        } else {
            NhiStatus::Retired
        };

        let purpose = self
            .rng
            .gen_bool(0.95)
            .then(|| pools::purpose(bp.kind, bp.service, self.rng.gen_range(0..3)));
        let privilege_ceiling = if self.rng.gen_bool(0.9) {
            self.scopes(bp, 4)
        } else {
            Vec::new()
        };
        let mut labels = BTreeMap::from([
            ("team".to_owned(), team_name.to_owned()),
            ("service".to_owned(), bp.service.to_owned()),
        ]);
        if bp.environment == Environment::Production && self.rng.gen_bool(0.3) {
            labels.insert("tier".to_owned(), "critical".to_owned());
        }

        let mut d = DeclaredNhi {
            name: bp.name.clone(),
            labels,
            kind: bp.kind,
            provider: bp.provider.to_owned(),
            external_id: Some(bp.external_id.clone()),
            environment: bp.environment,
            owner,
            backup_owner,
            purpose,
            privilege_ceiling,
            expires_at,
            review_every,
            supplier,
            status,
            created_at,
            last_rotated_at,
            last_reviewed_at,
            source: String::new(),
        };
        self.declared_so_far += 1;
        // The line its document starts on when the team's declarations are written in order.
        if let Some(lines) = self.file_lines.get_mut(bp.team) {
            d.source = format!("demo/{team_name}.yaml:{}", yaml::doc_start_line(*lines));
            *lines += yaml::doc_lines(&d);
        }
        d
    }

    /// What a discovery source reports about a declared NHI: the same key, plus what only the
    /// source knows (observed permissions, last use, credentials).
    fn seen_declared(&mut self, bp: &Blueprint, d: &DeclaredNhi) -> DiscoveredNhi {
        let mut observed = if d.privilege_ceiling.is_empty() {
            self.scopes(bp, 3)
        } else {
            let n = self.rng.gen_range(1..=d.privilege_ceiling.len());
            d.privilege_ceiling
                .choose_multiple(&mut self.rng, n)
                .cloned()
                .collect()
        };
        if self.rng.gen_bool(0.3) {
            observed.push(self.excess_scope(bp));
        }
        observed.sort_unstable();
        observed.dedup();
        let last_use = self.last_use(90);
        // A source sometimes still sees as active what the team says is gone.
        let status = if d.status != NhiStatus::Active && self.rng.gen_bool(0.25) {
            NhiStatus::Active
        } else {
            d.status
        };
        let expires_at = expires_at_source(bp.kind).then_some(d.expires_at).flatten();
        let credentials = self.credentials(bp, Some(status), d.created_at, expires_at, last_use);
        let (last_used_state, last_used_at) = last_use;
        DiscoveredNhi {
            kind: bp.kind,
            provider: bp.provider.to_owned(),
            external_id: bp.external_id.clone(),
            name: bp.name.clone(),
            environment: known_environment(bp.environment),
            owner: if self.rng.gen_bool(0.2) {
                d.owner.clone()
            } else {
                None
            },
            purpose: None,
            observed_permissions: observed,
            created_at: d.created_at,
            expires_at,
            last_rotated_at: d.last_rotated_at,
            last_used_at,
            last_used_state,
            status: Some(status),
            supplier: d.supplier.clone().filter(|_| self.rng.gen_bool(0.5)),
            tags: BTreeMap::from([(
                "team".to_owned(),
                d.labels.get("team").cloned().unwrap_or_default(),
            )]),
            credentials,
            facts: BTreeMap::new(),
        }
    }

    /// An NHI nobody declared, as its source reports it.
    fn undeclared(&mut self, bp: Blueprint) -> DiscoveredNhi {
        let team_name = TEAMS.get(bp.team).map_or("misc", |t| t.name);
        let owner = if self.rng.gen_bool(0.15) {
            if self.rng.gen_bool(0.15) {
                self.owners.departed.choose(&mut self.rng).cloned()
            } else {
                self.team_member(bp.team)
            }
        } else {
            None
        };
        let mut tags = BTreeMap::new();
        if self.rng.gen_bool(0.5) {
            tags.insert("team".to_owned(), team_name.to_owned());
        }
        if let Some(o) = &owner {
            tags.insert("owner".to_owned(), o.clone());
        }
        let created_by = ["terraform", "console", "cli", "unknown"]
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("unknown");
        tags.insert("created-by".to_owned(), created_by.to_owned());

        let mut observed = self.scopes(&bp, 4);
        if self.rng.gen_bool(0.15) {
            observed.push(self.excess_scope(&bp));
            observed.sort_unstable();
            observed.dedup();
        }
        let created_at = self.rng.gen_bool(0.95).then(|| self.ago(7, 1800));
        let expires_at = if expires_at_source(bp.kind) && self.rng.gen_bool(0.7) {
            let roll = self.rng.gen_range(0.0..1.0);
            Some(if roll < 0.08 {
                self.ago(1, 200)
            } else if roll < 0.16 {
                self.now + Duration::seconds(self.rng.gen_range(3_600..30 * 86_400))
            } else {
                self.now + Duration::seconds(self.rng.gen_range(31 * 86_400..400 * 86_400))
            })
        } else {
            None
        };
        let last_rotated_at = match created_at {
            Some(c) if self.rng.gen_bool(0.4) => {
                let age = (self.now - c).num_seconds().max(1);
                Some(self.now - Duration::seconds(self.rng.gen_range(0..age)))
            }
            _ => None,
        };
        let last_use = self.last_use(400);
        let roll = self.rng.gen_range(0.0..1.0);
        let status = if roll < 0.85 {
            Some(NhiStatus::Active)
        } else if roll < 0.92 {
            Some(NhiStatus::Disabled)
        } else {
            None
        };
        let supplier = self.rng.gen_bool(0.04).then(|| {
            pools::vendor(bp.provider)
                .or_else(|| pools::SUPPLIERS.choose(&mut self.rng).copied())
                .unwrap_or("Datadog Inc.")
                .to_owned()
        });
        let purpose = self
            .rng
            .gen_bool(0.35)
            .then(|| pools::purpose(bp.kind, bp.service, self.rng.gen_range(0..3)));
        let credentials = self.credentials(&bp, status, created_at, expires_at, last_use);
        let (last_used_state, last_used_at) = last_use;
        DiscoveredNhi {
            kind: bp.kind,
            provider: bp.provider.to_owned(),
            external_id: bp.external_id,
            name: bp.name,
            environment: known_environment(bp.environment),
            owner: owner.map(OwnerRef::Person),
            purpose,
            observed_permissions: observed,
            created_at,
            expires_at,
            last_rotated_at,
            last_used_at,
            last_used_state,
            status,
            supplier,
            tags,
            credentials,
            facts: BTreeMap::new(),
        }
    }

    /// Used two times in three, never one in eight, unknown otherwise.
    fn last_use(&mut self, within_days: i64) -> (UsageState, Option<DateTime<Utc>>) {
        let roll = self.rng.gen_range(0.0..1.0);
        if roll < 0.65 {
            (UsageState::Used, Some(self.ago(0, within_days)))
        } else if roll < 0.77 {
            (UsageState::Never, None)
        } else {
            (UsageState::Unknown, None)
        }
    }

    /// The secrets behind a key, token, certificate or SSH key, known by fingerprint and preview
    /// of a value drawn here and dropped at once.
    fn credentials(
        &mut self,
        bp: &Blueprint,
        status: Option<NhiStatus>,
        created_at: Option<DateTime<Utc>>,
        expires_at: Option<DateTime<Utc>>,
        (last_used_state, last_used_at): (UsageState, Option<DateTime<Utc>>),
    ) -> Vec<DiscoveredCredential> {
        let kind = match bp.kind {
            NhiKind::AccessKey => CredentialKind::AccessKey,
            NhiKind::ApiKey => CredentialKind::ApiKey,
            NhiKind::Token => CredentialKind::Token,
            NhiKind::Certificate => CredentialKind::Certificate,
            NhiKind::SshKey => CredentialKind::SshKey,
            _ => return Vec::new(),
        };
        let cred_status = match status {
            Some(NhiStatus::Active) | None => CredentialStatus::Active,
            Some(NhiStatus::Disabled) => CredentialStatus::Inactive,
            Some(NhiStatus::Revoked | NhiStatus::Retired) => CredentialStatus::Revoked,
        };
        let external_id = match bp.kind {
            NhiKind::AccessKey => Some(bp.external_id.clone()),
            NhiKind::Certificate => Some(serial(&mut self.rng)),
            _ => None,
        };
        let mut out = Vec::with_capacity(2);
        let (fingerprint, preview) = self.secret(bp.kind, bp.provider);
        out.push(DiscoveredCredential {
            kind,
            external_id,
            fingerprint: Some(fingerprint),
            preview: Some(preview),
            status: cred_status,
            created_at,
            expires_at,
            last_rotated_at: None,
            last_used_at,
            last_used_state,
        });
        // AWS allows two keys per user; rotations that were never finished leave the old one.
        if bp.kind == NhiKind::AccessKey && self.rng.gen_bool(0.2) {
            let old_id = self.access_key_id();
            let (fingerprint, preview) = self.secret(bp.kind, bp.provider);
            let old_created = self.ago(200, 900);
            let used = self.rng.gen_bool(0.5);
            let last_used = used.then(|| self.ago(120, 199));
            out.push(DiscoveredCredential {
                kind,
                external_id: Some(old_id),
                fingerprint: Some(fingerprint),
                preview: Some(preview),
                status: if self.rng.gen_bool(0.5) {
                    CredentialStatus::Inactive
                } else {
                    CredentialStatus::Active
                },
                created_at: Some(old_created),
                expires_at: None,
                last_rotated_at: None,
                last_used_at: last_used,
                last_used_state: if used {
                    UsageState::Used
                } else {
                    UsageState::Never
                },
            });
        }
        out
    }

    /// Draws a secret shaped like the provider's, and keeps only its fingerprint and preview.
    fn secret(&mut self, kind: NhiKind, provider: &str) -> (String, String) {
        let r = &mut self.rng;
        // Prefixes are split so this file holds nothing a secret scanner would match.
        let value = match (kind, provider) {
            (NhiKind::AccessKey, _) => random_string(r, BASE64, 40),
            (NhiKind::ApiKey, "stripe") => {
                format!(
                    "{}{}",
                    ["rk", "_live_"].concat(),
                    random_string(r, ALNUM, 24)
                )
            }
            (NhiKind::ApiKey, "slack") => format!(
                "{}-{}-{}",
                ["xo", "xb"].concat(),
                random_string(r, b"0123456789", 12),
                random_string(r, HEX, 64)
            ),
            (NhiKind::ApiKey, "pagerduty") => format!("u+{}", random_string(r, ALNUM, 18)),
            (NhiKind::ApiKey, _) => random_string(r, HEX, 32),
            (NhiKind::Token, "openbao") => {
                format!("{}{}", ["hv", "s."].concat(), random_string(r, ALNUM, 24))
            }
            (NhiKind::Token, "github") => {
                format!("{}{}", ["gh", "p_"].concat(), random_string(r, ALNUM, 36))
            }
            (NhiKind::Token, _) => {
                format!("{}{}", ["gl", "pat-"].concat(), random_string(r, ALNUM, 20))
            }
            (NhiKind::Certificate, _) => {
                format!("{}{}", ["MI", "IB"].concat(), random_string(r, BASE64, 120))
            }
            _ => format!(
                "{}{}",
                ["b3Bl", "bnNzaC1rZXktdjE"].concat(),
                random_string(r, BASE64, 48)
            ),
        };
        let value = SecretValue::new(value);
        (self.fingerprinter.fingerprint(&value), value.preview())
    }
}

/// Kinds whose source records an expiry.
fn expires_at_source(kind: NhiKind) -> bool {
    matches!(
        kind,
        NhiKind::Certificate | NhiKind::Token | NhiKind::OauthApp | NhiKind::ApiKey
    )
}

fn known_environment(e: Environment) -> Option<Environment> {
    (e != Environment::Unknown).then_some(e)
}

fn env_index(e: Environment) -> usize {
    Environment::ALL.iter().position(|x| *x == e).unwrap_or(0)
}

fn env_short(e: Environment) -> &'static str {
    ENV_SHORT.get(env_index(e)).copied().unwrap_or("prod")
}

/// An FxHash-style hasher for the name counters: they see a lookup per NHI, a million for a
/// large estate, and the keys are this crate's own words, so SipHash's defence against chosen
/// keys buys nothing.
#[derive(Default)]
struct NameHasher(u64);

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A permutation of `0..2^bits` keyed by `key`: xor, then multiplications by odd constants and
/// right xor-shifts, each of which maps `0..2^bits` onto itself one to one.
fn scramble(x: u128, bits: u32, key: u64) -> u128 {
    let mask = (1u128 << bits) - 1;
    let shift = (bits / 2).max(1);
    let mut x = (x ^ u128::from(key)) & mask;
    x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15) & mask;
    x ^= x >> shift;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9) & mask;
    x ^= x >> shift;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb) & mask;
    x ^ (x >> shift)
}

/// An index into a list with these weights, each as likely as its weight (0 for an empty list).
fn pick_index(rng: &mut impl Rng, weights: impl Iterator<Item = u32> + Clone) -> usize {
    let total: u32 = weights.clone().sum();
    let mut roll = rng.gen_range(0..total.max(1));
    for (i, w) in weights.enumerate() {
        if roll < w {
            return i;
        }
        roll -= w;
    }
    0
}

pub(crate) fn random_string(rng: &mut impl Rng, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| {
            char::from(
                alphabet
                    .get(rng.gen_range(0..alphabet.len()))
                    .copied()
                    .unwrap_or(b'x'),
            )
        })
        .collect()
}

/// A random version-4-shaped GUID, lower case.
fn guid(rng: &mut StdRng) -> String {
    let h = random_string(rng, HEX, 32);
    let variant = char::from(b"89ab".get(rng.gen_range(0..4)).copied().unwrap_or(b'8'));
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// A certificate serial: sixteen bytes as colon-separated hex.
fn serial(rng: &mut StdRng) -> String {
    let bytes: [u8; 16] = rng.r#gen();
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn scramble_is_a_permutation() {
        for bits in [1, 2, 7, 12] {
            let n = 1u128 << bits;
            let mut seen: Vec<u128> = (0..n).map(|x| scramble(x, bits, 0xdead_beef)).collect();
            assert!(seen.iter().all(|x| *x < n));
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len() as u128, n, "{bits} bits");
        }
        // Neighbouring counters give unrelated codes.
        let (a, b) = (scramble(1, 48, 7), scramble(2, 48, 7));
        assert!((a ^ b).count_ones() > 8, "{a:x} {b:x}");
    }

    #[test]
    fn weighted_picks_follow_the_weights() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut counts = [0; 3];
        for _ in 0..10_000 {
            counts[pick_index(&mut rng, [1, 0, 3].into_iter())] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!((2_300..2_700).contains(&counts[0]), "{counts:?}");
        assert_eq!(pick_index(&mut rng, std::iter::empty()), 0);
    }
}
