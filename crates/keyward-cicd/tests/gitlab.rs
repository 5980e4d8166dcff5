//! A generated GitLab project: includes, variables, `$CI_JOB_TOKEN`, Vault secrets, ID
//! tokens, `extends:`, `default:`, `!reference`.

use std::path::Path;

use keyward_cicd::{CiFilesConnector, discover_bytes};
use keyward_connect::ConnectError;
use keyward_model::{Environment, NhiKind};
use serde_json::json;

use crate::support::{
    ALNUM, consumer_names, flag, names, nhi, objects, random, run, strings, write,
};

const MAIN: &str = r#"include:
  - local: /ci/templates.yml
  - local: '.gitlab/ci/*.yml'
  - project: platform/ci-templates
    ref: v3.2.0
    file: /docker.yml
  - remote: https://gitlab.example.com/shared/lint.yml
  - template: Jobs/SAST.gitlab-ci.yml
  - component: $CI_SERVER_FQDN/acme/components/terraform@1.4.0

stages: [build, test, deploy]

variables:
  DOCKER_DRIVER: overlay2
  GIT_DEPTH: "10"
  TF_VAR_db_password: $TERRAFORM_DB_PASSWORD
  CACHE_KEY: $CI_COMMIT_REF_SLUG

default:
  image: node:20
  before_script:
    - echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc

.deploy-base: &deploy-base
  stage: deploy
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH

build:
  stage: build
  script:
    - npm ci
    - docker login -u gitlab-ci-token -p $CI_JOB_TOKEN $CI_REGISTRY
    - docker build -t $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA .

test:
  stage: test
  extends: .test-template
  script:
    - !reference [.setup, script]
    - npm test

deploy-prod:
  <<: *deploy-base
  environment: production
  inherit:
    default: false
  id_tokens:
    VAULT_ID_TOKEN:
      aud: https://vault.example.com
  secrets:
    DATABASE_PASSWORD:
      vault: production/db/password@ops
      token: $VAULT_ID_TOKEN
  script:
    - ./deploy.sh --db-password "$DATABASE_PASSWORD" --sentry "${SENTRY_AUTH_TOKEN}"

deploy-legacy:
  extends: .deploy-base
  environment:
    name: production
    url: https://payments.example.com
  script:
    - aws configure set aws_access_key_id $AWS_ACCESS_KEY_ID
    - aws configure set aws_secret_access_key $AWS_SECRET_ACCESS_KEY
    - aws s3 sync dist/ s3://acme-payments-prod

deploy-oidc:
  extends: .deploy-base
  environment: { name: staging }
  inherit:
    variables: false
  variables:
    ROLE_ARN: arn:aws:iam::123456789012:role/gitlab-staging-deploy
  id_tokens:
    AWS_ID_TOKEN:
      aud: https://sts.amazonaws.com
  script:
    - >
      aws sts assume-role-with-web-identity --role-arn ${ROLE_ARN}
      --web-identity-token ${AWS_ID_TOKEN} --role-session-name gitlab
"#;

const TEMPLATES: &str = r#".setup:
  script:
    - echo "machine gitlab.example.com login ci password ${CI_JOB_TOKEN}" > ~/.netrc
    - pip config set global.index-url "https://__token__:${PYPI_READ_TOKEN}@gitlab.example.com/api/v4/projects/12/packages/pypi/simple"

.test-template:
  image: python:3.12
  variables:
    CODECOV_TOKEN: ""
  after_script:
    - codecov -t $CODECOV_TOKEN
"#;

fn security(inline_key: &str) -> String {
    format!(
        r#"secret-scan:
  stage: test
  variables:
    SCANNER_API_KEY: "{inline_key}"
  script:
    - scanner --key "$SCANNER_API_KEY" --upload-token "$SCANNER_UPLOAD_TOKEN"
"#
    )
}

