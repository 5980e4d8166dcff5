//! The connector on real install manifests: argo-cd, ingress-nginx and kube-prometheus.

use keyward_connect::Connector;
use keyward_kube::KubeManifests;
use keyward_model::NhiKind;

use crate::{corpus_dir, flag, ids, nhi, strings};

#[tokio::test]
async fn argo_cd_applied_to_its_namespace() {
    let Some(dir) = corpus_dir() else { return };
    let mut c = KubeManifests::new(vec![dir.join("argo-cd-install.yaml")]);
    c.cluster = "prod-eu".into();
    c.namespace = "argocd".into();
    assert_eq!(c.name(), "k8s-manifests");
    let d = c.discover().await.unwrap();

    assert_eq!(d.source, "kubernetes");
    assert_eq!(d.scope, "k8s:prod-eu");
    assert!(d.complete);
    assert_eq!(d.connector, "k8s-manifests");
    assert_eq!(d.parameters["namespace"], "argocd");
    assert_eq!(d.inputs.len(), 1);
    assert_eq!(d.inputs[0].bytes, Some(1_941_627));
    assert_eq!(
        ids(&d),
        [
            "prod-eu/argocd/argocd-application-controller",
            "prod-eu/argocd/argocd-applicationset-controller",
            "prod-eu/argocd/argocd-dex-server",
            "prod-eu/argocd/argocd-notifications-controller",
            "prod-eu/argocd/argocd-redis",
            "prod-eu/argocd/argocd-repo-server",
            "prod-eu/argocd/argocd-server",
        ]
    );
    assert_eq!(
        d.warnings,
        [
            "ignored 25 objects of kinds this connector does not read: ConfigMap 7, CustomResourceDefinition 3, NetworkPolicy 7, Service 8"
        ]
    );

    let controller = nhi(&d, "prod-eu/argocd/argocd-application-controller");
    assert_eq!(controller.kind, NhiKind::K8sServiceAccount);
    assert_eq!(controller.provider, "kubernetes");
    assert_eq!(controller.name, "argocd/argocd-application-controller");
    assert_eq!(
        controller.tags["app.kubernetes.io/component"],
        "application-controller"
    );
    assert!(flag(controller, "admin"));
    assert_eq!(
        strings(controller, "wildcard_permissions"),
        ["* */* cluster", "* url:* cluster"]
    );
    let grants = strings(controller, "privileged_grants");
    for g in [
        "escalate cluster",
        "bind cluster",
        "impersonate cluster",
        "read-secrets cluster",
    ] {
        assert!(grants.contains(&g.to_owned()), "{grants:?}");
    }
    // The namespace Role's secrets grant is covered by the cluster-wide one.
    assert!(!grants.contains(&"read-secrets ns:argocd".to_owned()));
    assert!(
        controller
            .observed_permissions
            .contains(&"get apps/deployments ns:argocd".to_owned())
    );
    assert_eq!(
        controller.facts["consumers"],
        serde_json::json!([{"kind": "StatefulSet", "name": "argocd-application-controller", "automount_token": true}])
    );
    assert_eq!(controller.facts["bindings"].as_array().unwrap().len(), 2);

    let server = nhi(&d, "prod-eu/argocd/argocd-server");
    assert!(!flag(server, "admin"));
    assert_eq!(
        strings(server, "wildcard_permissions"),
        [
            "delete */* cluster",
            "get */* cluster",
            "patch */* cluster",
            "update */*/finalizers cluster"
        ]
    );
    assert!(strings(server, "privileged_grants").contains(&"create-workloads cluster".to_owned()));

    let redis = nhi(&d, "prod-eu/argocd/argocd-redis");
    assert_eq!(
        redis.observed_permissions,
        [
            "create core/secrets ns:argocd",
            "get core/secrets[argocd-redis] ns:argocd"
        ]
    );
    assert_eq!(
        strings(redis, "privileged_grants"),
        ["read-secrets[argocd-redis] ns:argocd"]
    );

    // The repo server's pods opt out of the token its account would mount.
    let repo = nhi(&d, "prod-eu/argocd/argocd-repo-server");
    assert!(repo.observed_permissions.is_empty());
    assert!(flag(repo, "automount_token"));
    assert!(flag(repo, "automount_overridden"));
    assert_eq!(repo.facts["consumers"][0]["automount_token"], false);
}

