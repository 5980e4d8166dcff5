//! authorized_keys, .pub, certificates and known_hosts.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = keyward_pki::parse_ssh(Path::new("authorized_keys"), data);
    let _ = keyward_pki::parse_ssh(Path::new("known_hosts"), data);
});
