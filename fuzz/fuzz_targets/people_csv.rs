//! The people CSV: any text either loads or is refused with located errors, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(errors) = keyward_manifest::parse_people_csv("fuzz.csv", text) {
            assert!(!errors.0.is_empty());
        }
    }
});
