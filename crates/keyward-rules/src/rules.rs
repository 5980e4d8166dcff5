//! Compiled rules and the matcher every scan and every rule example goes through.

use std::ops::Range;
use std::path::Path;

use aho_corasick::AhoCorasick;
use keyward_manifest::{ManifestError, ManifestErrors};
use keyward_model::{CredentialKind, NhiKind};
use sha2::{Digest, Sha256};

use crate::RulesError;
use crate::fragment::Fragments;
use crate::pattern::{self, Pattern};
use crate::placeholder::Placeholders;
use crate::spec::{self, Checksum, Confidence, RuleSpec};
use crate::validate::{entropy, github_checksum};

include!(concat!(env!("OUT_DIR"), "/rule_files.rs"));

/// One compiled rule.
#[derive(Debug, serde::Serialize)]
pub struct Rule {
    /// Stable id (`github.pat.classic`).
    pub id: String,
    /// What it finds, for people.
    pub name: String,
    /// Whose credential it is (`aws`, `github`; `generic` when unknown).
    pub provider: String,
    /// The credential's kind.
    pub credential: CredentialKind,
    /// The kind of NHI a credential of this rule belongs to.
    pub nhi_kind: NhiKind,
    /// How sure a match is.
    pub confidence: Confidence,
    /// Literal strings of which one must occur before the pattern is tried.
    pub keywords: Vec<String>,
    /// The pattern as compiled: as written, with shared fragments (`{assign}`) expanded.
    pub pattern: String,
    /// Least entropy of the secret, bits per byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_entropy: Option<f64>,
    /// A checksum the secret must carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Checksum>,
    /// The rule that finds this secret's other half.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pair: Option<String>,
    /// Documentation of the format.
    pub references: Vec<String>,
    /// Where the rule is written.
    pub source: String,
    #[serde(skip)]
    examples: Vec<String>,
    #[serde(skip)]
    negative_examples: Vec<String>,
    /// Compiled on first use: most scans meet the keywords of few rules, and compiling every
    /// pattern up front took a quarter of a short scan. `None` when it does not compile (only
    /// possible for a built-in rule, which `RuleSet::check` then reports).
    #[serde(skip)]
    regex: std::sync::OnceLock<Option<Pattern>>,
    /// The longest text the pattern can match; a match lies within this of its keyword.
    #[serde(skip)]
    max_len: usize,
    #[serde(skip)]
    secret_group: usize,
    #[serde(skip)]
    id_group: Option<usize>,
}

/// A credential found in some bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// Index of the rule in its [`RuleSet`].
    pub rule: usize,
    /// The secret's byte range.
    pub secret: Range<usize>,
    /// The byte range of the identifier that travels with it, if the rule captures one.
    pub id: Option<Range<usize>>,
    /// The secret's entropy, bits per byte.
    pub entropy: f64,
}

/// A rule example that came out wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    /// The rule.
    pub rule: String,
    /// Where the rule is written.
    pub source: String,
    /// What went wrong.
    pub reason: String,
}

/// What `rules check` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Rules checked.
    pub rules: usize,
    /// Examples that must match.
    pub examples: usize,
    /// Examples that must not.
    pub negative_examples: usize,
    /// Everything that came out wrong.
    pub failures: Vec<ExampleFailure>,
}

/// Every rule, compiled, with the keyword automaton that picks which to try.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    keywords: AhoCorasick,
    keyword_rules: Vec<Vec<usize>>,
    placeholders: Placeholders,
    fragments: Fragments,
    version: String,
}

impl Rule {
    /// The compiled pattern, compiling it on first use.
    fn regex(&self) -> Option<&Pattern> {
        self.regex
            .get_or_init(|| Pattern::compile(&self.pattern, false).ok())
            .as_ref()
    }

    /// Texts the rule must match.
    pub fn examples(&self) -> &[String] {
        &self.examples
    }
}

impl RuleSet {
    /// The rules embedded in this build.
    pub fn builtin() -> Result<Self, RulesError> {
        Self::load(true, &[])
    }

    /// The embedded rules (unless `builtin` is false) and every `*.yaml`/`*.yml` file in
    /// `dirs`, all or nothing.
    pub fn load(builtin: bool, dirs: &[&Path]) -> Result<Self, RulesError> {
        let mut files: Vec<(String, String)> = Vec::new();
        if builtin {
            files.extend(
                RULE_FILES
                    .iter()
                    .map(|(n, t)| ((*n).to_owned(), (*t).to_owned())),
            );
        }
        let builtin_files = files.len();
        let mut errors = Vec::new();
        for dir in dirs {
            read_dir(dir, &mut files, &mut errors);
        }
        Self::from_files(builtin_files, files, errors)
    }

