//! One compiled custom check and its evaluation over NHIs.

use std::collections::BTreeMap;
use std::fmt;

use regorus::languages::rego::compiler::{Compiler, CompilerError, SpannedCompilerError};
use regorus::rvm::{Program, RegoVM};
use regorus::{Engine, Value};

use crate::convert::{PreparedInput, describe, json_kind, to_rego};
use crate::error::{Located, RegoError, locate, one_line};
use crate::verdict::{Verdict, decide};

/// How many VM instructions one evaluation may run before it is stopped as a runaway.
///
/// regorus's own default (25,000) is low enough that a sound policy looping over an NHI
/// with a few hundred permissions could hit it; this bound only catches real runaways.
pub const VM_INSTRUCTION_LIMIT: usize = 10_000_000;

/// Which of regorus's two evaluators runs a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// regorus's register VM (RVM): the module compiled to bytecode. Two to three times as
    /// fast as the interpreter on `examples/bench.rs`.
    Vm,
    /// regorus's tree-walking interpreter: runs everything regorus parses.
    Interpreter,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Vm => "vm",
            Backend::Interpreter => "interpreter",
        })
    }
}

/// A custom check: one Rego module, compiled once, evaluated NHI after NHI.
///
/// One engine serves one thread: clone it for each worker. A clone is compiled afresh, so
/// engines on different threads share nothing.
pub struct RegoCheck {
    origin: String,
    /// Kept so that a clone can be compiled afresh (see `Clone`).
    source: String,
    package: String,
    deny: String,
    applies: Option<String>,
    /// The parameters `data` was last built from, so unchanged parameters cost a comparison;
    /// `None` after a failed update, when the engine's `data` is not known to match.
    params: Option<serde_json::Value>,
    data: Value,
    runner: Runner,
    vm_unsupported: Option<String>,
}

enum Runner {
    Vm {
        program: regorus::Rc<Program>,
        /// Built on first evaluation, where setting its `data` can report an error.
        vm: Option<Box<RegoVM>>,
    },
    Interpreter(Box<Engine>),
}

impl RegoCheck {
    /// Compiles `source`; `origin` (a file path) is used in error messages.
    ///
    /// The check runs on the VM when regorus can compile the module for it, and on the
    /// interpreter otherwise ([`RegoCheck::vm_unsupported`] says why).
    pub fn compile(origin: &str, source: &str) -> Result<Self, RegoError> {
        Self::build(origin, source, None)
    }

    /// Compiles `source` for the given backend; [`Backend::Vm`] fails with
    /// [`RegoError::VmUnsupported`] when the module uses what the VM cannot run.
    pub fn compile_with(origin: &str, source: &str, backend: Backend) -> Result<Self, RegoError> {
        Self::build(origin, source, Some(backend))
    }

    fn build(origin: &str, source: &str, backend: Option<Backend>) -> Result<Self, RegoError> {
        let module_error = module_error_from(origin);
        let mut engine = Engine::new();
        // OPA's default: a builtin that fails makes its expression undefined. The VM behaves
        // so already; the interpreter is told to, so both backends judge alike.
        engine.set_strict_builtin_errors(false);
        // `print` output is gathered and dropped rather than written to stderr per NHI.
        engine.set_gather_prints(true);
        engine
            .add_policy(origin.to_owned(), source.to_owned())
            .map_err(module_error)?;
        let package = package_path(origin, &engine)?;
        let declares = |rule: &str| {
            engine
                .has_declared_rule_rooted_at(origin, rule)
                .map_err(module_error)
        };
        if !declares("deny")? {
            return Err(RegoError::NoDeny {
                origin: origin.to_owned(),
                package: package.trim_start_matches("data.").to_owned(),
            });
        }
        let deny = format!("{package}.deny");
        let applies = declares("applies")?.then(|| format!("{package}.applies"));

        let params = serde_json::Value::Object(serde_json::Map::new());
        let data = data_document(&params);
        engine.add_data(data.clone()).map_err(module_error)?;
        let compiled = engine
            .compile_with_entrypoint(&regorus::Rc::from(deny.as_str()))
            .map_err(module_error)?;

        let mut vm_unsupported = None;
        let runner = if backend == Some(Backend::Interpreter) {
            Runner::Interpreter(Box::new(engine))
        } else {
            let mut entry_points = vec![deny.as_str()];
            entry_points.extend(applies.as_deref());
            match Compiler::compile_from_policy(&compiled, &entry_points) {
                Ok(program) => Runner::Vm { program, vm: None },
                Err(error) => match vm_failure(origin, &error) {
                    VmFailure::Module(error) => return Err(error),
                    VmFailure::Unsupported(reason) if backend == Some(Backend::Vm) => {
                        return Err(RegoError::VmUnsupported {
                            origin: origin.to_owned(),
                            reason,
                        });
                    }
                    VmFailure::Unsupported(reason) => {
                        vm_unsupported = Some(reason);
                        Runner::Interpreter(Box::new(engine))
                    }
                },
            }
        };
        Ok(Self {
            origin: origin.to_owned(),
            source: source.to_owned(),
            package,
            deny,
            applies,
            params: Some(params),
            data,
            runner,
            vm_unsupported,
        })
    }

