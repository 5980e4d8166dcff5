//! Kubernetes audit logs: the corpus samples and generated logs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use keyward_connect::{ConnectError, Connector};
use keyward_model::{NhiKind, UsageState};
use keyward_usage::{K8sAuditFiles, parse_k8s_audit};
use serde_json::{Value, json};

use crate::common::{Rng, by_id, corpus, gzip};

fn run(paths: Vec<PathBuf>, cluster: &str) -> Result<keyward_connect::Discovery, ConnectError> {
    let mut c = K8sAuditFiles::new(paths);
    c.cluster = cluster.to_owned();
    c.discover_now()
}

fn time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    s.parse().ok()
}

#[test]
fn falco_traces_report_the_controller_service_account() {
    let Some(dir) = corpus("k8s/audit/falco-k8s_audit-trace-files") else {
        return;
    };
    // Every trace but the malformed one, read as one directory.
    let tmp = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") && !p.ends_with("fal_01_003.json") {
            std::fs::copy(&p, tmp.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    let d = run(vec![tmp.path().to_owned()], "minikube").unwrap();
    assert_eq!(d.source, "kubernetes-audit");
    assert_eq!(d.connector, "k8s-audit-files");
    assert_eq!(d.scope, "k8s:minikube");
    assert!(!d.complete);
    assert_eq!(d.inputs.len(), 46);
    assert_eq!(
        d.warnings,
        ["ignored 41 audit events by 6 users that are not service accounts"]
    );
    assert_eq!(d.nhis.len(), 1);
    let rs = &d.nhis[0];
    assert_eq!(rs.external_id, "minikube/kube-system/replicaset-controller");
    assert_eq!(rs.name, "kube-system/replicaset-controller");
    assert_eq!(rs.kind, NhiKind::K8sServiceAccount);
    assert_eq!(rs.provider, "kubernetes");
    assert_eq!(rs.observed_permissions, ["create:pods"]);
    assert_eq!(rs.last_used_at, time("2018-10-26T13:49:19.465798Z"));
    assert_eq!(rs.last_used_state, UsageState::Used);
    assert_eq!(rs.facts["events"], json!(10));
    assert_eq!(
        rs.facts["first_used_at"],
        json!("2018-10-25T14:09:12.581541Z")
    );
    assert_eq!(rs.facts["source_addresses"], json!(["::1"]));
    assert_eq!(rs.facts["verbs"], json!(["create pods"]));
    assert!(!rs.facts.contains_key("human_use"));
}

#[test]
fn the_malformed_trace_fails_naming_file_line_and_field() {
    let Some(bad) = corpus("k8s/audit/falco-k8s_audit-trace-files/fal_01_003.json") else {
        return;
    };
    let want = "fal_01_003.json:1:10: kind: invalid type: integer `0`, expected a string";
    let err = run(vec![bad.clone()], "default").unwrap_err();
    assert!(matches!(err, ConnectError::Field { line: 1, .. }), "{err}");
    assert!(err.to_string().ends_with(want), "{err}");
    // In its directory it fails the whole run.
    let err = run(vec![bad.parent().unwrap().to_owned()], "default").unwrap_err();
    assert!(err.to_string().ends_with(want), "{err}");
}

#[test]
fn eks_fixture_lines_report_service_accounts_and_their_requests() {
    let Some(path) = corpus("events/panther-tests-amazon-eks-audit.jsonl") else {
        return;
    };
    let d = run(vec![path], "eks-prod").unwrap();
    assert_eq!(d.nhis.len(), 15);
    assert_eq!(
        d.warnings,
        [
            "ignored 123 audit events by 17 users that are not service accounts",
            "ignored 113 records without user.username",
        ]
    );
    let coredns = by_id(&d.nhis, "eks-prod/kube-system/coredns");
    assert_eq!(
        coredns.observed_permissions,
        ["get:endpointslices", "get:services", "watch:endpointslices"]
    );
    assert_eq!(
        coredns.facts["denied_permissions"],
        json!(["watch:endpointslices"])
    );
    assert_eq!(coredns.facts["events"], json!(11));
    assert_eq!(coredns.last_used_at, time("2022-11-29T22:46:38.013Z"));
    assert_eq!(
        coredns.facts["first_used_at"],
        json!("2022-11-29T22:40:02.903Z")
    );
    assert_eq!(
        coredns.facts["source_addresses"],
        json!(["1.2.3.4", "10.0.1.5", "10.0.27.115", "5.5.5.5", "not-an-ip"])
    );
    assert_eq!(coredns.facts["user_agents"], json!(["Go-http-client/2.0"]));

    let controller = by_id(&d.nhis, "eks-prod/kube-system/controller");
    assert_eq!(
        controller.observed_permissions,
        [
            "create:clusterrolebindings",
            "create:clusterroles",
            "create:pods",
            "create:pods/exec"
        ]
    );
    assert_eq!(
        controller.facts["denied_permissions"],
        json!(["get:secrets"])
    );
    assert_eq!(controller.facts["verbs_total"], json!(5));
    // Fixture lines without timestamps: used, but when is unknown.
    assert_eq!(controller.last_used_state, UsageState::Unknown);

    let denied = by_id(&d.nhis, "eks-prod/default/app-sa");
    assert!(denied.observed_permissions.is_empty());
    assert_eq!(denied.facts["verbs"], json!(["get secrets"]));
    let metrics = by_id(&d.nhis, "eks-prod/kube-system/kube-state-metrics");
    assert_eq!(metrics.observed_permissions, ["list:secrets"]);
}

/// One request of a generated log: who, what, how it ended.
struct Request {
    user: &'static str,
    verb: &'static str,
    resource: &'static str,
    subresource: &'static str,
    code: u16,
    agent: &'static str,
}

const KUBECTL: &str = "kubectl/v1.29.2 (darwin/arm64) kubernetes/4b8e819";
const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36";

const REQUESTS: &[Request] = &[
    Request {
        user: "system:serviceaccount:ci:deployer",
        verb: "patch",
        resource: "deployments",
        subresource: "",
        code: 200,
        agent: KUBECTL,
    },
    Request {
        user: "system:serviceaccount:ci:deployer",
        verb: "create",
        resource: "pods",
        subresource: "exec",
        code: 101,
        agent: KUBECTL,
    },
    Request {
        user: "system:serviceaccount:ci:deployer",
        verb: "get",
        resource: "secrets",
        subresource: "",
        code: 200,
        agent: "argocd-application-controller/v2.10.1",
    },
    Request {
        user: "system:serviceaccount:monitoring:prometheus",
        verb: "list",
        resource: "pods",
        subresource: "",
        code: 200,
        agent: "prometheus/2.50.1",
    },
    Request {
        user: "system:serviceaccount:monitoring:prometheus",
        verb: "watch",
        resource: "endpoints",
        subresource: "",
        code: 200,
        agent: "prometheus/2.50.1",
    },
    Request {
        user: "system:serviceaccount:monitoring:prometheus",
        verb: "get",
        resource: "",
        subresource: "",
        code: 200,
        agent: "prometheus/2.50.1",
    },
    Request {
        user: "system:serviceaccount:app:web",
        verb: "get",
        resource: "configmaps",
        subresource: "",
        code: 200,
        agent: "Go-http-client/2.0",
    },
    Request {
        user: "system:serviceaccount:app:web",
        verb: "get",
        resource: "secrets",
        subresource: "",
        code: 403,
        agent: "Go-http-client/2.0",
    },
    Request {
        user: "system:serviceaccount:kube-system:dashboard",
        verb: "list",
        resource: "namespaces",
        subresource: "",
        code: 200,
        agent: BROWSER,
    },
    Request {
        user: "alice@example.com",
        verb: "delete",
        resource: "pods",
        subresource: "",
        code: 200,
        agent: KUBECTL,
    },
    Request {
        user: "system:node:ip-10-0-1-2.eu-west-1.compute.internal",
        verb: "get",
        resource: "nodes",
        subresource: "",
        code: 200,
        agent: "kubelet/v1.29.2 (linux/amd64) kubernetes/4b8e819",
    },
    Request {
        user: "system:kube-scheduler",
        verb: "create",
        resource: "pods",
        subresource: "binding",
        code: 201,
        agent: "kube-scheduler/v1.29.2 (linux/amd64) kubernetes/4b8e819/scheduler",
    },
];

/// The audit records of one request: `RequestReceived` and its outcome, as an API server
/// logging at the `Metadata` level writes them.
fn records_of(r: &Request, n: usize, rng: &mut Rng) -> Vec<Value> {
    let ns = r.user.split(':').nth(2).unwrap_or("default");
    let micros = rng.below(500_000);
    let at = |us: usize| {
        format!(
            "2024-05-01T{:02}:{:02}:{:02}.{us:06}Z",
            8 + n / 3600,
            n / 60 % 60,
            n % 60
        )
    };
    let (received, done) = (at(micros), at(micros + 400_000));
    let ip = format!("10.0.{}.{}", rng.below(3), 10 + rng.below(4));
    let uri = if r.resource.is_empty() {
        "/metrics".to_owned()
    } else {
        format!("/api/v1/namespaces/{ns}/{}?limit=500", r.resource)
    };
    let mut base = json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": format!("{:08x}-4c2e-4e8a-9d1f-{:012x}", n, rng.below(1 << 40)),
        "requestURI": uri, "verb": r.verb,
        "user": {"username": r.user, "uid": format!("uid-{}", r.user.len()),
                 "groups": ["system:serviceaccounts", format!("system:serviceaccounts:{ns}"), "system:authenticated"],
                 "extra": {"authentication.kubernetes.io/pod-name": [format!("{ns}-7d9f8c-x2x4z")]}},
        "sourceIPs": [ip], "userAgent": r.agent,
        "requestReceivedTimestamp": received,
    });
    if !r.resource.is_empty() {
        let mut obj = json!({"resource": r.resource, "namespace": ns, "name": format!("obj-{}", n % 7), "apiVersion": "v1"});
        if !r.subresource.is_empty() {
            obj["subresource"] = json!(r.subresource);
        }
        base["objectRef"] = obj;
    }
    let mut first = base.clone();
    first["stage"] = json!("RequestReceived");
    first["stageTimestamp"] = json!(received);
    let mut last = base;
    last["stage"] = json!(if r.code == 101 {
        "ResponseStarted"
    } else {
        "ResponseComplete"
    });
    last["stageTimestamp"] = json!(done);
    last["responseStatus"] = json!({"metadata": {}, "code": r.code});
    let allowed = !matches!(r.code, 401 | 403);
    last["annotations"] = json!({
        "authorization.k8s.io/decision": if allowed { "allow" } else { "forbid" },
        "authorization.k8s.io/reason": if allowed { "RBAC: allowed by ClusterRoleBinding \"x\"" } else { "" },
    });
    vec![first, last]
}