    /// Compiles rule files, of which the first `builtin_files` are the embedded ones.
    fn from_files(
        builtin_files: usize,
        files: Vec<(String, String)>,
        mut errors: Vec<ManifestError>,
    ) -> Result<Self, RulesError> {
        let mut specs = Vec::new();
        for (n, (label, text)) in files.iter().enumerate() {
            // Built-in patterns compile when first used (the test suite compiles every one);
            // a user's compile now, so a bad one is reported before any scan.
            let eager = n >= builtin_files;
            match spec::parse(label, text) {
                Ok(rules) => {
                    specs.extend(rules.into_iter().map(|(r, l)| (r, label.clone(), l, eager)))
                }
                Err(e) => errors.push(e),
            }
        }
        let mut hash = Sha256::new();
        for (label, text) in &files {
            hash.update(label.as_bytes());
            hash.update([0]);
            hash.update(text.as_bytes());
            hash.update([0]);
        }
        let version = hex::encode(&hash.finalize()[..8]);
        let set = compile(specs, &mut errors, version)?;
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(RulesError::Invalid(ManifestErrors(errors)))
        }
    }

    /// The rules of one user rule file's text, labelled `label` in errors, without the
    /// built-in ones.
    pub fn parse(label: &str, text: &str) -> Result<Self, RulesError> {
        Self::from_files(0, vec![(label.to_owned(), text.to_owned())], Vec::new())
    }

    /// The rules, in file then declaration order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Identifies this set of rules (a digest of the rule files), for run provenance.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Every credential in `bytes`, in rule then position order.
    ///
    /// Keywords say which rules to try and where: a rule's keyword lies inside its match, so
    /// each rule is searched only within its longest match around each of its keywords (the
    /// bytes outside still count for `\b` and other look-arounds).
    pub fn find(&self, bytes: &[u8]) -> Vec<Match> {
        let mut hits: Vec<(usize, usize, usize)> = Vec::new();
        for m in self.keywords.find_overlapping_iter(bytes) {
            for &r in &self.keyword_rules[m.pattern().as_usize()] {
                hits.push((r, m.start(), m.end()));
            }
        }
        hits.sort_unstable();
        let mut out = Vec::new();
        let mut vetoed = Vec::new();
        let mut i = 0;
        while i < hits.len() {
            let r = hits[i].0;
            let reach = self.rules[r].max_len;
            let mut window: Option<(usize, usize)> = None;
            while i < hits.len() && hits[i].0 == r {
                let (_, s, e) = hits[i];
                let (ws, we) = (
                    s.saturating_sub(reach),
                    e.saturating_add(reach).min(bytes.len()),
                );
                window = match window {
                    Some((a, b)) if ws <= b => Some((a, b.max(we))),
                    Some((a, b)) => {
                        self.find_rule(r, bytes, a..b, &mut out, &mut vetoed);
                        Some((ws, we))
                    }
                    None => Some((ws, we)),
                };
                i += 1;
            }
            if let Some((a, b)) = window {
                self.find_rule(r, bytes, a..b, &mut out, &mut vetoed);
            }
        }
        // A value shaped like a checksummed token whose checksum fails is no credential, and
        // no looser rule (a generic `TOKEN = …`) may report it either.
        if !vetoed.is_empty() {
            out.retain(|m| {
                self.rules[m.rule].checksum.is_some()
                    || !vetoed
                        .iter()
                        .any(|v: &Range<usize>| v.start < m.secret.end && m.secret.start < v.end)
            });
        }
        // A generic rule's value that begins like a format with its own rule, which did not
        // match it, is a cut or mangled token.
        out.retain(|m| {
            self.rules[m.rule].provider != "generic"
                || !self.placeholders.is_cut_token(&bytes[m.secret.clone()])
        });
        out.sort_by_key(|m| (m.rule, m.secret.start));
        out.dedup();
        out
    }

    fn find_rule(
        &self,
        r: usize,
        bytes: &[u8],
        window: Range<usize>,
        out: &mut Vec<Match>,
        vetoed: &mut Vec<Range<usize>>,
    ) {
        let rule = &self.rules[r];
        let Some(regex) = rule.regex() else {
            return;
        };
        for caps in regex.captures(&rule.pattern, bytes, window) {
            let Some(secret) = caps.get_group(rule.secret_group) else {
                continue;
            };
            let value = &bytes[secret.range()];
            if rule.checksum == Some(Checksum::Github) && !github_checksum(value) {
                vetoed.push(secret.range());
                continue;
            }
            let e = entropy(value);
            if rule.min_entropy.is_some_and(|min| e < min)
                || self.placeholders.is_placeholder(value)
            {
                continue;
            }
            out.push(Match {
                rule: r,
                secret: secret.range(),
                id: rule
                    .id_group
                    .and_then(|g| caps.get_group(g))
                    .map(|m| m.range()),
                entropy: e,
            });
        }
    }

    /// Runs every rule's examples and negative examples through [`RuleSet::find`], and the
    /// placeholder definitions' own cases.
    pub fn check(&self) -> CheckReport {
        let mut report = CheckReport {
            rules: self.rules.len(),
            ..CheckReport::default()
        };
        for (i, rule) in self.rules.iter().enumerate() {
            let fail = |reason: String| ExampleFailure {
                rule: rule.id.clone(),
                source: rule.source.clone(),
                reason,
            };
            let broken = match rule.regex() {
                Some(p) => p.check_written(&rule.pattern).err(),
                None => Some(
                    Pattern::compile(&rule.pattern, false)
                        .err()
                        .unwrap_or_default(),
                ),
            };
            if let Some(reason) = broken {
                let reason = first_line(&reason);
                report
                    .failures
                    .push(fail(format!("the pattern does not compile: {reason}")));
                continue;
            }
            for (n, ex) in rule.examples.iter().enumerate() {
                report.examples += 1;
                if !self.find(ex.as_bytes()).iter().any(|m| m.rule == i) {
                    report
                        .failures
                        .push(fail(format!("example {} does not match", n + 1)));
                }
            }
            for (n, ex) in rule.negative_examples.iter().enumerate() {
                report.negative_examples += 1;
                if self.find(ex.as_bytes()).iter().any(|m| m.rule == i) {
                    report
                        .failures
                        .push(fail(format!("negative example {} matches", n + 1)));
                }
            }
        }
        report
            .failures
            .extend(
                self.fragments
                    .failing_cases()
                    .into_iter()
                    .map(|reason| ExampleFailure {
                        rule: "fragments".into(),
                        source: "data/rule-fragments.yaml".into(),
                        reason,
                    }),
            );
        report
            .failures
            .extend(
                self.placeholders
                    .failing_cases()
                    .into_iter()
                    .map(|reason| ExampleFailure {
                        rule: "placeholders".into(),
                        source: "data/placeholders.yaml".into(),
                        reason,
                    }),
            );
        report
    }
}