fn project(root: &Path, inline_key: &str) {
    write(root, ".gitlab-ci.yml", MAIN);
    write(root, "ci/templates.yml", TEMPLATES);
    write(root, ".gitlab/ci/security.yml", &security(inline_key));
    write(
        root,
        "ci/unused.yml",
        "unused-job:\n  script: [echo $UNUSED_TOKEN]\n",
    );
}

#[test]
fn a_project_with_includes_vault_and_id_tokens() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("payments");
    let inline_key = random(11, 40, ALNUM);
    project(&root, &inline_key);
    let d = run(std::slice::from_ref(&root), "acme/payments");
    assert_eq!(
        d.inputs.len(),
        3,
        "the root and the two local includes, not the unused file"
    );
    assert_eq!(
        names(&d),
        [
            "CI_JOB_TOKEN",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "CODECOV_TOKEN",
            "DATABASE_PASSWORD",
            "NPM_TOKEN",
            "PYPI_READ_TOKEN",
            "SCANNER_UPLOAD_TOKEN",
            "SENTRY_AUTH_TOKEN",
            "TERRAFORM_DB_PASSWORD",
        ]
    );
    for n in &d.nhis {
        assert_eq!(n.provider, "gitlab");
    }

    // A protected project variable named like an AWS key, with OIDC to AWS in another job.
    let aws = nhi(&d, "gitlab:acme/payments:variable:AWS_SECRET_ACCESS_KEY");
    assert_eq!(aws.kind, NhiKind::CiSecret);
    assert!(flag(aws, "static_cloud_key"));
    assert_eq!(aws.facts["cloud"], "aws");
    assert!(flag(aws, "federation_available"));
    assert_eq!(aws.environment, Some(Environment::Production));
    assert_eq!(
        objects(aws, "consumers"),
        [&json!({
            "kind": "job",
            "name": ".gitlab-ci.yml#deploy-legacy",
            "file": ".gitlab-ci.yml",
            "job": "deploy-legacy",
            "stage": "deploy",
            "field": "deploy-legacy.script[1]",
            "environment": "production"
        })]
    );
    assert_eq!(
        strings(aws, "unpinned_includes"),
        [
            "component:$CI_SERVER_FQDN/acme/components/terraform@1.4.0",
            "project:platform/ci-templates@v3.2.0:/docker.yml",
            "remote:https://gitlab.example.com/shared/lint.yml",
        ]
    );

    // Fetched from Vault with an ID token.
    let db = nhi(&d, "gitlab:acme/payments:variable:DATABASE_PASSWORD");
    assert_eq!(
        objects(db, "external_sources"),
        [
            &json!({"provider": "vault", "reference": "production/db/password@ops", "token": "VAULT_ID_TOKEN"})
        ]
    );
    assert_eq!(consumer_names(db), [".gitlab-ci.yml#deploy-prod"]);
    assert_eq!(db.environment, Some(Environment::Production));

    // `default:` reaches every job that does not opt out; globals likewise.
    let npm = nhi(&d, "gitlab:acme/payments:variable:NPM_TOKEN");
    assert_eq!(
        consumer_names(npm),
        [
            ".gitlab-ci.yml#build",
            ".gitlab-ci.yml#deploy-legacy",
            ".gitlab-ci.yml#deploy-oidc",
            ".gitlab-ci.yml#test",
            ".gitlab/ci/security.yml#secret-scan",
        ]
    );
    assert_eq!(npm.environment, None);
    let tf = nhi(&d, "gitlab:acme/payments:variable:TERRAFORM_DB_PASSWORD");
    assert!(
        !consumer_names(tf)
            .iter()
            .any(|c| c.ends_with("#deploy-oidc"))
    );
    assert_eq!(consumer_names(tf).len(), 5);
    assert_eq!(
        objects(tf, "consumers")[0]["field"],
        "variables.TF_VAR_db_password"
    );

    // `extends:` and `!reference` into the included templates.
    let pypi = nhi(&d, "gitlab:acme/payments:variable:PYPI_READ_TOKEN");
    assert_eq!(consumer_names(pypi), [".gitlab-ci.yml#test"]);
    assert_eq!(objects(pypi, "consumers")[0]["field"], ".setup.script[1]");
    let codecov = nhi(&d, "gitlab:acme/payments:variable:CODECOV_TOKEN");
    assert_eq!(
        objects(codecov, "consumers")[0]["field"],
        ".test-template.after_script[0]",
        "defined empty in the file: a placeholder for the project variable"
    );

    let token = nhi(&d, "gitlab:acme/payments:CI_JOB_TOKEN");
    assert_eq!(token.kind, NhiKind::Token);
    let consumers = objects(token, "consumers");
    let jobs: Vec<&str> = consumers
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        jobs,
        [
            ".gitlab-ci.yml#build",
            ".gitlab-ci.yml#test",
            ".gitlab-ci.yml"
        ]
    );
    assert_eq!(
        consumers[2],
        &json!({
            "kind": "pipeline",
            "name": ".gitlab-ci.yml",
            "file": ".gitlab-ci.yml",
            "jobs": ["build", "deploy-legacy", "deploy-oidc", "deploy-prod", "secret-scan", "test"]
        })
    );
    assert_eq!(
        objects(token, "id_tokens"),
        [
            &json!({"job": ".gitlab-ci.yml#deploy-oidc", "name": "AWS_ID_TOKEN", "aud": ["https://sts.amazonaws.com"]}),
            &json!({"job": ".gitlab-ci.yml#deploy-prod", "name": "VAULT_ID_TOKEN", "aud": ["https://vault.example.com"]}),
        ]
    );
    assert_eq!(
        strings(token, "oidc_roles"),
        ["arn:aws:iam::123456789012:role/gitlab-staging-deploy"]
    );
    assert_eq!(strings(token, "includes").len(), 6);
    assert_eq!(
        strings(token, "remote_includes"),
        [
            "component:$CI_SERVER_FQDN/acme/components/terraform@1.4.0",
            "project:platform/ci-templates@v3.2.0:/docker.yml",
            "remote:https://gitlab.example.com/shared/lint.yml",
            "template:Jobs/SAST.gitlab-ci.yml",
        ]
    );
    assert_eq!(
        strings(token, "literal_secrets"),
        [".gitlab/ci/security.yml: secret-scan.variables.SCANNER_API_KEY"]
    );
    assert!(
        d.warnings.iter().any(|w| w.contains("are not fetched")),
        "{:?}",
        d.warnings
    );
    assert!(!serde_json::to_string(&d).unwrap().contains(&inline_key));
}

