//! NHI declarations: any text either loads or is refused with located errors, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match keyward_manifest::parse_str("fuzz.yaml", text) {
            Ok(nhis) => assert!(nhis.iter().all(|n| !n.name.is_empty())),
            Err(errors) => assert!(!errors.0.is_empty()),
        }
    }
});