    /// The module's package path, e.g. `data.keyward.checks.prod_backup_owner`.
    pub fn package(&self) -> &str {
        &self.package
    }

    /// The file the module came from, as given to [`RegoCheck::compile`].
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Whether the module declares `applies`, so that some NHIs can be not applicable.
    pub fn has_applies(&self) -> bool {
        self.applies.is_some()
    }

    /// The backend that evaluates this check.
    pub fn backend(&self) -> Backend {
        match self.runner {
            Runner::Vm { .. } => Backend::Vm,
            Runner::Interpreter(_) => Backend::Interpreter,
        }
    }

    /// Why the VM could not compile this module, when [`RegoCheck::compile`] fell back to
    /// the interpreter.
    pub fn vm_unsupported(&self) -> Option<&str> {
        self.vm_unsupported.as_deref()
    }

    /// Evaluates one NHI.
    ///
    /// `input` is the NHI's JSON object; `params` (an object, or null for none) becomes
    /// `data.params`. Parameters equal to the previous call's are not converted again.
    pub fn evaluate(
        &mut self,
        input: &serde_json::Value,
        params: &serde_json::Value,
    ) -> Result<Verdict, RegoError> {
        if !input.is_object() {
            return Err(self.not_an_object(json_kind(input)));
        }
        self.set_params(params)?;
        self.run(to_rego(input))
    }

    /// Evaluates one NHI converted beforehand, as [`RegoCheck::evaluate`] does.
    pub fn evaluate_prepared(
        &mut self,
        input: &PreparedInput,
        params: &serde_json::Value,
    ) -> Result<Verdict, RegoError> {
        if !matches!(input.value, Value::Object(_)) {
            return Err(self.not_an_object(input.kind));
        }
        self.set_params(params)?;
        self.run(input.value.clone())
    }

    fn not_an_object(&self, found: &'static str) -> RegoError {
        RegoError::Input {
            package: self.package.clone(),
            found,
        }
    }

    fn run(&mut self, input: Value) -> Result<Verdict, RegoError> {
        let package = self.package.as_str();
        let origin = self.origin.as_str();
        let deny = match &mut self.runner {
            Runner::Vm { program, vm } => {
                let vm = match vm {
                    Some(vm) => vm,
                    None => vm.insert(new_vm(package, program, &self.data)?),
                };
                vm.set_input(input);
                let mut run = |path: &str| {
                    vm.execute_entry_point_by_name(path)
                        .map_err(|error| evaluation_error(package, origin, &error.to_string()))
                };
                if let Some(applies) = &self.applies
                    && !applicable(package, &run(applies)?)?
                {
                    return Ok(Verdict::NotApplicable);
                }
                run(&self.deny)?
            }
            Runner::Interpreter(engine) => {
                engine.set_input(input);
                let mut run = |path: &str| {
                    let value = engine
                        .eval_rule(path.to_owned())
                        .map_err(|error| evaluation_error(package, origin, &format!("{error:#}")));
                    // Dropped: gathered only so they do not go to stderr once per NHI.
                    let _prints = engine.take_prints();
                    value
                };
                if let Some(applies) = &self.applies
                    && !applicable(package, &run(applies)?)?
                {
                    return Ok(Verdict::NotApplicable);
                }
                run(&self.deny)?
            }
        };
        decide(package, &deny)
    }

