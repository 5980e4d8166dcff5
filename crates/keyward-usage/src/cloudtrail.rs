//! AWS CloudTrail: S3 delivery files and JSON lines of events.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use keyward_connect::{ConnectError, Connector, Discovery, Inputs, facts};
use keyward_model::{
    CredentialKind, DiscoveredCredential, DiscoveredNhi, Facts, NhiKind, UsageState,
};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::json;

use crate::agg::{
    AgentSignal, Distinct, Partial, contains_ignore_case, earlier, human_use, is_browser,
    is_log_file, later, read_all, rfc3339,
};
use crate::json::{Loose, LooseStr, Str, clip, for_each_value, parse_log_time};

/// The source CloudTrail discoveries report.
pub const CLOUDTRAIL_SOURCE: &str = "cloudtrail";
/// The provider of the identities CloudTrail reports.
const PROVIDER: &str = "aws";
/// Distinct source addresses listed per identity.
const ADDRESS_CAP: usize = 50;
/// Distinct user agents listed per identity.
const AGENT_CAP: usize = 20;
/// Distinct event sources listed per identity.
const SERVICE_CAP: usize = 50;
/// Distinct role session names listed per role.
const SESSION_CAP: usize = 20;
/// Distinct error codes counted per identity.
const ERROR_CODE_CAP: usize = 50;

/// Reads CloudTrail logs from files: S3 delivery files (`{"Records":[…]}`, `.json` or
/// `.json.gz`) and JSON lines of events (`.jsonl`, `.json`), told apart by content.
#[derive(Debug, Clone)]
pub struct CloudTrailFiles {
    /// Files, or directories searched (recursively) for `*.json`, `*.jsonl`, `*.ndjson`,
    /// `*.log` and their `.gz`; `CloudTrail-Digest` directories are skipped.
    pub paths: Vec<PathBuf>,
    /// More distinct IP source addresses than this for one identity in the window is the
    /// `many_source_addresses` sign of human use.
    pub many_source_addresses: usize,
    /// The scope's account, instead of the one the records name.
    pub account: Option<String>,
    /// Files read at once.
    pub threads: usize,
}

impl CloudTrailFiles {
    /// The connector's stable name.
    pub const NAME: &'static str = "cloudtrail-files";

    /// Reads `paths` with the defaults: more than 10 addresses is many, the account from the
    /// records, two files at once (or one on a single core).
    pub fn new(paths: Vec<PathBuf>) -> Self {
        Self {
            paths,
            many_source_addresses: 10,
            account: None,
            threads: default_threads(),
        }
    }

    /// Reads every input, synchronously.
    pub fn discover_now(&self) -> Result<Discovery, ConnectError> {
        if self.paths.is_empty() {
            return Err(ConnectError::Usage(
                "give at least one CloudTrail log file or directory".into(),
            ));
        }
        let files = Inputs::find(&self.paths, |p| {
            is_log_file(p) && !p.components().any(|c| c.as_os_str() == "CloudTrail-Digest")
        })?;
        let (trail, inputs) = read_all::<Trail>(&files, self.threads)?;
        let scope = match &self.account {
            Some(a) => format!("aws:{a}"),
            None => trail.scope(),
        };
        let warnings = trail.warnings();
        Ok(Discovery {
            source: CLOUDTRAIL_SOURCE.to_owned(),
            scope,
            complete: false,
            connector: Self::NAME,
            connector_version: env!("CARGO_PKG_VERSION"),
            inputs,
            parameters: json!({
                "paths": self.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                "many_source_addresses": self.many_source_addresses,
                "account": self.account,
            }),
            nhis: trail.into_nhis(self.many_source_addresses),
            warnings,
        })
    }
}

impl Connector for CloudTrailFiles {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn discover(&self) -> Result<Discovery, ConnectError> {
        self.discover_now()
    }
}

/// Two workers, or one on a single core: the parse is CPU-bound and the machine's other work
/// deserves a core.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
}

