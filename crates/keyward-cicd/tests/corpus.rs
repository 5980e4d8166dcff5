//! The real workflows in the shared corpus.

use keyward_cicd::{CiFilesConnector, FileKind, parse_file};
use keyward_connect::ConnectError;
use keyward_model::{NhiKind, UsageState};
use serde_json::json;

use crate::support::{consumer_names, corpus_dir, flag, names, nhi, objects, run, strings, write};

/// Per sample: the NHIs one run on the file alone finds.
const FIGURES: &[(&str, &[&str])] = &[
    (
        "argo-cd__cherry-pick-single.yml",
        &[
            "GITHUB_TOKEN",
            "CHERRYPICK_APP_ID",
            "CHERRYPICK_APP_PRIVATE_KEY",
        ],
    ),
    (
        "argo-cd__ci-build.yaml",
        &[
            "GITHUB_TOKEN",
            "CODECOV_TOKEN",
            "E2E_TEST_GITHUB_TOKEN",
            "E2E_TEST_GITLAB_TOKEN",
            "SONAR_TOKEN",
        ],
    ),
    (
        "argo-cd__image-reuse.yaml",
        &[
            "GITHUB_TOKEN",
            "DOCKER_PASSWORD",
            "DOCKER_USERNAME",
            "GHCR_PASSWORD",
            "GHCR_USERNAME",
            "QUAY_PASSWORD",
            "QUAY_USERNAME",
        ],
    ),
    (
        "argo-cd__release.yaml",
        &[
            "GITHUB_TOKEN",
            "RELEASE_QUAY_TOKEN",
            "RELEASE_QUAY_USERNAME",
        ],
    ),
    (
        "cloudsplaining__publish.yml",
        &["GITHUB_TOKEN", "PYPI_PASSWORD"],
    ),
    (
        "detect-secrets__pypi.yml",
        &["GITHUB_TOKEN", "PYPI_PASSWORD"],
    ),
    (
        "detect-secrets__security-review.yml",
        &["GITHUB_TOKEN", "AWS_DEV_ACCOUNT_ID"],
    ),
    (
        "falco__reusable_publish_docker.yaml",
        &["GITHUB_TOKEN", "DOCKERHUB_SECRET", "DOCKERHUB_USER"],
    ),
    (
        "falco__reusable_publish_packages.yaml",
        &["GITHUB_TOKEN", "GPG_KEY"],
    ),
    (
        "gitleaks__gitleaks.yml",
        &["GITHUB_TOKEN", "GITLEAKS_LICENSE"],
    ),
    (
        "gitleaks__release.yml",
        &["GITHUB_TOKEN", "DOCKER_PASSWORD"],
    ),
    (
        "ingress-nginx__images.yaml",
        &["GITHUB_TOKEN", "DOCKERHUB_TOKEN", "DOCKERHUB_USERNAME"],
    ),
    (
        "panther-analysis__generate-indexes.yml",
        &[
            "GITHUB_TOKEN",
            "PANTHER_BOT_AUTOMATION_TOKEN",
            "PANTHER_BOT_GPG_PRIVATE_KEY",
            "PANTHER_BOT_GPG_PRIVATE_KEY_PASSPHRASE",
        ],
    ),
    (
        "panther-analysis__release.yml",
        &[
            "GITHUB_TOKEN",
            "AWS_REGION",
            "AWS_ROLE",
            "DIGEST_FILE",
            "KMS_KEY_ARN",
            "PANTHER_BOT_AUTOMATION_TOKEN",
            "SIGNING_ALGORITHM",
        ],
    ),
];

