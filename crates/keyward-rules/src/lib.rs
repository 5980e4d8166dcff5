//! Keyward's credential detection rules.
//!
//! Rules are data: YAML files under `data/rules/`, embedded at build time, plus any a user
//! adds with `--rules DIR`. Each rule names the credential it finds (kind, provider, the kind
//! of NHI it belongs to), a pattern with a `secret` group, literal keywords that must occur
//! before the pattern is tried, optional entropy and checksum requirements, and examples that
//! must and must not match. Every match, whether in a scan or a rule's own example, goes
//! through [`RuleSet::find`], so `keyward rules check` tests exactly what scans do.
//!
//! Placeholders (documentation values, templates, redactions) and cut-short tokens are dropped
//! by the definitions in `data/placeholders.yaml`. Patterns share fragments (`{assign}`: how
//! code and configuration join a name to its value) from `data/rule-fragments.yaml`.

mod error;
mod fragment;
mod pattern;
mod placeholder;
mod rules;
mod spec;
mod validate;

pub use error::RulesError;
pub use placeholder::Placeholders;
pub use rules::{CheckReport, ExampleFailure, Match, Rule, RuleSet};
pub use spec::{Checksum, Confidence};
pub use validate::{entropy, github_checksum};