fn read_dir(dir: &Path, files: &mut Vec<(String, String)>, errors: &mut Vec<ManifestError>) {
    let label = dir.display().to_string();
    let err = |reason: String| ManifestError {
        file: label.clone(),
        line: 0,
        field: String::new(),
        reason,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return errors.push(err(format!("cannot read the rules directory: {e}"))),
    };
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        errors.push(err(
            "the rules directory holds no `.yaml` or `.yml` file".into()
        ));
    }
    for p in paths {
        match std::fs::read_to_string(&p) {
            Ok(text) => files.push((p.display().to_string(), text)),
            Err(e) => errors.push(ManifestError {
                file: p.display().to_string(),
                line: 0,
                field: String::new(),
                reason: format!("cannot read: {e}"),
            }),
        }
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
}

fn compile(
    specs: Vec<(RuleSpec, String, usize, bool)>,
    errors: &mut Vec<ManifestError>,
    version: String,
) -> Result<RuleSet, RulesError> {
    let fragments = Fragments::builtin()?;
    let mut rules = Vec::with_capacity(specs.len());
    let mut seen = std::collections::HashMap::new();
    for (s, file, line, eager) in specs {
        let mut bad = |field: &str, reason: String| {
            errors.push(ManifestError {
                file: file.clone(),
                line,
                field: format!("rules.{}.{field}", s.id),
                reason,
            });
        };
        if !is_id(&s.id) {
            bad(
                "id",
                format!(
                    "`{}` is not a rule id (lower-case letters, digits, `.` and `-`)",
                    s.id
                ),
            );
        }
        if let Some(first) = seen.insert(s.id.clone(), format!("{file}:{line}")) {
            bad("id", format!("duplicate rule id (first at {first})"));
        }
        if s.keywords.is_empty() || s.keywords.iter().any(String::is_empty) {
            bad(
                "keywords",
                "at least one non-empty keyword is required".into(),
            );
        }
        if s.examples.is_empty() {
            bad("examples", "at least one example is required".into());
        }
        if s.negative_examples.is_empty() {
            bad(
                "negative_examples",
                "at least one negative example is required".into(),
            );
        }
        for (n, ex) in s.examples.iter().enumerate() {
            let lower = ex.to_ascii_lowercase();
            if !s
                .keywords
                .iter()
                .flat_map(|k| keyword_variants(k))
                .any(|k| lower.contains(&k))
            {
                bad(
                    "examples",
                    format!("example {} holds none of the keywords", n + 1),
                );
            }
        }
        if s.min_entropy.is_some_and(|e| !(0.0..=8.0).contains(&e)) {
            bad(
                "min_entropy",
                "must be between 0 and 8 bits per byte".into(),
            );
        }
        let pattern = match fragments.expand(&s.pattern) {
            Ok(p) => p,
            Err(e) => {
                bad("pattern", e);
                continue;
            }
        };
        let hir = match pattern::parse(&pattern) {
            Ok(h) => h,
            Err(e) => {
                bad("pattern", format!("invalid pattern: {}", first_line(&e)));
                continue;
            }
        };
        let regex = std::sync::OnceLock::new();
        if eager {
            match Pattern::compile_parsed(&hir, true) {
                Ok(r) => {
                    let _ = regex.set(Some(r));
                }
                Err(e) => {
                    bad("pattern", format!("invalid pattern: {}", first_line(&e)));
                    continue;
                }
            }
        }
        let mut secret_group = None;
        let mut id_group = None;
        for (i, name) in pattern::capture_groups(&hir) {
            match name.as_deref() {
                Some("secret") => secret_group = Some(i),
                Some("id") => id_group = Some(i),
                Some(other) => bad(
                    "pattern",
                    format!("unknown group `{other}` (only `secret` and `id` are named)"),
                ),
                None => bad(
                    "pattern",
                    "groups must be non-capturing `(?:…)` or named `secret`/`id`".into(),
                ),
            }
        }
        let Some(secret_group) = secret_group else {
            bad("pattern", "the pattern has no `(?P<secret>…)` group".into());
            continue;
        };
        let max_len = hir.properties().maximum_len().unwrap_or(usize::MAX);
        rules.push(Rule {
            id: s.id,
            name: s.name,
            provider: s.provider,
            credential: s.credential,
            nhi_kind: s.nhi_kind,
            confidence: s.confidence,
            keywords: s.keywords,
            pattern,
            min_entropy: s.min_entropy,
            checksum: s.checksum,
            pair: s.pair,
            references: s.references,
            source: format!("{file}:{line}"),
            examples: s.examples,
            negative_examples: s.negative_examples,
            regex,
            max_len,
            secret_group,
            id_group,
        });
    }
    for r in &rules {
        if let Some(p) = &r.pair
            && !rules.iter().any(|o| &o.id == p)
        {
            let (file, line) = r.source.rsplit_once(':').unwrap_or((&r.source, "0"));
            errors.push(ManifestError {
                file: file.to_owned(),
                line: line.parse().unwrap_or(0),
                field: format!("rules.{}.pair", r.id),
                reason: format!("no rule `{p}` to pair with"),
            });
        }
    }
    let mut patterns: Vec<String> = Vec::new();
    let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        for k in r.keywords.iter().flat_map(|k| keyword_variants(k)) {
            match patterns.iter().position(|p| *p == k) {
                Some(at) => keyword_rules[at].push(i),
                None => {
                    patterns.push(k);
                    keyword_rules.push(vec![i]);
                }
            }
        }
    }
    let keywords = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        // A DFA: overlapping search over ~600 keywords steps 2-3x faster than the default NFA.
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(&patterns)
        .map_err(|e| RulesError::data("rules", format!("keywords: {e}")))?;
    Ok(RuleSet {
        rules,
        keywords,
        keyword_rules,
        placeholders: Placeholders::builtin()?,
        fragments,
        version,
    })
}

