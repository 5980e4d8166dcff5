//! The shapes of the API responses the walk reads, as OpenBao 2.x returns them (checked
//! against a real server and the corpus audit log). Fields the walk does not use are ignored,
//! so responses may grow; a field that is present with the wrong type fails, naming its path.
//! Secret values are never deserialized: token lookups carry an `id` field (blanked by the
//! server for lookups by accessor) and secret-id creation answers carry `secret_id`; neither
//! has a place in these types.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use keyward_connect::{ConnectError, parse_time};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::request::{Origin, Reply};

/// Parses a response body into `T`; a syntax error names the origin's line and column, a
/// value of the wrong type also its field path (`data.creation_time`).
pub(crate) fn parse_body<T: DeserializeOwned>(reply: &Reply) -> Result<T, ConnectError> {
    parse_at(&reply.body, &reply.origin)
}

/// Parses `bytes`, found at `origin`, into `T` (which may borrow from them).
pub(crate) fn parse_at<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
    origin: &Origin,
) -> Result<T, ConnectError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| (e.path().to_string(), e.into_inner()))
        .and_then(|v| de.end().map(|()| v).map_err(|e| (".".to_owned(), e)));
    value.map_err(|(path, inner)| {
        let (line, column) = origin.position(inner.line(), inner.column());
        let message = message_of(&inner);
        if inner.is_data() && path != "." {
            ConnectError::field(&origin.path, (line, column), path, message)
        } else {
            ConnectError::syntax(&origin.path, line, column, message)
        }
    })
}

/// serde_json's message without its ` at line L column C` suffix, which the error carries as
/// fields instead.
fn message_of(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full,
    }
}

/// The messages of an error response (`{"errors": […]}`, or `{"data": {"error": …}}` as
/// AppRole's lookups answer), cleaned of Go's multierror framing; empty when the body says
/// nothing usable.
pub(crate) fn error_messages(body: &[u8]) -> Vec<String> {
    #[derive(Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Option<Vec<String>>,
        #[serde(default)]
        data: Option<ErrorData>,
    }
    #[derive(Deserialize)]
    struct ErrorData {
        #[serde(default)]
        error: Option<String>,
    }
    let Ok(e) = serde_json::from_slice::<Errors>(body) else {
        return Vec::new();
    };
    let mut raw = e.errors.unwrap_or_default();
    raw.extend(e.data.and_then(|d| d.error));
    raw.iter().flat_map(|m| clean_error(m)).collect()
}

/// `1 error occurred:\n\t* permission denied\n\n` → `permission denied`.
fn clean_error(message: &str) -> Vec<String> {
    let items: Vec<String> = message
        .lines()
        .filter_map(|l| l.trim().strip_prefix("* "))
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    if items.is_empty() {
        let m = message.trim();
        if m.is_empty() {
            Vec::new()
        } else {
            vec![m.to_owned()]
        }
    } else {
        items
    }
}

/// A `null` taken as the type's default (OpenBao writes `null` for empty lists and maps).
fn nullable<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An RFC 3339 timestamp; `null`, `""` and Go's zero time (`0001-01-01T00:00:00Z`, which
/// OpenBao writes for "no expiry") are none.
fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(s) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    if s.trim().is_empty() {
        return Ok(None);
    }
    let t = parse_time(&s)
        .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not an RFC 3339 timestamp")))?;
    Ok((t > DateTime::<Utc>::UNIX_EPOCH).then_some(t))
}

/// Seconds since the Unix epoch, as token lookups give `creation_time`.
fn unix_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(secs) = Option::<i64>::deserialize(d)? else {
        return Ok(None);
    };
    if secs <= 0 {
        return Ok(None);
    }
    DateTime::from_timestamp(secs, 0)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("{secs} is not a time in seconds")))
}

/// The common envelope `{"data": …}` of authenticated reads.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope<T> {
    /// The payload.
    pub data: T,
}

/// `GET sys/health`.
#[derive(Debug, Deserialize)]
pub(crate) struct Health {
    /// Whether the server has been initialized.
    #[serde(default)]
    pub initialized: Option<bool>,
    /// Whether it is sealed.
    #[serde(default)]
    pub sealed: Option<bool>,
    /// Its version (`2.7.2`).
    #[serde(default)]
    pub version: Option<String>,
    /// The cluster's name (`vault-cluster-5bcb2f65`).
    #[serde(default)]
    pub cluster_name: Option<String>,
    /// The server's clock, seconds since the epoch.
    #[serde(default, deserialize_with = "unix_time")]
    pub server_time_utc: Option<DateTime<Utc>>,
}

/// One entry of `sys/auth` or `sys/mounts` (keyed by its path with a trailing `/`).
#[derive(Debug, Deserialize)]
pub(crate) struct Mount {
    /// The engine or method type (`approle`, `token`, `kv`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Options; a KV mount's `version`.
    #[serde(default, deserialize_with = "nullable")]
    pub options: BTreeMap<String, String>,
}

