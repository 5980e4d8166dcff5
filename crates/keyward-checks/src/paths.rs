//! What sort of file a leaked secret sits in, and which environment its path names, from the
//! path alone. The vocabulary is `data/path-classes.yaml`'s; this is its reader.

use std::sync::LazyLock;

use keyward_model::Environment;
use serde::{Deserialize, Serialize};

/// What sort of file a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathClass {
    /// A CI/CD pipeline definition (`.github/workflows/*.yml`, `.gitlab-ci.yml`, …).
    Ci,
    /// Configuration (`.env`, `*.yaml`, `*.properties`, `*.tfvars`, …).
    Config,
    /// Documentation (`*.md`, `docs/`).
    Docs,
    /// Tests and fixtures.
    Test,
    /// Program source and anything else.
    Source,
}

impl PathClass {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ci => "ci",
            Self::Config => "config",
            Self::Docs => "docs",
            Self::Test => "test",
            Self::Source => "source",
        }
    }
}

/// `data/path-classes.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathsFile {
    ci: Patterns,
    test: Patterns,
    docs: Patterns,
    config: Patterns,
}

/// Ways a class shows in a path, all compared lower-case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Patterns {
    /// Whole file names.
    names: Vec<String>,
    /// File name endings (`.yml`, `.env`).
    suffixes: Vec<String>,
    /// File name beginnings (`.env`).
    prefixes: Vec<String>,
    /// Directory names anywhere in the path.
    dirs: Vec<String>,
    /// Path fragments (`.github/workflows/`).
    contains: Vec<String>,
}

const PATHS: &str = include_str!("../../../data/path-classes.yaml");

static TABLE: LazyLock<Result<PathsFile, String>> =
    LazyLock::new(|| serde_saphyr::from_str(PATHS).map_err(|e| e.to_string()));

/// The embedded path vocabulary's parse error, if it has one (the test suite asserts none).
pub fn table_error() -> Option<String> {
    TABLE.as_ref().err().cloned()
}

impl Patterns {
    fn matches(&self, path: &str, name: &str, dirs: &[&str]) -> bool {
        self.names.iter().any(|n| n == name)
            || self.suffixes.iter().any(|s| name.ends_with(s.as_str()))
            || self.prefixes.iter().any(|s| name.starts_with(s.as_str()))
            || self.dirs.iter().any(|d| dirs.contains(&d.as_str()))
            || self.contains.iter().any(|c| path.contains(c.as_str()))
    }
}

fn split(path: &str) -> (String, String, Vec<String>) {
    let lower = path.replace('\\', "/").to_ascii_lowercase();
    let mut parts: Vec<String> = lower.split('/').map(str::to_owned).collect();
    let name = parts.pop().unwrap_or_default();
    (format!("/{lower}"), name, parts)
}

/// The class of the file at `path`: CI first, then tests, docs, config, else source.
pub fn classify(path: &str) -> PathClass {
    let Ok(t) = TABLE.as_ref() else {
        return PathClass::Source;
    };
    let (full, name, dirs) = split(path);
    let dirs: Vec<&str> = dirs.iter().map(String::as_str).collect();
    for (patterns, class) in [
        (&t.ci, PathClass::Ci),
        (&t.test, PathClass::Test),
        (&t.docs, PathClass::Docs),
        (&t.config, PathClass::Config),
    ] {
        if patterns.matches(&full, &name, &dirs) {
            return class;
        }
    }
    PathClass::Source
}

/// The environment a path names by a whole word of it (`config/prod/db.yaml`,
/// `.env.staging`, `values-dev.yaml`), when exactly one is named. The word `test` is left
/// out: in a path it names test code, not a test environment.
pub fn environment(path: &str) -> Option<Environment> {
    let mut found = None;
    for word in path.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.eq_ignore_ascii_case("test") {
            continue;
        }
        if let Some(e) = Environment::from_word(word) {
            match found {
                None => found = Some(e),
                Some(f) if f == e => {}
                Some(_) => return None,
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_vocabulary_parses() {
        assert_eq!(table_error(), None);
    }

    #[test]
    fn classes() {
        for (path, class) in [
            (".github/workflows/deploy.yml", PathClass::Ci),
            ("sub/.gitlab-ci.yml", PathClass::Ci),
            ("Jenkinsfile", PathClass::Ci),
            ("src/test/java/FooTest.java", PathClass::Test),
            ("tests/fixtures/creds.json", PathClass::Test),
            ("app/foo_test.go", PathClass::Test),
            ("README.md", PathClass::Docs),
            ("docs/setup.txt", PathClass::Docs),
            (".env", PathClass::Config),
            (".env.production", PathClass::Config),
            ("config/database.yml", PathClass::Config),
            ("terraform/prod.tfvars", PathClass::Config),
            (
                "src/main/resources/application.properties",
                PathClass::Config,
            ),
            ("src/app.py", PathClass::Source),
            ("lib/client.rs", PathClass::Source),
        ] {
            assert_eq!(classify(path), class, "{path}");
        }
    }

    #[test]
    fn environments_by_whole_word() {
        for (path, env) in [
            ("config/prod/db.yaml", Some(Environment::Production)),
            (".env.production", Some(Environment::Production)),
            ("values-staging.yaml", Some(Environment::Staging)),
            (
                "k8s/overlays/dev/secret.yaml",
                Some(Environment::Development),
            ),
            ("deploy/qa.env", Some(Environment::Test)),
            ("src/product/devices.py", None),
            ("tests/unit.py", None),
            ("config/prod-to-staging.yaml", None),
        ] {
            assert_eq!(environment(path), env, "{path}");
        }
    }
}
