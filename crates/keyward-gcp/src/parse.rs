//! The files this connector reads, recognised by their content and read into records: Cloud
//! Asset Inventory exports (JSON lines, or a JSON array as `gcloud asset list` prints),
//! `gcloud iam service-accounts list` and `… keys list` output (arrays, or the REST API's
//! `{"accounts": […]}` / `{"keys": […]}` pages), `gcloud asset search-all-iam-policies`
//! output, and credential JSON files. Fields the sources add over time are tolerated; a value
//! of the wrong type, a bad timestamp or a malformed name fails, naming the file, line, column
//! and field path. Secret values in credential files are skipped by the parser, never held.

use std::fmt;
use std::path::Path;

use chrono::{DateTime, Utc};
use keyward_connect::{ConnectError, parse_time};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::json::{content_lines, parse_at, parse_seed};

/// What a file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Shape {
    /// Cloud Asset Inventory rows: resources, IAM policies or both.
    AssetInventory,
    /// `gcloud iam service-accounts list --format=json`, or a REST `accounts` page.
    ServiceAccounts,
    /// `gcloud iam service-accounts keys list --format=json`, or a REST `keys` page.
    ServiceAccountKeys,
    /// `gcloud asset search-all-iam-policies --format=json`.
    PolicySearch,
    /// A JSON array holding more than one of the above kinds of element.
    MixedList,
    /// A credential JSON file (`type` is `service_account`, `authorized_user`, …).
    CredentialFile,
    /// An OAuth client secrets file (`{"web": …}` or `{"installed": …}`).
    ClientSecrets,
    /// No content, or JSON this connector does not know (skipped with a warning).
    Unrecognised,
}

/// One file, parsed: what it is and what it says, with nothing secret kept.
#[derive(Debug, Clone)]
pub struct GcpFile {
    /// What the file is.
    pub shape: Shape,
    pub(crate) records: Vec<Record>,
    pub(crate) warnings: Vec<String>,
    /// Whether the file lists a population of service accounts (so a run that read it is
    /// complete): a service-account listing, or an asset export with service-account or
    /// project resources.
    pub inventory: bool,
}

impl GcpFile {
    /// How many records (assets, accounts, keys, policies, credentials) the file yielded.
    pub fn records(&self) -> usize {
        self.records.len()
    }