/// `LIST …`: `{"data": {"keys": […]}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Keys {
    /// The names listed; a KV folder ends with `/`.
    #[serde(default, deserialize_with = "nullable")]
    pub keys: Vec<String>,
}

/// `GET auth/<mount>/role/<name>`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Role {
    /// Whether logging in needs a secret id.
    #[serde(default)]
    pub bind_secret_id: Option<bool>,
    /// CIDRs a secret id may be used from.
    #[serde(default, deserialize_with = "nullable")]
    pub secret_id_bound_cidrs: Vec<String>,
    /// Uses per secret id (0: unlimited).
    #[serde(default)]
    pub secret_id_num_uses: Option<i64>,
    /// Lifetime of a secret id in seconds (0: never expires).
    #[serde(default)]
    pub secret_id_ttl: Option<i64>,
    /// CIDRs the issued tokens may be used from.
    #[serde(default, deserialize_with = "nullable")]
    pub token_bound_cidrs: Vec<String>,
    /// Hard cap on issued tokens' lifetime.
    #[serde(default)]
    pub token_explicit_max_ttl: Option<i64>,
    /// Maximum lifetime of issued tokens.
    #[serde(default)]
    pub token_max_ttl: Option<i64>,
    /// Whether issued tokens lack the `default` policy.
    #[serde(default)]
    pub token_no_default_policy: Option<bool>,
    /// Uses per issued token (0: unlimited).
    #[serde(default)]
    pub token_num_uses: Option<i64>,
    /// Period of issued periodic tokens.
    #[serde(default)]
    pub token_period: Option<i64>,
    /// Policies of issued tokens.
    #[serde(default, deserialize_with = "nullable")]
    pub token_policies: Vec<String>,
    /// The deprecated alias of `token_policies` older servers still return.
    #[serde(default, deserialize_with = "nullable")]
    pub policies: Vec<String>,
    /// Type of issued tokens (`default`, `service`, `batch`).
    #[serde(default)]
    pub token_type: Option<String>,
    /// Initial lifetime of issued tokens.
    #[serde(default)]
    pub token_ttl: Option<i64>,
}

/// `POST auth/<mount>/role/<name>/secret-id-accessor/lookup`.
#[derive(Debug, Deserialize)]
pub(crate) struct SecretIdInfo {
    /// When it was generated.
    #[serde(default, deserialize_with = "time")]
    pub creation_time: Option<DateTime<Utc>>,
    /// When it expires; none when it never does.
    #[serde(default, deserialize_with = "time")]
    pub expiration_time: Option<DateTime<Utc>>,
}

/// `POST auth/token/lookup-accessor`.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenInfo {
    /// The accessor.
    pub accessor: String,
    /// Creation, seconds since the epoch.
    #[serde(default, deserialize_with = "unix_time")]
    pub creation_time: Option<DateTime<Utc>>,
    /// Lifetime at creation, seconds.
    #[serde(default)]
    pub creation_ttl: Option<i64>,
    /// Display name (`token-ci-bot`, `approle`).
    #[serde(default)]
    pub display_name: Option<String>,
    /// The identity entity it belongs to (`""` for none).
    #[serde(default)]
    pub entity_id: Option<String>,
    /// When it expires; `null` when it never does.
    #[serde(default, deserialize_with = "time")]
    pub expire_time: Option<DateTime<Utc>>,
    /// Hard lifetime cap, seconds (0: none).
    #[serde(default)]
    pub explicit_max_ttl: Option<i64>,
    /// When it was issued.
    #[serde(default, deserialize_with = "time")]
    pub issue_time: Option<DateTime<Utc>>,
    /// Metadata given at creation (not secret).
    #[serde(default, deserialize_with = "nullable")]
    pub meta: BTreeMap<String, String>,
    /// Uses left (0: unlimited).
    #[serde(default)]
    pub num_uses: Option<i64>,
    /// Whether it has no parent.
    #[serde(default)]
    pub orphan: Option<bool>,
    /// The path that created it (`auth/token/create`, `auth/approle/login`).
    #[serde(default)]
    pub path: Option<String>,
    /// Renewal period of a periodic token.
    #[serde(default)]
    pub period: Option<i64>,
    /// Its policies.
    #[serde(default, deserialize_with = "nullable")]
    pub policies: Vec<String>,
    /// Whether it can be renewed.
    #[serde(default)]
    pub renewable: Option<bool>,
    /// `service` or `batch`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// `GET <mount>/metadata/<path>` of KV version 2.
