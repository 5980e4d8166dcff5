//! The listings this connector reads, recognised by their content: `az ad sp list` and
//! `az ad app list` output (JSON arrays), Microsoft Graph pages (`{"value": […]}`), and single
//! objects (`az ad sp show`, `az ad app show`). Both Graph v1.0 objects and the older Azure AD
//! Graph shape (`objectId`, `appOwnerTenantId`, `startDate`/`endDate`) are read. Fields Graph
//! adds over time are tolerated; a value of the wrong type or a bad timestamp fails, naming
//! the file, line, column and field path. Secret values (`secretText`, `hint`, the legacy
//! `value`) and certificate bodies (`key`) are skipped by the parser, never held.

use std::fmt;
use std::path::Path;

use chrono::{DateTime, Utc};
use keyward_connect::{ConnectError, parse_time};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, SeqAccess, Visitor};

use crate::json::{content_start, parse_at, parse_seed};

/// What a file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Shape {
    /// Service principals (`az ad sp list`, a Graph `servicePrincipals` page, one object).
    ServicePrincipals,
    /// App registrations (`az ad app list`, a Graph `applications` page, one object).
    Applications,
    /// A list holding both.
    Mixed,
    /// Empty, or JSON of no shape this connector knows (skipped with a warning).
    Unrecognised,
}

/// One file, parsed: its service principals and applications, with nothing secret kept.
#[derive(Debug, Clone)]
pub struct AzureFile {
    /// What the file is.
    pub shape: Shape,
    pub(crate) principals: Vec<ServicePrincipal>,
    pub(crate) applications: Vec<Application>,
    pub(crate) warnings: Vec<String>,
    /// Whether the listing is the last page of its kind: false when Graph says more pages
    /// follow (`@odata.nextLink`).
    pub last_page: bool,
}

impl AzureFile {
    /// How many service principals the file lists.
    pub fn principals(&self) -> usize {
        self.principals.len()
    }

    /// How many applications the file lists.
    pub fn applications(&self) -> usize {
        self.applications.len()
    }

