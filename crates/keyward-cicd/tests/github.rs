//! A generated GitHub repository: reusable workflows, composite actions, environments,
//! static keys beside OIDC, `pull_request_target`.

use std::path::Path;

use keyward_cicd::{CiFilesConnector, discover_bytes};
use keyward_connect::{ConnectError, Connector};
use keyward_model::{Environment, NhiKind};
use serde_json::json;

use crate::support::{
    ALNUM, consumer_names, flag, names, nhi, objects, random, run, strings, write,
};

const CHECKOUT: &str = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683";
const AWS_PINNED: &str =
    "aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502";
const LOGIN: &str = "docker/login-action@74a5d142397b4f367a81961eba4e8cd7edddf772";

/// The deploy workflow, with an inline key made for this run.
pub fn deploy_workflow(inline_key: &str) -> String {
    format!(
        r#"name: Deploy
on:
  push:
    branches: [main]
  workflow_dispatch:

permissions:
  contents: read

env:
  SLACK_WEBHOOK: ${{{{ secrets.SLACK_WEBHOOK_URL }}}}

jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: {CHECKOUT}
      - name: Setup toolchain
        uses: ./.github/actions/setup
        with:
          npm-token: ${{{{ secrets.NPM_TOKEN }}}}
      - uses: ACME/internal-lint@v2
      - run: make build

  deploy-prod:
    needs: build
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@v4
      - name: Configure AWS (static keys)
        uses: aws-actions/configure-aws-credentials@v4
        with:
          aws-access-key-id: ${{{{ secrets.PROD_AWS_KEY_ID }}}}
          aws-secret-access-key: ${{{{ secrets.PROD_AWS_SECRET }}}}
          aws-region: eu-west-1
      - name: Deploy
        run: ./deploy.sh
        env:
          DATABASE_URL: ${{{{ secrets.DATABASE_URL }}}}
          LEGACY_API_KEY: {inline_key}

  deploy-staging:
    runs-on: ubuntu-latest
    environment:
      name: staging
      url: https://staging.example.com
    permissions:
      id-token: write
      contents: read
    steps:
      - uses: {AWS_PINNED}
        with:
          role-to-assume: arn:aws:iam::123456789012:role/payments-staging-deploy
          aws-region: eu-west-1
      - run: ./deploy.sh
        env:
          DATABASE_URL: ${{{{ secrets.DATABASE_URL }}}}

  other-clouds:
    runs-on: ubuntu-latest
    environment: prod-eu
    steps:
      - uses: google-github-actions/auth@v2
        with:
          credentials_json: ${{{{ secrets.GCP_DEPLOY_JSON }}}}
      - uses: azure/login@v2
        with:
          creds: ${{{{ secrets.AZURE_CREDENTIALS }}}}
      - uses: docker://ghcr.io/acme/tool:latest
        env:
          API_TOKEN: ${{{{ secrets.TOOL_TOKEN }}}}
      - run: echo '${{{{ toJSON(secrets) }}}}' > /dev/null

  release:
    needs: build
    uses: ./.github/workflows/release-reusable.yml
    secrets: inherit

  publish:
    uses: ./.github/workflows/publish-reusable.yml
    secrets:
      registry_password: ${{{{ secrets.GHCR_PAT }}}}

  external:
    uses: other-org/shared-workflows/.github/workflows/scan.yml@main
    secrets: inherit
"#
    )
}

const RELEASE_REUSABLE: &str = r#"on:
  workflow_call:
jobs:
  tag:
    runs-on: ubuntu-latest
    permissions:
      contents: write
    steps:
      - run: gh release create "$GITHUB_REF_NAME"
        env:
          GH_TOKEN: ${{ secrets.RELEASE_BOT_TOKEN }}
"#;

fn publish_reusable() -> String {
    format!(
        r#"on:
  workflow_call:
    secrets:
      registry_password:
        required: true
jobs:
  push:
    runs-on: ubuntu-latest
    steps:
      - uses: {LOGIN}
        with:
          registry: ghcr.io
          username: acme-bot
          password: ${{{{ secrets.registry_password }}}}
"#
    )
}

const PR_TARGET: &str = r#"name: PR checks
on:
  pull_request_target:
    types: [opened, synchronize]
jobs:
  label:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: npm ci && npm test
        env:
          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
          GH_TOKEN: ${{ github.token }}
"#;