#[test]
fn argo_cd_read_with_the_default_namespace_warns_about_the_mismatch() {
    let Some(dir) = corpus_dir() else { return };
    let d = KubeManifests::new(vec![dir.join("argo-cd-install.yaml")])
        .run()
        .unwrap();
    assert_eq!(d.nhis.len(), 7);
    assert!(ids(&d).iter().all(|id| id.starts_with("default/default/")));
    // The ClusterRoleBindings name `argocd/…`, which these accounts are not.
    let controller = nhi(&d, "default/default/argocd-application-controller");
    assert!(!flag(controller, "admin"));
    let mismatches: Vec<_> = d
        .warnings
        .iter()
        .filter(|w| w.contains("give that namespace"))
        .collect();
    assert_eq!(mismatches.len(), 3, "{:?}", d.warnings);
    assert!(mismatches[0].contains(
        "argo-cd-install.yaml:31715: ClusterRoleBinding argocd-application-controller names service account argocd/argocd-application-controller"
    ));
}

#[test]
fn ingress_nginx() {
    let Some(dir) = corpus_dir() else { return };
    let d = KubeManifests::new(vec![dir.join("ingress-nginx-cloud-deploy.yaml")])
        .run()
        .unwrap();
    assert_eq!(
        ids(&d),
        [
            "default/ingress-nginx/ingress-nginx",
            "default/ingress-nginx/ingress-nginx-admission"
        ]
    );
    let controller = nhi(&d, "default/ingress-nginx/ingress-nginx");
    assert_eq!(controller.tags["app.kubernetes.io/version"], "1.15.1");
    assert_eq!(
        strings(controller, "privileged_grants"),
        ["read-secrets cluster"]
    );
    let perms = &controller.observed_permissions;
    assert!(perms.contains(&"list core/secrets cluster".to_owned()));
    assert!(perms.contains(&"get core/secrets ns:ingress-nginx".to_owned()));
    assert!(!perms.contains(&"list core/secrets ns:ingress-nginx".to_owned()));
    assert!(perms.contains(
        &"get coordination.k8s.io/leases[ingress-nginx-leader] ns:ingress-nginx".to_owned()
    ));
    assert_eq!(
        controller.facts["consumers"][0]["name"],
        "ingress-nginx-controller"
    );

    let admission = nhi(&d, "default/ingress-nginx/ingress-nginx-admission");
    assert_eq!(
        admission.facts["consumers"],
        serde_json::json!([
            {"kind": "Job", "name": "ingress-nginx-admission-create", "automount_token": true},
            {"kind": "Job", "name": "ingress-nginx-admission-patch", "automount_token": true},
        ])
    );
    assert_eq!(
        strings(admission, "privileged_grants"),
        ["read-secrets ns:ingress-nginx"]
    );
    assert!(d.warnings[0].contains("Namespace 1"), "{:?}", d.warnings);
}

