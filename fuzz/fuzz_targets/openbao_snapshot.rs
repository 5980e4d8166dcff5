//! OpenBao API responses (a recorded snapshot of every call discovery makes), walked offline.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = keyward_openbao::parse_snapshot(Path::new("fuzz.json"), data);
});
