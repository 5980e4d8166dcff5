use std::fmt;
use std::path::PathBuf;

/// Where the store lives: a SQLite file or a PostgreSQL URL.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite database file, created on first use.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://…`).
    Postgres(String),
}

impl Location {
    /// Picks the backend from the URL scheme; anything without `postgres://` or
    /// `postgresql://` is a SQLite path (an optional `sqlite://` prefix is dropped).
    pub fn parse(s: &str) -> Self {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Self::Postgres(s.to_owned())
        } else {
            Self::Sqlite(PathBuf::from(s.strip_prefix("sqlite://").unwrap_or(s)))
        }
    }

    /// A description safe to print: the password in a URL is replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(p) => p.display().to_string(),
            Self::Postgres(url) => redact_url(url),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
    let masked = if userinfo.contains(':') {
        format!("{user}:***")
    } else {
        user.to_owned()
    };
    format!("{scheme}://{masked}@{host}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_backend_by_scheme() {
        assert_eq!(Location::parse("k.db"), Location::Sqlite("k.db".into()));
        assert_eq!(
            Location::parse("sqlite://k.db"),
            Location::Sqlite("k.db".into())
        );
        assert!(matches!(
            Location::parse("postgresql://h/db"),
            Location::Postgres(_)
        ));
    }

    #[test]
    fn password_never_printed() {
        let l = Location::parse("postgres://kw:s3cret@127.0.0.1:5432/keyward?sslmode=disable");
        assert_eq!(
            format!("{l:?} {l}"),
            "postgres://kw:***@127.0.0.1:5432/keyward?sslmode=disable postgres://kw:***@127.0.0.1:5432/keyward?sslmode=disable"
        );
        assert_eq!(
            Location::parse("postgres://h/db").redacted(),
            "postgres://h/db"
        );
    }
}
