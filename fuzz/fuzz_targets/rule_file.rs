//! User rule files: any text either compiles into rules or is refused, never a panic; rules
//! that load can be checked and run against their own text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(rules) = keyward_rules::RuleSet::parse("fuzz.yaml", text) {
            let _ = rules.check();
            for m in rules.find(data) {
                assert!(m.secret.end <= data.len());
            }
        }
    }
});