    fn set_params(&mut self, params: &serde_json::Value) -> Result<(), RegoError> {
        if self.params.as_ref() == Some(params) {
            return Ok(());
        }
        if !matches!(
            params,
            serde_json::Value::Object(_) | serde_json::Value::Null
        ) {
            return Err(RegoError::Params {
                package: self.package.clone(),
                found: json_kind(params),
            });
        }
        let data = data_document(params);
        self.params = None;
        match &mut self.runner {
            Runner::Vm { vm: Some(vm), .. } => vm.set_data(data.clone()).map_err(|error| {
                evaluation_error(&self.package, &self.origin, &error.to_string())
            })?,
            Runner::Vm { vm: None, .. } => {}
            Runner::Interpreter(engine) => {
                engine.clear_data();
                engine.add_data(data.clone()).map_err(|error| {
                    evaluation_error(&self.package, &self.origin, &format!("{error:#}"))
                })?;
            }
        }
        self.data = data;
        self.params = Some(params.clone());
        Ok(())
    }
}

/// A clone is compiled afresh from the module's source, so that it shares no
/// reference-counted value with the original: regorus's VM bumps the counts of its program
/// on every rule and builtin call, and of a literal each time it loads one, so engines on two
/// cores sharing them would keep pulling the same cache lines from each other. Compiling
/// takes a millisecond or two, once per worker.
impl Clone for RegoCheck {
    fn clone(&self) -> Self {
        match Self::build(&self.origin, &self.source, Some(self.backend())) {
            Ok(mut fresh) => {
                fresh.vm_unsupported.clone_from(&self.vm_unsupported);
                if let Some(params) = &self.params {
                    // On failure the clone's parameters are left unknown and are set again
                    // by its first evaluation.
                    let _unknown = fresh.set_params(params);
                }
                fresh
            }
            // The module compiled once and compiling is deterministic, so this is not
            // expected; sharing the original's values is still correct, only slower.
            Err(_) => self.sharing_clone(),
        }
    }
}

impl RegoCheck {
    fn sharing_clone(&self) -> Self {
        let runner = match &self.runner {
            Runner::Vm { program, .. } => Runner::Vm {
                program: program.clone(),
                vm: None,
            },
            Runner::Interpreter(engine) => Runner::Interpreter(engine.clone()),
        };
        Self {
            origin: self.origin.clone(),
            source: self.source.clone(),
            package: self.package.clone(),
            deny: self.deny.clone(),
            applies: self.applies.clone(),
            params: self.params.clone(),
            data: self.data.clone(),
            runner,
            vm_unsupported: self.vm_unsupported.clone(),
        }
    }
}

impl fmt::Debug for RegoCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegoCheck")
            .field("origin", &self.origin)
            .field("package", &self.package)
            .field("applies", &self.applies.is_some())
            .field("backend", &self.backend())
            .field("vm_unsupported", &self.vm_unsupported)
            .finish_non_exhaustive()
    }
}

/// `{"params": params}`, with null standing for no parameters.
fn data_document(params: &serde_json::Value) -> Value {
    let params = match params {
        serde_json::Value::Null => Value::new_object(),
        other => to_rego(other),
    };
    Value::from(BTreeMap::from([(Value::from("params"), params)]))
}

fn new_vm(
    package: &str,
    program: &regorus::Rc<Program>,
    data: &Value,
) -> Result<Box<RegoVM>, RegoError> {
    let mut vm = Box::new(RegoVM::new());
    vm.load_program(program.clone());
    vm.set_max_instructions(VM_INSTRUCTION_LIMIT);
    vm.set_strict_builtin_errors(false);
    vm.set_data(data.clone())
        .map_err(|error| RegoError::Evaluation {
            package: package.to_owned(),
            message: error.to_string(),
        })?;
    Ok(vm)
}

/// Reads `applies`: declared but undefined for this NHI (a false condition) means "no".
fn applicable(package: &str, value: &Value) -> Result<bool, RegoError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Undefined => Ok(false),
        other => Err(RegoError::AppliesNotBool {
            package: package.to_owned(),
            found: describe(other),
        }),
    }
}

