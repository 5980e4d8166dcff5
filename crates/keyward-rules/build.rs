//! Embeds every `data/rules/*.yaml` and `data/placeholders.yaml` file, so the binary carries its
//! rules and a new rule file needs no code change.

include!("../../build/embed_dir.rs");

fn main() {
    let placeholders =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/placeholders.yaml");
    println!("cargo:rerun-if-changed={}", placeholders.display());
    embed_yaml_dir("rules", "RULE_FILES", "rule_files.rs");
}
