//! Kubernetes audit logs: `audit.k8s.io/v1` events, one per line, or `EventList`s.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use keyward_connect::{ConnectError, Connector, Discovery, Inputs, facts};
use keyward_model::{DiscoveredNhi, Facts, NhiKind, UsageState};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::json;

use crate::agg::{
    AgentSignal, Distinct, Partial, earlier, is_browser, is_log_file, later, read_all, rfc3339,
};
use crate::cloudtrail::default_threads;
use crate::json::{Loose, Str, Timestamp, clip, for_each_value};

/// The source Kubernetes audit discoveries report.
pub const K8S_AUDIT_SOURCE: &str = "kubernetes-audit";
/// The provider of Kubernetes service accounts.
const PROVIDER: &str = "kubernetes";
/// Distinct source addresses listed per account.
const ADDRESS_CAP: usize = 50;
/// Distinct user agents listed per account.
const AGENT_CAP: usize = 20;
/// Distinct `verb resource` pairs listed per account.
const VERB_CAP: usize = 100;
/// Distinct impersonators listed per account.
const IMPERSONATOR_CAP: usize = 20;
/// The prefix of a service account's user name.
const SA_PREFIX: &str = "system:serviceaccount:";

/// Reads Kubernetes API-server audit logs from files: JSON lines of `audit.k8s.io/v1`
/// `Event`s, or `EventList` documents with `items`.
#[derive(Debug, Clone)]
pub struct K8sAuditFiles {
    /// Files, or directories searched (recursively) for `*.json`, `*.jsonl`, `*.ndjson`,
    /// `*.log` and their `.gz`.
    pub paths: Vec<PathBuf>,
    /// The cluster's name, the first part of every external id and of the scope.
    pub cluster: String,
    /// Files read at once.
    pub threads: usize,
}

impl K8sAuditFiles {
    /// The connector's stable name.
    pub const NAME: &'static str = "k8s-audit-files";

    /// Reads `paths` as the cluster `default`, two files at once (one on a single core).
    pub fn new(paths: Vec<PathBuf>) -> Self {
        Self {
            paths,
            cluster: "default".to_owned(),
            threads: default_threads(),
        }
    }

    /// Reads every input, synchronously.
    pub fn discover_now(&self) -> Result<Discovery, ConnectError> {
        if self.paths.is_empty() {
            return Err(ConnectError::Usage(
                "give at least one Kubernetes audit log file or directory".into(),
            ));
        }
        if self.cluster.is_empty() || self.cluster.contains('/') {
            return Err(ConnectError::Usage(format!(
                "`{}` is not a cluster name (it must be non-empty, without `/`)",
                self.cluster
            )));
        }
        let files = Inputs::find(&self.paths, is_log_file)?;
        let (audit, inputs) = read_all::<Audit>(&files, self.threads)?;
        let warnings = audit.warnings();
        Ok(Discovery {
            source: K8S_AUDIT_SOURCE.to_owned(),
            scope: format!("k8s:{}", self.cluster),
            complete: false,
            connector: Self::NAME,
            connector_version: env!("CARGO_PKG_VERSION"),
            inputs,
            parameters: json!({
                "paths": self.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                "cluster": self.cluster,
            }),
            nhis: audit.into_nhis(&self.cluster),
            warnings,
        })
    }
}

impl Connector for K8sAuditFiles {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn discover(&self) -> Result<Discovery, ConnectError> {
        self.discover_now()
    }
}

/// Parses one audit log's content (JSON lines of events, an `EventList`, or the
/// test-fixture wrapper) into the service accounts it names, in `cluster`.
pub fn parse_k8s_audit(
    path: &Path,
    bytes: &[u8],
    cluster: &str,
) -> Result<Vec<DiscoveredNhi>, ConnectError> {
    let mut audit = Audit::default();
    audit.read(path, bytes)?;
    Ok(audit.into_nhis(cluster))
}

