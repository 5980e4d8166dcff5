//! The production cluster: manifests of two namespaces as `kubectl get -o yaml` or a GitOps
//! repository holds them, and a day of the API server's audit log.

use rand::Rng;
use serde_json::json;

use super::{Ctx, rfc3339};

/// The payments service account's workloads: three deployments share one identity.
const PAYMENTS_WORKLOADS: [&str; 3] = ["payments-api", "payments-worker", "payments-webhooks"];

/// `kubectl` on a Mac.
const KUBECTL_LAPTOP: &str = "kubectl/v1.30.2 (darwin/arm64) kubernetes/3968350";
/// Argo CD's controller.
const ARGOCD: &str = "argocd-application-controller/v2.11.3 (linux/amd64) kubernetes/8e3a5bc";
/// The payments API's client.
const PAYMENTS_CLIENT: &str = "payments-api/1.42.0 (linux/amd64) kubernetes/$Format";

/// The Kubernetes files, relative to the sources directory.
pub(super) fn files(ctx: &mut Ctx) -> Vec<(String, String)> {
    let payments_owner = ctx.member("payments", 2);
    vec![
        (
            "kubernetes/manifests/payments.yaml".to_owned(),
            payments(ctx, &payments_owner),
        ),
        (
            "kubernetes/manifests/platform.yaml".to_owned(),
            platform(ctx),
        ),
        (
            "kubernetes/audit/kube-apiserver-audit.log".to_owned(),
            audit(ctx),
        ),
    ]
}

fn deployment(name: &str, image_tag: &str, replicas: u32) -> String {
    format!(
        "---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: payments
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: payments
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
      serviceAccountName: payments-api
      containers:
        - name: {name}
          image: registry.northwind.internal/payments/{name}:{image_tag}
          ports:
            - containerPort: 8080
          envFrom:
            - secretRef:
                name: payments-db
"
    )
}

fn payments(ctx: &mut Ctx, owner: &str) -> String {
    let days = ctx.rng.gen_range(300..=700);
    let created = rfc3339(ctx.ago(days, 0));
    let tag = format!("1.42.{}", ctx.rng.gen_range(0..20));
    let mut out = format!(
        "# The payments namespace, as the GitOps repository holds it.
apiVersion: v1
kind: Namespace
metadata:
  name: payments
  labels:
    team: payments
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: payments-api
  namespace: payments
  creationTimestamp: \"{created}\"
  labels:
    team: payments
  annotations:
    keyward.io/owner: {owner}
    keyward.io/environment: production
    keyward.io/purpose: Runs the payments API and its workers
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: payments-config-reader
  namespace: payments
rules:
  - apiGroups: [\"\"]
    resources: [configmaps, secrets]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: payments-api-config
  namespace: payments
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: payments-config-reader
subjects:
  - kind: ServiceAccount
    name: payments-api
    namespace: payments
"
    );
    for (i, name) in PAYMENTS_WORKLOADS.iter().enumerate() {
        out.push_str(&deployment(name, &tag, if i == 0 { 3 } else { 2 }));
    }
    out
}

fn platform(ctx: &mut Ctx) -> String {
    let days = ctx.rng.gen_range(700..=1200);
    let created = rfc3339(ctx.ago(days, 0));
    format!(
        "# The platform namespace: the CI deployer and its long-lived token.
apiVersion: v1
kind: Namespace
metadata:
  name: platform
  labels:
    team: platform
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: ci-deployer
  namespace: platform
  creationTimestamp: \"{created}\"
  labels:
    team: platform
  annotations:
    keyward.io/owner: team:platform
    keyward.io/environment: production
    description: Applies releases from CI
---
apiVersion: v1
kind: Secret
metadata:
  name: ci-deployer-token
  namespace: platform
  annotations:
    kubernetes.io/service-account.name: ci-deployer
type: kubernetes.io/service-account-token
---
# Granted during an incident \"until Monday\".
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ci-deployer-cluster-admin
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
  - kind: ServiceAccount
    name: ci-deployer
    namespace: platform
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: argocd-application-controller
  namespace: platform
  annotations:
    keyward.io/owner: team:platform
    keyward.io/environment: production
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: argocd-application-controller-edit
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: edit
subjects:
  - kind: ServiceAccount
    name: argocd-application-controller
    namespace: platform
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: argocd-application-controller
  namespace: platform
spec:
  replicas: 1
  serviceName: argocd-application-controller
  selector:
    matchLabels:
      app.kubernetes.io/name: argocd-application-controller
  template:
    metadata:
      labels:
        app.kubernetes.io/name: argocd-application-controller
    spec:
      serviceAccountName: argocd-application-controller
      containers:
        - name: application-controller
          image: quay.io/argoproj/argocd:v2.11.3
"
    )
}

/// One audit event, as the API server logs it at the `Metadata` level.
struct Request<'a> {
    account: (&'a str, &'a str),
    verb: &'a str,
    resource: &'a str,
    namespace: &'a str,
    name: &'a str,
    agent: &'a str,
    ip: String,
    secs_ago: i64,
    reason: &'a str,
}