#[derive(Debug, Deserialize)]
pub(crate) struct KvMetadata {
    /// Whether writes must use check-and-set.
    #[serde(default)]
    pub cas_required: Option<bool>,
    /// When the secret was first written.
    #[serde(default, deserialize_with = "time")]
    pub created_time: Option<DateTime<Utc>>,
    /// The current version number.
    #[serde(default)]
    pub current_version: Option<u64>,
    /// Custom metadata (not secret).
    #[serde(default, deserialize_with = "nullable")]
    pub custom_metadata: BTreeMap<String, String>,
    /// How long a version lives (`0s`: forever).
    #[serde(default)]
    pub delete_version_after: Option<String>,
    /// Versions kept (0: the mount's default).
    #[serde(default)]
    pub max_versions: Option<u64>,
    /// The oldest version kept.
    #[serde(default)]
    pub oldest_version: Option<u64>,
    /// When the metadata or a version last changed.
    #[serde(default, deserialize_with = "time")]
    pub updated_time: Option<DateTime<Utc>>,
    /// Each kept version, by number.
    #[serde(default, deserialize_with = "nullable")]
    pub versions: BTreeMap<String, KvVersion>,
}

/// One version in KV metadata.
#[derive(Debug, Deserialize)]
pub(crate) struct KvVersion {
    /// When it was written.
    #[serde(default, deserialize_with = "time")]
    pub created_time: Option<DateTime<Utc>>,
    /// When it was or will be deleted (soft); none when not scheduled.
    #[serde(default, deserialize_with = "time")]
    pub deletion_time: Option<DateTime<Utc>>,
    /// Whether its value was destroyed.
    #[serde(default)]
    pub destroyed: Option<bool>,
}

/// `GET sys/policies/acl/<name>`.
#[derive(Debug, Deserialize)]
pub(crate) struct PolicyDoc {
    /// The policy's text (HCL or JSON).
    #[serde(default)]
    pub policy: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(body: &str) -> Reply {
        Reply {
            status: 200,
            body: body.as_bytes().to_vec(),
            origin: Origin::whole("http://bao:8200/v1/x"),
            endpoint: "http://bao:8200/v1/x".into(),
        }
    }

    #[test]
    fn token_lookups_parse_as_the_server_writes_them() {
        let r = reply(
            r#"{"request_id":"2f02","data":{"accessor":"xuZe","creation_time":1796190832,
            "creation_ttl":0,"display_name":"token","entity_id":"","expire_time":null,
            "explicit_max_ttl":0,"id":"","issue_time":"2026-12-02T05:53:52.645854045Z",
            "meta":null,"num_uses":0,"orphan":true,"path":"auth/token/create",
            "policies":["root"],"renewable":false,"ttl":0,"type":"service"}}"#,
        );
        let t: Envelope<TokenInfo> = parse_body(&r).unwrap();
        assert_eq!(t.data.accessor, "xuZe");
        assert_eq!(
            t.data.creation_time,
            "2026-12-02T05:53:52Z".parse::<DateTime<Utc>>().ok()
        );
        assert_eq!(t.data.expire_time, None);
        assert!(t.data.meta.is_empty());
        assert_eq!(t.data.policies, ["root"]);
    }

    #[test]
    fn a_bad_date_names_the_field_and_position() {
        let r = reply("{\"data\": {\n\"created_time\": \"yesterday\"}}");
        let err = parse_body::<Envelope<KvMetadata>>(&r).unwrap_err();
        assert_eq!(
            err.to_string(),
            "http://bao:8200/v1/x:2:28: data.created_time: `yesterday` is not an RFC 3339 timestamp"
        );
        let r = reply("{\"data\": {\"keys\": [1]}}");
        let err = parse_body::<Envelope<Keys>>(&r).unwrap_err();
        assert!(matches!(err, ConnectError::Field { .. }), "{err}");
        assert!(err.to_string().contains("data.keys[0]"), "{err}");
        let err = parse_body::<Envelope<Keys>>(&reply("{\"data\": {\"ke")).unwrap_err();
        assert!(matches!(err, ConnectError::Syntax { .. }), "{err}");
    }

    #[test]
    fn go_zero_time_means_no_expiry() {
        let r = reply(
            r#"{"data":{"creation_time":"2026-12-02T05:56:36.381655418Z",
            "expiration_time":"0001-01-01T00:00:00Z","secret_id_num_uses":0}}"#,
        );
        let s: Envelope<SecretIdInfo> = parse_body(&r).unwrap();
        assert!(s.data.creation_time.is_some());
        assert_eq!(s.data.expiration_time, None);
    }

    #[test]
    fn error_bodies_yield_clean_messages() {
        assert_eq!(
            error_messages(br#"{"errors":["1 error occurred:\n\t* permission denied\n\n"]}"#),
            ["permission denied"]
        );
        assert_eq!(
            error_messages(br#"{"data":{"error":"failed to find accessor entry"}}"#),
            ["failed to find accessor entry"]
        );
        assert!(error_messages(br#"{"errors":[]}"#).is_empty());
        assert!(error_messages(b"<html>").is_empty());
    }
}
