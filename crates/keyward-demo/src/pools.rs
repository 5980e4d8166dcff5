//! The fixed vocabulary the estate is drawn from: teams, services, people's names, roles, scopes
//! and suppliers of a payments company.

use keyward_model::NhiKind;

/// The company's email domain.
pub(crate) const DOMAIN: &str = "example.com";

/// The GitHub and GitLab organisation.
pub(crate) const ORG: &str = "northwind";

/// One engineering team and the services it runs.
pub(crate) struct Team {
    /// Team name, as in the people CSV and `team:<name>` owners.
    pub name: &'static str,
    /// Relative share of the estate's NHIs.
    pub weight: u32,
    /// Service names, used as name prefixes, repositories and label values.
    pub services: &'static [&'static str],
}

/// The eight teams, payments and platform holding the most NHIs.
pub(crate) const TEAMS: [Team; 8] = [
    Team {
        name: "payments",
        weight: 18,
        services: &[
            "payments",
            "payments-api",
            "ledger",
            "checkout",
            "payouts",
            "refunds",
            "invoicing",
            "fx-rates",
            "card-vault",
        ],
    },
    Team {
        name: "platform",
        weight: 18,
        services: &[
            "deploy",
            "terraform",
            "artifact-registry",
            "build-cache",
            "service-mesh",
            "ingress",
            "dns",
            "backup",
        ],
    },
    Team {
        name: "data",
        weight: 14,
        services: &[
            "warehouse",
            "etl",
            "airflow",
            "dbt",
            "kafka-connect",
            "looker",
            "spark",
            "feature-store",
        ],
    },
    Team {
        name: "identity",
        weight: 10,
        services: &[
            "auth",
            "sso",
            "scim-sync",
            "token-service",
            "user-directory",
            "mfa",
            "session-store",
        ],
    },
    Team {
        name: "mobile",
        weight: 10,
        services: &[
            "ios-build",
            "android-build",
            "push-notify",
            "app-config",
            "crash-report",
            "mobile-api",
            "release",
        ],
    },
    Team {
        name: "growth",
        weight: 10,
        services: &[
            "marketing-site",
            "email-campaigns",
            "experiments",
            "analytics",
            "crm-sync",
            "referrals",
            "seo",
        ],
    },
    Team {
        name: "security",
        weight: 8,
        services: &[
            "siem",
            "vuln-scanner",
            "secrets-audit",
            "edr",
            "waf",
            "cert-manager",
            "keyward",
        ],
    },
    Team {
        name: "sre",
        weight: 12,
        services: &[
            "grafana",
            "prometheus",
            "pagerduty-sync",
            "status-page",
            "alertmanager",
            "loki",
            "oncall",
        ],
    },
];

/// Given names; more than the directory needs so each seed draws a different company.
pub(crate) const FIRST_NAMES: &[&str] = &[
    "alice", "bruno", "chloe", "dmitri", "elena", "farah", "gabriel", "hana", "ivan", "julia",
    "kenji", "leila", "marco", "nadia", "oscar", "priya", "quentin", "rosa", "samir", "tara",
    "umar", "valeria", "wei", "ximena", "yusuf", "zoe", "amara", "bjorn", "carmen", "diego",
    "esther", "felix", "grace", "hugo", "imani", "jonas", "kavya", "lucas", "mei", "nikolai",
    "olivia", "pablo", "ruth", "sofia", "theo", "uma", "victor", "wanjiru",
];

/// Family names.
pub(crate) const LAST_NAMES: &[&str] = &[
    "anderson",
    "bauer",
    "castillo",
    "dubois",
    "eriksen",
    "fernandes",
    "garcia",
    "haddad",
    "ito",
    "jensen",
    "kowalski",
    "lindqvist",
    "moreau",
    "nakamura",
    "okafor",
    "petrov",
    "quinn",
    "rossi",
    "schmidt",
    "tanaka",
    "urquhart",
    "varga",
    "wright",
    "xu",
    "yilmaz",
    "zhang",
    "abbott",
    "brennan",
    "chen",
    "dlamini",
    "evans",
    "fischer",
    "gupta",
    "hoffman",
    "iyer",
    "jovanovic",
    "kim",
    "lopez",
    "mensah",
    "novak",
    "park",
    "reyes",
    "silva",
    "torres",
    "walsh",
];

