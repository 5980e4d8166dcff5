//! Archives (zip, tar, tar.gz) scanned from untrusted bytes: within the depth and size limits,
//! never a panic or an unbounded allocation.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn rules() -> &'static keyward_rules::RuleSet {
    static RULES: OnceLock<keyward_rules::RuleSet> = OnceLock::new();
    RULES.get_or_init(|| keyward_rules::RuleSet::builtin().expect("the embedded rules load"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let label = ["fuzz.zip", "fuzz.tar", "fuzz.tar.gz", "fuzz.tgz"][usize::from(selector % 4)];
    let fingerprints = keyward_model::Fingerprinter::new(keyward_model::FingerprintKey::from_bytes([7; 32]));
    let options = keyward_scan::ScanOptions {
        max_archive_bytes: 1 << 20,
        ..keyward_scan::ScanOptions::default()
    };
    let mut report = keyward_scan::ScanReport::default();
    keyward_scan::scan_content(label, bytes, rules(), &fingerprints, &options, &mut report);
    assert!(report.bytes <= 1 << 20, "the archive budget holds");
});
