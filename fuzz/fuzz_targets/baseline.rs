//! Baseline files: any text either reads as a baseline or is refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = keyward_scan::Baseline::parse(std::path::Path::new("fuzz.json"), text, "k");
    }
});
