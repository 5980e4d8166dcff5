//! The connector on a rendered chart built here: Helm's `# Source:` documents, a JSON `List`,
//! a gzipped file, token secrets with values (built at test time), built-in and aggregated
//! roles, group subjects, implicit and undefined accounts.

use std::io::Write;
use std::path::Path;

use keyward_kube::KubeManifests;
use keyward_model::{CredentialKind, Environment, OwnerRef};
use serde_json::json;

use crate::{flag, ids, nhi, strings, write};

/// A JWT-shaped service-account token value, assembled so no such literal is in the repo.
fn token_value() -> String {
    let part = |s: &str| {
        s.bytes()
            .map(|b| char::from(b'A' + b % 26))
            .collect::<String>()
    };
    format!(
        "{}{}.{}.{}",
        "eyJ",
        part("header-of-a-kubernetes-token"),
        part("claims: system:serviceaccount:payments:payments-api"),
        part("signature").repeat(8)
    )
}

/// A chart for a payments service as `helm template` renders it.
fn rendered_chart(token: &str) -> String {
    format!(
        r#"---
# Source: payments/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: payments-api
  namespace: payments
  labels:
    app.kubernetes.io/name: payments-api
    app.kubernetes.io/instance: payments
    app.kubernetes.io/managed-by: Helm
    helm.sh/chart: payments-1.4.2
  annotations:
    keyward.io/owner: team:payments
    description: Serves the payments API to the storefront
    keyward.io/environment: production
  creationTimestamp: "2026-03-01T09:30:00Z"
automountServiceAccountToken: false
---
# Source: payments/templates/token.yaml
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: payments-api-token
  namespace: payments
  annotations:
    kubernetes.io/service-account.name: payments-api
  creationTimestamp: "2026-03-01T09:31:00Z"
data:
  token: {token}
  namespace: cGF5bWVudHM=
---
# Source: payments/templates/disabled.yaml
# (rendered empty: the feature is off)
---
# Source: payments/templates/rbac.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: payments-db-secret
  namespace: payments
rules:
- apiGroups: [""]
  resources: ["secrets"]
  resourceNames: ["payments-db"]
  verbs: ["get"]
---
# Source: payments/templates/rbac.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: payments-api
  namespace: payments
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: payments-db-secret
subjects:
- kind: ServiceAccount
  name: payments-api
---
# Source: payments/templates/rbac.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: payments-worker-edit
  namespace: payments
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: edit
subjects:
- kind: User
  apiGroup: rbac.authorization.k8s.io
  name: system:serviceaccount:payments:payments-worker
- kind: User
  apiGroup: rbac.authorization.k8s.io
  name: alice@example.com
---
# Source: payments/templates/metrics.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: payments-metrics-view
  labels:
    rbac.authorization.k8s.io/aggregate-to-view: "true"
rules:
- apiGroups: ["metrics.k8s.io"]
  resources: ["pods"]
  verbs: ["get", "list"]
---
# Source: payments/templates/monitoring.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: payments-monitoring
aggregationRule:
  clusterRoleSelectors:
  - matchLabels:
      example.com/aggregate-to-payments-monitoring: "true"
  - matchExpressions:
    - key: example.com/tier
      operator: In
      values: ["gold", "platinum"]
rules: []  # filled by the aggregation controller
---
# Source: payments/templates/monitoring.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: payments-servicemonitors
  labels:
    example.com/aggregate-to-payments-monitoring: "true"
rules:
- apiGroups: ["monitoring.coreos.com"]
  resources: ["servicemonitors"]
  verbs: ["create", "update"]
---
# Source: payments/templates/monitoring.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: payments-gold-widgets
  labels:
    example.com/tier: gold
rules:
- apiGroups: ["widgets.example.com"]
  resources: ["widgets"]
  verbs: ["get"]
---
# Source: payments/templates/monitoring.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: payments-bronze-widgets
  labels:
    example.com/tier: bronze
rules:
- apiGroups: ["widgets.example.com"]
  resources: ["widgets"]
  verbs: ["delete"]
---
# Source: payments/templates/monitoring.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: payments-monitoring
  namespace: payments
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: payments-monitoring
subjects:
- kind: ServiceAccount
  name: payments-worker
  namespace: payments
---
# Source: payments/templates/view.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: payments-accounts-view
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: view
subjects:
- kind: Group
  apiGroup: rbac.authorization.k8s.io
  name: system:serviceaccounts:payments
---
# Source: payments/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
  namespace: payments
spec:
  replicas: 3
  selector:
    matchLabels: &selector
      app.kubernetes.io/name: payments-api
  template:
    metadata:
      labels: *selector
    spec:
      serviceAccountName: payments-api
      automountServiceAccountToken: true
      containers:
      - name: api
        image: registry.example.com/payments/api:1.4.2
        ports:
        - containerPort: 8080
---
# Source: payments/templates/worker.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: payments-worker
  namespace: payments
spec:
  serviceName: payments-worker
  selector:
    matchLabels: {{app: payments-worker}}
  template:
    metadata:
      labels: {{app: payments-worker}}
    spec:
      serviceAccountName: payments-worker
      containers:
      - name: worker
        image: registry.example.com/payments/worker:1.4.2
---
# Source: payments/templates/migrate.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: payments-migrate
  namespace: payments
  annotations:
    helm.sh/hook: pre-upgrade
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: registry.example.com/payments/migrate:1.4.2
---
# Source: payments/templates/networkpolicy.yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: payments-api
  namespace: payments
spec:
  podSelector: {{}}
"#
    )
}

