//! The three control frameworks Keyward maps its checks to.

use std::fmt;
use std::str::FromStr;

/// A control framework that findings, reports and mappings refer to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Framework {
    /// ISO/IEC 27001:2022 Annex A.
    #[serde(rename = "iso27001")]
    Iso27001,
    /// NIST Cybersecurity Framework 2.0.
    #[serde(rename = "nist-csf")]
    NistCsf,
    /// OWASP Non-Human Identities Top 10 (2025).
    #[serde(rename = "owasp-nhi")]
    OwaspNhi,
}

impl Framework {
    /// Every framework, in the order reports list them.
    pub const ALL: [Framework; 3] = [Framework::OwaspNhi, Framework::Iso27001, Framework::NistCsf];

    /// The stable name used on the command line, in files and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Iso27001 => "iso27001",
            Self::NistCsf => "nist-csf",
            Self::OwaspNhi => "owasp-nhi",
        }
    }

    /// The framework's published name, for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Iso27001 => "ISO/IEC 27001:2022 Annex A",
            Self::NistCsf => "NIST CSF 2.0",
            Self::OwaspNhi => "OWASP NHI Top 10 (2025)",
        }
    }
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A framework name that is none of the three.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown framework `{name}`; expected `iso27001`, `nist-csf` or `owasp-nhi`")]
pub struct UnknownFramework {
    /// The name as given.
    pub name: String,
}

impl FromStr for Framework {
    type Err = UnknownFramework;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownFramework { name: s.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn names_round_trip_and_are_case_insensitive() {
        for f in Framework::ALL {
            assert_eq!(f.to_string().parse::<Framework>().unwrap(), f);
        }
        assert_eq!("NIST-CSF".parse::<Framework>().unwrap(), Framework::NistCsf);
    }
}