/// Parses one CloudTrail file's content (a delivery file, JSON lines, or the test-fixture
/// wrapper) into the identities it names, as the connector reports them with its defaults.
pub fn parse_cloudtrail(path: &Path, bytes: &[u8]) -> Result<Vec<DiscoveredNhi>, ConnectError> {
    let mut trail = Trail::default();
    trail.read(path, bytes)?;
    Ok(trail.into_nhis(10))
}

/// One top-level value or record: a delivery file's wrapper (`Records`), a test fixture's
/// wrapper (`log` beside `_test_name`), or an event. Only the fields read are listed; serde
/// skips the rest (request parameters, response elements, resources) without allocating.
#[derive(Debug, Default, Deserialize)]
struct Record<'a> {
    #[serde(rename = "Records", borrow, default)]
    records: Option<Vec<Record<'a>>>,
    #[serde(borrow, default)]
    log: Loose<Record<'a>>,
    #[serde(rename = "_test_name", default)]
    test_name: Option<IgnoredAny>,
    #[serde(rename = "userIdentity", borrow, default)]
    user_identity: Option<UserIdentity<'a>>,
    #[serde(rename = "eventTime", borrow, default)]
    event_time: Option<Str<'a>>,
    #[serde(rename = "eventSource", borrow, default)]
    event_source: Option<Str<'a>>,
    #[serde(rename = "eventName", borrow, default)]
    event_name: Option<Str<'a>>,
    #[serde(rename = "sourceIPAddress", borrow, default)]
    source_ip: Option<Str<'a>>,
    #[serde(rename = "userAgent", borrow, default)]
    user_agent: Option<Str<'a>>,
    #[serde(rename = "errorCode", borrow, default)]
    error_code: Option<Str<'a>>,
    #[serde(rename = "recipientAccountId", borrow, default)]
    recipient_account: Option<Str<'a>>,
    // Free-form per event; some exports flatten them into JSON strings.
    #[serde(rename = "additionalEventData", borrow, default)]
    additional: Loose<Extra<'a>>,
    #[serde(rename = "responseElements", borrow, default)]
    response: Loose<Extra<'a>>,
}

/// `userIdentity`.
#[derive(Debug, Default, Deserialize)]
struct UserIdentity<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Str<'a>>,
    #[serde(borrow, default)]
    arn: Option<Str<'a>>,
    #[serde(rename = "accountId", borrow, default)]
    account: Option<Str<'a>>,
    #[serde(rename = "accessKeyId", borrow, default)]
    access_key: Option<Str<'a>>,
    #[serde(rename = "sessionContext", borrow, default)]
    session: Option<SessionContext<'a>>,
}

/// `userIdentity.sessionContext`.
#[derive(Debug, Default, Deserialize)]
struct SessionContext<'a> {
    #[serde(rename = "sessionIssuer", borrow, default)]
    issuer: Option<SessionIssuer<'a>>,
}

/// `userIdentity.sessionContext.sessionIssuer`.
#[derive(Debug, Default, Deserialize)]
struct SessionIssuer<'a> {
    #[serde(borrow, default)]
    arn: Option<Str<'a>>,
}

/// The fields read from `additionalEventData` and `responseElements`, whose other contents
/// depend on the event.
#[derive(Debug, Default, Deserialize)]
struct Extra<'a> {
    #[serde(rename = "MFAUsed", borrow, default)]
    mfa_used: LooseStr<'a>,
    #[serde(rename = "ConsoleLogin", borrow, default)]
    console_login: LooseStr<'a>,
}

/// What the logs say about one identity.
#[derive(Debug)]
struct Identity {
    kind: NhiKind,
    events: u64,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    addresses: Distinct,
    agents: Distinct,
    services: Distinct,
    sessions: Distinct,
    errors: HashMap<String, u64>,
    keys: HashMap<String, Option<DateTime<Utc>>>,
    temporary: bool,
    console: ConsoleSignIns,
    interactive: AgentSignal,
}

