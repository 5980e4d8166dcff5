//! Kubernetes manifests (multi-document YAML, List kinds); what parses also resolves.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = keyward_kube::parse_manifests(Path::new("fuzz.yaml"), data) {
        let _ = m.resolve("fuzz", "default");
    }
});