    /// What the file said that did not stop the parse.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// What one file says, one fact at a time, for the builder to merge across files.
#[derive(Debug, Clone)]
pub(crate) enum Record {
    /// An organization the input covers as a whole (its own asset or IAM policy).
    Organization(String),
    /// A project asset, giving its id and number.
    Project {
        id: Option<String>,
        number: Option<String>,
    },
    /// A project (id or number) some name or ancestor list mentions.
    ProjectRef(String),
    /// Organizations an asset lists among its ancestors.
    Ancestors { asset: String, orgs: Vec<String> },
    /// A service account from an inventory, with its project's number when the row gave it.
    Account {
        data: AccountData,
        project_number: Option<String>,
    },
    /// A service-account key.
    Key(KeyData),
    /// An IAM policy on a resource.
    Policy {
        resource: String,
        bindings: Vec<Binding>,
    },
    /// A custom role and the permissions it includes.
    Role {
        name: String,
        permissions: Vec<String>,
    },
    /// A workload that runs as a service account.
    Consumer {
        email: String,
        kind: &'static str,
        name: String,
    },
    /// A service-account key file (the key itself skipped).
    KeyFile {
        email: String,
        key_id: Option<String>,
        project: Option<String>,
        client_id: Option<String>,
    },
    /// Another credential file naming a service account, as the fact to note on it.
    CredentialFile { email: String, fact: Value },
}

/// Parses one file from its bytes (gunzipped already); `path` names it in errors.
pub fn parse_gcp(path: &Path, bytes: &[u8]) -> Result<GcpFile, ConnectError> {
    let mut out = GcpFile {
        shape: Shape::Unrecognised,
        records: Vec::new(),
        warnings: Vec::new(),
        inventory: false,
    };
    let mut lines = content_lines(bytes);
    let Some((first_no, first)) = lines.next() else {
        out.warnings
            .push(format!("{}: no content; nothing read", path.display()));
        return Ok(out);
    };
    let more_lines = lines.next().is_some();
    let start = first
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    match first.get(start) {
        Some(b'[') => parse_array(path, &blank_comments(bytes), &mut out)?,
        Some(b'{') => {
            let first_is_whole = serde_json::from_slice::<IgnoredAny>(first).is_ok();
            let first_is_asset = first_is_whole
                && serde_json::from_slice::<Probe>(first)
                    .is_ok_and(|p| p.kind() != ItemKind::Other);
            if first_is_whole && (more_lines || first_is_asset) {
                parse_lines(path, bytes, &mut out)?;
            } else {
                parse_object(path, &blank_comments(bytes), first_no, &mut out)?;
            }
        }
        _ => {
            return Err(ConnectError::syntax(
                path,
                first_no + 1,
                start + 1,
                "not a Google Cloud export: expected a JSON object, array or JSON lines",
            ));
        }
    }
    Ok(out)
}

/// The bytes with `#` comment lines blanked to spaces, so a whole-document parse sees JSON
/// and its positions still match the file.
fn blank_comments(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        if line.trim_ascii_start().starts_with(b"#") {
            out.extend(std::iter::repeat_n(b' ', line.len()));
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

fn parse_lines(path: &Path, bytes: &[u8], out: &mut GcpFile) -> Result<(), ConnectError> {
    let mut kinds = Vec::new();
    for (no, line) in content_lines(bytes) {
        let probe: Probe = parse_at(path, line, no)?;
        let kind = probe.kind();
        kinds.push(kind);
        if kind != ItemKind::Other {
            let item = parse_seed(path, line, no, ItemSeed(kind))?;
            absorb(item, out);
        }
    }
    describe(path, &kinds, "line(s)", out);
    Ok(())
}

/// Sets the file's shape from its elements' kinds, and warns of elements skipped.
fn describe(path: &Path, kinds: &[ItemKind], what: &str, out: &mut GcpFile) {
    let mut shapes: Vec<Shape> = kinds.iter().filter_map(|k| k.shape()).collect();
    shapes.sort();
    shapes.dedup();
    out.shape = match shapes.as_slice() {
        [one] => *one,
        [] => Shape::Unrecognised,
        _ => Shape::MixedList,
    };
    let skipped = kinds.iter().filter(|k| **k == ItemKind::Other).count();
    if kinds.is_empty() {
        out.warnings
            .push(format!("{}: an empty list; nothing read", path.display()));
    } else if skipped > 0 {
        out.warnings.push(format!(
            "{}: {skipped} {what} neither an asset, a service account, a key nor a policy; skipped",
            path.display()
        ));
    }
}

fn parse_array(path: &Path, bytes: &[u8], out: &mut GcpFile) -> Result<(), ConnectError> {
    let probes: Vec<Probe> = parse_at(path, bytes, 0)?;
    let kinds: Vec<ItemKind> = probes.iter().map(Probe::kind).collect();
    let items = parse_seed(path, bytes, 0, ItemsSeed(&kinds))?;
    describe(path, &kinds, "element(s)", out);
    for item in items {
        absorb(item, out);
    }
    Ok(())
}

fn parse_object(
    path: &Path,
    bytes: &[u8],
    first_line: usize,
    out: &mut GcpFile,
) -> Result<(), ConnectError> {
    let probe: DocProbe = parse_at(path, bytes, 0)?;
    if let Some(kind) = probe.kind.as_deref() {
        out.shape = Shape::CredentialFile;
        return parse_credential(path, bytes, kind, out);
    }
    if probe.web.is_some() || probe.installed.is_some() {
        out.shape = Shape::ClientSecrets;
        let doc: ClientSecrets = parse_at(path, bytes, 0)?;
        let client = doc.web.or(doc.installed);
        let (id, project) = client.map_or((None, None), |c| (c.client_id, c.project_id));
        out.warnings.push(format!(
            "{}: an OAuth client secrets file for client `{}` of project `{}`: it holds a client secret (not kept); an OAuth client is not an IAM identity, so nothing is reported for it",
            path.display(),
            id.as_deref().unwrap_or("?"),
            project.as_deref().unwrap_or("?"),
        ));
        return Ok(());
    }
    if probe.accounts.is_some() {
        out.shape = Shape::ServiceAccounts;
        let page: AccountsPage = parse_at(path, bytes, 0)?;
        for data in page.accounts {
            absorb(Item::Account(data), out);
        }
        return Ok(());
    }
    if probe.keys.is_some() {
        out.shape = Shape::ServiceAccountKeys;
        let page: KeysPage = parse_at(path, bytes, 0)?;
        for data in page.keys {
            absorb(Item::Key(data), out);
        }
        return Ok(());
    }
    let kind = probe.item().kind();
    if kind == ItemKind::Other {
        out.warnings.push(format!(
            "{}:{}: a JSON object of no Google Cloud shape this connector knows; skipped",
            path.display(),
            first_line + 1
        ));
        return Ok(());
    }
    out.shape = kind.shape().unwrap_or(Shape::Unrecognised);
    let item = parse_seed(path, bytes, 0, ItemSeed(kind))?;
    absorb(item, out);
    Ok(())
}

/// Turns one parsed element into records.
fn absorb(item: Item, out: &mut GcpFile) {
    match item {
        Item::Other => {}
        Item::Account(data) => {
            out.inventory = true;
            if let Some(p) = &data.project_id {
                out.records.push(Record::ProjectRef(p.clone()));
            }
            out.records.push(Record::Account {
                data,
                project_number: None,
            });
        }
        Item::Key(data) => {
            out.records
                .push(Record::ProjectRef(data.name.project.clone()));
            out.records.push(Record::Key(data));
        }
        Item::Search(s) => {
            note_projects(&s.resource, out);
            if let Some(p) = s.project.as_deref() {
                let p = p.strip_prefix("projects/").unwrap_or(p);
                out.records.push(Record::ProjectRef(p.to_owned()));
            }
            if let Some(org) = org_of(&s.resource) {
                out.records.push(Record::Organization(org));
            }
            out.records.push(Record::Policy {
                resource: s.resource,
                bindings: s.policy.bindings,
            });
        }
        Item::Asset(asset) => absorb_asset(asset, out),
    }
}

fn absorb_asset(asset: Asset, out: &mut GcpFile) {
    let Asset {
        name,
        ancestors,
        iam_policy,
        body,
        has_resource,
    } = asset;
    note_projects(&name, out);
    let orgs: Vec<String> = ancestors
        .iter()
        .filter_map(|a| a.strip_prefix("organizations/"))
        .map(str::to_owned)
        .collect();
    for a in &ancestors {
        if let Some(p) = a.strip_prefix("projects/") {
            out.records.push(Record::ProjectRef(p.to_owned()));
        }
    }
    if !orgs.is_empty() {
        out.records.push(Record::Ancestors {
            asset: name.clone(),
            orgs,
        });
    }
    if let Some(policy) = iam_policy {
        if let Some(org) = org_of(&name) {
            out.records.push(Record::Organization(org));
        }
        out.records.push(Record::Policy {
            resource: name.clone(),
            bindings: policy.bindings,
        });
    }
    if !has_resource {
        return;
    }
    match body {
        AssetBody::Organization => {
            if let Some(org) = org_of(&name) {
                out.records.push(Record::Organization(org));
            }
        }
        AssetBody::Project(data) => {
            out.inventory = true;
            let number = data
                .project_number
                .map(|n| n.0)
                .or_else(|| name.rsplit_once("/projects/").map(|(_, n)| n.to_owned()));
            out.records.push(Record::Project {
                id: data.project_id,
                number,
            });
        }
        AssetBody::ServiceAccount(data, parent) => {
            out.inventory = true;
            let project_number = parent
                .as_deref()
                .and_then(|p| p.strip_prefix("//cloudresourcemanager.googleapis.com/projects/"))
                .map(str::to_owned);
            if let Some(p) = &data.project_id {
                out.records.push(Record::ProjectRef(p.clone()));
            }
            out.records.push(Record::Account {
                data: *data,
                project_number,
            });
        }
        AssetBody::Key(data) => out.records.push(Record::Key(*data)),
        AssetBody::Role(data) => {
            let role = data.name.or_else(|| {
                name.strip_prefix("//iam.googleapis.com/")
                    .map(str::to_owned)
            });
            if let Some(role) = role {
                out.records.push(Record::Role {
                    name: role,
                    permissions: data.included_permissions,
                });
            }
        }
        AssetBody::Consumers(kind, emails) => {
            for (email, suffix) in emails {
                if !email.contains('@') {
                    // GKE writes `default` for the project's default compute account, whose
                    // number this row does not give.
                    continue;
                }
                let who = match suffix {
                    Some(s) => format!("{name}/{s}"),
                    None => name.clone(),
                };
                out.records.push(Record::Consumer {
                    email: email.to_ascii_lowercase(),
                    kind,
                    name: who,
                });
            }
        }
        AssetBody::Other => {}
    }
}

/// Records the project a full resource name (`//service/projects/P/…`) lies in.
fn note_projects(name: &str, out: &mut GcpFile) {
    if let Some((_, rest)) = name.split_once("/projects/") {
        let p = rest.split('/').next().unwrap_or_default();
        if !p.is_empty() && p != "-" {
            out.records.push(Record::ProjectRef(p.to_owned()));
        }
    }
}

/// The organization id when `name` is an organization itself.
fn org_of(name: &str) -> Option<String> {
    name.strip_prefix("//cloudresourcemanager.googleapis.com/organizations/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .map(str::to_owned)
}

fn parse_credential(
    path: &Path,
    bytes: &[u8],
    kind: &str,
    out: &mut GcpFile,
) -> Result<(), ConnectError> {
    let p = path.display();
    match kind {
        "service_account" => {
            let key: KeyFileDoc = parse_at(path, bytes, 0)?;
            push_key_file(key, out);
        }
        "impersonated_service_account" => {
            let doc: Impersonated = parse_at(path, bytes, 0)?;
            let target = doc
                .service_account_impersonation_url
                .as_deref()
                .and_then(impersonation_target);
            let source = match doc.source_credentials {
                Some(SourceCredentials::ServiceAccount(key)) => {
                    let email = key.client_email.0.clone();
                    push_key_file(*key, out);
                    json!(email)
                }
                Some(SourceCredentials::Other(other)) => json!(other.kind),
                None => Value::Null,
            };
            let mut delegates = doc.delegates;
            delegates.sort();
            match target {
                Some(email) => out.records.push(Record::CredentialFile {
                    email,
                    fact: json!({
                        "type": "impersonated_service_account",
                        "source": source,
                        "delegates": delegates,
                    }),
                }),
                None => out.warnings.push(format!(
                    "{p}: an impersonated service account credential naming no target service account"
                )),
            }
        }
        "external_account" => {
            let doc: ExternalAccount = parse_at(path, bytes, 0)?;
            let source = doc.credential_source.map_or("none", |s| s.kind());
            let target = doc
                .service_account_impersonation_url
                .as_deref()
                .and_then(impersonation_target);
            let audience = doc.audience.unwrap_or_default();
            match target {
                Some(email) => out.records.push(Record::CredentialFile {
                    email,
                    fact: json!({
                        "type": "external_account",
                        "audience": audience,
                        "subject_token_type": doc.subject_token_type,
                        "credential_source": source,
                    }),
                }),
                None => out.warnings.push(format!(
                    "{p}: a workload identity federation configuration for `{audience}` (credential source `{source}`) that impersonates no service account: the federated principal uses its own grants"
                )),
            }
        }
        "external_account_authorized_user" => {
            let doc: AudienceOnly = parse_at(path, bytes, 0)?;
            out.warnings.push(format!(
                "{p}: workforce identity federation user credentials for `{}`: a person's refresh token and client secret (not kept), not a service account",
                doc.audience.unwrap_or_default()
            ));
        }
        "authorized_user" => {
            let _: IgnoredAny = parse_at(path, bytes, 0)?;
            out.warnings.push(format!(
                "{p}: user credentials (`gcloud auth application-default login`): a person's refresh token and client secret (not kept), not a service account"
            ));
        }
        "gdch_service_account" => {
            let doc: Gdch = parse_at(path, bytes, 0)?;
            out.warnings.push(format!(
                "{p}: a Google Distributed Cloud Hosted service identity key file for `{}` in project `{}` (key id `{}`; the private key is not kept): not a Google Cloud IAM identity, so not reported",
                doc.name.unwrap_or_default(),
                doc.project.unwrap_or_default(),
                doc.private_key_id.unwrap_or_default(),
            ));
        }
        other => out.warnings.push(format!(
            "{p}: a credential file of type `{other}`, which this connector does not know; skipped"
        )),
    }
    Ok(())
}

fn push_key_file(key: KeyFileDoc, out: &mut GcpFile) {
    if let Some(p) = &key.project_id {
        out.records.push(Record::ProjectRef(p.clone()));
    }
    if key.private_key.is_none() {
        out.warnings.push(format!(
            "service account key file for `{}` holds no private key",
            key.client_email.0
        ));
    }
    out.records.push(Record::KeyFile {
        email: key.client_email.0,
        key_id: key.private_key_id,
        project: key.project_id,
        client_id: key.client_id,
    });
}

/// The service account an `…/serviceAccounts/EMAIL:generateAccessToken` URL names.
fn impersonation_target(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("/serviceAccounts/")?;
    let email = rest.split(':').next()?;
    email.contains('@').then(|| email.to_ascii_lowercase())
}

// ---------------------------------------------------------------------------------------
// Probing: a lenient first pass that only tells what each element is.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemKind {
    Asset(AssetKind),
    Account,
    Key,
    Search,
    Other,
}

impl ItemKind {
    fn shape(self) -> Option<Shape> {
        match self {
            Self::Asset(_) => Some(Shape::AssetInventory),
            Self::Account => Some(Shape::ServiceAccounts),
            Self::Key => Some(Shape::ServiceAccountKeys),
            Self::Search => Some(Shape::PolicySearch),
            Self::Other => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AssetKind {
    Organization,
    Project,
    ServiceAccount,
    Key,
    Role,
    Instance,
    InstanceTemplate,
    Cluster,
    Function,
    RunService,
    Other,
}

impl AssetKind {
    fn of(asset_type: &str) -> Self {
        match asset_type {
            "cloudresourcemanager.googleapis.com/Organization" => Self::Organization,
            "cloudresourcemanager.googleapis.com/Project" => Self::Project,
            "iam.googleapis.com/ServiceAccount" => Self::ServiceAccount,
            "iam.googleapis.com/ServiceAccountKey" => Self::Key,
            "iam.googleapis.com/Role" => Self::Role,
            "compute.googleapis.com/Instance" => Self::Instance,
            "compute.googleapis.com/InstanceTemplate" => Self::InstanceTemplate,
            "container.googleapis.com/Cluster" => Self::Cluster,
            "cloudfunctions.googleapis.com/CloudFunction"
            | "cloudfunctions.googleapis.com/Function" => Self::Function,
            "run.googleapis.com/Service" => Self::RunService,
            _ => Self::Other,
        }
    }
}

/// The top-level keys that tell an element's kind; values are skipped unless a string is
/// needed. `asset_type` must be a string; a `name` of another type only makes the probe say
/// "other".
#[derive(Debug, Default, Deserialize)]
struct Probe {
    #[serde(alias = "assetType")]
    asset_type: Option<String>,
    email: Option<IgnoredAny>,
    #[serde(rename = "keyType")]
    key_type: Option<IgnoredAny>,
    #[serde(rename = "validAfterTime")]
    valid_after: Option<IgnoredAny>,
    #[serde(default)]
    name: Lenient,
    policy: Option<IgnoredAny>,
    resource: Option<IgnoredAny>,
}

impl Probe {
    fn kind(&self) -> ItemKind {
        if self.policy.is_some() && self.resource.is_some() {
            ItemKind::Search
        } else if let Some(t) = &self.asset_type {
            ItemKind::Asset(AssetKind::of(t))
        } else if self.key_type.is_some()
            || self.valid_after.is_some()
            || self.name.0.as_deref().is_some_and(|n| n.contains("/keys/"))
        {
            ItemKind::Key
        } else if self.email.is_some() {
            ItemKind::Account
        } else {
            ItemKind::Other
        }
    }
}

/// A whole-document object's telling keys.
#[derive(Debug, Deserialize)]
struct DocProbe {
    #[serde(rename = "type")]
    kind: Option<String>,
    web: Option<IgnoredAny>,
    installed: Option<IgnoredAny>,
    accounts: Option<IgnoredAny>,
    keys: Option<IgnoredAny>,
    // The item probe's keys, repeated rather than flattened: flattening would buffer every
    // value of the document, a key file's private key included.
    #[serde(alias = "assetType")]
    asset_type: Option<String>,
    email: Option<IgnoredAny>,
    #[serde(rename = "keyType")]
    key_type: Option<IgnoredAny>,
    #[serde(rename = "validAfterTime")]
    valid_after: Option<IgnoredAny>,
    #[serde(default)]
    name: Lenient,
    policy: Option<IgnoredAny>,
    resource: Option<IgnoredAny>,
}

impl DocProbe {
    fn item(self) -> Probe {
        Probe {
            asset_type: self.asset_type,
            email: self.email,
            key_type: self.key_type,
            valid_after: self.valid_after,
            name: self.name,
            policy: self.policy,
            resource: self.resource,
        }
    }
}

/// A string when the value is one; anything else is skipped.
#[derive(Debug, Default)]
struct Lenient(Option<String>);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Lenient, E> {
                Ok(Lenient(Some(v.to_owned())))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Lenient, E> {
                Ok(Lenient(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Lenient, E> {
                Ok(Lenient(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Lenient, E> {
                Ok(Lenient(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Lenient, E> {
                Ok(Lenient(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Lenient, E> {
                Ok(Lenient(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Lenient, E> {
                Ok(Lenient(None))
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Lenient, D2::Error> {
                Lenient::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Lenient, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Lenient(None))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Lenient, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Lenient(None))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------
// Typed elements, parsed by the kind the probe found.

enum Item {
    Asset(Asset),
    Account(AccountData),
    Key(KeyData),
    Search(PolicySearch),
    Other,
}

struct Asset {
    name: String,
    ancestors: Vec<String>,
    iam_policy: Option<Policy>,
    body: AssetBody,
    has_resource: bool,
}

enum AssetBody {
    Organization,
    Project(ProjectData),
    ServiceAccount(Box<AccountData>, Option<String>),
    Key(Box<KeyData>),
    Role(RoleData),
    /// Workloads running as service accounts: the kind of workload, and each account's email
    /// with the part of the workload (a node pool) when the asset has several.
    Consumers(&'static str, Vec<(String, Option<String>)>),
    Other,
}

struct ItemSeed(ItemKind);

impl<'de> DeserializeSeed<'de> for ItemSeed {
    type Value = Item;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Item, D::Error> {
        Ok(match self.0 {
            ItemKind::Account => Item::Account(AccountData::deserialize(d)?),
            ItemKind::Key => Item::Key(KeyData::deserialize(d)?),
            ItemKind::Search => Item::Search(PolicySearch::deserialize(d)?),
            ItemKind::Other => {
                IgnoredAny::deserialize(d)?;
                Item::Other
            }
            ItemKind::Asset(kind) => Item::Asset(asset(kind, d)?),
        })
    }
}

fn asset<'de, D: Deserializer<'de>>(kind: AssetKind, d: D) -> Result<Asset, D::Error> {
    match kind {
        AssetKind::Organization => build::<IgnoredAny, D>(d, |_, _| AssetBody::Organization),
        AssetKind::Project => build(d, |data, _| AssetBody::Project(data)),
        AssetKind::ServiceAccount => build(d, |data, parent| {
            AssetBody::ServiceAccount(Box::new(data), parent)
        }),
        AssetKind::Key => build(d, |data, _| AssetBody::Key(Box::new(data))),
        AssetKind::Role => build(d, |data, _| AssetBody::Role(data)),
        AssetKind::Instance => build(d, |data: InstanceData, _| {
            AssetBody::Consumers("compute_instance", emails(data.service_accounts))
        }),
        AssetKind::InstanceTemplate => build(d, |data: TemplateData, _| {
            let accounts = data
                .properties
                .map(|p| p.service_accounts)
                .unwrap_or_default();
            AssetBody::Consumers("instance_template", emails(accounts))
        }),
        AssetKind::Cluster => build(d, |data: ClusterData, _| {
            let mut out = Vec::new();
            if let Some(sa) = data.node_config.and_then(|c| c.service_account) {
                out.push((sa, None));
            }
            for pool in data.node_pools {
                if let Some(sa) = pool.config.and_then(|c| c.service_account) {
                    out.push((sa, pool.name.map(|n| format!("nodePools/{n}"))));
                }
            }
            AssetBody::Consumers("gke_node_pool", out)
        }),
        AssetKind::Function => build(d, |data: FunctionData, _| {
            let sa = data
                .service_account_email
                .or_else(|| data.service_config.and_then(|c| c.service_account_email));
            AssetBody::Consumers(
                "cloud_function",
                sa.into_iter().map(|s| (s, None)).collect(),
            )
        }),
        AssetKind::RunService => build(d, |data: RunData, _| {
            let sa = data
                .spec
                .and_then(|s| s.template)
                .and_then(|t| t.spec)
                .and_then(|s| s.service_account_name);
            AssetBody::Consumers(
                "cloud_run_service",
                sa.into_iter().map(|s| (s, None)).collect(),
            )
        }),
        AssetKind::Other => build::<IgnoredAny, D>(d, |_, _| AssetBody::Other),
    }
}

/// Reads a row whose `resource.data` is a `T`, and makes its body from the data and the
/// resource's parent.
fn build<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
    body: impl FnOnce(T, Option<String>) -> AssetBody,
) -> Result<Asset, D::Error> {
    let row = Row::<T>::deserialize(d)?;
    let has_resource = row.resource.is_some();
    let body = match row.resource {
        Some(Resource {
            data: Some(data),
            parent,
        }) => body(data, parent),
        _ => AssetBody::Other,
    };
    Ok(Asset {
        name: row.name,
        ancestors: row.ancestors,
        iam_policy: row.iam_policy,
        body,
        has_resource,
    })
}

fn emails(refs: Vec<AccountRef>) -> Vec<(String, Option<String>)> {
    refs.into_iter()
        .filter_map(|r| r.email)
        .map(|e| (e, None))
        .collect()
}

struct ItemsSeed<'a>(&'a [ItemKind]);

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_> {
    type Value = Vec<Item>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Item>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_> {
    type Value = Vec<Item>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Item>, A::Error> {
        let mut out = Vec::with_capacity(self.0.len());
        for kind in self.0 {
            match seq.next_element_seed(ItemSeed(*kind))? {
                Some(item) => out.push(item),
                None => break,
            }
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------
// The documents' types.

/// A Cloud Asset Inventory row; exports write snake_case, the API and `gcloud asset list`
/// camelCase.
#[derive(Debug, Deserialize)]
struct Row<T> {
    name: String,
    #[serde(rename = "asset_type", alias = "assetType")]
    _asset_type: String,
    resource: Option<Resource<T>>,
    #[serde(alias = "iamPolicy")]
    iam_policy: Option<Policy>,
    #[serde(default)]
    ancestors: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Resource<T> {
    data: Option<T>,
    parent: Option<String>,
}

/// An IAM policy; `etag`, `version` and `auditConfigs` are not needed.
#[derive(Debug, Clone, Default, Deserialize)]
struct Policy {
    #[serde(default)]
    bindings: Vec<Binding>,
}

/// One role binding.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Binding {
    pub(crate) role: String,
    #[serde(default)]
    pub(crate) members: Vec<String>,
    pub(crate) condition: Option<Condition>,
}

/// An IAM condition on a binding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
pub(crate) struct Condition {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expression: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PolicySearch {
    resource: String,
    policy: Policy,
    project: Option<String>,
}

/// A service account as the API writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountData {
    pub(crate) email: Email,
    pub(crate) display_name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) disabled: Option<bool>,
    pub(crate) unique_id: Option<String>,
    pub(crate) project_id: Option<String>,
    pub(crate) oauth2_client_id: Option<String>,
}

/// A service-account key's metadata (the API never returns the private key in a listing).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyData {
    pub(crate) name: KeyName,
    pub(crate) key_type: Option<String>,
    pub(crate) valid_after_time: Option<Time>,
    pub(crate) valid_before_time: Option<Time>,
    pub(crate) disabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProjectData {
    project_id: Option<String>,
    project_number: Option<Number>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleData {
    name: Option<String>,
    #[serde(default)]
    included_permissions: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct AccountRef {
    email: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InstanceData {
    #[serde(default)]
    service_accounts: Vec<AccountRef>,
}

#[derive(Debug, Deserialize)]
struct TemplateData {
    properties: Option<InstanceData>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodeConfig {
    service_account: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NodePool {
    name: Option<String>,
    config: Option<NodeConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClusterData {
    node_config: Option<NodeConfig>,
    #[serde(default)]
    node_pools: Vec<NodePool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServiceConfig {
    service_account_email: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FunctionData {
    service_account_email: Option<String>,
    service_config: Option<ServiceConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunPodSpec {
    service_account_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RunTemplate {
    spec: Option<RunPodSpec>,
}

#[derive(Debug, Deserialize)]
struct RunSpec {
    template: Option<RunTemplate>,
}

#[derive(Debug, Deserialize)]
struct RunData {
    spec: Option<RunSpec>,
}

#[derive(Debug, Deserialize)]
struct AccountsPage {
    #[serde(default)]
    accounts: Vec<AccountData>,
}

#[derive(Debug, Deserialize)]
struct KeysPage {
    #[serde(default)]
    keys: Vec<KeyData>,
}

/// A service-account key file. The private key is skipped unread: only its presence counts.
#[derive(Debug, Deserialize)]
struct KeyFileDoc {
    client_email: Email,
    private_key_id: Option<String>,
    private_key: Option<IgnoredAny>,
    project_id: Option<String>,
    client_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Impersonated {
    service_account_impersonation_url: Option<String>,
    #[serde(default)]
    delegates: Vec<String>,
    source_credentials: Option<SourceCredentials>,
}

/// An impersonated credential's source: a key file, or another kind (named by its type).
#[derive(Debug)]
enum SourceCredentials {
    ServiceAccount(Box<KeyFileDoc>),
    Other(OtherCredential),
}

#[derive(Debug, Deserialize)]
struct OtherCredential {
    #[serde(rename = "type")]
    kind: String,
}

impl<'de> Deserialize<'de> for SourceCredentials {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The type decides the shape but may come last; the source object is small and its
        // secret fields are read as `IgnoredAny` either way, so buffering its keys is enough.
        #[derive(Deserialize)]
        struct Any {
            #[serde(rename = "type")]
            kind: String,
            client_email: Option<Email>,
            private_key_id: Option<String>,
            private_key: Option<IgnoredAny>,
            project_id: Option<String>,
            client_id: Option<String>,
        }
        let a = Any::deserialize(d)?;
        match (a.kind.as_str(), a.client_email) {
            ("service_account", Some(email)) => Ok(Self::ServiceAccount(Box::new(KeyFileDoc {
                client_email: email,
                private_key_id: a.private_key_id,
                private_key: a.private_key,
                project_id: a.project_id,
                client_id: a.client_id,
            }))),
            ("service_account", None) => Err(de::Error::missing_field("client_email")),
            _ => Ok(Self::Other(OtherCredential { kind: a.kind })),
        }
    }
}

#[derive(Debug, Deserialize)]
struct ExternalAccount {
    audience: Option<String>,
    subject_token_type: Option<String>,
    service_account_impersonation_url: Option<String>,
    credential_source: Option<CredentialSource>,
}

#[derive(Debug, Deserialize)]
struct CredentialSource {
    file: Option<IgnoredAny>,
    url: Option<IgnoredAny>,
    environment_id: Option<String>,
    executable: Option<IgnoredAny>,
}

impl CredentialSource {
    fn kind(&self) -> &'static str {
        if self
            .environment_id
            .as_deref()
            .is_some_and(|e| e.starts_with("aws"))
        {
            "aws"
        } else if self.executable.is_some() {
            "executable"
        } else if self.url.is_some() {
            "url"
        } else if self.file.is_some() {
            "file"
        } else {
            "other"
        }
    }
}

#[derive(Debug, Deserialize)]
struct AudienceOnly {
    audience: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Gdch {
    project: Option<String>,
    name: Option<String>,
    private_key_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ClientSecrets {
    web: Option<OAuthClient>,
    installed: Option<OAuthClient>,
}

#[derive(Debug, Deserialize)]
struct OAuthClient {
    client_id: Option<String>,
    project_id: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Checked scalar values.

/// A timestamp; a string that is not one fails at its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Time(pub(crate) DateTime<Utc>);

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_time(&s)
            .map(Time)
            .ok_or_else(|| de::Error::custom(format!("`{s}` is not a timestamp")))
    }
}

/// A service account's email, lower-cased; a string that is not an address fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Email(pub(crate) String);

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if is_account_email(&s) {
            Ok(Email(s.to_ascii_lowercase()))
        } else {
            Err(de::Error::custom(format!(
                "`{s}` is not a service account email"
            )))
        }
    }
}

/// One `@`, something on both sides, no spaces.
pub(crate) fn is_account_email(s: &str) -> bool {
    s.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !domain.is_empty() && !domain.contains('@')
    }) && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `projects/P/serviceAccounts/ACCOUNT/keys/ID`, where ACCOUNT is an email or a unique id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyName {
    pub(crate) project: String,
    pub(crate) account: String,
    pub(crate) id: String,
}

impl<'de> Deserialize<'de> for KeyName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            ["projects", p, "serviceAccounts", a, "keys", id]
                if !p.is_empty() && !a.is_empty() && !id.is_empty() =>
            {
                Ok(KeyName {
                    project: (*p).to_owned(),
                    account: a.to_ascii_lowercase(),
                    id: (*id).to_owned(),
                })
            }
            _ => Err(de::Error::custom(format!(
                "`{s}` is not a key name (projects/…/serviceAccounts/…/keys/…)"
            ))),
        }
    }
}

/// A project number, written as a string or a number.
#[derive(Debug)]
struct Number(String);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a project number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Number, E> {
                Ok(Number(v.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<GcpFile, ConnectError> {
        parse_gcp(Path::new("in.json"), text.as_bytes())
    }

    #[test]
    fn key_names_and_emails_are_checked_where_they_stand() {
        let err = parse(
            "[\n {\"name\": \"projects/p/serviceAccounts/a@p.iam.gserviceaccount.com/keys\", \"keyType\": \"USER_MANAGED\"}\n]",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("in.json:2:71: [0].name: `projects/p/serviceAccounts/"),
            "{err}"
        );
        let err = parse("[{\"email\": \"nobody\"}]").unwrap_err();
        assert!(
            err.to_string()
                .contains("[0].email: `nobody` is not a service account email"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_time_in_an_asset_line_names_line_and_field() {
        let text = "# export\n{\"name\":\"//iam.googleapis.com/projects/p/serviceAccounts/1/keys/k\",\"asset_type\":\"iam.googleapis.com/ServiceAccountKey\",\"resource\":{\"data\":{\"name\":\"projects/p/serviceAccounts/a@p.iam.gserviceaccount.com/keys/k\",\"validAfterTime\":\"yesterday\"}}}\n";
        let err = parse(text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("in.json:2:"), "{msg}");
        assert!(
            msg.contains("resource.data.validAfterTime: `yesterday` is not a timestamp"),
            "{msg}"
        );
    }

    #[test]
    fn shapes_are_told_by_content() {
        assert_eq!(parse("[]").unwrap().shape, Shape::Unrecognised);
        let f = parse("{\"accounts\": [{\"email\": \"a@p.iam.gserviceaccount.com\"}]}").unwrap();
        assert_eq!((f.shape, f.inventory), (Shape::ServiceAccounts, true));
        let f = parse("{\"web\": {\"client_id\": \"c\"}}").unwrap();
        assert_eq!(f.shape, Shape::ClientSecrets);
        assert!(f.warnings[0].contains("client `c`"), "{:?}", f.warnings);
        let f = parse("{\"hello\": 1}").unwrap();
        assert_eq!(f.shape, Shape::Unrecognised);
        assert!(parse("\"x\"").is_err());
        assert!(parse("").unwrap().warnings[0].contains("no content"));
    }

    #[test]
    fn impersonation_urls_name_their_target() {
        assert_eq!(
            impersonation_target(
                "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/T@p.iam.gserviceaccount.com:generateAccessToken"
            )
            .as_deref(),
            Some("t@p.iam.gserviceaccount.com")
        );
        assert_eq!(impersonation_target("https://example.com/x"), None);
    }
}
