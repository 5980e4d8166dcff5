//! The connector: finds a repository's CI files on disk, reads them (recording each input's
//! digest) and follows GitLab local includes.

use std::collections::{BTreeSet, VecDeque};
use std::path::{Component, Path, PathBuf};

use keyward_connect::{ConnectError, Connector, Discovery, Inputs};
use serde_json::json;

use crate::{FileKind, analyze, kind_from_path, parse_as};

/// The connector's name, as recorded in runs and observations.
pub const CONNECTOR: &str = "ci-files";
/// The discovery source: one for GitHub and GitLab files alike, since one repository's CI
/// is one population.
pub const SOURCE: &str = "ci";

/// Directories never searched for included files.
const SKIPPED_DIRS: &[&str] = &[".git", "node_modules", "target", "vendor"];
/// How deep the search for included files goes.
const MAX_WALK_DEPTH: usize = 32;

/// Reads CI files of one repository.
#[derive(Debug, Clone)]
pub struct CiFilesConnector {
    /// Repository roots (their `.github/workflows/`, `.github/actions/**/action.yml`,
    /// `action.yml` and `.gitlab-ci.yml` are read), other directories (every `*.yml` and
    /// `*.yaml` under them that is a CI file; others are skipped with a warning), or single
    /// files (an error when not a CI file).
    pub paths: Vec<PathBuf>,
    /// The repository's name in external ids and the scope (`acme/payments`). By default
    /// the name of the repository's directory: the directory holding `.github/`, else the
    /// first directory given, else the directory of a `.gitlab-ci.yml` given.
    pub repository: Option<String>,
}

/// A file to read.
#[derive(Debug, Clone)]
struct Found {
    path: PathBuf,
    display: String,
    kind: Option<FileKind>,
    /// The repository root that local includes are relative to.
    root: PathBuf,
    /// Given by the user (not found by a search).
    explicit: bool,
}

impl CiFilesConnector {
    /// Reads `paths`, naming the repository after its directory.
    pub fn new(paths: Vec<PathBuf>) -> Self {
        Self {
            paths,
            repository: None,
        }
    }

    /// Names the repository (`acme/payments`).
    pub fn with_repository(mut self, repository: impl Into<String>) -> Self {
        self.repository = Some(repository.into());
        self
    }

    /// Reads the files and returns what they show; the blocking work [`Connector::discover`]
    /// wraps.
    pub fn read(&self) -> Result<Discovery, ConnectError> {
        if self.paths.is_empty() {
            return Err(ConnectError::Usage(
                "give a repository, a directory of CI files or a CI file".into(),
            ));
        }
        let repository = match &self.repository {
            Some(r) => checked_repository(r)?,
            None => default_repository(&self.paths)?,
        };
        let mut queue = VecDeque::new();
        for p in &self.paths {
            collect(p, &mut queue)?;
        }
        let mut inputs = Inputs::new();
        let mut parsed = Vec::new();
        let mut warnings = Vec::new();
        let mut seen = BTreeSet::new();
        while let Some(f) = queue.pop_front() {
            let canonical = std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone());
            if !seen.insert(canonical) {
                continue;
            }
            let file = inputs.read(&f.path)?;
            match parse_as(f.kind, &f.path, &f.display, &file.bytes)? {
                Some(p) => {
                    for pattern in p.local_includes() {
                        for (path, display) in included(&f.root, &pattern)? {
                            queue.push_back(Found {
                                path,
                                display,
                                kind: Some(FileKind::GitlabCi),
                                root: f.root.clone(),
                                explicit: false,
                            });
                        }
                    }
                    parsed.push(p);
                }
                None if f.explicit => {
                    return Err(ConnectError::Usage(format!(
                        "{}: not a GitHub Actions workflow, action or GitLab CI file",
                        f.path.display()
                    )));
                }
                None => warnings.push(format!(
                    "{}: not a GitHub Actions workflow, action or GitLab CI file; skipped",
                    f.path.display()
                )),
            }
        }
        let (nhis, more) = analyze(&repository, &parsed);
        warnings.extend(more);
        Ok(Discovery {
            source: SOURCE.to_owned(),
            scope: format!("ci:{repository}"),
            complete: true,
            connector: CONNECTOR,
            connector_version: env!("CARGO_PKG_VERSION"),
            inputs: inputs.into_records(),
            parameters: json!({
                "paths": self.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                "repository": repository,
            }),
            nhis,
            warnings,
        })
    }
}