    /// What the file said that did not stop the parse.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// Parses one file from its bytes (gunzipped already); `path` names it in errors.
pub fn parse_azure(path: &Path, bytes: &[u8]) -> Result<AzureFile, ConnectError> {
    let mut out = AzureFile {
        shape: Shape::Unrecognised,
        principals: Vec::new(),
        applications: Vec::new(),
        warnings: Vec::new(),
        last_page: true,
    };
    // Windows PowerShell redirects `az` output as UTF-16 with a byte order mark.
    let decoded;
    let bytes = if let Some(rest) = bytes.strip_prefix(b"\xff\xfe") {
        decoded = utf16(path, rest, u16::from_le_bytes)?;
        &decoded[..]
    } else if let Some(rest) = bytes.strip_prefix(b"\xfe\xff") {
        decoded = utf16(path, rest, u16::from_be_bytes)?;
        &decoded[..]
    } else {
        bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
    };
    let Some((line, column, first)) = content_start(bytes) else {
        out.warnings
            .push(format!("{}: no content; nothing read", path.display()));
        return Ok(out);
    };
    let mut hint = None;
    let kinds = match first {
        b'[' => {
            let probes: Vec<Probe> = parse_at(path, bytes, 0)?;
            let kinds: Vec<Kind> = probes.iter().map(|p| p.kind(None)).collect();
            let items = parse_seed(path, bytes, 0, ItemsSeed(&kinds))?;
            out.absorb(items);
            kinds
        }
        b'{' => {
            let page: PageProbe = parse_at(path, bytes, 0)?;
            match page.value {
                Some(probes) => {
                    out.last_page = page.next_link.is_none();
                    hint = page.context.as_deref().and_then(context_kind);
                    let kinds: Vec<Kind> = probes.iter().map(|p| p.kind(hint)).collect();
                    let items = parse_seed(path, bytes, 0, PageSeed(&kinds))?;
                    out.absorb(items);
                    kinds
                }
                None => {
                    let kind = page.item().kind(None);
                    let item = parse_seed(path, bytes, 0, ItemSeed(kind))?;
                    out.absorb(vec![item]);
                    vec![kind]
                }
            }
        }
        _ => {
            return Err(ConnectError::syntax(
                path,
                line,
                column,
                "not an Entra ID listing: expected a JSON array or object",
            ));
        }
    };
    let mut shapes: Vec<Shape> = kinds.iter().filter_map(|k| k.shape()).collect();
    shapes.sort();
    shapes.dedup();
    out.shape = match shapes.as_slice() {
        [one] => *one,
        // An empty Graph page still says what it lists.
        [] => hint.and_then(Kind::shape).unwrap_or(Shape::Unrecognised),
        _ => Shape::Mixed,
    };
    let skipped = kinds.iter().filter(|k| **k == Kind::Other).count();
    if kinds.is_empty() && hint.is_none() {
        out.warnings
            .push(format!("{}: an empty list; nothing read", path.display()));
    } else if skipped > 0 {
        out.warnings.push(format!(
            "{}: {skipped} object(s) neither a service principal nor an application; skipped",
            path.display()
        ));
    }
    if !out.last_page {
        out.warnings.push(format!(
            "{}: a Graph page with `@odata.nextLink`: more pages follow; give them all",
            path.display()
        ));
    }
    Ok(out)
}

/// UTF-16 text (after its byte order mark) as UTF-8; a bad code unit is corrupt at its
/// byte offset in the file.
fn utf16(path: &Path, bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<Vec<u8>, ConnectError> {
    let corrupt = |offset: usize, message: &str| ConnectError::Corrupt {
        path: path.to_owned(),
        offset: offset as u64 + 2,
        message: message.to_owned(),
    };
    if bytes.len() % 2 == 1 {
        return Err(corrupt(
            bytes.len() - 1,
            "UTF-16 text with an odd number of bytes",
        ));
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut out = String::with_capacity(bytes.len() / 2);
    let mut offset = 0;
    for ch in char::decode_utf16(units) {
        match ch {
            Ok(c) => {
                offset += c.len_utf16() * 2;
                out.push(c);
            }
            Err(_) => return Err(corrupt(offset, "not valid UTF-16")),
        }
    }
    Ok(out.into_bytes())
}

impl AzureFile {
    fn absorb(&mut self, items: Vec<Item>) {
        for item in items {
            match item {
                Item::Principal(p) => self.principals.push(*p),
                Item::Application(a) => self.applications.push(*a),
                Item::Other => {}
            }
        }
    }
}

/// The kind a Graph `@odata.context` names (`…$metadata#servicePrincipals`).
fn context_kind(context: &str) -> Option<Kind> {
    let (_, what) = context.rsplit_once('#')?;
    if what.starts_with("servicePrincipals") {
        Some(Kind::Principal)
    } else if what.starts_with("applications") {
        Some(Kind::Application)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------
// Probing: which kind each object is, from keys only one kind has.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Principal,
    Application,
    Other,
}

impl Kind {
    fn shape(self) -> Option<Shape> {
        match self {
            Self::Principal => Some(Shape::ServicePrincipals),
            Self::Application => Some(Shape::Applications),
            Self::Other => None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(rename = "@odata.type")]
    odata_type: Option<String>,
    app_id: Option<IgnoredAny>,
    service_principal_type: Option<IgnoredAny>,
    service_principal_names: Option<IgnoredAny>,
    #[serde(alias = "appOwnerTenantId")]
    app_owner_organization_id: Option<IgnoredAny>,
    app_role_assignment_required: Option<IgnoredAny>,
    required_resource_access: Option<IgnoredAny>,
    identifier_uris: Option<IgnoredAny>,
    publisher_domain: Option<IgnoredAny>,
    available_to_other_tenants: Option<IgnoredAny>,
}

impl Probe {
    fn kind(&self, hint: Option<Kind>) -> Kind {
        match self.odata_type.as_deref() {
            Some("#microsoft.graph.servicePrincipal") => return Kind::Principal,
            Some("#microsoft.graph.application") => return Kind::Application,
            _ => {}
        }
        if self.service_principal_type.is_some()
            || self.service_principal_names.is_some()
            || self.app_owner_organization_id.is_some()
            || self.app_role_assignment_required.is_some()
        {
            Kind::Principal
        } else if self.required_resource_access.is_some()
            || self.identifier_uris.is_some()
            || self.publisher_domain.is_some()
            || self.available_to_other_tenants.is_some()
        {
            Kind::Application
        } else if self.app_id.is_some() {
            hint.unwrap_or(Kind::Other)
        } else {
            Kind::Other
        }
    }
}

/// A Graph page's keys, or a single object's.
#[derive(Debug, Deserialize)]
struct PageProbe {
    value: Option<Vec<Probe>>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<IgnoredAny>,
    #[serde(rename = "@odata.context")]
    context: Option<String>,
    // A single object's telling keys, repeated rather than flattened: flattening would
    // buffer every value of the document.
    #[serde(rename = "@odata.type")]
    odata_type: Option<String>,
    #[serde(rename = "appId")]
    app_id: Option<IgnoredAny>,
    #[serde(rename = "servicePrincipalType")]
    service_principal_type: Option<IgnoredAny>,
    #[serde(rename = "servicePrincipalNames")]
    service_principal_names: Option<IgnoredAny>,
    #[serde(rename = "appOwnerOrganizationId", alias = "appOwnerTenantId")]
    app_owner_organization_id: Option<IgnoredAny>,
    #[serde(rename = "appRoleAssignmentRequired")]
    app_role_assignment_required: Option<IgnoredAny>,
    #[serde(rename = "requiredResourceAccess")]
    required_resource_access: Option<IgnoredAny>,
    #[serde(rename = "identifierUris")]
    identifier_uris: Option<IgnoredAny>,
    #[serde(rename = "publisherDomain")]
    publisher_domain: Option<IgnoredAny>,
    #[serde(rename = "availableToOtherTenants")]
    available_to_other_tenants: Option<IgnoredAny>,
}

impl PageProbe {
    fn item(&self) -> Probe {
        Probe {
            odata_type: self.odata_type.clone(),
            app_id: self.app_id,
            service_principal_type: self.service_principal_type,
            service_principal_names: self.service_principal_names,
            app_owner_organization_id: self.app_owner_organization_id,
            app_role_assignment_required: self.app_role_assignment_required,
            required_resource_access: self.required_resource_access,
            identifier_uris: self.identifier_uris,
            publisher_domain: self.publisher_domain,
            available_to_other_tenants: self.available_to_other_tenants,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Typed objects, parsed by the kind the probe found.

enum Item {
    Principal(Box<ServicePrincipal>),
    Application(Box<Application>),
    Other,
}

#[derive(Clone, Copy)]
struct ItemSeed(Kind);

impl<'de> DeserializeSeed<'de> for ItemSeed {
    type Value = Item;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Item, D::Error> {
        Ok(match self.0 {
            Kind::Principal => Item::Principal(Box::new(ServicePrincipal::deserialize(d)?)),
            Kind::Application => Item::Application(Box::new(Application::deserialize(d)?)),
            Kind::Other => {
                IgnoredAny::deserialize(d)?;
                Item::Other
            }
        })
    }
}

struct ItemsSeed<'a>(&'a [Kind]);

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

/// A Graph page: `value` read with the kinds the probe found, every other key skipped.
struct PageSeed<'a>(&'a [Kind]);

impl<'de> DeserializeSeed<'de> for PageSeed<'_> {
    type Value = Vec<Item>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Item>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_> {
    type Value = Vec<Item>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Graph page")
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Vec<Item>, A::Error> {
        let mut items = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "value" {
                items = map.next_value_seed(ItemsSeed(self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(items)
    }
}

// ---------------------------------------------------------------------------------------
// The objects' types (Microsoft Graph v1.0, with the Azure AD Graph spellings as aliases).

/// A password credential (client secret); its value and hint are skipped.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PasswordCredential {
    pub(crate) key_id: Option<String>,
    pub(crate) display_name: Option<String>,
    #[serde(alias = "startDate")]
    pub(crate) start_date_time: Option<Time>,
    #[serde(alias = "endDate")]
    pub(crate) end_date_time: Option<Time>,
}

/// A key credential (certificate, or a legacy symmetric key); its body is skipped.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyCredential {
    pub(crate) key_id: Option<String>,
    pub(crate) display_name: Option<String>,
    #[serde(rename = "type")]
    pub(crate) kind: Option<String>,
    #[serde(alias = "startDate")]
    pub(crate) start_date_time: Option<Time>,
    #[serde(alias = "endDate")]
    pub(crate) end_date_time: Option<Time>,
}

/// A permission an API defines (an app role or a delegated scope).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Permission {
    pub(crate) id: String,
    pub(crate) value: Option<String>,
}

/// One API an application requests access to.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RequiredResourceAccess {
    pub(crate) resource_app_id: String,
    #[serde(default)]
    pub(crate) resource_access: Vec<ResourceAccess>,
}

/// One requested permission: `Scope` (delegated) or `Role` (application).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ResourceAccess {
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
}

/// An owner, when `owners` was expanded: a user, a service principal or another object.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Owner {
    #[serde(rename = "@odata.type")]
    pub(crate) odata_type: Option<String>,
    pub(crate) id: Option<String>,
    pub(crate) display_name: Option<String>,
    pub(crate) mail: Option<String>,
    pub(crate) user_principal_name: Option<String>,
    pub(crate) app_id: Option<String>,
}

/// A federated identity credential on an application (when expanded).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FederatedCredential {
    pub(crate) name: Option<String>,
    pub(crate) issuer: Option<String>,
    pub(crate) subject: Option<String>,
    #[serde(default)]
    pub(crate) audiences: Vec<String>,
    pub(crate) claims_matching_expression: Option<ClaimsExpression>,
}

/// A flexible federated credential's matching expression.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ClaimsExpression {
    pub(crate) value: Option<String>,
}

/// A verified publisher.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VerifiedPublisher {
    pub(crate) display_name: Option<String>,
}

