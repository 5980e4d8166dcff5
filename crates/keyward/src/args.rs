//! The command line as typed, before it is resolved into settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Keyward governs non-human identities: who owns each one, what it may do, when it expires and
/// how it is reviewed, with a tamper-evident ledger of every change.
#[derive(Debug, Parser)]
#[command(name = "keyward", version, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// SQLite store file
    #[arg(long, global = true, env = "KEYWARD_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// PostgreSQL store instead of a SQLite file (postgres://user:pass@host/db)
    #[arg(
        long,
        global = true,
        env = "KEYWARD_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Installation key file [default: the store file with a .key extension, or ./keyward.key]
    #[arg(long, global = true, env = "KEYWARD_KEY", value_name = "PATH")]
    pub key: Option<PathBuf>,
    /// Who is acting, as recorded in the ledger [default: os:<login name>]
    #[arg(long, global = true, env = "KEYWARD_ACTOR", value_name = "NAME")]
    pub actor: Option<String>,
    /// Configuration file [default: ./keyward.toml when it exists]
    #[arg(long, global = true, env = "KEYWARD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the store and the installation key (Ed25519 ledger key, fingerprint key)
    Init {
        /// Sign a ledger checkpoint at least every N entries
        #[arg(long, default_value_t = 1000, value_name = "N")]
        checkpoint_every: i64,
    },
    /// Make the register match NHI declarations (YAML files or directories)
    Apply {
        /// Files or directories of `apiVersion: keyward/v1` documents
        #[arg(required = true, value_name = "FILE|DIR")]
        paths: Vec<PathBuf>,
        /// Validate and report what would change, writing nothing
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// The people directory that owns NHIs
    #[command(subcommand)]
    People(PeopleCommand),
    /// List and inspect the register
    #[command(subcommand)]
    Inventory(InventoryCommand),
    /// How well every NHI answers: who owns it, when it expires, how it is reviewed
    Posture {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Count NHIs expiring within this many days as expiring soon
        #[arg(long, default_value_t = 30, value_name = "DAYS")]
        notice_days: i64,
    },
    /// Verify, checkpoint and export the tamper-evident ledger
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Runs that changed the register, with their inputs and counts
    #[command(subcommand)]
    Runs(RunsCommand),
    /// Find credentials in files and directories (respects .gitignore and .keywardignore)
    Scan {
        #[command(flatten)]
        scan: ScanArgs,
        #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
        format: ScanFormat,
        /// Exit with code 5 when anything is found
        #[arg(long)]
        fail_on_findings: bool,
        /// Do not report findings whose fingerprints this baseline file accepts
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
        /// Write every finding of this scan to a baseline file (accepting them)
        #[arg(long, value_name = "FILE")]
        write_baseline: Option<PathBuf>,
    },
    /// Record what a source holds in the register
    #[command(subcommand)]
    Discover(DiscoverCommand),
    /// Credential detection rules: list them and run their examples
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Run every posture check over the register and record the findings
    Check {
        /// Also run the custom Rego checks in this directory (*.yaml metadata naming a module)
        #[arg(long, value_name = "DIR")]
        policies: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
        format: CheckFormat,
        /// Exit with code 5 when an open finding without an exception has this severity or higher
        #[arg(long, value_name = "SEVERITY")]
        fail_on: Option<String>,
        /// Findings the table shows (0 for all); other formats list every open finding
        #[arg(long, default_value_t = 40, value_name = "N")]
        limit: usize,
    },
    /// The posture checks: list them and run their inline test cases
    #[command(subcommand)]
    Checks(ChecksCommand),
    /// ISO/IEC 27001:2022 Annex A, NIST CSF 2.0 and OWASP NHI Top 10 controls: the checks
    /// mapped to each, how the latest check run fared, open exceptions, and how each control is
    /// evidenced
    Controls {
        /// One framework only
        #[arg(long, value_name = "FRAMEWORK")]
        framework: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Time-bound risk acceptances of findings
    #[command(subcommand)]
    Exception(ExceptionCommand),
    /// Build a realistic sample estate in a fresh store and show its posture
    Demo {
        /// Directory for the demo's store, key, declarations and people file
        #[arg(long, default_value = "keyward-demo", value_name = "DIR")]
        out: PathBuf,
        /// How many NHIs to generate
        #[arg(long, default_value_t = 360, value_name = "N")]
        nhis: usize,
        /// Seed for the generator
        #[arg(long, default_value_t = 2027)]
        seed: u64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum PeopleCommand {
    /// Import people from CSV: email,name,team,manager_email,status,departed_on
    Import {
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// List the people directory
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
}

#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// List NHIs, filtered
    List {
        #[command(flatten)]
        filter: FilterArgs,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Show one NHI with its credentials, observations and ledger history
    Show {
        /// Register id, declaration name or external id
        #[arg(value_name = "ID|EXTERNAL_ID")]
        nhi: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only this kind (service_account, iam_user, …)
    #[arg(long)]
    pub kind: Option<String>,
    /// Only this provider
    #[arg(long)]
    pub provider: Option<String>,
    /// Only this environment
    #[arg(long = "env")]
    pub environment: Option<String>,
    /// Only NHIs this person or team owns (email or team:<name>)
    #[arg(long)]
    pub owner: Option<String>,
    /// Only this status
    #[arg(long)]
    pub status: Option<String>,
    /// Only NHIs without an owner
    #[arg(long)]
    pub unowned: bool,
    /// Only NHIs whose owner has departed
    #[arg(long)]
    pub owner_departed: bool,
    /// Only NHIs expiring within this many days
    #[arg(long, value_name = "DAYS")]
    pub expiring_within: Option<u32>,
    /// Only NHIs past their expiry
    #[arg(long)]
    pub expired: bool,
    /// Only NHIs whose review is overdue
    #[arg(long)]
    pub review_overdue: bool,
    /// Only NHIs discovered and never declared
    #[arg(long)]
    pub undeclared: bool,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Recompute the hash chain and check every signed checkpoint
    Verify {
        /// Verify an exported bundle directory instead of the store
        #[arg(long, value_name = "DIR")]
        bundle: Option<PathBuf>,
        /// Require this Ed25519 public key (hex) instead of the key file's
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Sign a checkpoint of the current head now
    Checkpoint,
    /// Write entries, checkpoints and the public key to a directory for offline verification
    Export {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// The most recent runs
    List {
        #[arg(long, default_value_t = 20)]
        limit: i64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One run: its connector and version, inputs with their SHA-256, parameters, times and
    /// counts
    Show {
        /// The run's id (`run_…`)
        id: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum DiscoverCommand {
    /// OpenBao / Vault over its HTTP API: AppRole roles and their secret ids, token accessors,
    /// KV v2 metadata (never secret values). The token comes from --token-file, BAO_TOKEN or
    /// VAULT_TOKEN; `--print-policy` prints the least-privilege policy discovery needs
    Openbao {
        /// The server's address
        #[arg(long, value_name = "URL", required_unless_present = "print_policy")]
        address: Option<String>,
        /// A file holding the token
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        #[arg(long, env = "BAO_TOKEN", hide = true, hide_env_values = true)]
        bao_token: Option<String>,
        #[arg(long, env = "VAULT_TOKEN", hide = true, hide_env_values = true)]
        vault_token: Option<String>,
        /// The namespace to read (X-Vault-Namespace)
        #[arg(long, value_name = "NS")]
        namespace: Option<String>,
        /// KV v2 mounts to read (repeatable; default: every KV v2 mount)
        #[arg(long = "kv-mount", value_name = "MOUNT")]
        kv_mounts: Vec<String>,
        /// A PEM file of CA certificates to trust for the server's TLS certificate
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<PathBuf>,
        /// Print the least-privilege HCL policy for a discovery token and exit
        #[arg(long)]
        print_policy: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// CI/CD: GitHub Actions workflows and composite actions, GitLab CI files: each secret
    /// referenced becomes a ci_secret NHI with its consumers; GITHUB_TOKEN / CI_JOB_TOKEN
    /// permissions, static cloud keys versus OIDC, unpinned third-party actions,
    /// pull_request_target
    Ci {
        /// Repository roots, workflow directories or files
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// The repository these files belong to (`owner/name`); by default the directory name
        #[arg(long, value_name = "OWNER/NAME")]
        repository: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// GCP: Cloud Asset Inventory exports and `gcloud iam service-accounts list` / `keys list`
    /// JSON: service accounts, user-managed keys, role bindings, workload-identity bindings
    Gcp {
        /// Export files or directories
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// The organization or project the files describe (`organizations/ID`,
        /// `projects/ID`); by default the one the data names
        #[arg(long)]
        scope: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Azure / Entra ID: `az ad sp list --all` and `az ad app list --all` JSON (Microsoft
    /// Graph shapes): service principals, app registrations, their secrets and certificates,
    /// requested API permissions, multi-tenant apps
    Azure {
        /// Listing files or directories
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// The tenant the listings come from; by default the one the data names
        #[arg(long, value_name = "ID")]
        tenant: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// X.509 certificates from PEM, DER and bundle files and directories, or from live TLS
    /// endpoints (`--tls HOST:PORT`): subject, issuer, SANs, validity, key, signature, CA
    Certificates {
        /// Certificate files or directories
        #[arg(value_name = "PATH", required_unless_present = "tls")]
        paths: Vec<PathBuf>,
        /// Read the chain a TLS endpoint presents (repeatable; not with PATH)
        #[arg(long, value_name = "HOST:PORT", conflicts_with = "paths")]
        tls: Vec<String>,
        /// The name to send as SNI (default: each endpoint's host)
        #[arg(long, value_name = "NAME", requires = "tls")]
        server_name: Option<String>,
        /// The scope of this population (default: `files:<first path>` or `tls:<endpoint>`)
        #[arg(long)]
        scope: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// SSH keys: `authorized_keys`, `.pub` files, OpenSSH certificates, `known_hosts`; private
    /// key files are noted, never read beyond their public half
    Ssh {
        /// Files or directories
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// The scope of this population (default: `files:<first path>`)
        #[arg(long)]
        scope: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// CloudTrail logs (S3 delivery files `{"Records":[…]}`, `.json.gz`, JSON lines,
    /// directories): last use per identity and access key, source addresses, user agents and
    /// signs of human use. A window, not a population: nothing is marked no longer seen
    Cloudtrail {
        /// Log files or directories
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Distinct source addresses above which one identity's use counts as a human-use sign
        #[arg(long, default_value_t = 10, value_name = "N")]
        many_source_addresses: usize,
        /// The account the logs belong to (the scope); by default the one the records name
        #[arg(long, value_name = "ID")]
        account: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Kubernetes audit logs (`audit.k8s.io` Event JSON lines): last use per service account,
    /// the permissions it used, and kubectl or browser use of its token
    KubernetesAudit {
        /// Log files or directories
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// The cluster the logs come from (must match `discover kubernetes --cluster`)
        #[arg(long, default_value = "default")]
        cluster: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// AWS IAM: users, roles, access keys, policies resolved into effective permissions,
    /// trust policies. From files (`--auth-details`, `--credential-report`), or live through
    /// the IAM API with the standard credential chain when no file is given
    Aws {
        /// `aws iam get-account-authorization-details` output (file or directory; repeatable)
        #[arg(long = "auth-details", value_name = "FILE")]
        auth_details: Vec<PathBuf>,
        /// The IAM credential report CSV (file or directory; repeatable)
        #[arg(long = "credential-report", value_name = "FILE")]
        credential_reports: Vec<PathBuf>,
        /// The account the files describe (12 digits); by default the one most identities
        /// in them belong to
        #[arg(long, value_name = "ID")]
        account: Option<String>,
        /// Live: an IAM/STS endpoint instead of AWS's (for example a local emulator)
        #[arg(long, value_name = "URL", conflicts_with_all = ["auth_details", "credential_reports"])]
        endpoint: Option<String>,
        /// Live: the signing region (default: from the environment, else us-east-1)
        #[arg(long, conflicts_with_all = ["auth_details", "credential_reports"])]
        region: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Kubernetes manifests (files, directories, multi-document YAML, List kinds, rendered
    /// charts): service accounts with their effective RBAC, token Secrets and workloads
    Kubernetes {
        /// Manifest files or directories
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// The cluster these manifests describe (the scope, and the first part of each
        /// service account's id)
        #[arg(long, default_value = "default")]
        cluster: String,
        /// The namespace of objects that name none, as with `kubectl apply -n`
        #[arg(long, short = 'n', default_value = "default")]
        namespace: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Leaked credentials in files or git history: each secret becomes a credential with every
    /// place it was seen, tied to the NHI it belongs to (or a new undeclared one)
    Secrets {
        #[command(flatten)]
        scan: ScanArgs,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Run every rule's examples (must match) and negative examples (must not)
    Check {
        #[command(flatten)]
        source: RuleSource,
    },
    /// List the rules
    List {
        #[command(flatten)]
        source: RuleSource,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

/// What to scan and how.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan (with --git: repositories)
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Scan every blob reachable from every ref of each repository, reporting the commit,
    /// author and date where each secret first appears
    #[arg(long)]
    pub git: bool,
    /// Worker threads (default: one per core)
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Skip files larger than this many bytes
    #[arg(long, default_value_t = 10 << 20, value_name = "BYTES")]
    pub max_file_size: u64,
    /// Read archives (zip, jar, tar, tar.gz) nested this deep; 0 opens none
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub archive_depth: usize,
    /// The most one archive may unpack to, everything inside it included
    #[arg(long, default_value_t = 256 << 20, value_name = "BYTES")]
    pub max_archive_bytes: u64,
    #[command(flatten)]
    pub rules: RuleSource,
}

/// Which rules to use.
#[derive(Debug, Args)]
pub struct RuleSource {
    /// Also load the `*.yaml` rule files in this directory (repeatable)
    #[arg(long = "rules", value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Leave out the rules built into Keyward
    #[arg(long)]
    pub no_builtin: bool,
}

/// Output for single results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// Output for check findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Table,
    Json,
    /// SARIF 2.1.0
    Sarif,
    /// OCSF 1.x Compliance Finding (class 2003) events, a JSON array
    Ocsf,
}

#[derive(Debug, Subcommand)]
pub enum ChecksCommand {
    /// List the checks with severity, OWASP risk and mapped controls
    List {
        #[arg(long, value_name = "DIR")]
        policies: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Run every check's inline test cases
    Test {
        #[arg(long, value_name = "DIR")]
        policies: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExceptionCommand {
    /// Ask to accept an open finding's risk until a date
    Request {
        /// The finding id (`fnd_…`, from `keyward check`)
        finding: String,
        /// Why the risk is accepted
        #[arg(long)]
        reason: String,
        /// What reduces the risk meanwhile
        #[arg(long, value_name = "TEXT")]
        compensating_controls: String,
        /// The day the acceptance ends and the finding reopens (YYYY-MM-DD or RFC 3339)
        #[arg(long, value_name = "DATE")]
        expires: Option<String>,
        /// Who asks (an email)
        #[arg(long, value_name = "EMAIL")]
        requested_by: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Approve a requested exception (the approver role is in keyward.toml)
    Approve(Decision),
    /// Reject a requested exception
    Reject(Decision),
    /// Every exception with its state
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

/// An approver's decision on an exception.
#[derive(Debug, Args)]
pub struct Decision {
    /// The exception id (`exc_…`)
    pub id: String,
    /// Who decides (an email holding the approver role)
    #[arg(long, value_name = "EMAIL")]
    pub by: String,
    /// Why
    #[arg(long)]
    pub note: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Output for scan findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Table,
    Json,
    Jsonl,
    Sarif,
}

/// Output for lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
    Csv,
}