/// The worker's account, as `kubectl get -o json` prints a list of one.
const WORKER_JSON: &str = r#"{
    "apiVersion": "v1",
    "kind": "List",
    "items": [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {
                "name": "payments-worker",
                "namespace": "payments",
                "annotations": {"owner": "Alice@Example.com", "keyward.io/purpose": "Settles card payments overnight"},
                "labels": {"app": "payments-worker"},
                "creationTimestamp": "2026-02-11T17:04:55Z"
            }
        }
    ],
    "metadata": {"resourceVersion": ""}
}"#;

/// An operations chart: a nightly deploy job whose account another team creates, bound to
/// cluster-admin.
const OPS: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ops-deployer-cluster-admin
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- kind: ServiceAccount
  name: deployer
  namespace: ops
- kind: ServiceAccount
  name: ghost
  namespace: ops
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly-deploy
  namespace: ops
spec:
  schedule: "0 2 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          serviceAccount: deployer
          restartPolicy: OnFailure
          containers:
          - name: deploy
            image: registry.example.com/ops/deployer:7
"#;

fn gzip(text: &str) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

fn setup(dir: &Path) -> String {
    let token = token_value();
    write(dir, "charts/payments/rendered.yaml", rendered_chart(&token));
    write(dir, "charts/payments/worker-sa.json", WORKER_JSON);
    write(dir, "ops/deployer.yml.gz", gzip(OPS));
    write(
        dir,
        "charts/payments/Chart.yaml",
        "apiVersion: v2\nname: payments\nversion: 1.4.2\n",
    );
    write(dir, "README.md", "kind: ServiceAccount\n");
    token
}