const SETUP_ACTION: &str = r#"name: Setup toolchain
description: Installs Node and authenticates to the registry
inputs:
  npm-token:
    description: registry token
    required: true
runs:
  using: composite
  steps:
    - uses: actions/setup-node@v4
      with:
        node-version: 20
    - uses: some-vendor/npm-auth@v1
      with:
        token: ${{ inputs.npm-token }}
    - run: npm ci
      shell: bash
"#;

fn repository(root: &Path, inline_key: &str) {
    write(
        root,
        ".github/workflows/deploy.yml",
        &deploy_workflow(inline_key),
    );
    write(
        root,
        ".github/workflows/release-reusable.yml",
        RELEASE_REUSABLE,
    );
    write(
        root,
        ".github/workflows/publish-reusable.yml",
        &publish_reusable(),
    );
    write(root, ".github/workflows/pr-checks.yaml", PR_TARGET);
    write(root, ".github/workflows/README.md", "not a workflow\n");
    write(root, ".github/actions/setup/action.yml", SETUP_ACTION);
}

#[test]
fn a_repository_of_workflows_and_actions() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("payments");
    let inline_key = random(7, 32, ALNUM);
    repository(&root, &inline_key);
    let d = run(std::slice::from_ref(&root), "acme/payments");
    assert_eq!(d.inputs.len(), 5, "four workflows and one action");
    assert_eq!(
        names(&d),
        [
            "GITHUB_TOKEN",
            "AZURE_CREDENTIALS",
            "DATABASE_URL",
            "GCP_DEPLOY_JSON",
            "GHCR_PAT",
            "NPM_TOKEN",
            "PROD_AWS_KEY_ID",
            "PROD_AWS_SECRET",
            "RELEASE_BOT_TOKEN",
            "SLACK_WEBHOOK_URL",
            "TOOL_TOKEN",
        ]
    );

    // Static AWS keys, by use, with OIDC to AWS elsewhere in the repository.
    let key = nhi(&d, "github:acme/payments:secret:PROD_AWS_KEY_ID");
    assert_eq!(key.kind, NhiKind::CiSecret);
    assert!(flag(key, "static_cloud_key"));
    assert_eq!(key.facts["cloud"], "aws");
    assert!(flag(key, "federation_available"));
    assert_eq!(key.environment, Some(Environment::Production));
    assert_eq!(
        strings(key, "unpinned_actions"),
        ["aws-actions/configure-aws-credentials@v4"]
    );
    assert_eq!(
        strings(key, "unpinned_first_party_actions"),
        ["actions/checkout@v4"]
    );
    let c = &objects(key, "consumers")[0];
    assert_eq!(c["environment"], "production");
    assert_eq!(
        c["field"],
        "jobs.deploy-prod.steps[1].with.aws-access-key-id"
    );
    assert_eq!(c["step"], "Configure AWS (static keys)");

    // GCP and Azure keys, no federation with those clouds.
    let gcp = nhi(&d, "github:acme/payments:secret:GCP_DEPLOY_JSON");
    assert_eq!(gcp.facts["cloud"], "gcp");
    assert!(!flag(gcp, "federation_available"));
    assert_eq!(gcp.environment, Some(Environment::Production), "prod-eu");
    let azure = nhi(&d, "github:acme/payments:secret:AZURE_CREDENTIALS");
    assert_eq!(azure.facts["cloud"], "azure");

    // One secret, two environments: no single environment.
    let db = nhi(&d, "github:acme/payments:secret:DATABASE_URL");
    assert_eq!(db.environment, None);
    assert_eq!(strings(db, "environments"), ["production", "staging"]);
    assert!(!flag(db, "static_cloud_key"));

    // A workflow-level env reaches every job that runs steps (not the reusable calls).
    let slack = nhi(&d, "github:acme/payments:secret:SLACK_WEBHOOK_URL");
    assert_eq!(
        consumer_names(slack),
        [
            ".github/workflows/deploy.yml#build",
            ".github/workflows/deploy.yml#deploy-prod",
            ".github/workflows/deploy.yml#deploy-staging",
            ".github/workflows/deploy.yml#other-clouds"
        ]
    );
    assert!(
        objects(slack, "consumers")
            .iter()
            .all(|c| c["field"] == "env.SLACK_WEBHOOK")
    );

    // Through a local composite action to a third-party one; and a pull_request_target
    // job checking out the pull request's head.
    let npm = nhi(&d, "github:acme/payments:secret:NPM_TOKEN");
    assert!(flag(npm, "third_party"));
    assert_eq!(
        strings(npm, "third_party_actions"),
        ["some-vendor/npm-auth@v1"]
    );
    assert_eq!(
        strings(npm, "unpinned_actions"),
        ["some-vendor/npm-auth@v1"]
    );
    assert_eq!(
        strings(npm, "unpinned_first_party_actions"),
        [
            "ACME/internal-lint@v2",
            "actions/checkout@v4",
            "actions/setup-node@v4"
        ],
        "the repository's own owner counts as first party"
    );
    assert!(flag(npm, "pull_request_target"));
    assert_eq!(
        strings(npm, "pull_request_target_workflows"),
        [".github/workflows/pr-checks.yaml"]
    );
    assert!(flag(npm, "checks_out_pr_head"));
    assert_eq!(
        consumer_names(npm),
        [
            ".github/workflows/deploy.yml#build",
            ".github/workflows/pr-checks.yaml#label"
        ]
    );

    // A Docker action by tag.
    let tool = nhi(&d, "github:acme/payments:secret:TOOL_TOKEN");
    assert_eq!(
        strings(tool, "third_party_actions"),
        ["docker://ghcr.io/acme/tool:latest"]
    );
    assert!(
        strings(tool, "unpinned_actions").contains(&"docker://ghcr.io/acme/tool:latest".to_owned())
    );

    // `secrets: inherit` into a workflow read in the run.
    let bot = nhi(&d, "github:acme/payments:secret:RELEASE_BOT_TOKEN");
    assert_eq!(
        objects(bot, "consumers"),
        [&json!({
            "kind": "job",
            "name": ".github/workflows/release-reusable.yml#tag",
            "workflow": ".github/workflows/release-reusable.yml",
            "job": "tag",
            "field": "jobs.tag.steps[0].env.GH_TOKEN",
            "events": ["push", "workflow_dispatch"],
            "called_by": ".github/workflows/deploy.yml#release"
        })]
    );
    assert!(!flag(bot, "workflow_call_secret"));

    // A mapped secret: the caller's name, passed on to a pinned third-party action.
    let pat = nhi(&d, "github:acme/payments:secret:GHCR_PAT");
    assert_eq!(
        consumer_names(pat),
        [
            ".github/workflows/deploy.yml#publish",
            ".github/workflows/publish-reusable.yml#push"
        ]
    );
    assert_eq!(strings(pat, "third_party_actions"), [LOGIN]);
    assert!(strings(pat, "unpinned_actions").is_empty());

    let token = nhi(&d, "github:acme/payments:GITHUB_TOKEN");
    assert_eq!(token.kind, NhiKind::Token);
    assert_eq!(token.name, "GITHUB_TOKEN");
    assert_eq!(
        strings(token, "oidc_roles"),
        ["arn:aws:iam::123456789012:role/payments-staging-deploy"]
    );
    assert_eq!(
        strings(token, "id_token_write"),
        [".github/workflows/deploy.yml#deploy-staging"]
    );
    // A called workflow's job that sets none gets what its caller grants.
    assert_eq!(
        strings(token, "permissions_unset"),
        [".github/workflows/pr-checks.yaml#label"]
    );
    assert_eq!(
        token.facts["token_permissions"][".github/workflows/publish-reusable.yml#push"],
        json!({"contents": "read"})
    );
    assert_eq!(
        token.facts["token_permissions"][".github/workflows/release-reusable.yml#tag"],
        json!({"contents": "write"})
    );
    assert!(flag(token, "pull_request_target"));
    assert!(flag(token, "checks_out_pr_head"));
    assert_eq!(
        objects(token, "secrets_inherit"),
        [
            &json!({"job": ".github/workflows/deploy.yml#external", "uses": "other-org/shared-workflows/.github/workflows/scan.yml@main", "third_party": true, "resolved": false}),
            &json!({"job": ".github/workflows/deploy.yml#release", "uses": "./.github/workflows/release-reusable.yml", "third_party": false, "resolved": true}),
        ]
    );
    assert_eq!(
        strings(token, "literal_secrets"),
        [".github/workflows/deploy.yml: jobs.deploy-prod.steps[2].env.LEGACY_API_KEY"]
    );
    let pr = objects(token, "consumers")
        .into_iter()
        .find(|c| c["name"] == ".github/workflows/pr-checks.yaml")
        .unwrap();
    assert_eq!(pr["explicit_jobs"], json!(["label"]));
    assert_eq!(
        token.observed_permissions,
        ["contents:read", "contents:write", "id-token:write"]
    );

    let warnings = d.warnings.join("\n");
    assert!(
        warnings.contains("reads secrets by a computed name"),
        "{warnings}"
    );
    assert!(
        warnings.contains("deploy.yml#external: hands every secret"),
        "{warnings}"
    );
    assert!(
        warnings.contains("LEGACY_API_KEY: holds what looks like a credential"),
        "{warnings}"
    );

    // The inline key is reported by where it is, never by what it is.
    let everything = serde_json::to_string(&d).unwrap();
    assert!(!everything.contains(&inline_key));
}

