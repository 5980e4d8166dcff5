//! Paths a team excludes from scanning, as globs (from the `[scan] exclude` list of
//! `keyward.toml`).
//!
//! A glob without `/` matches a file or directory name anywhere (`*.min.js`, `node_modules`);
//! one with `/` matches the path from the scan root (`vendor/**`, `docs/*.md`). `*` stays
//! within one name, `**` crosses directories.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Compiled exclusion globs.
#[derive(Debug, Clone, Default)]
pub struct Excludes {
    names: Option<GlobSet>,
    paths: Option<GlobSet>,
}

/// A glob that does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{glob}` is not a glob: {reason}")]
pub struct GlobError {
    /// The glob as written.
    pub glob: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Excludes {
    /// Compiles `globs`.
    pub fn new(globs: &[String]) -> Result<Self, GlobError> {
        let (mut names, mut paths) = (GlobSetBuilder::new(), GlobSetBuilder::new());
        let (mut any_name, mut any_path) = (false, false);
        for g in globs {
            let trimmed = g.trim_start_matches("./").trim_end_matches('/');
            let glob = GlobBuilder::new(trimmed)
                .literal_separator(true)
                .build()
                .map_err(|e| GlobError {
                    glob: g.clone(),
                    reason: e.kind().to_string(),
                })?;
            if trimmed.contains('/') {
                paths.add(glob);
                any_path = true;
            } else {
                names.add(glob);
                any_name = true;
            }
        }
        let build = |b: GlobSetBuilder, any: bool| -> Result<Option<GlobSet>, GlobError> {
            any.then(|| b.build()).transpose().map_err(|e| GlobError {
                glob: globs.join(", "),
                reason: e.to_string(),
            })
        };
        Ok(Self {
            names: build(names, any_name)?,
            paths: build(paths, any_path)?,
        })
    }

    /// Whether `relative` (a path from the scan root, `/`-separated) or any directory on the
    /// way to it is excluded.
    pub fn excludes(&self, relative: &str) -> bool {
        let relative = relative.trim_start_matches("./");
        if let Some(paths) = &self.paths {
            let dirs = relative.match_indices('/').map(|(i, _)| &relative[..i]);
            if dirs.chain([relative]).any(|p| paths.is_match(p)) {
                return true;
            }
        }
        self.names
            .as_ref()
            .is_some_and(|names| relative.split('/').any(|part| names.is_match(part)))
    }

    /// Whether nothing is excluded.
    pub fn is_empty(&self) -> bool {
        self.names.is_none() && self.paths.is_none()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    fn ex(globs: &[&str]) -> Excludes {
        Excludes::new(&globs.iter().map(|g| (*g).to_owned()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn names_anywhere_and_paths_from_the_root() {
        let e = ex(&["*.min.js", "node_modules", "vendor/**", "docs/*.md"]);
        assert!(e.excludes("web/app.min.js"));
        assert!(e.excludes("a/node_modules/x/y.js"));
        assert!(e.excludes("vendor/lib/z.go"));
        assert!(e.excludes("docs/intro.md"));
        assert!(!e.excludes("docs/deep/intro.md"));
        assert!(!e.excludes("src/vendor/z.go"));
        assert!(!e.excludes("web/app.js"));
        assert!(ex(&[]).is_empty());
        assert!(Excludes::new(&["a/[".into()]).is_err());
    }
}