#[test]
fn generated_logs_aggregate_as_an_independent_count_says() {
    let mut rng = Rng(0x1234_5678);
    let mut records = Vec::new();
    for n in 0..3000 {
        let r = &REQUESTS[rng.below(REQUESTS.len())];
        records.extend(records_of(r, n, &mut rng));
    }
    // Each request's records in one form or another: JSON lines, gzipped JSON lines, and an
    // EventList printed on many lines.
    let line = |rs: &[Value]| rs.iter().map(|r| format!("{r}\n")).collect::<String>();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("audit.log"), line(&records[..2500])).unwrap();
    std::fs::write(
        dir.path().join("audit-1.log.gz"),
        gzip(line(&records[2500..5000]).as_bytes()),
    )
    .unwrap();
    let list = json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {}, "items": &records[5000..]});
    std::fs::write(
        dir.path().join("list.json"),
        serde_json::to_string_pretty(&list).unwrap(),
    )
    .unwrap();

    // What each account did, read independently.
    #[derive(Default)]
    struct Want {
        events: u64,
        last: String,
        allowed: BTreeSet<String>,
        denied: BTreeSet<String>,
        agents: BTreeSet<String>,
    }
    let mut want: BTreeMap<String, Want> = BTreeMap::new();
    let mut others = 0;
    for r in &records {
        let user = r["user"]["username"].as_str().unwrap();
        let Some(sa) = user.strip_prefix("system:serviceaccount:") else {
            others += 1;
            continue;
        };
        let w = want
            .entry(format!("gen/{}", sa.replace(':', "/")))
            .or_default();
        w.events += 1;
        w.last = w
            .last
            .clone()
            .max(r["stageTimestamp"].as_str().unwrap().to_owned());
        w.agents.insert(r["userAgent"].as_str().unwrap().to_owned());
        let what = match r["objectRef"]["resource"].as_str() {
            Some(res) => match r["objectRef"]["subresource"].as_str() {
                Some(sub) => format!("{res}/{sub}"),
                None => res.to_owned(),
            },
            None => "/metrics".to_owned(),
        };
        let p = format!("{}:{what}", r["verb"].as_str().unwrap());
        match r["responseStatus"]["code"].as_u64() {
            Some(403) => {
                w.denied.insert(p);
            }
            Some(_) => {
                w.allowed.insert(p);
            }
            None => {}
        }
    }

    let d = run(vec![dir.path().to_owned()], "gen").unwrap();
    assert_eq!(d.inputs.len(), 3);
    assert_eq!(
        d.warnings,
        [format!(
            "ignored {others} audit events by 3 users that are not service accounts"
        )]
    );
    let ids: Vec<_> = d.nhis.iter().map(|n| n.external_id.clone()).collect();
    assert_eq!(ids, want.keys().cloned().collect::<Vec<_>>());
    assert_eq!(ids.len(), 4);
    for n in &d.nhis {
        let w = &want[&n.external_id];
        let id = &n.external_id;
        assert_eq!(n.facts["events"], json!(w.events), "{id}");
        assert_eq!(n.last_used_at, time(&w.last), "{id}");
        assert_eq!(
            n.observed_permissions,
            w.allowed.iter().cloned().collect::<Vec<_>>(),
            "{id}"
        );
        let denied: Vec<_> = w.denied.iter().cloned().collect();
        assert_eq!(
            n.facts
                .get("denied_permissions")
                .cloned()
                .unwrap_or(json!([])),
            json!(denied),
            "{id}"
        );
        let verbs: BTreeSet<_> = w
            .allowed
            .union(&w.denied)
            .map(|p| p.replacen(':', " ", 1))
            .collect();
        assert_eq!(n.facts["verbs"], json!(verbs), "{id}");
        assert_eq!(n.facts["user_agents_total"], json!(w.agents.len()), "{id}");
    }
    let deployer = by_id(&d.nhis, "gen/ci/deployer");
    assert_eq!(deployer.facts["human_use"][0]["signal"], "kubectl_use");
    assert_eq!(
        deployer.facts["human_use"][0]["detail"],
        format!("kubectl user agents: {KUBECTL}")
    );
    assert_eq!(
        deployer.observed_permissions,
        ["create:pods/exec", "get:secrets", "patch:deployments"]
    );
    let web = by_id(&d.nhis, "gen/app/web");
    assert_eq!(web.observed_permissions, ["get:configmaps"]);
    assert_eq!(web.facts["denied_permissions"], json!(["get:secrets"]));
    assert_eq!(
        by_id(&d.nhis, "gen/monitoring/prometheus").observed_permissions,
        ["get:/metrics", "list:pods", "watch:endpoints"]
    );
    let dashboard = by_id(&d.nhis, "gen/kube-system/dashboard");
    assert_eq!(
        dashboard.facts["human_use"][0]["signal"],
        "interactive_user_agent"
    );
    assert!(!web.facts.contains_key("human_use"));

    // The pure parser reads the same from one file's bytes.
    let bytes = std::fs::read(dir.path().join("audit.log")).unwrap();
    let nhis = parse_k8s_audit(&dir.path().join("audit.log"), &bytes, "gen").unwrap();
    assert_eq!(nhis.len(), 4);
}

#[tokio::test]
async fn the_connector_interface() {
    let c = K8sAuditFiles::new(Vec::new());
    assert_eq!(c.name(), "k8s-audit-files");
    assert_eq!(c.cluster, "default");
    assert!(matches!(
        c.discover().await.unwrap_err(),
        ConnectError::Usage(_)
    ));
    let dir = tempfile::tempdir().unwrap();
    let mut c = K8sAuditFiles::new(vec![dir.path().to_owned()]);
    c.cluster = "a/b".into();
    let err = c.discover().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "`a/b` is not a cluster name (it must be non-empty, without `/`)"
    );
    c.cluster = "prod".into();
    let d = c.discover().await.unwrap();
    assert!(d.nhis.is_empty() && d.inputs.is_empty());
    assert_eq!(
        d.parameters,
        json!({"paths": [dir.path().display().to_string()], "cluster": "prod"})
    );
}