#[test]
fn every_sample_reads_with_the_expected_identities() {
    let Some(dir) = corpus_dir() else { return };
    let mut listed: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml") || n.ends_with(".yaml"))
        .collect();
    listed.sort();
    let figured: Vec<&str> = FIGURES.iter().map(|(f, _)| *f).collect();
    assert_eq!(listed, figured, "every sample has its figures");
    for (file, want) in FIGURES {
        let path = dir.join(file);
        let bytes = std::fs::read(&path).unwrap();
        let parsed = parse_file(&path, &bytes).unwrap().unwrap();
        assert_eq!(parsed.kind(), FileKind::GithubWorkflow, "{file}");
        let d = run(&[path], "acme/sample");
        assert_eq!(names(&d), *want, "{file}");
        assert_eq!(d.inputs.len(), 1);
        assert_eq!(d.inputs[0].bytes, Some(bytes.len() as u64));
        for n in &d.nhis {
            let kind = if n.name == "GITHUB_TOKEN" {
                NhiKind::Token
            } else {
                NhiKind::CiSecret
            };
            assert_eq!(n.kind, kind, "{file} {}", n.name);
            assert_eq!(n.provider, "github");
            assert_eq!(n.last_used_state, UsageState::Unknown);
            assert!(n.credentials.is_empty());
        }
    }
}

