//! CloudTrail delivery files and JSON lines.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = keyward_usage::parse_cloudtrail(Path::new("fuzz.json"), data);
});