#[test]
fn the_same_repository_from_memory_and_through_the_trait() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("payments");
    let inline_key = random(8, 32, ALNUM);
    repository(&root, &inline_key);
    let from_disk = run(std::slice::from_ref(&root), "acme/payments");

    let files: Vec<(std::path::PathBuf, Vec<u8>)> = [
        ".github/workflows/deploy.yml",
        ".github/workflows/pr-checks.yaml",
        ".github/workflows/publish-reusable.yml",
        ".github/workflows/release-reusable.yml",
        ".github/actions/setup/action.yml",
    ]
    .iter()
    .map(|p| (p.into(), std::fs::read(root.join(p)).unwrap()))
    .collect();
    let (nhis, _) = discover_bytes("acme/payments", &files).unwrap();
    assert_eq!(nhis, from_disk.nhis);

    let connector = CiFilesConnector::new(vec![root]).with_repository("acme/payments");
    assert_eq!(connector.name(), "ci-files");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let via_trait = rt.block_on(connector.discover()).unwrap();
    assert_eq!(via_trait, from_disk);
}

#[test]
fn one_workflow_given_alone_or_by_its_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("payments");
    repository(&root, &random(9, 32, ALNUM));
    let d = CiFilesConnector::new(vec![root.join(".github/workflows/pr-checks.yaml")])
        .read()
        .unwrap();
    assert_eq!(d.scope, "ci:payments");
    assert_eq!(names(&d), ["GITHUB_TOKEN", "NPM_TOKEN"]);
    assert_eq!(
        consumer_names(nhi(&d, "github:payments:secret:NPM_TOKEN")),
        [".github/workflows/pr-checks.yaml#label"]
    );
    // The workflows directory: the README is not YAML; the action is not under it.
    let d = CiFilesConnector::new(vec![root.join(".github/workflows")])
        .read()
        .unwrap();
    assert_eq!(d.inputs.len(), 4);
    assert_eq!(d.scope, "ci:payments");
}

