//! Embeds every `data/checks/*.yaml` file, so the binary carries its checks' metadata and test
//! cases and a new check file needs no change here.

include!("../../build/embed_dir.rs");

fn main() {
    embed_yaml_dir("checks", "CHECK_FILES", "check_files.rs");
}