/// The `api` block of an application.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Api {
    #[serde(default)]
    pub(crate) oauth2_permission_scopes: Vec<Permission>,
}

/// A service principal.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServicePrincipal {
    #[serde(alias = "objectId")]
    pub(crate) id: Option<String>,
    pub(crate) app_id: String,
    pub(crate) display_name: Option<String>,
    pub(crate) app_display_name: Option<String>,
    pub(crate) service_principal_type: Option<String>,
    pub(crate) sign_in_audience: Option<String>,
    #[serde(alias = "appOwnerTenantId")]
    pub(crate) app_owner_organization_id: Option<String>,
    pub(crate) tenant_id: Option<String>,
    pub(crate) account_enabled: Option<Flag>,
    #[serde(default)]
    pub(crate) app_roles: Vec<Permission>,
    #[serde(default, alias = "oauth2Permissions")]
    pub(crate) oauth2_permission_scopes: Vec<Permission>,
    #[serde(default)]
    pub(crate) password_credentials: Vec<PasswordCredential>,
    #[serde(default)]
    pub(crate) key_credentials: Vec<KeyCredential>,
    #[serde(default)]
    pub(crate) tags: Vec<String>,
    pub(crate) notes: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) app_description: Option<String>,
    #[serde(default)]
    pub(crate) alternative_names: Vec<String>,
    pub(crate) created_date_time: Option<Time>,
    pub(crate) publisher_name: Option<String>,
    pub(crate) verified_publisher: Option<VerifiedPublisher>,
    #[serde(default)]
    pub(crate) owners: Vec<Owner>,
}

