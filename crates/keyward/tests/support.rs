use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch directory with a store in it.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub args: Vec<String>,
}

impl Env {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("keyward.db");
        Self {
            args: vec![
                "--db".into(),
                db.display().to_string(),
                "--actor".into(),
                "user:ci@example.com".into(),
            ],
            dir,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `keyward` with this store's arguments and `args`, in the directory, ready to run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_keyward"));
        c.args(&self.args)
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("KEYWARD_DB")
            .env_remove("KEYWARD_DATABASE_URL")
            .env_remove("KEYWARD_KEY");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs and expects success, returning stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "keyward {args:?} failed ({:?}):\n{}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// The ledger head and the number of NHIs: what "nothing written" must leave unchanged.
    pub fn state(&self) -> (i64, usize) {
        let v = self.json(&["ledger", "verify", "--format", "json"]);
        let list = self.json(&["inventory", "list", "--format", "json"]);
        (
            v["head_seq"].as_i64().unwrap(),
            list.as_array().unwrap().len(),
        )
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The README's declaration example, verbatim.
pub fn readme_example(name: &str) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let start = readme
        .find(&format!("<!-- {name} -->"))
        .unwrap_or_else(|| panic!("README has no {name} example"));
    let rest = &readme[start..];
    let open = rest.find("```").unwrap();
    let body = &rest[open..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("```").unwrap()].to_owned()
}
