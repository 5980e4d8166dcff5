//! The set of checks a run evaluates: the built-ins, custom Rego checks, and `keyward.toml`'s
//! settings applied to both.

use std::path::Path;

use chrono::{DateTime, Utc};
use keyward_model::Environment;
use sha2::{Digest, Sha256};

use crate::builtins::{Eval, builtin};
use crate::meta::{Expect, parse_file};
use crate::{CheckError, CheckMeta, Outcome, ParamValue, Params, Severity, Subject};

include!(concat!(env!("OUT_DIR"), "/check_files.rs"));

/// How a check is evaluated.
#[derive(Clone)]
enum Imp {
    Builtin(Eval),
    Rego(Box<keyward_rego::RegoCheck>),
}

/// One check ready to evaluate.
#[derive(Clone)]
pub struct Check {
    /// Its metadata.
    pub meta: CheckMeta,
    /// The file it was read from.
    pub origin: String,
    /// Whether `keyward.toml` leaves it on.
    pub enabled: bool,
    /// Its severity after `keyward.toml`.
    pub severity: Severity,
    imp: Imp,
    /// Parameters per environment, in [`Environment::ALL`] order.
    params: Vec<Params>,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check")
            .field("id", &self.meta.id)
            .field("origin", &self.origin)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

fn env_index(e: Environment) -> usize {
    Environment::ALL.iter().position(|x| *x == e).unwrap_or(0)
}

impl Check {
    fn new(meta: CheckMeta, origin: String, imp: Imp) -> Self {
        let params = Environment::ALL
            .iter()
            .map(|env| {
                Params::new(
                    meta.parameters
                        .iter()
                        .map(|(n, spec)| {
                            let v = spec.environments.get(env).unwrap_or(&spec.default);
                            (n.clone(), v.clone())
                        })
                        .collect(),
                )
            })
            .collect();
        Self {
            severity: meta.severity,
            meta,
            origin,
            enabled: true,
            imp,
            params,
        }
    }

    /// The id.
    pub fn id(&self) -> &str {
        &self.meta.id
    }

    /// Whether it is a custom (Rego) check.
    pub fn is_custom(&self) -> bool {
        matches!(self.imp, Imp::Rego(_))
    }

    /// The controls it counts towards, as `(framework, id)`: its OWASP risk by the catalogue's
    /// id (`NHI1:2025`), its Annex A controls and its CSF subcategories.
    pub fn control_keys(&self) -> Vec<(&'static str, String)> {
        let catalog = keyward_catalog::Catalog::embedded().ok();
        let owasp = self.meta.owasp.iter().map(|o| {
            let id = catalog.and_then(|c| c.normalize_owasp(o)).unwrap_or(o);
            ("owasp-nhi", id.to_owned())
        });
        let iso = self.meta.iso27001.iter().map(|i| ("iso27001", i.clone()));
        let csf = self.meta.nist_csf.iter().map(|i| ("nist-csf", i.clone()));
        let mut keys: Vec<(&'static str, String)> = Vec::new();
        for k in owasp.chain(iso).chain(csf) {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        keys
    }

    /// Its parameters in `environment`.
    pub fn params(&self, environment: Environment) -> &Params {
        &self.params[env_index(environment)]
    }

    /// Judges one NHI at `now` with `params` (a test case's).
    pub fn evaluate_with(
        &mut self,
        subject: &Subject,
        params: &Params,
        now: DateTime<Utc>,
    ) -> Result<Outcome, CheckError> {
        self.judge(&mut Input::new(subject, now), Some(params))
    }

    /// Judges one NHI at `now` with the parameters of its environment.
    pub fn evaluate(
        &mut self,
        subject: &Subject,
        now: DateTime<Utc>,
    ) -> Result<Outcome, CheckError> {
        self.judge(&mut Input::new(subject, now), None)
    }

    /// Judges `input`'s NHI with `params`, or else the parameters of its environment.
    fn judge(
        &mut self,
        input: &mut Input<'_>,
        params: Option<&Params>,
    ) -> Result<Outcome, CheckError> {
        let subject = input.subject;
        if !subject.is_live() {
            return Ok(Outcome::NotApplicable);
        }
        let params = params.unwrap_or(&self.params[env_index(subject.environment)]);
        match &mut self.imp {
            Imp::Builtin(f) => Ok(f(subject, params, input.now)),
            Imp::Rego(r) => {
                let prepared = input.prepared()?;
                crate::custom::evaluate(r, &self.meta.id, subject, prepared, params)
            }
        }
    }
}

/// One NHI as checks judge it, with its Rego input made the first time a custom check needs
/// it and shared by the rest.
struct Input<'a> {
    subject: &'a Subject,
    now: DateTime<Utc>,
    prepared: Option<keyward_rego::PreparedInput>,
}

impl<'a> Input<'a> {
    fn new(subject: &'a Subject, now: DateTime<Utc>) -> Self {
        Self {
            subject,
            now,
            prepared: None,
        }
    }