fn audit(ctx: &mut Ctx) -> String {
    let laptop = format!("192.0.2.{}", ctx.rng.gen_range(10..=250));
    let node = |ctx: &mut Ctx| {
        format!(
            "10.40.{}.{}",
            ctx.rng.gen_range(0..8),
            ctx.rng.gen_range(2..250)
        )
    };
    let cluster_admin = "RBAC: allowed by ClusterRoleBinding \"ci-deployer-cluster-admin\" of ClusterRole \"cluster-admin\" to ServiceAccount \"ci-deployer/platform\"";
    let config = "RBAC: allowed by RoleBinding \"payments-api-config/payments\" of Role \"payments-config-reader\" to ServiceAccount \"payments-api/payments\"";
    let edit = "RBAC: allowed by ClusterRoleBinding \"argocd-application-controller-edit\" of ClusterRole \"edit\" to ServiceAccount \"argocd-application-controller/platform\"";
    let mut requests = Vec::new();
    // Someone holding the CI deployer's token reads the payments database secret from a laptop.
    for (i, (verb, resource, name)) in (0i64..).zip([
        ("list", "secrets", ""),
        ("get", "secrets", "payments-db"),
        ("get", "pods", ""),
    ]) {
        requests.push(Request {
            account: ("platform", "ci-deployer"),
            verb,
            resource,
            namespace: "payments",
            name,
            agent: KUBECTL_LAPTOP,
            ip: laptop.clone(),
            secs_ago: 30_000 - 40 * i,
            reason: cluster_admin,
        });
    }
    for (i, workload) in (0i64..).zip(PAYMENTS_WORKLOADS) {
        let ip = node(ctx);
        requests.push(Request {
            account: ("platform", "argocd-application-controller"),
            verb: "patch",
            resource: "deployments",
            namespace: "payments",
            name: workload,
            agent: ARGOCD,
            ip,
            secs_ago: 20_000 - 3_000 * i,
            reason: edit,
        });
    }
    for i in 0..3i64 {
        let ip = node(ctx);
        requests.push(Request {
            account: ("payments", "payments-api"),
            verb: "get",
            resource: "configmaps",
            namespace: "payments",
            name: "payments-api-config",
            agent: PAYMENTS_CLIENT,
            ip,
            secs_ago: 9_000 - 2_500 * i,
            reason: config,
        });
    }
    requests.sort_by_key(|r| -r.secs_ago);
    let mut out = String::new();
    for r in requests {
        let at = ctx.ago(0, r.secs_ago);
        let (ns, sa) = r.account;
        let mut object = json!({"resource": r.resource, "namespace": r.namespace, "apiVersion": if r.resource == "deployments" { "apps/v1" } else { "v1" }});
        let group = if r.resource == "deployments" {
            "/apis/apps/v1"
        } else {
            "/api/v1"
        };
        let uri = if r.name.is_empty() {
            format!("{group}/namespaces/{}/{}", r.namespace, r.resource)
        } else {
            object["name"] = json!(r.name);
            format!(
                "{group}/namespaces/{}/{}/{}",
                r.namespace, r.resource, r.name
            )
        };
        let event = json!({
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "Metadata",
            "auditID": audit_id(ctx),
            "stage": "ResponseComplete",
            "requestURI": uri,
            "verb": r.verb,
            "user": {
                "username": format!("system:serviceaccount:{ns}:{sa}"),
                "uid": audit_id(ctx),
                "groups": ["system:serviceaccounts", format!("system:serviceaccounts:{ns}"), "system:authenticated"],
            },
            "sourceIPs": [r.ip],
            "userAgent": r.agent,
            "objectRef": object,
            "responseStatus": {"metadata": {}, "code": 200},
            "requestReceivedTimestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "stageTimestamp": (at + chrono::Duration::milliseconds(12)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "annotations": {
                "authorization.k8s.io/decision": "allow",
                "authorization.k8s.io/reason": r.reason,
            },
        });
        out.push_str(&event.to_string());
        out.push('\n');
    }
    out
}

fn audit_id(ctx: &mut Ctx) -> String {
    let h = ctx.chars(b"0123456789abcdef", 32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