#[test]
fn github_and_gitlab_in_one_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("mirror");
    project(&root, &random(12, 40, ALNUM));
    write(
        &root,
        ".github/workflows/mirror.yml",
        "on: push\njobs:\n  sync:\n    runs-on: ubuntu-latest\n    steps:\n      - run: git push https://oauth2:${{ secrets.GITLAB_PUSH_TOKEN }}@gitlab.example.com/acme/mirror.git\n",
    );
    let d = CiFilesConnector::new(vec![root]).read().unwrap();
    assert_eq!(d.scope, "ci:mirror");
    assert_eq!(d.nhis.len(), 12);
    assert_eq!(d.nhis[0].external_id, "github:mirror:GITHUB_TOKEN");
    assert_eq!(
        d.nhis[1].external_id,
        "github:mirror:secret:GITLAB_PUSH_TOKEN"
    );
    assert_eq!(d.nhis[2].external_id, "gitlab:mirror:CI_JOB_TOKEN");
    // OIDC on GitLab does not make federation available to GitHub secrets, nor the reverse.
    assert!(!flag(&d.nhis[1], "federation_available"));
}

#[test]
fn a_gitlab_file_given_alone_reads_its_includes_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("payments");
    project(&root, &random(13, 40, ALNUM));
    let d = CiFilesConnector::new(vec![root.join(".gitlab-ci.yml")])
        .read()
        .unwrap();
    assert_eq!(d.scope, "ci:payments");
    assert_eq!(d.inputs.len(), 3);
    // Without its includes the templates are missing, and it says so.
    let (nhis, warnings) = discover_bytes(
        "acme/payments",
        &[(".gitlab-ci.yml".into(), MAIN.as_bytes().to_vec())],
    )
    .unwrap();
    assert!(!nhis.iter().any(|n| n.name == "PYPI_READ_TOKEN"));
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("includes `ci/templates.yml`, which was not read")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`test` extends `.test-template`, which was not read")),
        "{warnings:?}"
    );
}