impl Connector for CiFilesConnector {
    fn name(&self) -> &'static str {
        CONNECTOR
    }

    // The files are small and few; reading them inline costs less than a blocking task.
    async fn discover(&self) -> Result<Discovery, ConnectError> {
        self.read()
    }
}

fn checked_repository(r: &str) -> Result<String, ConnectError> {
    let r = r.trim();
    if r.is_empty()
        || r.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ':')
    {
        return Err(ConnectError::Usage(format!(
            "`{r}` is not a repository name (expected a path such as `acme/payments`, without spaces or `:`)"
        )));
    }
    Ok(r.to_owned())
}

fn normal_parts(path: &Path) -> Vec<String> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect()
}

/// The repository a path belongs to, by directory name.
fn default_repository(paths: &[PathBuf]) -> Result<String, ConnectError> {
    for p in paths {
        let canonical = std::fs::canonicalize(p).map_err(|source| ConnectError::Io {
            path: p.clone(),
            source,
        })?;
        let parts = normal_parts(&canonical);
        let name = match parts.iter().position(|c| c == ".github") {
            Some(i) if i > 0 => parts.get(i - 1).cloned(),
            Some(_) => None,
            None if canonical.is_dir() => parts.last().cloned(),
            None if parts.last().is_some_and(|f| f.starts_with(".gitlab-ci")) => {
                parts.iter().rev().nth(1).cloned()
            }
            None => None,
        };
        if let Some(name) = name {
            return checked_repository(&name);
        }
    }
    Err(ConnectError::Usage(
        "cannot tell the repository's name from the paths given; name it (for example `acme/payments`)".into(),
    ))
}

fn is_yaml(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "yml" || e == "yaml")
}

/// `path` relative to `base`, `/`-separated.
fn relative(path: &Path, base: &Path) -> String {
    normal_parts(path.strip_prefix(base).unwrap_or(path)).join("/")
}

/// The repository root of a path under `.github/`: the directory holding it.
fn github_root(path: &Path) -> Option<PathBuf> {
    let mut root = PathBuf::new();
    for c in path.components() {
        if c.as_os_str() == ".github" {
            return Some(if root.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                root
            });
        }
        root.push(c);
    }
    None
}

fn is_repo_root(dir: &Path) -> bool {
    dir.join(".github").is_dir()
        || dir.join(".gitlab-ci.yml").is_file()
        || dir.join(".gitlab-ci.yaml").is_file()
}

/// The files to read for one path the user gave.
fn collect(p: &Path, out: &mut VecDeque<Found>) -> Result<(), ConnectError> {
    let meta = std::fs::metadata(p).map_err(|source| ConnectError::Io {
        path: p.to_owned(),
        source,
    })?;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ConnectError::Io { path, source }
    };
    if !meta.is_dir() {
        let (display, root) = match github_root(p) {
            Some(root) => (relative(p, &root), root),
            None => (
                normal_parts(p).last().cloned().unwrap_or_default(),
                p.parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_owned),
            ),
        };
        out.push_back(Found {
            path: p.to_owned(),
            display,
            kind: None,
            root,
            explicit: true,
        });
        return Ok(());
    }
    if is_repo_root(p) {
        let mut files = Vec::new();
        let workflows = p.join(".github").join("workflows");
        if workflows.is_dir() {
            let mut entries = std::fs::read_dir(&workflows)
                .map_err(io(&workflows))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(io(&workflows))?;
            entries.sort_by_key(std::fs::DirEntry::file_name);
            for e in entries {
                let path = e.path();
                if path.is_file() && is_yaml(&path) {
                    files.push((path, Some(FileKind::GithubWorkflow)));
                }
            }
        }
        let actions = p.join(".github").join("actions");
        if actions.is_dir() {
            for path in Inputs::find(&[actions], is_action)? {
                files.push((path, Some(FileKind::GithubAction)));
            }
        }
        for (name, kind) in [
            ("action.yml", FileKind::GithubAction),
            ("action.yaml", FileKind::GithubAction),
            (".gitlab-ci.yml", FileKind::GitlabCi),
            (".gitlab-ci.yaml", FileKind::GitlabCi),
        ] {
            let path = p.join(name);
            if path.is_file() {
                files.push((path, Some(kind)));
            }
        }
        for (path, kind) in files {
            out.push_back(Found {
                display: relative(&path, p),
                path,
                kind,
                root: p.to_owned(),
                explicit: false,
            });
        }
        return Ok(());
    }
    for path in Inputs::find(&[p.to_owned()], is_yaml)? {
        let (display, root) = match github_root(&path) {
            Some(root) => (relative(&path, &root), root),
            None => (relative(&path, p), p.to_owned()),
        };
        out.push_back(Found {
            kind: kind_from_path(&display),
            path,
            display,
            root,
            explicit: false,
        });
    }
    Ok(())
}