#[test]
fn kube_prometheus_with_lists_and_built_in_roles() {
    let Some(dir) = corpus_dir() else { return };
    let d = KubeManifests::new(vec![dir.join("kube-prometheus")])
        .run()
        .unwrap();
    // LICENSE.txt is not a manifest.
    assert_eq!(d.inputs.len(), 28);
    assert_eq!(
        ids(&d),
        [
            "default/monitoring/alertmanager-main",
            "default/monitoring/blackbox-exporter",
            "default/monitoring/grafana",
            "default/monitoring/kube-state-metrics",
            "default/monitoring/node-exporter",
            "default/monitoring/prometheus-adapter",
            "default/monitoring/prometheus-k8s",
            "default/monitoring/prometheus-operator",
        ]
    );
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);

    // The RoleBindingList binds the RoleList's Roles in three namespaces.
    let prometheus = nhi(&d, "default/monitoring/prometheus-k8s");
    assert!(flag(prometheus, "automount_token"));
    for ns in ["default", "kube-system", "monitoring"] {
        assert!(
            prometheus
                .observed_permissions
                .contains(&format!("list core/pods ns:{ns}"))
        );
    }
    assert!(
        prometheus
            .observed_permissions
            .contains(&"get url:/metrics cluster".to_owned())
    );
    assert_eq!(prometheus.facts["bindings"].as_array().unwrap().len(), 5);

    let adapter = nhi(&d, "default/monitoring/prometheus-adapter");
    assert!(!flag(adapter, "automount_token"));
    let sources: Vec<_> = adapter.facts["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["role"].as_str().unwrap(),
                b["role_source"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sources,
        [
            ("ClusterRole/prometheus-adapter", "manifest"),
            ("ClusterRole/system:auth-delegator", "builtin"),
            ("Role/extension-apiserver-authentication-reader", "builtin"),
        ]
    );
    assert!(
        adapter
            .observed_permissions
            .contains(&"create authentication.k8s.io/tokenreviews cluster".to_owned())
    );

    let operator = nhi(&d, "default/monitoring/prometheus-operator");
    assert!(!flag(operator, "admin"));
    let wild = strings(operator, "wildcard_permissions");
    assert!(
        wild.contains(&"* core/secrets cluster".to_owned()),
        "{wild:?}"
    );
    assert!(wild.contains(&"* apps/statefulsets cluster".to_owned()));
    let grants = strings(operator, "privileged_grants");
    assert_eq!(grants, ["create-workloads cluster", "read-secrets cluster"]);

    let ksm = nhi(&d, "default/monitoring/kube-state-metrics");
    assert_eq!(strings(ksm, "privileged_grants"), ["read-secrets cluster"]);
    assert_eq!(ksm.observed_permissions.len(), 80);

    // Nothing binds Grafana or Alertmanager in these files.
    let grafana = nhi(&d, "default/monitoring/grafana");
    assert!(grafana.observed_permissions.is_empty());
    assert_eq!(grafana.facts["bindings"], serde_json::json!([]));
}

#[test]
fn all_samples_together_are_one_population() {
    let Some(dir) = corpus_dir() else { return };
    let mut c = KubeManifests::new(vec![
        dir.join("kube-prometheus"),
        dir.join("ingress-nginx-cloud-deploy.yaml"),
        dir.join("argo-cd-install.yaml"),
    ]);
    c.namespace = "argocd".into();
    let d = c.run().unwrap();
    assert_eq!(d.nhis.len(), 17);
    let sorted = {
        let mut v = ids(&d);
        v.sort();
        v
    };
    assert_eq!(ids(&d), sorted);
    // kube-prometheus' `default/prometheus-k8s` RoleBinding names its namespace; argo-cd's
    // objects, which name none, land in `argocd`.
    assert!(ids(&d).contains(&"default/argocd/argocd-server"));
    assert!(ids(&d).contains(&"default/monitoring/prometheus-k8s"));
    assert_eq!(c.run().unwrap(), d, "a second run reads the same");
}

#[test]
fn the_pure_parser_reads_what_the_connector_reads() {
    let Some(dir) = corpus_dir() else { return };
    let path = dir.join("argo-cd-install.yaml");
    let bytes = std::fs::read(&path).unwrap();
    let m = keyward_kube::parse_manifests(&path, &bytes).unwrap();
    assert_eq!(m.objects(), 59);
    let resolved = m.resolve("prod-eu", "argocd");
    let mut c = KubeManifests::new(vec![path]);
    c.cluster = "prod-eu".into();
    c.namespace = "argocd".into();
    let d = c.run().unwrap();
    assert_eq!(resolved.nhis, d.nhis);
    assert_eq!(resolved.warnings, d.warnings);
}