impl Identity {
    fn new(kind: NhiKind) -> Self {
        Self {
            kind,
            events: 0,
            first: None,
            last: None,
            addresses: Distinct::default(),
            agents: Distinct::default(),
            services: Distinct::default(),
            sessions: Distinct::default(),
            errors: HashMap::new(),
            keys: HashMap::new(),
            temporary: false,
            console: ConsoleSignIns::default(),
            interactive: AgentSignal::default(),
        }
    }

    fn merge(&mut self, o: Identity) {
        self.events += o.events;
        self.first = earlier(self.first, o.first);
        self.last = later(self.last, o.last);
        self.addresses.merge(o.addresses);
        self.agents.merge(o.agents);
        self.services.merge(o.services);
        self.sessions.merge(o.sessions);
        for (code, n) in o.errors {
            *self.errors.entry(code).or_default() += n;
        }
        for (key, at) in o.keys {
            let e = self.keys.entry(key).or_default();
            *e = later(*e, at);
        }
        self.temporary |= o.temporary;
        self.console.merge(o.console);
        self.interactive.merge(o.interactive);
    }
}

/// `ConsoleLogin` events of one identity.
#[derive(Debug, Default)]
struct ConsoleSignIns {
    succeeded: u64,
    failed: u64,
    unknown: u64,
    with_mfa: u64,
    at: Option<DateTime<Utc>>,
}

impl ConsoleSignIns {
    fn total(&self) -> u64 {
        self.succeeded + self.failed + self.unknown
    }

    fn merge(&mut self, o: ConsoleSignIns) {
        self.succeeded += o.succeeded;
        self.failed += o.failed;
        self.unknown += o.unknown;
        self.with_mfa += o.with_mfa;
        self.at = later(self.at, o.at);
    }
}

/// Everything read so far: the identities by external id, and counts for the warnings.
#[derive(Debug, Default)]
pub(crate) struct Trail {
    identities: HashMap<String, Identity>,
    accounts: Distinct,
    records: u64,
    skipped: HashMap<String, u64>,
    untimed: u64,
    bad_time: Option<String>,
    /// Reused for each record's external id, so a known identity costs no allocation.
    scratch: String,
}

