use std::fmt;
use std::str::FromStr;

/// A value that is not one of an enumeration's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {what} (expected one of: {expected})")]
pub struct ParseEnumError {
    /// What was being parsed, for example `environment`.
    pub what: &'static str,
    /// The rejected input.
    pub value: String,
    /// The accepted names, comma separated.
    pub expected: String,
}

/// Defines a closed, string-named enumeration with parsing, display, serde and the full list.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name used in files, the store and every output.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseEnumError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ParseEnumError {
                        what: $what,
                        value: s.to_owned(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_enum! {
    /// What sort of non-human identity this is.
    NhiKind, "kind" {
        /// A generic service account (directory, SaaS or cloud).
        ServiceAccount => "service_account",
        /// An AWS IAM user or equivalent long-lived cloud user.
        IamUser => "iam_user",
        /// An assumable cloud role.
        IamRole => "iam_role",
        /// A cloud access key pair.
        AccessKey => "access_key",
        /// An API key for a SaaS or internal API.
        ApiKey => "api_key",
        /// A bearer, personal-access or vault token.
        Token => "token",
        /// An OAuth application or app registration.
        OauthApp => "oauth_app",
        /// An X.509 certificate and its key.
        Certificate => "certificate",
        /// An SSH key pair or certificate.
        SshKey => "ssh_key",
        /// A Kubernetes service account.
        K8sServiceAccount => "k8s_service_account",
        /// A secret held by a CI/CD system.
        CiSecret => "ci_secret",
        /// A federated workload identity (OIDC, SPIFFE, managed identity).
        WorkloadIdentity => "workload_identity",
        /// A chat or automation bot.
        Bot => "bot",
        /// Anything else.
        Other => "other",
    }
}

string_enum! {
    /// The environment an NHI serves.
    Environment, "environment" {
        /// Production.
        Production => "production",
        /// Staging or pre-production.
        Staging => "staging",
        /// Development.
        Development => "development",
        /// Test.
        Test => "test",
        /// No source says.
        Unknown => "unknown",
    }
}

impl Environment {
    /// The environment one word of a name stands for (`prod`, `stg`, `uat`, `qa`…), compared
    /// lower-case: the one vocabulary CI environment names, paths and tags are read with.
    pub fn from_word(word: &str) -> Option<Self> {
        match word.to_ascii_lowercase().as_str() {
            "prod" | "production" | "prd" | "live" => Some(Self::Production),
            "staging" | "stage" | "stg" | "preprod" | "uat" => Some(Self::Staging),
            "dev" | "development" | "develop" => Some(Self::Development),
            "test" | "testing" | "qa" => Some(Self::Test),
            _ => None,
        }
    }

    /// The environment the first such word of `name` stands for (`production-eu`,
    /// `deploy/staging`), splitting at anything not a letter or digit.
    pub fn named_in(name: &str) -> Option<Self> {
        name.split(|c: char| !c.is_ascii_alphanumeric())
            .find_map(Self::from_word)
    }
}

string_enum! {
    /// The lifecycle status of an NHI.
    NhiStatus, "status" {
        /// In use and able to authenticate.
        Active => "active",
        /// Temporarily unable to authenticate.
        Disabled => "disabled",
        /// Its credentials were revoked.
        Revoked => "revoked",
        /// Decommissioned for good.
        Retired => "retired",
    }
}

string_enum! {
    /// How an NHI entered the register.
    Origin, "origin" {
        /// Declared as code by the team that owns it.
        Declared => "declared",
        /// Found by discovery and never declared.
        Discovered => "discovered",
    }
}

string_enum! {
    /// What is known about when an NHI or credential was last used.
    UsageState, "usage state" {
        /// No source says; never reported as a pass.
        Unknown => "unknown",
        /// A source says it has never been used.
        Never => "never",
        /// A source reported a last-use time.
        Used => "used",
    }
}

string_enum! {
    /// What sort of secret a credential is.
    CredentialKind, "credential kind" {
        /// A cloud access key (id and secret).
        AccessKey => "access_key",
        /// An API key.
        ApiKey => "api_key",
        /// A bearer or access token.
        Token => "token",
        /// A password.
        Password => "password",
        /// An OAuth client secret.
        ClientSecret => "client_secret",
        /// A private key (RSA, EC, Ed25519, PGP).
        PrivateKey => "private_key",
        /// An X.509 certificate.
        Certificate => "certificate",
        /// An SSH key.
        SshKey => "ssh_key",
        /// A connection string with an embedded password.
        ConnectionString => "connection_string",
        /// A webhook URL with its secret.
        Webhook => "webhook",
        /// Anything else.
        Other => "other",
    }
}

string_enum! {
    /// Whether a credential can still authenticate.
    CredentialStatus, "credential status" {
        /// Able to authenticate.
        Active => "active",
        /// Switched off but not deleted.
        Inactive => "inactive",
        /// Revoked or deleted at its source.
        Revoked => "revoked",
    }
}

string_enum! {
    /// Whether a person still works here.
    PersonStatus, "status" {
        /// Employed.
        Active => "active",
        /// Left; NHIs they own need a new owner.
        Departed => "departed",
    }
}

string_enum! {
    /// How bad a failing posture check is, lowest first.
    Severity, "severity" {
        /// Hygiene.
        Low => "low",
        /// A weakness to fix in the normal course.
        Medium => "medium",
        /// A weakness to fix soon.
        High => "high",
        /// Exploitable now.
        Critical => "critical",
    }
}

string_enum! {
    /// Whether a posture finding's condition holds.
    FindingState, "finding state" {
        /// The condition held at the latest evaluation of its check.
        Open => "open",
        /// The condition cleared.
        Resolved => "resolved",
    }
}

string_enum! {
    /// Where a risk acceptance stands.
    ExceptionState, "exception state" {
        /// Waiting for an approver.
        Requested => "requested",
        /// Accepted: the finding is suppressed until the expiry.
        Approved => "approved",
        /// Refused by an approver.
        Rejected => "rejected",
        /// Past its expiry: the finding it covered is open again.
        Expired => "expired",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_name() {
        for k in NhiKind::ALL {
            assert_eq!(k.as_str().parse::<NhiKind>().unwrap(), *k);
        }
        assert_eq!(NhiKind::ALL.len(), 14);
    }

    #[test]
    fn unknown_value_names_the_choices() {
        let err = "prod".parse::<Environment>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "`prod` is not a valid environment (expected one of: production, staging, development, test, unknown)"
        );
    }

    #[test]
    fn serde_uses_the_stable_names() {
        let json = serde_json::to_string(&NhiKind::K8sServiceAccount).unwrap();
        assert_eq!(json, "\"k8s_service_account\"");
        let back: NhiKind = serde_json::from_str(&json).unwrap();
        assert_eq!(back, NhiKind::K8sServiceAccount);
        assert!(serde_json::from_str::<NhiKind>("\"robot\"").is_err());
    }
}
