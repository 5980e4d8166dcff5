//! The IAM credential report CSV.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = keyward_aws::parse_credential_report(Path::new("fuzz.csv"), data) {
        let _ = keyward_aws::resolve(&[], &[r], None);
    }
});