#[test]
fn bad_input_fails_whole_and_names_the_place() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("payments");
    repository(&root, &random(10, 32, ALNUM));
    let bad = root.join(".github/workflows/pr-checks.yaml");
    write(
        &root,
        ".github/workflows/pr-checks.yaml",
        &PR_TARGET.replace("    steps:\n", "    steps:\n      - run: [echo]\n"),
    );
    let err = CiFilesConnector::new(vec![root.clone()])
        .read()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:9:14: jobs.label.steps[0].run: expected a string, found a list",
            bad.display()
        )
    );
    write(
        &root,
        ".github/workflows/pr-checks.yaml",
        "on: push\njobs:\n  a: {steps: [\n",
    );
    let err = CiFilesConnector::new(vec![root.clone()])
        .read()
        .unwrap_err();
    assert!(matches!(err, ConnectError::Syntax { line: 4, .. }), "{err}");
    write(
        &root,
        ".github/workflows/pr-checks.yaml",
        "on: push\njobs:\n  a:\n    environment: [prod]\n",
    );
    let err = CiFilesConnector::new(vec![root.clone()])
        .read()
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with(":4:18: jobs.a.environment: expected a mapping, found a list"),
        "{err}"
    );

    let stray = tmp.path().join("values.yaml");
    std::fs::write(&stray, "replicas: 3\n").unwrap();
    let err = CiFilesConnector::new(vec![stray])
        .with_repository("acme/payments")
        .read()
        .unwrap_err();
    assert!(matches!(err, ConnectError::Usage(_)), "{err}");
    let err = CiFilesConnector::new(Vec::new()).read().unwrap_err();
    assert!(matches!(err, ConnectError::Usage(_)), "{err}");
    let err = CiFilesConnector::new(vec![tmp.path().join("missing")])
        .with_repository("x")
        .read()
        .unwrap_err();
    assert!(matches!(err, ConnectError::Io { .. }), "{err}");
}