/// An application (app registration).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Application {
    #[serde(alias = "objectId")]
    pub(crate) id: Option<String>,
    pub(crate) app_id: String,
    pub(crate) display_name: Option<String>,
    pub(crate) sign_in_audience: Option<String>,
    pub(crate) available_to_other_tenants: Option<Flag>,
    #[serde(default)]
    pub(crate) required_resource_access: Vec<RequiredResourceAccess>,
    #[serde(default)]
    pub(crate) password_credentials: Vec<PasswordCredential>,
    #[serde(default)]
    pub(crate) key_credentials: Vec<KeyCredential>,
    pub(crate) created_date_time: Option<Time>,
    pub(crate) publisher_domain: Option<String>,
    pub(crate) tenant_id: Option<String>,
    #[serde(default)]
    pub(crate) tags: Vec<String>,
    pub(crate) notes: Option<String>,
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) app_roles: Vec<Permission>,
    pub(crate) api: Option<Api>,
    pub(crate) verified_publisher: Option<VerifiedPublisher>,
    #[serde(default)]
    pub(crate) owners: Vec<Owner>,
    #[serde(default)]
    pub(crate) federated_identity_credentials: Vec<FederatedCredential>,
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

/// A boolean, as Graph writes it, or as the old `az` wrote it (`"True"`, `"False"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flag(pub(crate) bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Flag, E> {
                if v.eq_ignore_ascii_case("true") {
                    Ok(Flag(true))
                } else if v.eq_ignore_ascii_case("false") {
                    Ok(Flag(false))
                } else {
                    Err(de::Error::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AzureFile, ConnectError> {
        parse_azure(Path::new("in.json"), text.as_bytes())
    }

    #[test]
    fn kinds_are_told_by_keys_type_or_page_context() {
        let f = parse(r#"[{"appId": "a", "servicePrincipalType": "Application"}, {"appId": "b", "requiredResourceAccess": []}]"#).unwrap();
        assert_eq!(
            (f.shape, f.principals(), f.applications()),
            (Shape::Mixed, 1, 1)
        );
        let f = parse(r#"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications", "value": [{"appId": "c", "displayName": "x"}], "@odata.nextLink": "https://graph.microsoft.com/v1.0/applications?$skiptoken=x"}"#).unwrap();
        assert_eq!(
            (f.shape, f.applications(), f.last_page),
            (Shape::Applications, 1, false)
        );
        assert!(
            f.warnings[0].contains("more pages follow"),
            "{:?}",
            f.warnings
        );
        let f = parse(r##"{"@odata.type": "#microsoft.graph.servicePrincipal", "appId": "d"}"##)
            .unwrap();
        assert_eq!(f.principals(), 1);
        let f = parse(r#"[{"name": "not graph"}]"#).unwrap();
        assert_eq!(f.shape, Shape::Unrecognised);
        assert!(f.warnings[0].contains("1 object(s)"), "{:?}", f.warnings);
        assert!(parse("").unwrap().warnings[0].contains("no content"));
        assert!(matches!(
            parse("  true"),
            Err(ConnectError::Syntax {
                line: 1,
                column: 3,
                ..
            })
        ));
    }

    #[test]
    fn old_az_spellings_are_read() {
        let f = parse(r#"[{"objectId": "o", "appId": "a", "appOwnerTenantId": "t", "accountEnabled": "False",
            "passwordCredentials": [{"keyId": "k", "startDate": "2020-01-01T00:00:00Z", "endDate": "2021-01-01T00:00:00Z", "value": null}]}]"#).unwrap();
        let sp = &f.principals[0];
        assert_eq!(sp.id.as_deref(), Some("o"));
        assert_eq!(sp.account_enabled, Some(Flag(false)));
        assert_eq!(sp.app_owner_organization_id.as_deref(), Some("t"));
        assert!(sp.password_credentials[0].end_date_time.is_some());
    }

    #[test]
    fn wrong_types_and_bad_dates_name_their_field() {
        let err = parse("[\n {\"appId\": \"a\", \"servicePrincipalType\": \"Application\",\n  \"accountEnabled\": \"maybe\"}\n]").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("in.json:3:27: [0].accountEnabled: invalid value"),
            "{err}"
        );
        let err = parse(r#"{"value": [{"appId": "a", "requiredResourceAccess": [], "passwordCredentials": [{"keyId": "k", "endDateTime": "soon"}]}]}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("value[0].passwordCredentials[0].endDateTime: `soon` is not a timestamp"),
            "{err}"
        );
        let err = parse(r#"[{"servicePrincipalType": "Application"}]"#).unwrap_err();
        assert!(err.to_string().contains("missing field `appId`"), "{err}");
    }
}
