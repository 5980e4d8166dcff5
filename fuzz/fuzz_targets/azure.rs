//! az ad sp/app listings; what parses also merges.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = keyward_azure::parse_azure(Path::new("fuzz.json"), data) {
        let _ = keyward_azure::merge(vec![f], Some("00000000-0000-0000-0000-000000000000"));
    }
});