#[test]
fn a_rendered_chart_resolves_accounts_rbac_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let token = setup(dir.path());
    let mut c = KubeManifests::new(vec![dir.path().to_owned()]);
    c.cluster = "prod".into();
    let d = c.run().unwrap();

    assert_eq!(d.inputs.len(), 4, "{:?}", d.inputs);
    assert_eq!(
        ids(&d),
        [
            "prod/ops/deployer",
            "prod/payments/default",
            "prod/payments/payments-api",
            "prod/payments/payments-worker",
        ]
    );

    let api = nhi(&d, "prod/payments/payments-api");
    assert_eq!(api.owner, Some(OwnerRef::Team("payments".into())));
    assert_eq!(
        api.purpose.as_deref(),
        Some("Serves the payments API to the storefront")
    );
    assert_eq!(api.environment, Some(Environment::Production));
    assert_eq!(api.created_at, "2026-03-01T09:30:00Z".parse().ok());
    assert_eq!(api.tags["helm.sh/chart"], "payments-1.4.2");
    assert!(!flag(api, "automount_token"));
    assert!(flag(api, "automount_overridden"));
    assert_eq!(
        api.facts["consumers"],
        json!([{"kind": "Deployment", "name": "payments-api", "automount_token": true}])
    );
    assert_eq!(
        strings(api, "long_lived_token_secrets"),
        ["payments-api-token"]
    );
    assert!(flag(api, "token_value_in_manifest"));
    assert_eq!(api.credentials.len(), 1);
    let cred = &api.credentials[0];
    assert_eq!(cred.kind, CredentialKind::Token);
    assert_eq!(
        cred.external_id.as_deref(),
        Some("prod/payments/secret/payments-api-token")
    );
    assert_eq!(cred.fingerprint, None);
    assert_eq!(cred.created_at, "2026-03-01T09:31:00Z".parse().ok());
    assert_eq!(
        strings(api, "privileged_grants"),
        ["read-secrets[payments-db] ns:payments"]
    );
    let perms = &api.observed_permissions;
    assert!(perms.contains(&"get core/secrets[payments-db] ns:payments".to_owned()));
    // Built-in view, through the namespace's group, with the chart's role aggregated into it.
    assert!(perms.contains(&"list apps/deployments cluster".to_owned()));
    assert!(perms.contains(&"get metrics.k8s.io/pods cluster".to_owned()));
    assert!(!perms.iter().any(|p| p.starts_with("list core/secrets")));
    assert_eq!(
        api.facts["bindings"],
        json!([
            {"binding": "payments-accounts-view", "kind": "ClusterRoleBinding", "role": "ClusterRole/view",
             "scope": "cluster", "role_source": "builtin", "subject": "Group system:serviceaccounts:payments"},
            {"binding": "payments/payments-api", "kind": "RoleBinding", "role": "Role/payments-db-secret",
             "scope": "ns:payments", "role_source": "manifest", "subject": "ServiceAccount payments/payments-api"},
        ])
    );

    let worker = nhi(&d, "prod/payments/payments-worker");
    assert_eq!(
        worker.owner,
        Some(OwnerRef::Person("alice@example.com".into()))
    );
    assert_eq!(
        worker.purpose.as_deref(),
        Some("Settles card payments overnight")
    );
    assert!(flag(worker, "defined_in_manifests"));
    assert_eq!(
        strings(worker, "privileged_grants"),
        [
            "create-pods ns:payments",
            "create-token ns:payments",
            "create-workloads ns:payments",
            "impersonate ns:payments",
            "pods-attach ns:payments",
            "pods-exec ns:payments",
            "read-secrets ns:payments",
        ]
    );
    let perms = &worker.observed_permissions;
    // Aggregated by label and by expression; the bronze role matches neither selector.
    assert!(perms.contains(&"create monitoring.coreos.com/servicemonitors ns:payments".to_owned()));
    assert!(perms.contains(&"get widgets.example.com/widgets ns:payments".to_owned()));
    assert!(!perms.iter().any(|p| p.starts_with("delete widgets")));
    assert_eq!(worker.facts["bindings"].as_array().unwrap().len(), 3);
    assert_eq!(
        worker.facts["bindings"][2]["subject"],
        "User system:serviceaccount:payments:payments-worker"
    );

    let default = nhi(&d, "prod/payments/default");
    assert!(flag(default, "implicit_default"));
    assert!(!flag(default, "defined_in_manifests"));
    assert_eq!(
        default.facts["consumers"],
        json!([{"kind": "Job", "name": "payments-migrate", "automount_token": true}])
    );
    assert!(
        default
            .observed_permissions
            .contains(&"get core/pods cluster".to_owned())
    );

    let deployer = nhi(&d, "prod/ops/deployer");
    assert!(!flag(deployer, "defined_in_manifests"));
    assert!(flag(deployer, "admin"));
    assert_eq!(deployer.facts.get("implicit_default"), None);
    assert_eq!(
        deployer.observed_permissions,
        ["* */* cluster", "* url:* cluster"]
    );
    assert_eq!(deployer.facts["consumers"][0]["kind"], "CronJob");

    assert_eq!(d.warnings.len(), 3, "{:?}", d.warnings);
    assert!(d.warnings[0].ends_with(
        "deployer.yml.gz:1: ClusterRoleBinding ops-deployer-cluster-admin names service account ops/ghost, which the manifests neither define nor run; it is not reported"
    ), "{}", d.warnings[0]);
    assert_eq!(
        d.warnings[1],
        "ignored 1 objects of kinds this connector does not read: NetworkPolicy 1"
    );
    assert_eq!(
        d.warnings[2],
        "skipped 1 documents that are not Kubernetes objects (no `kind`)"
    );

    let out = serde_json::to_string(&d).unwrap();
    assert!(!out.contains(&token), "the token value leaked");
    assert!(!out.contains(&token[..20]));
}