    fn prepared(&mut self) -> Result<&keyward_rego::PreparedInput, CheckError> {
        if self.prepared.is_none() {
            self.prepared = Some(crate::custom::input(self.subject, self.now)?);
        }
        self.prepared
            .as_ref()
            .ok_or_else(|| CheckError::Rego("the NHI's input was not prepared".into()))
    }
}

/// A test case that did not give its expected result.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFailure {
    /// The check.
    pub check: String,
    /// The case's name.
    pub case: String,
    /// What went wrong.
    pub reason: String,
}

impl std::fmt::Display for CaseFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: case `{}`: {}", self.check, self.case, self.reason)
    }
}

/// The instant cases are judged at unless they say otherwise.
pub fn case_epoch() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_272_000, 0).unwrap_or_default() // 2026-06-01T00:00:00Z
}

/// The checks a run evaluates, in id order within built-ins then custom checks.
#[derive(Debug, Clone)]
pub struct Checks {
    checks: Vec<Check>,
    digest: Sha256,
}

impl Checks {
    /// The built-in checks from the embedded `data/checks/*.yaml`.
    pub fn builtin() -> Result<Self, CheckError> {
        let mut checks = Vec::new();
        let mut digest = Sha256::new();
        for (name, text) in CHECK_FILES {
            digest.update(name.as_bytes());
            digest.update(text.as_bytes());
            for (meta, line) in parse_file(name, text)? {
                let Some(f) = builtin(&meta.id) else {
                    return Err(CheckError::Data {
                        file: (*name).to_owned(),
                        line,
                        field: format!("{}.id", meta.id),
                        reason: "no built-in check has this id".into(),
                    });
                };
                if meta.rego.is_some() {
                    return Err(CheckError::Data {
                        file: (*name).to_owned(),
                        line,
                        field: format!("{}.rego", meta.id),
                        reason: "a built-in check has no Rego module".into(),
                    });
                }
                checks.push(Check::new(meta, (*name).to_owned(), Imp::Builtin(f)));
            }
        }
        let set = Self { checks, digest };
        set.ensure_unique()?;
        Ok(set)
    }