/// One top-level value or list item: an `Event`, an `EventList`, or a test fixture's wrapper
/// (`log` beside `_test_name`). Only the fields read are listed.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    #[serde(borrow, default)]
    kind: Option<Str<'a>>,
    #[serde(borrow, default)]
    items: Option<Vec<Record<'a>>>,
    #[serde(borrow, default)]
    log: Loose<Record<'a>>,
    #[serde(rename = "_test_name", default)]
    test_name: Option<IgnoredAny>,
    #[serde(borrow, default)]
    user: Option<User<'a>>,
    #[serde(borrow, default)]
    impersonated_user: Option<User<'a>>,
    #[serde(borrow, default)]
    verb: Option<Str<'a>>,
    #[serde(borrow, default)]
    object_ref: Option<ObjectRef<'a>>,
    #[serde(rename = "requestURI", borrow, default)]
    request_uri: Option<Str<'a>>,
    #[serde(rename = "sourceIPs", borrow, default)]
    source_ips: Option<Vec<Str<'a>>>,
    #[serde(borrow, default)]
    user_agent: Option<Str<'a>>,
    #[serde(default)]
    request_received_timestamp: Option<Timestamp>,
    #[serde(default)]
    stage_timestamp: Option<Timestamp>,
    #[serde(borrow, default)]
    stage: Option<Str<'a>>,
    #[serde(default)]
    response_status: Option<Status>,
    #[serde(borrow, default)]
    annotations: Option<Annotations<'a>>,
}

/// `user` and `impersonatedUser`.
#[derive(Debug, Default, Deserialize)]
struct User<'a> {
    #[serde(borrow, default)]
    username: Option<Str<'a>>,
}

/// `objectRef`.
#[derive(Debug, Default, Deserialize)]
struct ObjectRef<'a> {
    #[serde(borrow, default)]
    resource: Option<Str<'a>>,
    #[serde(borrow, default)]
    subresource: Option<Str<'a>>,
}

/// `responseStatus`.
#[derive(Debug, Default, Deserialize)]
struct Status {
    #[serde(default)]
    code: Option<i64>,
}

/// `annotations`: only the authorizer's decision is read.
#[derive(Debug, Default, Deserialize)]
struct Annotations<'a> {
    #[serde(rename = "authorization.k8s.io/decision", borrow, default)]
    decision: Option<Str<'a>>,
}

/// What a request's outcome says about a permission.
#[derive(Debug, Default, Clone, Copy)]
struct Outcomes {
    allowed: bool,
    denied: bool,
    /// Seen only at a stage before authorization (`RequestReceived`), outcome unknown.
    pending: bool,
}

impl Outcomes {
    fn merge(&mut self, o: Outcomes) {
        self.allowed |= o.allowed;
        self.denied |= o.denied;
        self.pending |= o.pending;
    }

    /// Held: allowed once, or seen only before authorization and never denied.
    fn held(self) -> bool {
        self.allowed || (self.pending && !self.denied)
    }
}

/// What the logs say about one service account.
#[derive(Debug, Default)]
struct Account {
    events: u64,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    addresses: Distinct,
    agents: Distinct,
    kubectl: AgentSignal,
    browser: AgentSignal,
    impersonators: Distinct,
    /// `verb:resource` → outcomes.
    permissions: HashMap<String, Outcomes>,
}

impl Account {
    fn merge(&mut self, o: Account) {
        self.events += o.events;
        self.first = earlier(self.first, o.first);
        self.last = later(self.last, o.last);
        self.addresses.merge(o.addresses);
        self.agents.merge(o.agents);
        self.kubectl.merge(o.kubectl);
        self.browser.merge(o.browser);
        self.impersonators.merge(o.impersonators);
        for (p, out) in o.permissions {
            self.permissions.entry(p).or_default().merge(out);
        }
    }

    fn permission(&mut self, permission: &str, outcome: Outcomes) {
        match self.permissions.get_mut(permission) {
            Some(o) => o.merge(outcome),
            None => {
                self.permissions.insert(permission.to_owned(), outcome);
            }
        }
    }
}

/// Everything read so far: accounts by `<namespace>/<name>`, and counts for the warnings.
#[derive(Debug, Default)]
pub(crate) struct Audit {
    accounts: HashMap<String, Account>,
    other_users: u64,
    other_user_names: Distinct,
    no_user: u64,
    other_kinds: HashMap<String, u64>,
}

impl Partial for Audit {
    fn read(&mut self, path: &Path, bytes: &[u8]) -> Result<(), ConnectError> {
        for_each_value(path, bytes, |r: Record<'_>| self.value(r))
    }

    fn merge(&mut self, o: Audit) {
        for (id, acct) in o.accounts {
            self.accounts.entry(id).or_default().merge(acct);
        }
        self.other_users += o.other_users;
        self.other_user_names.merge(o.other_user_names);
        self.no_user += o.no_user;
        for (k, n) in o.other_kinds {
            *self.other_kinds.entry(k).or_default() += n;
        }
    }
}

impl Audit {
    fn value(&mut self, mut r: Record<'_>) {
        if let Some(items) = r.items.take() {
            for item in items {
                self.value(item);
            }
            return;
        }
        if r.test_name.is_some()
            && let Some(log) = r.log.0.take()
        {
            return self.value(*log);
        }
        match r.kind.as_deref() {
            None | Some("Event") => self.event(&r),
            Some(other) => {
                *self
                    .other_kinds
                    .entry(clip(other).into_owned())
                    .or_default() += 1
            }
        }
    }

