//! PEM and DER certificate files.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = keyward_pki::parse_certificates(Path::new("fuzz.pem"), data);
});
