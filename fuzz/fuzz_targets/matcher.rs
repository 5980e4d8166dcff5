//! The built-in rules on arbitrary bytes: every match lies inside the input, never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn rules() -> &'static keyward_rules::RuleSet {
    static RULES: OnceLock<keyward_rules::RuleSet> = OnceLock::new();
    RULES.get_or_init(|| keyward_rules::RuleSet::builtin().expect("the embedded rules load"))
}

fuzz_target!(|data: &[u8]| {
    for m in rules().find(data) {
        assert!(m.secret.start <= m.secret.end && m.secret.end <= data.len());
        if let Some(id) = m.id {
            assert!(id.end <= data.len());
        }
    }
});