/// Owners named in declarations who are not in the people directory (an old colleague, a
/// contractor, a mailing list); none of them can be drawn from the name pools above.
pub(crate) const STRANGER_OWNERS: &[&str] = &[
    "jordan.blake@example.com",
    "ops-contractors@example.com",
    "m.hartley@example.com",
];

/// Everyone outside a team reports to the CTO.
pub(crate) const TEAM_SIZE: usize = 5;

/// Role parts of names, by kind; names are `<service>-<role>`.
pub(crate) fn roles(kind: NhiKind) -> &'static [&'static str] {
    match kind {
        NhiKind::ServiceAccount => &[
            "sync",
            "reader",
            "writer",
            "exporter",
            "scheduler",
            "runner",
        ],
        NhiKind::IamUser => &[
            "ci-deployer",
            "uploader",
            "backup-writer",
            "s3-sync",
            "exporter",
            "smtp-user",
        ],
        NhiKind::IamRole => &[
            "reader",
            "writer",
            "deployer",
            "reconciler",
            "task-role",
            "lambda-exec",
            "readonly",
        ],
        NhiKind::AccessKey => &["access-key", "ci-key", "export-key", "uploader-key"],
        NhiKind::ApiKey => &["api-key", "webhook-key", "ingest-key", "reporting-key"],
        NhiKind::Token => &[
            "token",
            "deploy-token",
            "vault-token",
            "release-token",
            "read-token",
        ],
        NhiKind::OauthApp => &["oauth-app", "sso-app", "integration", "graph-client"],
        NhiKind::Certificate => &["tls", "mtls-client", "signing-cert", "ingress-cert"],
        NhiKind::SshKey => &["deploy-key", "ssh-key", "bastion-key", "git-mirror-key"],
        NhiKind::K8sServiceAccount => {
            &["worker", "controller", "migrator", "operator", "job-runner"]
        }
        NhiKind::CiSecret => &[
            "npm-token",
            "docker-password",
            "deploy-key",
            "sentry-token",
            "signing-key",
            "codecov-token",
        ],
        NhiKind::WorkloadIdentity => &["federated", "oidc-deployer", "runner-identity", "wi"],
        NhiKind::Bot => &["bot", "notifier", "release-bot", "alert-bot"],
        NhiKind::Other => &[
            "smtp-relay",
            "license-key",
            "webhook-signing",
            "hsm-partition",
        ],
    }
}

/// Role parts typical of what nobody declared.
pub(crate) const SLOPPY_ROLES: &[&str] = &[
    "legacy",
    "tmp",
    "old",
    "poc",
    "manual",
    "migration",
    "test-user",
    "jenkins",
];

/// Which providers issue each kind, with relative weights.
pub(crate) fn providers(kind: NhiKind) -> &'static [(&'static str, u32)] {
    match kind {
        NhiKind::ServiceAccount => &[("gcp", 70), ("okta", 30)],
        NhiKind::IamUser | NhiKind::IamRole | NhiKind::AccessKey => &[("aws", 1)],
        NhiKind::ApiKey => &[
            ("datadog", 30),
            ("stripe", 25),
            ("pagerduty", 25),
            ("slack", 20),
        ],
        NhiKind::Token => &[("openbao", 45), ("github", 35), ("gitlab", 20)],
        NhiKind::OauthApp => &[("azure", 40), ("okta", 35), ("github", 25)],
        NhiKind::Certificate => &[("internal", 75), ("aws", 25)],
        NhiKind::SshKey => &[("internal", 60), ("github", 40)],
        NhiKind::K8sServiceAccount => &[("kubernetes", 1)],
        NhiKind::CiSecret => &[("github", 70), ("gitlab", 30)],
        NhiKind::WorkloadIdentity => &[("gcp", 40), ("aws", 35), ("azure", 25)],
        NhiKind::Bot => &[("slack", 60), ("github", 40)],
        NhiKind::Other => &[("internal", 1)],
    }
}

