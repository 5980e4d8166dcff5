//! Kubernetes audit Event lines.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = keyward_usage::parse_k8s_audit(Path::new("fuzz.log"), data, "fuzz");
});
