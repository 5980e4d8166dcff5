//! Embeds every `data/rules/*.yaml` and `data/placeholders.yaml` file, so the binary carries its
//! rules and a new rule file needs no code change.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    let rules = data.join("rules");
    println!("cargo:rerun-if-changed={}", rules.display());
    println!(
        "cargo:rerun-if-changed={}",
        data.join("placeholders.yaml").display()
    );
    let mut names: Vec<_> = std::fs::read_dir(&rules)
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut out = String::from("/// The embedded rule files: name and text, in name order.\n");
    out.push_str("pub(crate) const RULE_FILES: &[(&str, &str)] = &[\n");
    for p in &names {
        println!("cargo:rerun-if-changed={}", p.display());
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    ({:?}, include_str!({:?})),",
            format!("data/rules/{name}"),
            p.display().to_string()
        );
    }
    out.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    if let Err(e) = std::fs::write(Path::new(&out_dir).join("rule_files.rs"), out) {
        println!("cargo:warning=cannot write the embedded rule list: {e}");
        std::process::exit(1);
    }
}