fn is_action(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n == "action.yml" || n == "action.yaml")
}

/// The files a local include names under `root`, with the path facts show for each. A
/// pattern with `*` is matched against every YAML file under the root; a path leaving the
/// root is never followed.
fn included(root: &Path, pattern: &str) -> Result<Vec<(PathBuf, String)>, ConnectError> {
    if pattern.split('/').any(|c| c == "..") || pattern.is_empty() {
        return Ok(Vec::new());
    }
    if !pattern.contains('*') {
        let path = root.join(pattern);
        return Ok(if path.is_file() {
            vec![(path, pattern.to_owned())]
        } else {
            Vec::new()
        });
    }
    let Ok(glob) = globset::Glob::new(pattern) else {
        return Ok(Vec::new());
    };
    let matcher = glob.compile_matcher();
    let mut out = Vec::new();
    walk(root, 0, &mut |path| {
        let rel = relative(path, root);
        if matcher.is_match(&rel) {
            out.push((path.to_owned(), rel));
        }
    })?;
    Ok(out)
}

/// Visits every YAML file under `dir` in sorted order, hidden directories included (GitLab
/// projects keep CI files under `.gitlab/`), `.git` and dependency directories skipped.
fn walk(dir: &Path, depth: usize, f: &mut impl FnMut(&Path)) -> Result<(), ConnectError> {
    if depth > MAX_WALK_DEPTH {
        return Ok(());
    }
    let io = |source| ConnectError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for e in entries {
        let kind = e.file_type().map_err(io)?;
        let path = e.path();
        if kind.is_dir() {
            if !SKIPPED_DIRS.iter().any(|s| e.file_name() == *s) {
                walk(&path, depth + 1, f)?;
            }
        } else if kind.is_file() && is_yaml(&path) {
            f(&path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names() {
        assert_eq!(checked_repository(" acme/pay ").unwrap(), "acme/pay");
        assert!(checked_repository("a b").is_err());
        assert!(checked_repository("a:b").is_err());
        assert!(checked_repository("").is_err());
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("payments");
        std::fs::create_dir_all(repo.join(".github/workflows")).unwrap();
        let wf = repo.join(".github/workflows/ci.yml");
        std::fs::write(&wf, "on: push\njobs: {}\n").unwrap();
        assert_eq!(default_repository(&[wf]).unwrap(), "payments");
        assert_eq!(
            default_repository(&[repo.join(".github/workflows")]).unwrap(),
            "payments"
        );
        assert_eq!(default_repository(&[repo]).unwrap(), "payments");
        let loose = dir.path().join("x.yml");
        std::fs::write(&loose, "a: 1\n").unwrap();
        assert!(matches!(
            default_repository(&[loose]),
            Err(ConnectError::Usage(_))
        ));
    }

    #[test]
    fn github_roots() {
        assert_eq!(
            github_root(Path::new("/r/.github/workflows/a.yml")),
            Some(PathBuf::from("/r"))
        );
        assert_eq!(
            github_root(Path::new(".github/workflows/a.yml")),
            Some(PathBuf::from("."))
        );
        assert_eq!(github_root(Path::new("ci/a.yml")), None);
    }
}