/// Relative share of each kind, in [`NhiKind::ALL`] order.
pub(crate) const KIND_WEIGHTS: [u32; 14] = [9, 6, 12, 8, 10, 8, 5, 8, 6, 12, 10, 4, 3, 2];

/// Relative share of each environment, in [`keyward_model::Environment::ALL`] order.
pub(crate) const ENV_WEIGHTS: [u32; 5] = [45, 20, 15, 10, 10];

/// Name suffixes and short names per environment, in `Environment::ALL` order.
pub(crate) const ENV_SHORT: [&str; 5] = ["prod", "staging", "dev", "test", "sandbox"];

/// Scopes a provider grants a kind: what teams approve, and what nobody should hold. `{team}`
/// stands for the owning team.
pub(crate) fn scopes(
    provider: &str,
    kind: NhiKind,
) -> (&'static [&'static str], &'static [&'static str]) {
    match (provider, kind) {
        ("internal", NhiKind::Certificate) => (
            &["tls:server", "tls:client", "code-signing"],
            &["tls:any-name", "ca:issue"],
        ),
        ("internal", NhiKind::SshKey) => (
            &["ssh:login:deploy", "ssh:login:app", "ssh:port-forward"],
            &["ssh:login:root"],
        ),
        ("internal", _) => (&["api:read", "api:write", "smtp:send"], &["api:admin"]),
        (provider, _) => provider_scopes(provider),
    }
}

fn provider_scopes(provider: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match provider {
        "aws" => (
            &[
                "s3:GetObject",
                "s3:PutObject",
                "s3:ListBucket",
                "ecs:UpdateService",
                "ecs:DescribeServices",
                "ecr:GetAuthorizationToken",
                "ecr:BatchGetImage",
                "sqs:SendMessage",
                "sqs:ReceiveMessage",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "kms:Decrypt",
                "secretsmanager:GetSecretValue",
                "logs:PutLogEvents",
                "cloudwatch:PutMetricData",
                "sts:AssumeRole",
                "lambda:InvokeFunction",
                "rds-db:connect",
            ],
            &["*", "iam:*", "s3:*", "iam:PassRole", "kms:*"],
        ),
        "gcp" => (
            &[
                "roles/storage.objectViewer",
                "roles/storage.objectCreator",
                "roles/bigquery.dataViewer",
                "roles/bigquery.jobUser",
                "roles/pubsub.publisher",
                "roles/pubsub.subscriber",
                "roles/cloudsql.client",
                "roles/secretmanager.secretAccessor",
                "roles/logging.logWriter",
                "roles/monitoring.metricWriter",
                "roles/run.invoker",
            ],
            &[
                "roles/owner",
                "roles/editor",
                "roles/iam.serviceAccountTokenCreator",
            ],
        ),
        "azure" => (
            &[
                "User.Read",
                "Mail.Send",
                "Directory.Read.All",
                "Files.Read.All",
                "Sites.Read.All",
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
                "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            ],
            &[
                "Directory.ReadWrite.All",
                "Application.ReadWrite.All",
                "RoleManagement.ReadWrite.Directory",
            ],
        ),
        "kubernetes" => (
            &[
                "get:pods",
                "list:pods",
                "get:configmaps",
                "watch:endpoints",
                "create:jobs",
                "patch:deployments",
                "get:secrets",
            ],
            &["cluster-admin", "*:*"],
        ),
        "github" => (
            &[
                "repo",
                "read:org",
                "workflow",
                "read:packages",
                "write:packages",
                "contents:read",
                "contents:write",
                "pull_requests:write",
                "actions:read",
            ],
            &["admin:org", "delete_repo", "admin:repo_hook"],
        ),
        "gitlab" => (
            &[
                "read_api",
                "read_repository",
                "write_repository",
                "read_registry",
                "write_registry",
            ],
            &["api", "sudo"],
        ),
        "openbao" => (
            &[
                "secret/data/{team}/*:read",
                "database/creds/{team}-ro:read",
                "pki/issue/{team}:update",
                "transit/encrypt/{team}:update",
                "transit/decrypt/{team}:update",
                "auth/token/renew-self:update",
            ],
            &["sys/*:sudo", "secret/*:*"],
        ),
        "slack" => (
            &[
                "chat:write",
                "channels:read",
                "channels:history",
                "users:read",
                "files:write",
                "incoming-webhook",
                "commands",
            ],
            &["admin", "channels:manage"],
        ),
        "stripe" => (
            &[
                "charges:read",
                "charges:write",
                "customers:read",
                "payouts:read",
                "refunds:write",
                "webhook_endpoints:read",
            ],
            &["*"],
        ),
        "datadog" => (
            &[
                "metrics_read",
                "logs_read_data",
                "dashboards_read",
                "monitors_write",
                "events_read",
                "synthetics_read",
            ],
            &["api_keys_write", "user_access_manage"],
        ),
        "pagerduty" => (
            &[
                "incidents.read",
                "incidents.write",
                "services.read",
                "schedules.read",
                "users.read",
            ],
            &["full_access"],
        ),
        "okta" => (
            &[
                "okta.users.read",
                "okta.groups.read",
                "okta.apps.read",
                "okta.logs.read",
                "okta.users.manage",
            ],
            &["okta.roles.manage", "okta.apps.manage"],
        ),
        _ => (&["api:read", "api:write"], &["api:admin"]),
    }
}

/// The company behind a SaaS provider, when the provider is one.
pub(crate) fn vendor(provider: &str) -> Option<&'static str> {
    match provider {
        "stripe" => Some("Stripe"),
        "datadog" => Some("Datadog Inc."),
        "pagerduty" => Some("PagerDuty"),
        "slack" => Some("Slack Technologies"),
        "okta" => Some("Okta Inc."),
        _ => None,
    }
}

