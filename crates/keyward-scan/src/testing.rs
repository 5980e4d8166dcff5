//! Test support shared by the crates whose output is SARIF.

/// The official SARIF 2.1.0 schema, fetched by `.ci/sarif-schema.sh` (or at
/// `KEYWARD_SARIF_SCHEMA`); `None`, with the reason printed, outside CI when it has not been
/// fetched. Under `CI` a missing schema is a failure.
pub fn sarif_schema() -> Result<Option<serde_json::Value>, String> {
    let path = std::env::var("KEYWARD_SARIF_SCHEMA").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/sarif-schema/sarif-2.1.0-rtm.5.json"
        )
        .to_owned()
    });
    match std::fs::read_to_string(&path) {
        // The published schema's `run.language` pattern has a stray `]`, which ECMAScript
        // regexes take as a literal and Rust's refuse; escaped, it means the same.
        Ok(text) => serde_json::from_str(&text.replace(r#"[a-zA-Z]{2}]?$"#, r#"[a-zA-Z]{2}\\]?$"#))
            .map(Some)
            .map_err(|e| format!("{path}: {e}")),
        Err(e) if std::env::var_os("CI").is_some() => Err(format!(
            "CI needs the SARIF schema at {path} (.ci/sarif-schema.sh): {e}"
        )),
        Err(e) => {
            eprintln!("skipping SARIF schema validation: {path}: {e}; run .ci/sarif-schema.sh");
            Ok(None)
        }
    }
}