impl Partial for Trail {
    fn read(&mut self, path: &Path, bytes: &[u8]) -> Result<(), ConnectError> {
        for_each_value(path, bytes, |r: Record<'_>| self.value(r))
    }

    fn merge(&mut self, o: Trail) {
        for (id, ident) in o.identities {
            match self.identities.get_mut(&id) {
                Some(mine) => mine.merge(ident),
                None => {
                    self.identities.insert(id, ident);
                }
            }
        }
        self.accounts.merge(o.accounts);
        self.records += o.records;
        for (why, n) in o.skipped {
            *self.skipped.entry(why).or_default() += n;
        }
        self.untimed += o.untimed;
        self.bad_time = match (self.bad_time.take(), o.bad_time) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

impl Trail {
    /// A top-level value: a delivery file, a fixture wrapper, or an event.
    fn value(&mut self, mut r: Record<'_>) {
        if let Some(records) = r.records.take() {
            for r in records {
                self.value(r);
            }
            return;
        }
        if r.test_name.is_some()
            && let Some(log) = r.log.0.take()
        {
            return self.value(*log);
        }
        self.event(r);
    }

    fn event(&mut self, r: Record<'_>) {
        self.records += 1;
        let ui = r.user_identity.as_ref();
        if let Some(a) = r
            .recipient_account
            .as_deref()
            .or_else(|| ui.and_then(|u| u.account.as_deref()))
            .filter(|a| !a.is_empty())
        {
            self.accounts.add(a);
        }
        let Some(ui) = ui else {
            return self.skip("no userIdentity");
        };
        let (kind, session) = match identify(ui, &mut self.scratch) {
            Ok(found) => found,
            Err(why) => return self.skip(&why),
        };
        let at = match r.event_time.as_deref() {
            Some(s) => {
                let t = parse_log_time(s);
                if t.is_none() && self.bad_time.as_deref().is_none_or(|b| s < b) {
                    self.bad_time = Some(clip(s).into_owned());
                }
                t
            }
            None => None,
        };
        if at.is_none() {
            self.untimed += 1;
        }
        let ident = match self.identities.get_mut(self.scratch.as_str()) {
            Some(i) => i,
            None => self
                .identities
                .entry(self.scratch.clone())
                .or_insert_with(|| Identity::new(kind)),
        };
        ident.events += 1;
        ident.first = earlier(ident.first, at);
        ident.last = later(ident.last, at);
        if let Some(ip) = r.source_ip.as_deref().filter(|s| !s.is_empty()) {
            ident.addresses.add(ip);
        }
        if let Some(agent) = r.user_agent.as_deref().filter(|s| !s.is_empty()) {
            ident.agents.add(agent);
            if is_interactive(agent) {
                ident.interactive.add(agent, at);
            }
        }
        if let Some(s) = r.event_source.as_deref().filter(|s| !s.is_empty()) {
            ident.services.add(s);
        }
        if let Some(s) = session.filter(|s| !s.is_empty()) {
            ident.sessions.add(s);
        }
        if let Some(code) = r.error_code.as_deref().filter(|s| !s.is_empty()) {
            match ident.errors.get_mut(code) {
                Some(n) => *n += 1,
                None => {
                    ident.errors.insert(code.to_owned(), 1);
                }
            }
        }
        match ui.access_key.as_deref() {
            // Only users (and root) have long-term keys; a role's record with one is corrupt.
            Some(k) if k.starts_with("AKIA") && kind != NhiKind::IamRole => {
                match ident.keys.get_mut(k) {
                    Some(last) => *last = later(*last, at),
                    None => {
                        ident.keys.insert(k.to_owned(), at);
                    }
                }
            }
            Some(k) if k.starts_with("ASIA") => ident.temporary = true,
            _ => {}
        }
        if r.event_name.as_deref() == Some("ConsoleLogin") {
            let c = &mut ident.console;
            let outcome = r
                .response
                .0
                .as_ref()
                .and_then(|e| e.console_login.0.as_deref());
            match outcome {
                Some("Success") => c.succeeded += 1,
                Some("Failure") => c.failed += 1,
                _ => c.unknown += 1,
            }
            let mfa = r
                .additional
                .0
                .as_ref()
                .and_then(|e| e.mfa_used.0.as_deref());
            if mfa == Some("Yes") {
                c.with_mfa += 1;
            }
            c.at = later(c.at, at);
        }
    }

    fn skip(&mut self, why: &str) {
        match self.skipped.get_mut(why) {
            Some(n) => *n += 1,
            None => {
                self.skipped.insert(why.to_owned(), 1);
            }
        }
    }

    /// `aws:<account>` for the one account the records were delivered for, `aws:multiple`
    /// when they span several, `aws:unknown` when none names one.
    fn scope(&self) -> String {
        match self.accounts.sorted().as_slice() {
            [] => "aws:unknown".to_owned(),
            [one] => format!("aws:{one}"),
            _ => "aws:multiple".to_owned(),
        }
    }

    fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let skipped: u64 = self.skipped.values().sum();
        if skipped > 0 {
            let mut why: Vec<_> = self.skipped.iter().collect();
            why.sort();
            let why: Vec<String> = why.iter().map(|(w, n)| format!("{w} {n}")).collect();
            out.push(format!(
                "skipped {skipped} of {} records that name no IAM user, role or root: {}",
                self.records,
                why.join(", ")
            ));
        }
        if self.untimed > 0 {
            let example = match &self.bad_time {
                Some(b) => format!(" (for example `{b}`)"),
                None => String::new(),
            };
            out.push(format!(
                "{} records have no usable eventTime{example}: they count towards addresses, \
                 agents and services but not last use",
                self.untimed
            ));
        }
        out
    }

    pub(crate) fn into_nhis(self, many_addresses: usize) -> Vec<DiscoveredNhi> {
        let mut ids: Vec<_> = self.identities.into_iter().collect();
        ids.sort_by(|a, b| a.0.cmp(&b.0));
        ids.into_iter()
            .map(|(id, ident)| nhi(id, ident, many_addresses))
            .collect()
    }
}

/// The identity a record's `userIdentity` names: its external id (into `id`), kind and role
/// session name; or why the record names none this connector reports.
fn identify<'u>(
    ui: &'u UserIdentity<'_>,
    id: &mut String,
) -> Result<(NhiKind, Option<&'u str>), String> {
    id.clear();
    let arn = ui.arn.as_deref().and_then(Arn::parse);
    match ui.kind.as_deref() {
        Some("IAMUser") => match ui.arn.as_deref() {
            Some(a)
                if arn.is_some_and(|p| p.service == "iam" && p.resource.starts_with("user/")) =>
            {
                id.push_str(a);
                Ok((NhiKind::IamUser, None))
            }
            _ => Err("IAMUser without an IAM user ARN".into()),
        },
        Some("AssumedRole") => {
            let session = arn.and_then(|a| a.resource.strip_prefix("assumed-role/"));
            let (role, session) = match session.map(|s| s.split_once('/').unwrap_or((s, ""))) {
                Some((role, session)) if !role.is_empty() => (Some(role), Some(session)),
                _ => (None, None),
            };
            let issuer = ui
                .session
                .as_ref()
                .and_then(|s| s.issuer.as_ref())
                .and_then(|i| i.arn.as_deref())
                .filter(|a| {
                    Arn::parse(a)
                        .is_some_and(|p| p.service == "iam" && p.resource.starts_with("role/"))
                });
            match (issuer, arn, role) {
                (Some(issuer), _, _) => id.push_str(issuer),
                // STS ARNs do not carry the role's path; without the issuer the path is lost.
                (None, Some(a), Some(role)) if is_account(a.account) => {
                    id.push_str(&format!(
                        "arn:{}:iam::{}:role/{role}",
                        a.partition, a.account
                    ));
                }
                _ => return Err("AssumedRole without a role ARN".into()),
            }
            Ok((NhiKind::IamRole, session))
        }
        Some("Root") => {
            let account = ui
                .account
                .as_deref()
                .filter(|a| is_account(a))
                .or(arn.map(|a| a.account).filter(|a| is_account(a)));
            match account {
                Some(acct) => {
                    let partition = arn.map_or("aws", |a| a.partition);
                    id.push_str(&format!("arn:{partition}:iam::{acct}:root"));
                    Ok((NhiKind::Other, None))
                }
                None => Err("Root without an account id".into()),
            }
        }
        Some(other) => Err(clip(other).into_owned()),
        None => Err("userIdentity without type".into()),
    }
}

/// Whether an account id is one: digits. An id this connector builds (a root user's, a role's
/// from an STS ARN) needs one; redacted samples write `redacted` or `xxx`.
fn is_account(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The parts of an ARN this connector reads.
#[derive(Debug, Clone, Copy)]
struct Arn<'a> {
    partition: &'a str,
    service: &'a str,
    account: &'a str,
    resource: &'a str,
}

impl<'a> Arn<'a> {
    fn parse(s: &'a str) -> Option<Self> {
        let mut parts = s.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let partition = parts.next()?;
        let service = parts.next()?;
        let _region = parts.next()?;
        let account = parts.next()?;
        let resource = parts.next()?;
        (!partition.is_empty() && !account.is_empty()).then_some(Arn {
            partition,
            service,
            account,
            resource,
        })
    }
}

/// Whether a user agent is a person's: the console's, a browser's, or the AWS CLI on a
/// desktop operating system.
fn is_interactive(agent: &str) -> bool {
    if agent.starts_with("aws-cli/") {
        return ["darwin", "windows", "macos"]
            .iter()
            .any(|os| contains_ignore_case(agent, os));
    }
    is_browser(agent)
        || agent == "signin.amazonaws.com"
        || (agent.starts_with("console.") && agent.ends_with(".amazonaws.com"))
        || agent.trim_start_matches('[').starts_with("S3Console/")
}

fn nhi(id: String, ident: Identity, many_addresses: usize) -> DiscoveredNhi {
    let name = match ident.kind {
        NhiKind::Other => "root".to_owned(),
        _ => id.rsplit('/').next().unwrap_or(&id).to_owned(),
    };
    let mut nhi = DiscoveredNhi::new(ident.kind, PROVIDER, id, name);
    nhi.last_used_at = ident.last;
    if ident.last.is_some() {
        nhi.last_used_state = UsageState::Used;
    }
    let mut keys: Vec<_> = ident.keys.iter().collect();
    keys.sort();
    nhi.credentials = keys
        .into_iter()
        .map(|(key, at)| {
            let mut c = DiscoveredCredential::with_external_id(CredentialKind::AccessKey, key);
            c.last_used_at = *at;
            if at.is_some() {
                c.last_used_state = UsageState::Used;
            }
            c
        })
        .collect();
    nhi.facts = facts_of(&ident, many_addresses);
    nhi
}

fn facts_of(ident: &Identity, many_addresses: usize) -> Facts {
    let mut f = Facts::new();
    f.insert("events".into(), json!(ident.events));
    if let Some(t) = ident.first {
        f.insert("first_used_at".into(), json!(rfc3339(t)));
    }
    ident
        .addresses
        .emit(&mut f, facts::SOURCE_ADDRESSES, ADDRESS_CAP);
    ident.agents.emit(&mut f, facts::USER_AGENTS, AGENT_CAP);
    ident.services.emit(&mut f, "services", SERVICE_CAP);
    ident.sessions.emit(&mut f, "session_names", SESSION_CAP);
    if !ident.errors.is_empty() {
        let codes: BTreeMap<_, _> = ident.errors.iter().collect();
        let codes: serde_json::Map<_, _> = codes
            .into_iter()
            .take(ERROR_CODE_CAP)
            .map(|(c, n)| (c.clone(), json!(n)))
            .collect();
        f.insert("error_codes".into(), codes.into());
    }
    if ident.temporary {
        f.insert("temporary_credentials_used".into(), json!(true));
    }
    if !ident.keys.is_empty() {
        f.insert(facts::STATIC_CLOUD_KEY.into(), json!(true));
    }
    let person_account = matches!(ident.kind, NhiKind::IamUser | NhiKind::Other);
    if person_account && ident.console.succeeded > 0 {
        f.insert(facts::PASSWORD_AUTH.into(), json!(true));
    }

    let mut human = Vec::new();
    let c = &ident.console;
    if c.total() > 0 {
        let mut detail = format!(
            "console sign-ins: {} ({} succeeded, {} failed{}), MFA used on {}",
            c.total(),
            c.succeeded,
            c.failed,
            if c.unknown > 0 {
                format!(", {} without outcome", c.unknown)
            } else {
                String::new()
            },
            c.with_mfa,
        );
        if !ident.keys.is_empty() {
            detail.push_str("; long-term access keys also used in this window");
        }
        human.push(human_use("console_sign_in", detail, c.at));
    }
    human.extend(
        ident
            .interactive
            .signal("interactive_user_agent", "interactive user agents"),
    );
    let ips = ident
        .addresses
        .sorted()
        .into_iter()
        .filter(|a| a.parse::<std::net::IpAddr>().is_ok())
        .count();
    if ips > many_addresses {
        human.push(human_use(
            "many_source_addresses",
            format!("{ips} distinct IP source addresses (more than {many_addresses})"),
            ident.last,
        ));
    }
    if !human.is_empty() {
        f.insert(facts::HUMAN_USE.into(), json!(human));
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Trail {
        let mut t = Trail::default();
        t.read(Path::new("t.json"), text.as_bytes()).unwrap();
        t
    }

    fn ui(json: &str) -> Result<(NhiKind, Option<String>, String), String> {
        let ui: UserIdentity<'_> = serde_json::from_str(json).unwrap();
        let mut id = String::new();
        identify(&ui, &mut id).map(|(k, s)| (k, s.map(str::to_owned), id))
    }

    #[test]
    fn identities_by_type() {
        assert_eq!(
            ui(r#"{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ops/deploy"}"#),
            Ok((
                NhiKind::IamUser,
                None,
                "arn:aws:iam::111122223333:user/ops/deploy".into()
            ))
        );
        // The issuer's ARN keeps the role's path.
        assert_eq!(
            ui(
                r#"{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/Deploy/ci-42",
                   "sessionContext":{"sessionIssuer":{"type":"Role",
                   "arn":"arn:aws:iam::111122223333:role/service/Deploy"}}}"#
            ),
            Ok((
                NhiKind::IamRole,
                Some("ci-42".into()),
                "arn:aws:iam::111122223333:role/service/Deploy".into()
            ))
        );
        assert_eq!(
            ui(
                r#"{"type":"AssumedRole","arn":"arn:aws-cn:sts::111122223333:assumed-role/Deploy/ci-42"}"#
            ),
            Ok((
                NhiKind::IamRole,
                Some("ci-42".into()),
                "arn:aws-cn:iam::111122223333:role/Deploy".into()
            ))
        );
        assert_eq!(
            ui(r#"{"type":"Root","accountId":"111122223333"}"#),
            Ok((
                NhiKind::Other,
                None,
                "arn:aws:iam::111122223333:root".into()
            ))
        );
        assert_eq!(
            ui(r#"{"type":"AWSService","invokedBy":"ec2.amazonaws.com"}"#).unwrap_err(),
            "AWSService"
        );
        assert_eq!(
            ui(r#"{"type":"IAMUser","arn":"arn:aws:sts::1:user/x"}"#).unwrap_err(),
            "IAMUser without an IAM user ARN"
        );
        assert_eq!(
            ui(r#"{"type":"AssumedRole","arn":"not an arn"}"#).unwrap_err(),
            "AssumedRole without a role ARN"
        );
        assert_eq!(ui("{}").unwrap_err(), "userIdentity without type");
    }

    #[test]
    fn interactive_agents() {
        for yes in [
            "signin.amazonaws.com",
            "console.amazonaws.com",
            "console.ec2.amazonaws.com",
            "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.11.666]",
            "aws-cli/1.15.42 Python/3.6.1 Darwin/17.7.0 botocore/1.10.42",
            "aws-cli/2.15.59 md/awscrt#0.19.19 ua/2.0 os/macos#23.4.0 md/arch#arm64",
            "aws-cli/2.9.0 Python/3.9.11 Windows/10 exe/AMD64",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
        ] {
            assert!(is_interactive(yes), "{yes}");
        }
        for no in [
            "aws-cli/2.13.0 Python/3.11.4 Linux/5.10.0-1234-aws",
            "Boto3/1.26.0 Python/3.9.0 Darwin/22.1.0",
            "cloudformation.amazonaws.com",
            "AWS Internal",
        ] {
            assert!(!is_interactive(no), "{no}");
        }
    }

    #[test]
    fn aggregates_keys_times_and_console_sign_ins() {
        let key = format!("AKIA{}", "Q".repeat(16));
        let tmp = format!("ASIA{}", "Q".repeat(16));
        let text = format!(
            r#"{{"Records":[
{{"eventTime":"2024-01-02T00:00:00Z","eventName":"ConsoleLogin","sourceIPAddress":"198.51.100.7",
 "userAgent":"Mozilla/5.0 (X11)","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob","accountId":"111122223333"}},
 "responseElements":{{"ConsoleLogin":"Success"}},"additionalEventData":{{"MFAUsed":"No","LoginTo":"x"}},"recipientAccountId":"111122223333"}},
{{"eventTime":"2024-01-03T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","sourceIPAddress":"198.51.100.8",
 "userAgent":"aws-cli/2.13.0 Python/3.11.4 Linux/5.10","errorCode":"AccessDenied",
 "userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob","accessKeyId":"{key}"}},"recipientAccountId":"111122223333"}},
{{"eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","sourceIPAddress":"198.51.100.8",
 "userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob","accessKeyId":"{tmp}"}},"recipientAccountId":"111122223333"}},
{{"eventTime":"redacted","userIdentity":{{"type":"AWSService"}}}},
{{"eventTime":"redacted","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob"}}}}
]}}"#
        );
        let t = parse(&text);
        assert_eq!(t.scope(), "aws:111122223333");
        assert_eq!(
            t.warnings(),
            [
                "skipped 1 of 5 records that name no IAM user, role or root: AWSService 1",
                "1 records have no usable eventTime (for example `redacted`): they count towards \
                 addresses, agents and services but not last use"
            ]
        );
        let nhis = t.into_nhis(1);
        assert_eq!(nhis.len(), 1);
        let bob = &nhis[0];
        assert_eq!(bob.name, "bob");
        assert_eq!(bob.last_used_at, "2024-01-03T00:00:00Z".parse().ok());
        assert_eq!(bob.credentials.len(), 1);
        assert_eq!(
            bob.credentials[0].external_id.as_deref(),
            Some(key.as_str())
        );
        assert_eq!(
            bob.credentials[0].last_used_at,
            "2024-01-03T00:00:00Z".parse().ok()
        );
        let f = &bob.facts;
        assert_eq!(f["events"], json!(4));
        assert_eq!(f["first_used_at"], json!("2024-01-01T00:00:00Z"));
        assert_eq!(
            f["source_addresses"],
            json!(["198.51.100.7", "198.51.100.8"])
        );
        assert_eq!(f["services"], json!(["s3.amazonaws.com"]));
        assert_eq!(f["error_codes"], json!({"AccessDenied": 1}));
        assert_eq!(f["temporary_credentials_used"], json!(true));
        assert_eq!(f["static_cloud_key"], json!(true));
        assert_eq!(f["password_auth"], json!(true));
        assert_eq!(
            f["human_use"],
            json!([
                {"signal": "console_sign_in", "at": "2024-01-02T00:00:00Z",
                 "detail": "console sign-ins: 1 (1 succeeded, 0 failed), MFA used on 0; long-term access keys also used in this window"},
                {"signal": "interactive_user_agent", "at": "2024-01-02T00:00:00Z",
                 "detail": "interactive user agents: Mozilla/5.0 (X11)"},
                {"signal": "many_source_addresses", "at": "2024-01-03T00:00:00Z",
                 "detail": "2 distinct IP source addresses (more than 1)"},
            ])
        );
    }

    #[test]
    fn json_lines_fixture_wrappers_and_nested_records() {
        let line = |arn: &str| {
            format!(
                r#"{{"_test_name":"t","_expected_result":true,"log":{{"eventTime":"2024-01-02 03:04:05Z","recipientAccountId":"111122223333","userIdentity":{{"type":"IAMUser","arn":"{arn}"}}}}}}"#
            )
        };
        let text = format!(
            "{}\n{}\n{{\"Records\":[{{\"userIdentity\":{{\"type\":\"Root\",\"accountId\":\"222233334444\"}}}}]}}\n",
            line("arn:aws:iam::111122223333:user/a"),
            line("arn:aws:iam::111122223333:user/b")
        );
        let t = parse(&text);
        assert_eq!(t.scope(), "aws:multiple");
        let ids: Vec<_> = t.into_nhis(10).into_iter().map(|n| n.external_id).collect();
        assert_eq!(
            ids,
            [
                "arn:aws:iam::111122223333:user/a",
                "arn:aws:iam::111122223333:user/b",
                "arn:aws:iam::222233334444:root"
            ]
        );
    }

    #[test]
    fn a_log_field_without_the_fixture_marker_is_not_unwrapped() {
        let t = parse(
            r#"{"log":{"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/x"}},"userIdentity":{"type":"Root","accountId":"2"}}"#,
        );
        let ids: Vec<_> = t.into_nhis(10).into_iter().map(|n| n.external_id).collect();
        assert_eq!(ids, ["arn:aws:iam::2:root"]);
    }

    #[test]
    fn wrong_types_name_the_field() {
        let mut t = Trail::default();
        let err = t
            .read(
                Path::new("t.json"),
                b"{\"Records\":[{},\n{\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":7}}]}",
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.json:2:41: Records[1].userIdentity.arn: invalid type: integer `7`, expected a string"
        );
    }
}