#[test]
fn a_bad_included_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("payments");
    project(&root, &random(14, 40, ALNUM));
    write(
        &root,
        "ci/templates.yml",
        ".setup:\n  script:\n    - \"unterminated\n",
    );
    let err = CiFilesConnector::new(vec![root.clone()])
        .read()
        .unwrap_err();
    let ConnectError::Syntax { path, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(path, &root.join("ci/templates.yml"));
    write(
        &root,
        "ci/templates.yml",
        ".setup:\n  script: [a]\nlint:\n  variables:\n    TOKEN: [x]\n",
    );
    let err = CiFilesConnector::new(vec![root.clone()])
        .read()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:5:12: lint.variables.TOKEN: expected a string or a mapping with `value`, found a list",
            root.join("ci/templates.yml").display()
        )
    );
}

#[test]
fn predefined_and_file_defined_variables_are_not_secrets() {
    let text = "variables:\n  PASSWORD_POLICY: strict\n  DEPLOY_KEY: $DEPLOY_KEY\njob:\n  script:\n    - echo $CI_DEPLOY_PASSWORD $CI_REGISTRY_PASSWORD $PASSWORD_POLICY $DEPLOY_KEY $HOME\n    - echo %WIN_SECRET% $env:PS_TOKEN\n";
    let (nhis, _) = discover_bytes(
        "g/p",
        &[(".gitlab-ci.yml".into(), text.as_bytes().to_vec())],
    )
    .unwrap();
    let names: Vec<&str> = nhis.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        ["CI_JOB_TOKEN", "DEPLOY_KEY", "PS_TOKEN", "WIN_SECRET"]
    );
    // `CI_REGISTRY_PASSWORD` is the job token under another name.
    assert_eq!(
        consumer_names(&nhis[0]),
        [".gitlab-ci.yml#job", ".gitlab-ci.yml"]
    );
}

#[test]
fn cycles_and_fan_out_terminate() {
    let mut text = String::from("job:\n  extends: .t0\n  script: [!reference [.t0, script]]\n");
    for i in 0..40 {
        let parents: Vec<String> = (1..=5).map(|k| format!(".t{}", (i + k) % 40)).collect();
        let refs: Vec<String> = (1..=3)
            .map(|k| format!("!reference [.t{}, script]", (i + k) % 40))
            .collect();
        text.push_str(&format!(
            ".t{i}:\n  extends: [{}]\n  script:\n    - echo $T{i}_TOKEN\n    - {}\n    - {}\n    - {}\n",
            parents.join(", "),
            refs[0],
            refs[1],
            refs[2]
        ));
    }
    text.push_str(
        "include: [a.yml]\n.c1: {extends: .c2}\n.c2: {extends: .c1}\njob2: {extends: .c1}\n",
    );
    let files = vec![
        (".gitlab-ci.yml".into(), text.into_bytes()),
        (
            "a.yml".into(),
            b"include: [.gitlab-ci.yml]\nx:\n  script: [echo]\n".to_vec(),
        ),
    ];
    let started = std::time::Instant::now();
    let (nhis, warnings) = discover_bytes("g/p", &files).unwrap();
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    assert!(nhis.iter().any(|n| n.name == "T0_TOKEN"));
    assert!(
        warnings.iter().any(|w| w.contains("levels deep")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`.c2` extends `.c1`, which extends it back")),
        "{warnings:?}"
    );
}