    fn event(&mut self, r: &Record<'_>) {
        let user = r.user.as_ref().and_then(|u| u.username.as_deref());
        let Some(user) = user else {
            self.no_user += 1;
            return;
        };
        let impersonated = r
            .impersonated_user
            .as_ref()
            .and_then(|u| u.username.as_deref());
        let own = service_account(user);
        let as_sa = impersonated.and_then(service_account);
        if own.is_none() && as_sa.is_none() {
            self.other_users += 1;
            self.other_user_names.add(user);
            return;
        }
        let at = later(
            r.request_received_timestamp.map(|t| t.0),
            r.stage_timestamp.map(|t| t.0),
        );
        let permission = permission_of(r);
        let outcome = outcome_of(r);
        if let Some(id) = own {
            let acct = self.account(id);
            use_of(acct, r, at);
            match impersonated {
                // Impersonating needs `impersonate` on the impersonated kind; the request's
                // own permission is the impersonated identity's.
                Some(target) => {
                    let what = if service_account(target).is_some() {
                        "serviceaccounts"
                    } else {
                        "users"
                    };
                    acct.permission(&format!("impersonate:{what}"), outcome);
                }
                None => {
                    if let Some(p) = &permission {
                        acct.permission(p, outcome);
                    }
                }
            }
        }
        if let Some(id) = as_sa {
            let acct = self.account(id);
            use_of(acct, r, at);
            acct.impersonators.add(user);
            if let Some(p) = &permission {
                acct.permission(p, outcome);
            }
        }
    }

    fn account(&mut self, id: String) -> &mut Account {
        self.accounts.entry(id).or_default()
    }

    fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.other_users > 0 {
            out.push(format!(
                "ignored {} audit events by {} users that are not service accounts",
                self.other_users,
                self.other_user_names.len()
            ));
        }
        if self.no_user > 0 {
            out.push(format!(
                "ignored {} records without user.username",
                self.no_user
            ));
        }
        if !self.other_kinds.is_empty() {
            let mut kinds: Vec<_> = self.other_kinds.iter().collect();
            kinds.sort();
            let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
            out.push(format!(
                "ignored objects that are not audit events: {}",
                kinds.join(", ")
            ));
        }
        out
    }

    fn into_nhis(self, cluster: &str) -> Vec<DiscoveredNhi> {
        let mut accounts: Vec<_> = self.accounts.into_iter().collect();
        accounts.sort_by(|a, b| a.0.cmp(&b.0));
        accounts
            .into_iter()
            .map(|(id, acct)| nhi(cluster, &id, &acct))
            .collect()
    }
}

/// `<namespace>/<name>` of a service account's user name `system:serviceaccount:<ns>:<name>`.
fn service_account(user: &str) -> Option<String> {
    let (ns, name) = user.strip_prefix(SA_PREFIX)?.split_once(':')?;
    let ok = |s: &str| !s.is_empty() && !s.contains([':', '/']);
    (ok(ns) && ok(name)).then(|| format!("{ns}/{name}"))
}

/// The use one record shows: its time, addresses and agent.
fn use_of(acct: &mut Account, r: &Record<'_>, at: Option<DateTime<Utc>>) {
    acct.events += 1;
    acct.first = earlier(acct.first, at);
    acct.last = later(acct.last, at);
    for ip in r.source_ips.iter().flatten().filter(|s| !s.is_empty()) {
        acct.addresses.add(ip);
    }
    if let Some(agent) = r.user_agent.as_deref().filter(|s| !s.is_empty()) {
        acct.agents.add(agent);
        if agent.starts_with("kubectl/") {
            acct.kubectl.add(agent, at);
        } else if is_browser(agent) {
            acct.browser.add(agent, at);
        }
    }
}

/// `verb:resource[/subresource]`, or `verb:/path` for a request to a non-resource URL.
fn permission_of(r: &Record<'_>) -> Option<String> {
    let verb = r.verb.as_deref().filter(|v| !v.is_empty())?;
    let resource = r.object_ref.as_ref().and_then(|o| o.resource.as_deref());
    match resource.filter(|s| !s.is_empty()) {
        Some(res) => match r
            .object_ref
            .as_ref()
            .and_then(|o| o.subresource.as_deref())
            .filter(|s| !s.is_empty())
        {
            Some(sub) => Some(format!("{verb}:{res}/{sub}")),
            None => Some(format!("{verb}:{res}")),
        },
        None => {
            let uri = r.request_uri.as_deref()?;
            let path = uri.split('?').next().unwrap_or(uri);
            path.starts_with('/').then(|| format!("{verb}:{path}"))
        }
    }
}