#[test]
fn the_whole_directory_merges_identities_and_is_deterministic() {
    let Some(dir) = corpus_dir() else { return };
    let d = run(std::slice::from_ref(&dir), "corpus");
    assert_eq!(d.source, "ci");
    assert_eq!(d.scope, "ci:corpus");
    assert!(d.complete);
    assert_eq!(d.connector, "ci-files");
    assert_eq!(d.inputs.len(), 14);
    // 47 per file; shared names (GITHUB_TOKEN, PYPI_PASSWORD, DOCKER_PASSWORD,
    // PANTHER_BOT_AUTOMATION_TOKEN) are one identity each.
    assert_eq!(d.nhis.len(), 31);
    let ids: Vec<&str> = d.nhis.iter().map(|n| n.external_id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    let pypi = nhi(&d, "github:corpus:secret:PYPI_PASSWORD");
    assert_eq!(
        consumer_names(pypi),
        [
            "cloudsplaining__publish.yml#publish-package",
            "detect-secrets__pypi.yml#deploy"
        ]
    );
    let again = run(&[dir], "corpus");
    assert_eq!(d, again);
    assert_eq!(
        serde_json::to_string(&d).unwrap(),
        serde_json::to_string(&again).unwrap()
    );
    assert_eq!(
        d.parameters,
        json!({"paths": [d.parameters["paths"][0]], "repository": "corpus"})
    );
}

#[test]
fn argo_cd_release_hands_quay_credentials_to_an_unpinned_third_party_workflow() {
    let Some(dir) = corpus_dir() else { return };
    let d = run(&[dir.join("argo-cd__release.yaml")], "argoproj/argo-cd");
    let user = nhi(&d, "github:argoproj/argo-cd:secret:RELEASE_QUAY_USERNAME");
    assert_eq!(user.kind, NhiKind::CiSecret);
    assert_eq!(user.name, "RELEASE_QUAY_USERNAME");
    let consumers = objects(user, "consumers");
    assert_eq!(consumers.len(), 2);
    assert_eq!(
        consumers[1],
        &json!({
            "kind": "job",
            "name": "argo-cd__release.yaml#argocd-image-provenance",
            "workflow": "argo-cd__release.yaml",
            "workflow_name": "Publish ArgoCD Release",
            "job": "argocd-image-provenance",
            "field": "jobs.argocd-image-provenance.secrets.registry-username",
            "events": ["push"],
        })
    );
    let slsa = "slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@v2.1.0";
    assert!(flag(user, "third_party"));
    assert_eq!(strings(user, "third_party_actions"), [slsa]);
    assert_eq!(strings(user, "unpinned_actions"), [slsa]);

    let token = nhi(&d, "github:argoproj/argo-cd:GITHUB_TOKEN");
    assert_eq!(token.kind, NhiKind::Token);
    let perms = &token.facts["token_permissions"];
    assert_eq!(perms["argo-cd__release.yaml"], json!({}));
    assert_eq!(
        perms["argo-cd__release.yaml#goreleaser-provenance"],
        json!({"actions": "read", "id-token": "write", "contents": "write"})
    );
    assert_eq!(
        strings(token, "id_token_write"),
        [
            "argo-cd__release.yaml#argocd-image",
            "argo-cd__release.yaml#argocd-image-provenance",
            "argo-cd__release.yaml#goreleaser-provenance",
            "argo-cd__release.yaml#sbom-provenance",
        ]
    );
    assert!(strings(token, "permissions_unset").is_empty());
    assert!(
        token
            .observed_permissions
            .contains(&"contents:write".to_owned())
    );
    let summary = objects(token, "consumers");
    assert_eq!(summary[0]["kind"], "workflow");
    assert_eq!(
        summary[0]["explicit_jobs"],
        json!([
            "generate-sbom",
            "goreleaser",
            "post-release",
            "setup-variables"
        ])
    );
}

#[test]
fn falco_federates_with_aws_and_passes_docker_hub_keys_to_pinned_actions() {
    let Some(dir) = corpus_dir() else { return };
    let d = run(
        &[
            dir.join("falco__reusable_publish_docker.yaml"),
            dir.join("falco__reusable_publish_packages.yaml"),
        ],
        "falcosecurity/falco",
    );
    let user = nhi(&d, "github:falcosecurity/falco:secret:DOCKERHUB_USER");
    assert_eq!(
        strings(user, "third_party_actions"),
        ["docker/login-action@343f7c4344506bcbf9b4de18042ae17996df046d"]
    );
    // Every action in the job is pinned to a commit.
    assert!(strings(user, "unpinned_actions").is_empty());
    assert!(!flag(user, "static_cloud_key"));
    let gpg = nhi(&d, "github:falcosecurity/falco:secret:GPG_KEY");
    assert_eq!(
        consumer_names(gpg),
        [
            "falco__reusable_publish_packages.yaml#publish-packages",
            "falco__reusable_publish_packages.yaml#publish-packages-deb"
        ]
    );
    assert!(!flag(gpg, "third_party"), "passed to `run`, not an action");
    let token = nhi(&d, "github:falcosecurity/falco:GITHUB_TOKEN");
    assert_eq!(
        strings(token, "oidc_roles"),
        [
            "arn:aws:iam::292999226676:role/github_actions-falco${{ inputs.bucket_suffix }}-s3",
            "arn:aws:iam::292999226676:role/github_actions-falco-ecr",
        ]
    );
    let fed = objects(token, "oidc_federation");
    assert_eq!(fed.len(), 3);
    assert_eq!(
        fed[0],
        &json!({
            "job": "falco__reusable_publish_docker.yaml#publish-docker",
            "cloud": "aws",
            "role": "arn:aws:iam::292999226676:role/github_actions-falco-ecr"
        })
    );
}

#[test]
fn unpinned_and_first_party_actions_are_reported_apart() {
    let Some(dir) = corpus_dir() else { return };
    let d = run(
        &[dir.join("detect-secrets__pypi.yml")],
        "Yelp/detect-secrets",
    );
    let pypi = nhi(&d, "github:Yelp/detect-secrets:secret:PYPI_PASSWORD");
    assert_eq!(
        strings(pypi, "unpinned_actions"),
        ["pypa/gh-action-pypi-publish@release/v1"]
    );
    assert_eq!(
        strings(pypi, "unpinned_first_party_actions"),
        ["actions/checkout@v4", "actions/setup-python@v5"]
    );
    assert_eq!(
        objects(pypi, "consumers")[0]["step"],
        "Publish package",
        "the step's name"
    );
    let token = nhi(&d, "github:Yelp/detect-secrets:GITHUB_TOKEN");
    assert_eq!(
        strings(token, "permissions_unset"),
        [
            "detect-secrets__pypi.yml#deploy",
            "detect-secrets__pypi.yml#tox"
        ]
    );
    assert_eq!(
        token.facts["token_permissions"]["detect-secrets__pypi.yml"],
        "unset"
    );
}

#[test]
fn security_review_assumes_a_role_named_with_a_secret() {
    let Some(dir) = corpus_dir() else { return };
    let d = run(
        &[dir.join("detect-secrets__security-review.yml")],
        "Yelp/detect-secrets",
    );
    let account = nhi(&d, "github:Yelp/detect-secrets:secret:AWS_DEV_ACCOUNT_ID");
    assert_eq!(
        objects(account, "consumers")[0]["field"],
        "jobs.security.steps[1].with.role-to-assume"
    );
    assert!(
        !flag(account, "static_cloud_key"),
        "an account id is no key"
    );
    assert!(!flag(account, "pull_request_target"), "plain pull_request");
    let token = nhi(&d, "github:Yelp/detect-secrets:GITHUB_TOKEN");
    assert_eq!(
        strings(token, "oidc_roles"),
        ["arn:aws:iam::${{ secrets.AWS_DEV_ACCOUNT_ID }}:role/security-review-bot"]
    );
    assert_eq!(
        strings(token, "id_token_write"),
        ["detect-secrets__security-review.yml#security"]
    );
}

#[test]
fn gitleaks_and_panther_pass_licences_and_keys_to_third_parties() {
    let Some(dir) = corpus_dir() else { return };
    // In gitleaks' own repository its action is first party…
    let d = run(&[dir.join("gitleaks__gitleaks.yml")], "gitleaks/gitleaks");
    let licence = nhi(&d, "github:gitleaks/gitleaks:secret:GITLEAKS_LICENSE");
    assert!(!flag(licence, "third_party"));
    let token = nhi(&d, "github:gitleaks/gitleaks:GITHUB_TOKEN");
    assert_eq!(
        strings(token, "permissions_unset"),
        ["gitleaks__gitleaks.yml#scan"]
    );
    assert_eq!(
        objects(token, "consumers")[0]["explicit_jobs"],
        json!(["scan"])
    );
    // …in a fork it is someone else's.
    let d = run(&[dir.join("gitleaks__gitleaks.yml")], "someone/gitleaks");
    let licence = nhi(&d, "github:someone/gitleaks:secret:GITLEAKS_LICENSE");
    assert!(flag(licence, "third_party"));
    assert_eq!(
        strings(licence, "third_party_actions"),
        ["gitleaks/gitleaks-action@e0c47f4f8be36e29cdc102c57e68cb5cbf0e8d1e"]
    );
    assert_eq!(
        objects(licence, "consumers")[0]["events"],
        json!(["push", "workflow_dispatch"])
    );

    let d = run(
        &[dir.join("panther-analysis__generate-indexes.yml")],
        "panther-labs/panther-analysis",
    );
    let bot = nhi(
        &d,
        "github:panther-labs/panther-analysis:secret:PANTHER_BOT_AUTOMATION_TOKEN",
    );
    assert_eq!(
        objects(bot, "consumers")[0]["field"],
        "jobs.generate-indexes.env.GITHUB_TOKEN"
    );
    assert!(!flag(bot, "third_party"), "a job-level env is not a step's");
    let key = nhi(
        &d,
        "github:panther-labs/panther-analysis:secret:PANTHER_BOT_GPG_PRIVATE_KEY",
    );
    assert_eq!(
        strings(key, "third_party_actions"),
        ["crazy-max/ghaction-import-gpg@2dc316deee8e90f13e1a351ab510b4d5bc0c82cd"]
    );
    assert_eq!(objects(key, "consumers")[0]["step"], "Import GPG key");
}

#[test]
fn ingress_nginx_inherits_secrets_to_a_template_not_read() {
    let Some(dir) = corpus_dir() else { return };
    let d = run(
        &[dir.join("ingress-nginx__images.yaml")],
        "kubernetes/ingress-nginx",
    );
    let token = nhi(&d, "github:kubernetes/ingress-nginx:GITHUB_TOKEN");
    let inherit = objects(token, "secrets_inherit");
    assert_eq!(inherit.len(), 7);
    assert_eq!(
        inherit[0],
        &json!({
            "job": "ingress-nginx__images.yaml#cfssl",
            "uses": "./.github/workflows/zz-tmpl-images.yaml",
            "third_party": false,
            "resolved": false
        })
    );
    assert_eq!(d.warnings.len(), 7);
    assert!(
        d.warnings[0].contains("`secrets: inherit`"),
        "{}",
        d.warnings[0]
    );
    let docker = nhi(&d, "github:kubernetes/ingress-nginx:secret:DOCKERHUB_TOKEN");
    assert_eq!(consumer_names(docker), ["ingress-nginx__images.yaml#nginx"]);
}

#[test]
fn argo_cd_workflows_in_a_repository_resolve_reusable_calls() {
    let Some(dir) = corpus_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("argo-cd");
    for (sample, name) in [
        ("argo-cd__release.yaml", "release.yaml"),
        ("argo-cd__image-reuse.yaml", "image-reuse.yaml"),
        ("argo-cd__cherry-pick-single.yml", "cherry-pick-single.yml"),
    ] {
        let text = std::fs::read_to_string(dir.join(sample)).unwrap();
        write(&repo, &format!(".github/workflows/{name}"), &text);
    }
    // The repository's name comes from its directory.
    let d = CiFilesConnector::new(vec![repo]).read().unwrap();
    assert_eq!(d.scope, "ci:argo-cd");
    assert_eq!(
        names(&d),
        [
            "GITHUB_TOKEN",
            "CHERRYPICK_APP_ID",
            "CHERRYPICK_APP_PRIVATE_KEY",
            "RELEASE_QUAY_TOKEN",
            "RELEASE_QUAY_USERNAME"
        ],
        "image-reuse's own secret names are parameters the caller maps"
    );
    let token = nhi(&d, "github:argo-cd:secret:RELEASE_QUAY_TOKEN");
    let consumers = objects(token, "consumers");
    let called: Vec<_> = consumers
        .iter()
        .filter(|c| c.get("called_by").is_some())
        .collect();
    assert_eq!(called.len(), 1);
    assert_eq!(
        called[0],
        &&json!({
            "kind": "job",
            "name": ".github/workflows/image-reuse.yaml#publish",
            "workflow": ".github/workflows/image-reuse.yaml",
            "workflow_name": "Publish and Sign Container Image",
            "job": "publish",
            "step": "Login to Quay.io",
            "field": "jobs.publish.steps[9].with.password",
            "events": ["push"],
            "called_by": ".github/workflows/release.yaml#argocd-image"
        })
    );
    assert!(
        strings(token, "third_party_actions")
            .contains(&"docker/login-action@dbcb813823bdd20940b903addbd779551569679f".to_owned())
    );
    // Cherry-pick is only ever called from elsewhere: its secrets are its parameters.
    let app = nhi(&d, "github:argo-cd:secret:CHERRYPICK_APP_ID");
    assert!(flag(app, "workflow_call_secret"));
}

#[test]
fn truncated_and_mistyped_samples_fail_naming_file_and_position() {
    let Some(dir) = corpus_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(dir.join("argo-cd__release.yaml")).unwrap();
    let cut = text.find("base64-subjects: '").unwrap() + 25;
    let path = tmp.path().join("release.yaml");
    std::fs::write(&path, &text[..cut]).unwrap();
    let err = CiFilesConnector::new(vec![path.clone()])
        .with_repository("argoproj/argo-cd")
        .read()
        .unwrap_err();
    let ConnectError::Syntax { path: p, line, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(p, &path);
    assert!(*line > 100, "{err}");
    assert!(err.to_string().contains("invalid YAML"), "{err}");

    let text = std::fs::read_to_string(dir.join("argo-cd__cherry-pick-single.yml")).unwrap();
    let bad = text.replacen("permissions: {}", "permissions: [contents]", 1);
    std::fs::write(&path, bad).unwrap();
    let err = CiFilesConnector::new(vec![path.clone()])
        .with_repository("argoproj/argo-cd")
        .read()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:29:14: permissions: expected a mapping, found a list",
            path.display()
        )
    );
}