/// Checks the module's package and returns its path under `data`.
fn package_path(origin: &str, engine: &Engine) -> Result<String, RegoError> {
    let packages = engine
        .get_policy_package_components()
        .map_err(module_error_from(origin))?;
    let components = packages
        .into_iter()
        .next()
        .map(|p| p.components)
        .unwrap_or_default();
    let shown = components.join(".");
    if components.len() < 3 || components[0] != "keyward" || components[1] != "checks" {
        return Err(RegoError::PackageOutside {
            origin: origin.to_owned(),
            package: shown,
        });
    }
    if let Some(bad) = components.iter().find(|c| !is_identifier(c)) {
        return Err(RegoError::PackageComponent {
            origin: origin.to_owned(),
            package: shown.clone(),
            component: bad.clone(),
        });
    }
    Ok(format!("data.{shown}"))
}

fn is_identifier(component: &str) -> bool {
    let mut chars = component.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Maps one of regorus's errors (an `anyhow` chain, shown with its causes) to a module error.
fn module_error_from<E: fmt::Display>(origin: &str) -> impl Fn(E) -> RegoError + Copy + '_ {
    move |error| module_error(origin, &format!("{error:#}"))
}

/// A parse or compile error, with the position when regorus renders one.
fn module_error(origin: &str, text: &str) -> RegoError {
    match locate(origin, text) {
        Some(Located {
            line,
            column,
            message,
        }) => RegoError::Syntax {
            origin: origin.to_owned(),
            line,
            column,
            message,
        },
        None => RegoError::Invalid {
            origin: origin.to_owned(),
            message: one_line(origin, text),
        },
    }
}

fn evaluation_error(package: &str, origin: &str, text: &str) -> RegoError {
    RegoError::Evaluation {
        package: package.to_owned(),
        message: one_line(origin, text),
    }
}

enum VmFailure {
    /// The module is wrong whichever backend runs it.
    Module(RegoError),
    /// The module is sound but the VM compiler does not handle it yet.
    Unsupported(String),
}

/// Sorts a VM compile error into a mistake in the module or a gap in the VM compiler.
///
/// Unknown functions and unsafe variables are errors in OPA's compiler too; the interpreter
/// would only meet them at run time, on the NHI that reaches them. Nested errors arrive
/// flattened into rendered text, so the innermost located message is the one judged.
fn vm_failure(origin: &str, error: &SpannedCompilerError) -> VmFailure {
    let mut position = error.span.as_ref().map(|span| (span.line, span.col));
    let mut message = error.error.to_string();
    if let CompilerError::General { message: inner } = &error.error {
        message = inner.clone();
    }
    while let Some(at) = locate(origin, &message) {
        position = Some((at.line, at.column));
        message = at.message;
    }
    let module_mistake = matches!(
        error.error,
        CompilerError::UndefinedVariable { .. }
            | CompilerError::UnknownFunction { .. }
            | CompilerError::UnknownBuiltinFunction { .. }
            | CompilerError::NotBuiltinFunction { .. }
    ) || [
        "Unknown function",
        "Unknown builtin function",
        "Not a builtin function",
        "Undefined variable",
    ]
    .iter()
    .any(|prefix| message.starts_with(prefix));
    match (module_mistake, position) {
        (true, Some((line, column))) => VmFailure::Module(RegoError::Syntax {
            origin: origin.to_owned(),
            line,
            column,
            message: lowercase_first(&message),
        }),
        (true, None) => VmFailure::Module(RegoError::Invalid {
            origin: origin.to_owned(),
            message: lowercase_first(&message),
        }),
        (false, Some((line, column))) => {
            VmFailure::Unsupported(format!("{line}:{column}: {}", lowercase_first(&message)))
        }
        (false, None) => VmFailure::Unsupported(lowercase_first(&message)),
    }
}

/// The VM compiler capitalises its messages; Keyward's start in lowercase.
fn lowercase_first(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert!(is_identifier("prod_backup_owner"));
        assert!(is_identifier("_x9"));
        assert!(!is_identifier("9x"));
        assert!(!is_identifier("a-b"));
        assert!(!is_identifier(""));
    }

    #[test]
    fn lowercases_only_the_first_letter() {
        assert_eq!(
            lowercase_first("Unknown function: 'F'"),
            "unknown function: 'F'"
        );
        assert_eq!(lowercase_first(""), "");
    }

    #[test]
    fn engines_can_move_to_worker_threads() {
        fn assert_send<T: Send>() {}
        assert_send::<RegoCheck>();
    }
}
