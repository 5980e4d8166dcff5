//! AWS authorization details: any bytes parse or fail with a positioned error, never a panic; what parses also resolves.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = keyward_aws::parse_authorization_details(Path::new("fuzz.json"), data) {
        let _ = keyward_aws::resolve(&[d], &[], None);
    }
});