/// Whether the request was allowed: the authorizer's decision, else the response code; a
/// record of the `RequestReceived` stage comes before both.
fn outcome_of(r: &Record<'_>) -> Outcomes {
    if r.stage.as_deref() == Some("RequestReceived") {
        return Outcomes {
            pending: true,
            ..Outcomes::default()
        };
    }
    let decision = r.annotations.as_ref().and_then(|a| a.decision.as_deref());
    let code = r.response_status.as_ref().and_then(|s| s.code);
    let denied = decision == Some("forbid") || matches!(code, Some(401 | 403));
    let allowed = !denied && (decision == Some("allow") || code.is_some());
    Outcomes {
        allowed,
        denied,
        pending: !denied && !allowed,
    }
}

fn nhi(cluster: &str, id: &str, acct: &Account) -> DiscoveredNhi {
    let mut nhi = DiscoveredNhi::new(
        NhiKind::K8sServiceAccount,
        PROVIDER,
        format!("{cluster}/{id}"),
        id,
    );
    nhi.last_used_at = acct.last;
    if acct.last.is_some() {
        nhi.last_used_state = UsageState::Used;
    }
    let mut held: Vec<&str> = acct
        .permissions
        .iter()
        .filter(|(_, o)| o.held())
        .map(|(p, _)| p.as_str())
        .collect();
    held.sort_unstable();
    nhi.observed_permissions = held.iter().map(|p| (*p).to_owned()).collect();

    let mut f = Facts::new();
    f.insert("events".into(), json!(acct.events));
    if let Some(t) = acct.first {
        f.insert("first_used_at".into(), json!(rfc3339(t)));
    }
    acct.addresses
        .emit(&mut f, facts::SOURCE_ADDRESSES, ADDRESS_CAP);
    acct.agents.emit(&mut f, facts::USER_AGENTS, AGENT_CAP);
    acct.impersonators
        .emit(&mut f, "impersonated_by", IMPERSONATOR_CAP);
    let mut verbs = Distinct::default();
    let mut denied = Vec::new();
    for (p, o) in &acct.permissions {
        verbs.add(&p.replacen(':', " ", 1));
        if o.denied {
            denied.push(p.as_str());
        }
    }
    verbs.emit(&mut f, "verbs", VERB_CAP);
    if !denied.is_empty() {
        denied.sort_unstable();
        denied.truncate(VERB_CAP);
        f.insert("denied_permissions".into(), json!(denied));
    }
    let human: Vec<_> = [
        acct.kubectl.signal("kubectl_use", "kubectl user agents"),
        acct.browser
            .signal("interactive_user_agent", "browser user agents"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !human.is_empty() {
        f.insert(facts::HUMAN_USE.into(), json!(human));
    }
    nhi.facts = f;
    nhi
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Audit, Vec<DiscoveredNhi>) {
        let mut a = Audit::default();
        a.read(Path::new("audit.log"), text.as_bytes()).unwrap();
        let mut b = Audit::default();
        b.read(Path::new("audit.log"), text.as_bytes()).unwrap();
        (a, b.into_nhis("prod"))
    }

    #[test]
    fn service_account_names() {
        assert_eq!(
            service_account("system:serviceaccount:kube-system:coredns").as_deref(),
            Some("kube-system/coredns")
        );
        for no in [
            "system:serviceaccount:ns",
            "system:serviceaccount::x",
            "system:serviceaccount:a:b:c",
            "admin",
            "system:node:n1",
        ] {
            assert_eq!(service_account(no), None, "{no}");
        }
    }

    #[test]
    fn aggregates_use_permissions_and_signals() {
        let ev = |verb: &str, res: &str, sub: &str, code: u16, stage: &str, ua: &str, ts: &str| {
            format!(
                r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"x","stage":"{stage}","requestURI":"/api/v1/x","verb":"{verb}","user":{{"username":"system:serviceaccount:ci:deployer","groups":["system:serviceaccounts"]}},"sourceIPs":["10.0.0.9"],"userAgent":"{ua}","objectRef":{{"resource":"{res}","subresource":"{sub}","namespace":"ci","apiVersion":"v1"}},"responseStatus":{{"metadata":{{}},"code":{code}}},"requestReceivedTimestamp":"{ts}","stageTimestamp":"{ts}"}}"#
            )
        };
        let text = [
            ev("get", "secrets", "", 200, "ResponseComplete", "kubectl/v1.29.0 (darwin/arm64) kubernetes/abc", "2024-05-01T10:00:00.000001Z"),
            ev("create", "pods", "exec", 101, "ResponseStarted", "Mozilla/5.0 (X11)", "2024-05-02T10:00:00Z"),
            ev("delete", "nodes", "", 403, "ResponseComplete", "argo/v3", "2024-04-01T10:00:00Z"),
            r#"{"kind":"Event","verb":"get","user":{"username":"alice@example.com"}}"#.to_owned(),
            r#"{"kind":"Event","verb":"get"}"#.to_owned(),
            r#"{"kind":"EventList","items":[{"verb":"list","objectRef":{"resource":"pods"},"stage":"RequestReceived","user":{"username":"system:serviceaccount:ci:deployer"}}]}"#.to_owned(),
            r#"{"kind":"Status","code":500}"#.to_owned(),
        ]
        .join("\n");
        let (audit, nhis) = parse(&text);
        assert_eq!(
            audit.warnings(),
            [
                "ignored 1 audit events by 1 users that are not service accounts",
                "ignored 1 records without user.username",
                "ignored objects that are not audit events: Status 1",
            ]
        );
        assert_eq!(nhis.len(), 1);
        let n = &nhis[0];
        assert_eq!(n.external_id, "prod/ci/deployer");
        assert_eq!(n.name, "ci/deployer");
        assert_eq!(n.kind, NhiKind::K8sServiceAccount);
        assert_eq!(n.last_used_at, "2024-05-02T10:00:00Z".parse().ok());
        assert_eq!(
            n.observed_permissions,
            ["create:pods/exec", "get:secrets", "list:pods"]
        );
        let f = &n.facts;
        assert_eq!(f["events"], json!(4));
        assert_eq!(f["first_used_at"], json!("2024-04-01T10:00:00Z"));
        assert_eq!(
            f["verbs"],
            json!([
                "create pods/exec",
                "delete nodes",
                "get secrets",
                "list pods"
            ])
        );
        assert_eq!(f["denied_permissions"], json!(["delete:nodes"]));
        assert_eq!(f["source_addresses"], json!(["10.0.0.9"]));
        assert_eq!(f["user_agents_total"], json!(3));
        assert_eq!(
            f["human_use"],
            json!([
                {"signal": "kubectl_use", "at": "2024-05-01T10:00:00.000001Z",
                 "detail": "kubectl user agents: kubectl/v1.29.0 (darwin/arm64) kubernetes/abc"},
                {"signal": "interactive_user_agent", "at": "2024-05-02T10:00:00Z",
                 "detail": "browser user agents: Mozilla/5.0 (X11)"},
            ])
        );
    }

    #[test]
    fn impersonation_credits_both_accounts() {
        let text = r#"{"verb":"get","objectRef":{"resource":"configmaps"},"responseStatus":{"code":200},
            "user":{"username":"system:serviceaccount:ops:runner"},
            "impersonatedUser":{"username":"system:serviceaccount:app:web"}}
            {"verb":"get","objectRef":{"resource":"secrets"},"responseStatus":{"code":200},
            "user":{"username":"bob@example.com"},"impersonatedUser":{"username":"system:serviceaccount:app:web"}}"#;
        let (_, nhis) = parse(text);
        let by: HashMap<_, _> = nhis.iter().map(|n| (n.external_id.as_str(), n)).collect();
        assert_eq!(
            by["prod/ops/runner"].observed_permissions,
            ["impersonate:serviceaccounts"]
        );
        let web = by["prod/app/web"];
        assert_eq!(web.observed_permissions, ["get:configmaps", "get:secrets"]);
        assert_eq!(
            web.facts["impersonated_by"],
            json!(["bob@example.com", "system:serviceaccount:ops:runner"])
        );
        assert_eq!(web.last_used_state, UsageState::Unknown);
    }

    #[test]
    fn non_resource_urls_and_bad_timestamps() {
        let (_, nhis) = parse(
            r#"{"verb":"get","requestURI":"/healthz?verbose=1","responseStatus":{"code":200},"user":{"username":"system:serviceaccount:a:b"}}"#,
        );
        assert_eq!(nhis[0].observed_permissions, ["get:/healthz"]);
        let err = Audit::default()
            .read(
                Path::new("a.log"),
                br#"{"user":{"username":"x"},"stageTimestamp":"soon"}"#,
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "a.log:1:48: stageTimestamp: not a timestamp: `soon`"
        );
    }
}