    fn ensure_unique(&self) -> Result<(), CheckError> {
        let mut ids: Vec<&str> = self.checks.iter().map(Check::id).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            let dup = self.checks.iter().rev().find(|c| c.id() == w[0]);
            return Err(CheckError::Data {
                file: dup.map(|c| c.origin.clone()).unwrap_or_default(),
                line: 0,
                field: format!("{}.id", w[0]),
                reason: "another check has this id".into(),
            });
        }
        Ok(())
    }

    /// Adds the custom checks in `dir`: every `*.yaml` there is a check file whose checks each
    /// name their Rego module with `rego:`.
    pub fn load_policies(&mut self, dir: &Path) -> Result<(), CheckError> {
        let io = |path: &Path, e: std::io::Error| CheckError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| io(dir, e))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(CheckError::Usage(format!(
                "`{}` holds no check files (*.yaml naming a `rego:` module)",
                dir.display()
            )));
        }
        for path in files {
            let origin = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            self.digest.update(origin.as_bytes());
            self.digest.update(text.as_bytes());
            for (meta, line) in parse_file(&origin, &text)? {
                let Some(module) = meta.rego.clone() else {
                    return Err(CheckError::Data {
                        file: origin.clone(),
                        line,
                        field: format!("{}.rego", meta.id),
                        reason: "a custom check names its Rego module".into(),
                    });
                };
                let rego_path = path.parent().unwrap_or(dir).join(&module);
                let source = std::fs::read_to_string(&rego_path).map_err(|e| io(&rego_path, e))?;
                self.digest.update(source.as_bytes());
                let compiled =
                    keyward_rego::RegoCheck::compile(&rego_path.display().to_string(), &source)
                        .map_err(|e| CheckError::Rego(e.to_string()))?;
                self.checks.push(Check::new(
                    meta,
                    origin.clone(),
                    Imp::Rego(Box::new(compiled)),
                ));
            }
        }
        self.ensure_unique()
    }

    /// Applies `keyward.toml`'s `[checks.<id>]` tables: `enabled`, `severity`, parameter values,
    /// and per-environment sub-tables of parameter values. Errors name the field.
    pub fn configure(&mut self, table: &toml::Table) -> Result<(), CheckError> {
        for (id, settings) in table {
            let field = |rest: &str| format!("checks.{id}{rest}");
            let bad = |rest: &str, reason: String| CheckError::Config {
                field: field(rest),
                reason,
            };
            let Some(check) = self.checks.iter_mut().find(|c| c.id() == id) else {
                return Err(bad("", format!("`{id}` is not a check")));
            };
            let Some(settings) = settings.as_table() else {
                return Err(bad("", "must be a table".into()));
            };
            for (key, value) in settings {
                let at = format!(".{key}");
                if key == "enabled" {
                    check.enabled = value
                        .as_bool()
                        .ok_or_else(|| bad(&at, "must be true or false".into()))?;
                } else if key == "severity" {
                    let s = value
                        .as_str()
                        .ok_or_else(|| bad(&at, "must be a string".into()))?;
                    check.severity = s
                        .parse()
                        .map_err(|e: keyward_model::ParseEnumError| bad(&at, e.to_string()))?;
                } else if let Ok(env) = key.parse::<Environment>() {
                    let Some(sub) = value.as_table() else {
                        return Err(bad(&at, "an environment's settings must be a table".into()));
                    };
                    for (name, v) in sub {
                        let v = param_value(&check.meta, name, v)
                            .map_err(|r| bad(&format!(".{key}.{name}"), r))?;
                        check.params[env_index(env)].set(name, v);
                    }
                } else {
                    let v = param_value(&check.meta, key, value).map_err(|r| bad(&at, r))?;
                    // A top-level value applies to every environment that has no override
                    // in this file; environment defaults from the check file give way to it.
                    let overridden: Vec<Environment> = Environment::ALL
                        .iter()
                        .copied()
                        .filter(|e| {
                            settings
                                .get(e.as_str())
                                .and_then(|t| t.as_table())
                                .is_some_and(|t| t.contains_key(key))
                        })
                        .collect();
                    for env in Environment::ALL {
                        if !overridden.contains(env) {
                            check.params[env_index(*env)].set(key, v.clone());
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Every check.
    pub fn all(&self) -> &[Check] {
        &self.checks
    }

    /// The checks `keyward.toml` leaves on.
    pub fn enabled(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.enabled)
    }

    /// The check with `id`.
    pub fn get(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id() == id)
    }

    /// A digest of every check file and module loaded: the checks' version in run records.
    pub fn version(&self) -> String {
        hex::encode(&self.digest.clone().finalize()[..8])
    }

    /// Judges one NHI with every enabled check, calling `each` with the check and outcome.
    pub fn evaluate(
        &mut self,
        subject: &Subject,
        now: DateTime<Utc>,
        mut each: impl FnMut(&Check, Outcome),
    ) -> Result<(), CheckError> {
        let mut input = Input::new(subject, now);
        for c in self.checks.iter_mut().filter(|c| c.enabled) {
            let o = c.judge(&mut input, None)?;
            each(c, o);
        }
        Ok(())
    }

    /// Runs every check's inline test cases; returns the ones that failed.
    pub fn run_cases(&mut self) -> Vec<CaseFailure> {
        self.run_cases_with(|_| {})
    }

    /// Runs every case after `tweak` changes it: how the suite shows a wrong expectation is
    /// caught.
    pub fn run_cases_with(&mut self, tweak: impl Fn(&mut crate::Case)) -> Vec<CaseFailure> {
        let mut failures = Vec::new();
        for check in &mut self.checks {
            let cases = check.meta.cases.clone();
            let id = check.meta.id.clone();
            for mut case in cases {
                tweak(&mut case);
                let mut subject = case.subject.clone();
                for c in &mut subject.credentials {
                    for p in &mut c.locations {
                        p.classify();
                    }
                }
                let mut params = check.params(subject.environment).clone();
                for (n, v) in &case.params {
                    params.set(n, v.clone());
                }
                let now = case.now.unwrap_or_else(case_epoch);
                let fail = |reason: String| CaseFailure {
                    check: id.clone(),
                    case: case.name.clone(),
                    reason,
                };
                match check.evaluate_with(&subject, &params, now) {
                    Err(e) => failures.push(fail(e.to_string())),
                    Ok(outcome) => {
                        let got = match &outcome {
                            Outcome::Pass => Expect::Pass,
                            Outcome::Fail(_) => Expect::Fail,
                            Outcome::NotApplicable => Expect::NotApplicable,
                        };
                        if got != case.expect {
                            failures.push(fail(format!(
                                "expected {:?}, got {}",
                                case.expect,
                                outcome.as_str()
                            )));
                        } else if let (Some(want), Outcome::Fail(e)) =
                            (&case.message_contains, &outcome)
                            && !e.message.contains(want.as_str())
                        {
                            failures.push(fail(format!(
                                "message `{}` does not contain `{want}`",
                                e.message
                            )));
                        }
                    }
                }
            }
        }
        failures
    }
}

fn param_value(meta: &CheckMeta, name: &str, v: &toml::Value) -> Result<ParamValue, String> {
    let Some(spec) = meta.parameters.get(name) else {
        let known: Vec<&str> = meta.parameters.keys().map(String::as_str).collect();
        return Err(if known.is_empty() {
            format!(
                "`{name}` is not a parameter of `{}` (it takes none)",
                meta.id
            )
        } else {
            format!(
                "`{name}` is not a parameter of `{}` (expected one of: {}, enabled, severity, or an environment)",
                meta.id,
                known.join(", ")
            )
        });
    };
    let value = match v {
        toml::Value::Integer(n) => ParamValue::Int(*n),
        toml::Value::Boolean(b) => ParamValue::Bool(*b),
        toml::Value::String(s) => ParamValue::Text(s.clone()),
        toml::Value::Array(items) => ParamValue::List(
            items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| "must be a list of strings".to_owned())?,
        ),
        _ => return Err(format!("must be {}", spec.default.type_name())),
    };
    if !value.same_type(&spec.default) {
        return Err(format!("must be {}", spec.default.type_name()));
    }
    Ok(value)
}
