use std::fmt;
use std::str::FromStr;

/// Who is accountable for an NHI: a person (by email) or a team.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OwnerRef {
    /// A person, by lower-cased email address.
    Person(String),
    /// A team, by name.
    Team(String),
}

/// An owner reference that is neither an email nor `team:<name>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OwnerRefError {
    /// Empty input.
    #[error("owner is empty")]
    Empty,
    /// `team:` with no name or an invalid one.
    #[error("`{0}` is not a valid team name (letters, digits, `.`, `_` and `-`)")]
    BadTeam(String),
    /// Not an email address.
    #[error("`{0}` is not an email address or `team:<name>`")]
    BadEmail(String),
}

impl OwnerRef {
    /// Parses `alice@example.com` or `team:payments`.
    pub fn parse(s: &str) -> Result<Self, OwnerRefError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(OwnerRefError::Empty);
        }
        if let Some(team) = s.strip_prefix("team:") {
            return if is_team_name(team) {
                Ok(Self::Team(team.to_owned()))
            } else {
                Err(OwnerRefError::BadTeam(team.to_owned()))
            };
        }
        if is_email(s) {
            Ok(Self::Person(s.to_ascii_lowercase()))
        } else {
            Err(OwnerRefError::BadEmail(s.to_owned()))
        }
    }

    /// The person's email, when this is a person.
    pub fn email(&self) -> Option<&str> {
        match self {
            Self::Person(e) => Some(e),
            Self::Team(_) => None,
        }
    }
}

impl FromStr for OwnerRef {
    type Err = OwnerRefError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for OwnerRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for OwnerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Person(e) => f.write_str(e),
            Self::Team(t) => write!(f, "team:{t}"),
        }
    }
}

/// Whether `s` is a usable team name.
pub fn is_team_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A deliberately plain email check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_people_and_teams() {
        assert_eq!(
            OwnerRef::parse("Alice@Example.com").unwrap(),
            OwnerRef::Person("alice@example.com".into())
        );
        assert_eq!(
            OwnerRef::parse("team:payments").unwrap(),
            OwnerRef::Team("payments".into())
        );
        assert_eq!(
            OwnerRef::parse("team:payments").unwrap().to_string(),
            "team:payments"
        );
    }

    #[test]
    fn rejects_what_is_neither() {
        assert!(matches!(
            OwnerRef::parse("alice"),
            Err(OwnerRefError::BadEmail(_))
        ));
        assert!(matches!(
            OwnerRef::parse("team:"),
            Err(OwnerRefError::BadTeam(_))
        ));
        assert!(matches!(
            OwnerRef::parse("team:a b"),
            Err(OwnerRefError::BadTeam(_))
        ));
        assert!(matches!(OwnerRef::parse(" "), Err(OwnerRefError::Empty)));
        assert!(!is_email("a@b"));
        assert!(!is_email("a@@b.c"));
    }
}
