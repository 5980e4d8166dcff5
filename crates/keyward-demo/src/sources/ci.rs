//! The payments API repository's GitHub Actions workflows.
//!
//! The build job already federates with AWS through OIDC, yet the deploy jobs still log in
//! with a static key stored as repository secrets, the same key for staging and production;
//! the production job hands the Slack webhook to a third-party action pinned only to a tag; a
//! `pull_request_target` workflow checks out the pull request's code with the Codecov token in
//! reach. No value is in any file: workflows name secrets, they do not hold them.

use super::{Ctx, SERVICE_REPOSITORY};

/// The CI files, relative to the sources directory.
pub(super) fn files(ctx: &Ctx) -> Vec<(String, String)> {
    let acct = &ctx.account;
    let root = SERVICE_REPOSITORY;
    vec![
        (format!("{root}/.github/workflows/deploy.yml"), deploy(acct)),
        (
            format!("{root}/.github/workflows/pr-checks.yml"),
            PR_CHECKS.to_owned(),
        ),
        (
            format!("{root}/.github/workflows/nightly-export.yml"),
            NIGHTLY.to_owned(),
        ),
        (format!("{root}/README.md"), README.to_owned()),
    ]
}

fn deploy(acct: &str) -> String {
    let registry = format!("{acct}.dkr.ecr.eu-west-1.amazonaws.com");
    let static_login = "      - name: Configure AWS credentials
        uses: aws-actions/configure-aws-credentials@v4
        with:
          aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}
          aws-secret-access-key: ${{ secrets.AWS_SECRET_ACCESS_KEY }}
          aws-region: eu-west-1
";
    format!(
        "name: Build and deploy
on:
  push:
    branches: [main]
  workflow_dispatch:

permissions:
  contents: read

concurrency:
  group: deploy-${{{{ github.ref }}}}

jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
    steps:
      - uses: actions/checkout@v4
      - name: Configure AWS credentials
        uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: arn:aws:iam::{acct}:role/ci/github-actions-deploy
          aws-region: eu-west-1
      - name: Build and push the image
        run: |
          aws ecr get-login-password | docker login --username AWS --password-stdin {registry}
          docker build -t {registry}/payments-api:${{{{ github.sha }}}} .
          docker push {registry}/payments-api:${{{{ github.sha }}}}

  deploy-staging:
    needs: build
    runs-on: ubuntu-latest
    environment: staging
    steps:
{static_login}      - name: Roll out
        run: aws ecs update-service --cluster payments-staging --service payments-api --force-new-deployment

  deploy-production:
    needs: deploy-staging
    runs-on: ubuntu-latest
    environment: production
    steps:
{static_login}      - name: Roll out
        run: aws ecs update-service --cluster payments --service payments-api --force-new-deployment
      - name: Tell the team
        uses: slackapi/slack-github-action@v2
        with:
          webhook: ${{{{ secrets.SLACK_WEBHOOK_URL }}}}
          webhook-type: incoming-webhook
          payload: |
            text: \"payments-api ${{{{ github.sha }}}} is live\"
"
    )
}

const PR_CHECKS: &str = "name: Pull request checks
# pull_request_target so that forks' pull requests get a coverage report.
on:
  pull_request_target:
    types: [opened, synchronize, reopened]

jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - uses: actions/setup-go@v5
        with:
          go-version: '1.22'
      - run: go test -coverprofile=coverage.out ./...
      - name: Upload coverage
        uses: codecov/codecov-action@v4
        with:
          token: ${{ secrets.CODECOV_TOKEN }}
          files: coverage.out
";

const NIGHTLY: &str = "name: Nightly settlement export
on:
  schedule:
    - cron: '17 2 * * *'

permissions:
  contents: read

jobs:
  export:
    runs-on: ubuntu-latest
    env:
      AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}
      AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}
      AWS_DEFAULT_REGION: eu-west-1
    steps:
      - uses: actions/checkout@v4
      - run: ./scripts/export-settlements.sh s3://northwind-reports/exports/
";

const README: &str = "# payments-api

The payments API and its workers. Deployed by `.github/workflows/deploy.yml` to the
`payments-staging` and `payments` ECS clusters; configuration per environment is under
`config/`.
";
