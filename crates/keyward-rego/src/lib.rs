//! Keyward's policy-as-code engine: custom posture checks written in Rego (OPA's policy
//! language), evaluated by the embedded [regorus](https://crates.io/crates/regorus)
//! interpreter. The crate works on JSON only and knows nothing of Keyward's other crates.
//!
//! # The conventions a custom check follows
//!
//! - **One module, one check.** A check is one `.rego` file declaring a package under
//!   `keyward.checks.`, such as `package keyward.checks.prod_backup_owner`; each component is
//!   a plain identifier. Any other package is refused, naming the package.
//! - **Rego v1.** Rules are written `deny contains msg if { … }`. regorus parses v1 by
//!   default, so `import rego.v1` is accepted and not needed; v0 syntax (`deny[msg] { … }`)
//!   is refused with regorus's own message and position.
//! - **`input` is one NHI**: the JSON object Keyward passes (its "subject" document).
//! - **`data.params` holds the check's parameters**: a JSON object, empty when the check
//!   has none. Nothing else is under `data`.
//! - **Findings come from `deny`**, a set (or array) in the check's package. Each member is
//!   either a string, the message, or an object with a string `msg` whose other fields become
//!   the finding's evidence. `deny` undefined or empty means the NHI passes. A module without
//!   a `deny` rule is refused: it could never find anything, and is most likely a typo.
//! - **`applies` is optional.** When the module declares it, the check applies to an NHI only
//!   where `applies` is true; false or undefined (its conditions failed, with no `default`)
//!   makes the NHI [`Verdict::NotApplicable`], neither passing nor failing. A module without
//!   `applies` applies to every NHI.
//! - **Builtins fail softly**, as in OPA by default: a builtin that errors (say `to_number`
//!   on `"abc"`) leaves its expression undefined. Builtins that read the environment or reach
//!   outside (`opa.runtime`, `http.send`, `uuid.rfc4122`) are not compiled in.
//!
//! ```rego
//! package keyward.checks.prod_backup_owner
//!
//! applies if input.environment == "production"
//!
//! deny contains "production NHI has no backup owner" if not has_backup_owner
//!
//! # Undefined, and so not a backup owner, unless a non-blank string.
//! has_backup_owner if trim_space(input.backup_owner) != ""
//! ```
//!
//! # Evaluating
//!
//! [`RegoCheck::compile`] parses and compiles the module once; [`RegoCheck::evaluate`] then
//! judges one NHI at a time and returns a [`Verdict`]. Violations come out sorted by message
//! and then by fields, with duplicates dropped, so repeated runs give identical findings.
//! Parameters are converted only when they differ from the previous call's. When several
//! checks judge the same NHI, [`PreparedInput`] converts it once for all of them
//! ([`RegoCheck::evaluate_prepared`]).
//!
//! A check runs on regorus's register VM when regorus can compile the module to bytecode,
//! and otherwise on regorus's interpreter (the VM compiler does not yet handle `with`,
//! `print`, `walk` loops and a few rule shapes); [`RegoCheck::backend`] says which, and
//! [`RegoCheck::vm_unsupported`] why. The VM is two to three times as fast. Unknown functions
//! and unsafe variables are refused at compile time when the VM compiler sees them, with
//! their position. The backends judge alike but for one known difference: where two
//! definitions of a complete rule or function disagree for an NHI, the interpreter fails
//! with OPA's conflict error while the VM leaves the rule undefined.
//! [`RegoCheck::compile_with`] picks a backend explicitly, to cross-check a policy.
//!
//! An engine is `Send` but serves one thread at a time: clone it once per worker. A clone is
//! compiled afresh from the source (a millisecond or two), so that threads share no
//! reference-counted value and do not slow each other down.
//!
//! # Errors
//!
//! [`RegoError`] names the file and the position regorus reports for syntax and compile
//! errors (`` `policies/x.rego`:3:5: … ``), the package for errors met while evaluating,
//! and what was found when `deny` or `applies` has the wrong shape.

mod check;
mod convert;
mod error;
mod verdict;

pub use check::{Backend, RegoCheck, VM_INSTRUCTION_LIMIT};
pub use convert::PreparedInput;
pub use error::RegoError;
pub use verdict::{Verdict, Violation};