#[test]
fn unknown_fields_are_tolerated() {
    let text = "on:\n  push:\n  future_event: {x: 1}\nbrand-new-key: {a: [1, 2]}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n    new-job-key: 3\n    steps:\n      - uses: actions/checkout@v4\n        new-step-key: {deep: true}\n        with: {token: '${{ secrets.DEPLOY_TOKEN }}'}\n";
    let (nhis, warnings) = discover_bytes(
        "acme/x",
        &[(".github/workflows/a.yml".into(), text.as_bytes().to_vec())],
    )
    .unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let ids: Vec<&str> = nhis.iter().map(|n| n.external_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "github:acme/x:GITHUB_TOKEN",
            "github:acme/x:secret:DEPLOY_TOKEN"
        ]
    );
    assert!(
        !flag(&nhis[1], "third_party"),
        "actions/checkout is GitHub's"
    );
}

#[test]
fn called_workflows_take_each_callers_permissions() {
    let caller = |perms: &str| {
        format!(
            "on: push\npermissions: {perms}\njobs:\n  call:\n    uses: ./.github/workflows/lib.yml\n    secrets: inherit\n"
        )
    };
    let lib = "on: workflow_call\njobs:\n  work:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          role-to-assume: arn:aws:iam::111122223333:role/lib\n      - run: make\n        env:\n          TOKEN: ${{ secrets.LIB_TOKEN }}\n";
    let files = vec![
        (
            ".github/workflows/a.yml".into(),
            caller("write-all").into_bytes(),
        ),
        (
            ".github/workflows/b.yml".into(),
            caller("{contents: read}").into_bytes(),
        ),
        (".github/workflows/lib.yml".into(), lib.as_bytes().to_vec()),
    ];
    let (nhis, warnings) = discover_bytes("acme/x", &files).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let token = &nhis[0];
    assert_eq!(
        token.facts["token_permissions"][".github/workflows/lib.yml#work"],
        json!(["write-all", {"contents": "read"}])
    );
    assert!(strings(token, "permissions_unset").is_empty());
    // Through the write-all caller the job may mint ID tokens, so it federates.
    assert_eq!(
        strings(token, "id_token_write"),
        [
            ".github/workflows/a.yml#call",
            ".github/workflows/lib.yml#work"
        ]
    );
    assert_eq!(
        strings(token, "oidc_roles"),
        ["arn:aws:iam::111122223333:role/lib"]
    );
    let secret = &nhis[1];
    assert_eq!(secret.name, "LIB_TOKEN");
    let called_by: Vec<&str> = objects(secret, "consumers")
        .iter()
        .map(|c| c["called_by"].as_str().unwrap())
        .collect();
    assert_eq!(
        called_by,
        [
            ".github/workflows/a.yml#call",
            ".github/workflows/b.yml#call"
        ]
    );
}

#[test]
fn cycles_of_calls_and_actions_terminate() {
    let call = |other: &str| {
        format!(
            "on: [push, workflow_call]\njobs:\n  call:\n    uses: ./.github/workflows/{other}.yml\n    secrets: inherit\n  run:\n    runs-on: x\n    steps:\n      - uses: ./.github/actions/loop\n        with: {{token: '${{{{ secrets.LOOP_TOKEN }}}}'}}\n"
        )
    };
    let action = "runs:\n  using: composite\n  steps:\n    - uses: ./.github/actions/loop\n      with: {token: '${{ inputs.token }}'}\n    - uses: vendor/thing@v1\n      with: {token: '${{ inputs.token }}'}\n";
    let files = vec![
        (".github/workflows/a.yml".into(), call("b").into_bytes()),
        (".github/workflows/b.yml".into(), call("a").into_bytes()),
        (
            ".github/actions/loop/action.yml".into(),
            action.as_bytes().to_vec(),
        ),
    ];
    let (nhis, _) = discover_bytes("acme/x", &files).unwrap();
    let secret = &nhis[1];
    assert_eq!(secret.name, "LOOP_TOKEN");
    assert_eq!(strings(secret, "third_party_actions"), ["vendor/thing@v1"]);
    assert!(
        objects(secret, "consumers")
            .iter()
            .any(|c| c["called_by"] == ".github/workflows/a.yml#call")
    );
}