#[test]
fn runs_are_reproducible_whatever_the_order_of_paths() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let a = dir.path().join("charts");
    let b = dir.path().join("ops");
    let one = KubeManifests::new(vec![a.clone(), b.clone()])
        .run()
        .unwrap();
    let again = KubeManifests::new(vec![a.clone(), b.clone()])
        .run()
        .unwrap();
    assert_eq!(one, again);
    let other = KubeManifests::new(vec![b, a]).run().unwrap();
    assert_eq!(one.nhis, other.nhis);
}

#[test]
fn defining_an_account_twice_merges_it_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(
        dir.path(),
        "a.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: builder\n  namespace: ci\n  labels: {team: build}\n",
    );
    let second = write(
        dir.path(),
        "b.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: builder\n  namespace: ci\n  labels: {tier: gold}\nautomountServiceAccountToken: false\n",
    );
    let d = KubeManifests::new(vec![first, second]).run().unwrap();
    assert_eq!(ids(&d), ["default/ci/builder"]);
    let n = &d.nhis[0];
    assert_eq!(n.tags.len(), 2);
    assert!(!flag(n, "automount_token"));
    assert!(
        d.warnings[0].contains("service account ci/builder is defined again"),
        "{:?}",
        d.warnings
    );
}

#[test]
fn a_binding_to_a_role_nobody_defines_is_reported_as_missing() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "rb.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: web}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: app-reader, namespace: web}\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}\n\
         subjects: [{kind: ServiceAccount, name: app}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: app-ns-admin, namespace: web}\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n\
         subjects: [{kind: Group, name: system:serviceaccounts}]\n",
    );
    let d = KubeManifests::new(vec![f]).run().unwrap();
    let n = nhi(&d, "default/web/app");
    assert_eq!(n.facts["bindings"][1]["role_source"], "missing");
    // cluster-admin through a RoleBinding is all of one namespace, not the cluster.
    assert!(!flag(n, "admin"));
    assert_eq!(strings(n, "wildcard_permissions"), ["* */* ns:web"]);
    assert!(
        d.warnings[0]
            .contains("refers to Role web/reader, which is neither in the manifests nor built in"),
        "{:?}",
        d.warnings
    );
}

#[test]
fn json_that_yaml_cannot_read_is_still_read() {
    // `kubectl get -o json | jq` escapes characters beyond the BMP as surrogate pairs.
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "sa.json",
        r#"{"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "cards", "namespace": "payments",
                         "annotations": {"description": "\ud83d\udcb3 card tokenisation"}}}"#,
    );
    let d = KubeManifests::new(vec![f]).run().unwrap();
    assert_eq!(
        nhi(&d, "default/payments/cards").purpose.as_deref(),
        Some("\u{1f4b3} card tokenisation")
    );
}