/// Third parties that are handed NHIs on the big clouds and source hosts.
pub(crate) const SUPPLIERS: &[&str] = &[
    "Datadog Inc.",
    "Snyk Ltd",
    "CircleCI",
    "Fivetran",
    "Vanta",
    "Sentry",
    "PagerDuty",
    "Stripe",
];

/// What a declaration says an NHI is for.
pub(crate) fn purpose(kind: NhiKind, service: &str, pick: usize) -> String {
    let templates: &[&str] = match kind {
        NhiKind::ServiceAccount => &[
            "Syncs {} data between systems",
            "Runs scheduled {} jobs",
            "Exports {} reports",
        ],
        NhiKind::IamUser => &[
            "Deploys {} from CI (legacy static credentials)",
            "Uploads {} artefacts to S3",
            "Writes {} backups",
        ],
        NhiKind::IamRole => &[
            "Task role of the {} service",
            "Reconciles {} records nightly",
            "Read-only access for {} dashboards",
        ],
        NhiKind::AccessKey => &[
            "Access key used by {} batch exports",
            "CI access key for {} deployments",
        ],
        NhiKind::ApiKey => &[
            "Sends {} metrics and events",
            "Calls the vendor API for {}",
            "Receives {} webhooks",
        ],
        NhiKind::Token => &[
            "Reads {} secrets at start-up",
            "Publishes {} releases",
            "Pulls {} packages",
        ],
        NhiKind::OauthApp => &["Single sign-on for {}", "Reads directory data for {}"],
        NhiKind::Certificate => &[
            "Serves TLS for {}",
            "mTLS client identity of {}",
            "Signs {} artefacts",
        ],
        NhiKind::SshKey => &[
            "Deploy key of the {} repository",
            "Bastion access for {} operators",
        ],
        NhiKind::K8sServiceAccount => &[
            "Runs the {} workers",
            "Runs {} database migrations",
            "Controller of the {} operator",
        ],
        NhiKind::CiSecret => &[
            "CI secret of the {} pipeline",
            "Publishes {} images from CI",
        ],
        NhiKind::WorkloadIdentity => &[
            "Federated identity of {} workloads",
            "OIDC deploys of {} from CI",
        ],
        NhiKind::Bot => &["Posts {} alerts to chat", "Automates {} releases"],
        NhiKind::Other => &["Shared secret of {}", "Licence for {} tooling"],
    };
    let t = templates
        .get(pick % templates.len())
        .copied()
        .unwrap_or("{}");
    t.replacen("{}", service, 1)
}