/// A keyword in lower case and, when it is a name whose words are joined by `_`, `-` or `.`
/// (`dd_api_key`), the same name joined each other way and not at all (`dd-api-key`,
/// `dd.api.key`, `ddapikey`, as camel case lowers to): code spells one name all these ways.
/// Leading and trailing separators (`ghp_`, `xoxb-`) are part of a token prefix and stay.
fn keyword_variants(keyword: &str) -> Vec<String> {
    let lower = keyword.to_ascii_lowercase();
    let is_sep = |c: char| matches!(c, '_' | '-' | '.');
    let inner = lower.trim_matches(is_sep);
    let words: Vec<&str> = inner.split(is_sep).collect();
    let name_like = words.len() > 1
        && inner.len() == lower.len()
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric()));
    let mut out = vec![lower.clone()];
    if name_like {
        for sep in ["_", "-", ".", ""] {
            let v = words.join(sep);
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

fn first_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .trim_start_matches("error: ")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "rules:\n  - id: acme.key\n    name: Acme key\n    provider: acme\n    credential: api_key\n    nhi_kind: api_key\n    confidence: high\n    keywords: [\"acme_\"]\n    pattern: '\\b(?P<secret>acme_[a-z0-9]{24})\\b'\n    examples: ['key = acme_q8w7e6r5t4y3u2i1o9p8a7s6']\n    negative_examples: ['acme_short']\n";

    fn lazy(text: &str) -> RuleSet {
        let specs = spec::parse("acme.yaml", text)
            .unwrap()
            .into_iter()
            .map(|(r, l)| (r, "acme.yaml".to_owned(), l, false))
            .collect();
        let mut errors = Vec::new();
        let set = compile(specs, &mut errors, "test".into()).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        set
    }

    #[test]
    fn name_keywords_match_every_spelling_and_token_prefixes_stay() {
        assert_eq!(
            keyword_variants("DD_API_KEY"),
            ["dd_api_key", "dd-api-key", "dd.api.key", "ddapikey"]
        );
        assert_eq!(keyword_variants("ghp_"), ["ghp_"]);
        assert_eq!(keyword_variants("xoxb-"), ["xoxb-"]);
        assert_eq!(
            keyword_variants("api.telegram.org/bot"),
            ["api.telegram.org/bot"]
        );
        assert_eq!(keyword_variants("datadog"), ["datadog"]);
    }

    #[test]
    fn patterns_compile_on_first_use_and_check_reports_one_that_cannot() {
        let set = lazy(RULE);
        assert!(
            set.rules[0].regex.get().is_none(),
            "not compiled when loaded"
        );
        assert_eq!(set.find(b"x = acme_q8w7e6r5t4y3u2i1o9p8a7s6").len(), 1);
        assert!(set.rules[0].regex.get().is_some());
        assert!(set.check().failures.is_empty());

        // Compiles loosened but not as written, which an overrun would need: reported too.
        let unbounded_only = lazy(&RULE.replace("{24})", "{24}[a-z]{0,900000})"));
        assert_eq!(
            unbounded_only
                .find(b"x = acme_q8w7e6r5t4y3u2i1o9p8a7s6")
                .len(),
            1
        );
        let reported_uncompilable = |set: &RuleSet| {
            let failures = set.check().failures;
            assert_eq!(failures.len(), 1, "{failures:?}");
            assert!(
                failures[0]
                    .reason
                    .starts_with("the pattern does not compile: "),
                "{failures:?}"
            );
        };
        reported_uncompilable(&unbounded_only);

        let huge = lazy(&RULE.replace("{24})", "{24}(?:[a-z0-9]{1000}){1000})"));
        assert!(huge.find(b"acme_q8w7e6r5t4y3u2i1o9p8a7s6").is_empty());
        reported_uncompilable(&huge);
    }

    #[test]
    fn every_builtin_pattern_finds_what_it_finds_as_written() {
        let set = RuleSet::builtin().unwrap();
        let mut loosened = 0;
        for rule in &set.rules {
            let pattern = Pattern::compile(&rule.pattern, true).unwrap();
            let written = pattern::parse(&rule.pattern).unwrap();
            let written = regex_automata::meta::Regex::builder()
                .build_from_hir(&written)
                .unwrap();
            let groups = written
                .group_info()
                .group_len(regex_automata::PatternID::ZERO);
            let mut inputs: Vec<String> = rule.examples.clone();
            inputs.extend(rule.negative_examples.iter().cloned());
            // Each example with its longest run of letters and digits three times as long,
            // past most bounds.
            for ex in &rule.examples {
                let run = ex
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .max_by_key(|r| r.len())
                    .unwrap_or("");
                if !run.is_empty() {
                    inputs.push(ex.replacen(run, &run.repeat(3), 1));
                }
            }
            for input in &inputs {
                let bytes = input.as_bytes();
                let spans = |caps: &[regex_automata::util::captures::Captures]| {
                    caps.iter()
                        .map(|c| {
                            (0..groups)
                                .map(|g| c.get_group(g).map(|m| m.range()))
                                .collect()
                        })
                        .collect::<Vec<Vec<_>>>()
                };
                let loose = pattern.captures(&rule.pattern, bytes, 0..bytes.len());
                let exact: Vec<_> = written.captures_iter(bytes).collect();
                assert_eq!(spans(&loose), spans(&exact), "{} on {input:?}", rule.id);
            }
            loosened += usize::from(pattern.compiled_as_written());
        }
        assert!(loosened > 0, "no example overran a loosened bound");
    }
}
