// Shared by the build scripts that embed a directory of YAML data files (`include!`d, so each
// build script stays a plain file with no build dependency).

/// Writes `$OUT_DIR/{out_file}` declaring `const {name}: &[(&str, &str)]`: every `*.yaml` in
/// `data/{dir}`, as `("data/{dir}/<file>", include_str!(…))` in name order, and asks Cargo to
/// rebuild when the directory or a file in it changes. Exits the build on a write error.
fn embed_yaml_dir(dir: &str, name: &str, out_file: &str) {
    use std::fmt::Write as _;
    use std::path::Path;

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data").join(dir);
    println!("cargo:rerun-if-changed={}", root.display());
    let mut paths: Vec<_> = std::fs::read_dir(&root)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    let mut out = format!("/// The embedded `data/{dir}` files: name and text, in name order.\n");
    let _ = writeln!(out, "pub(crate) const {name}: &[(&str, &str)] = &[");
    for p in &paths {
        println!("cargo:rerun-if-changed={}", p.display());
        let file = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    ({:?}, include_str!({:?})),",
            format!("data/{dir}/{file}"),
            p.display().to_string()
        );
    }
    out.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    if let Err(e) = std::fs::write(Path::new(&out_dir).join(out_file), out) {
        println!("cargo:warning=cannot write the embedded list of data/{dir}: {e}");
        std::process::exit(1);
    }
}
