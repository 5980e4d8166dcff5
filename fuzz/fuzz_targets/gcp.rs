//! GCP asset exports and gcloud listings; what parses also merges.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = keyward_gcp::parse_gcp(Path::new("fuzz.json"), data) {
        let _ = keyward_gcp::merge(vec![f], Some("projects/fuzz"));
    }
});
