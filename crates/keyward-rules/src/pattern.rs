//! Rule patterns: parsed to check them, compiled small to scan with.
//!
//! Rules bound their runs of base64 or hex generously (`[A-Za-z0-9+/=\s]{64,12000}?` for a PEM
//! body, `{1,253}` for a host name), and a Thompson NFA unrolls every bounded repetition into
//! one state per allowed repetition, forwards and in reverse: the 376 built-in patterns compiled
//! as written hold 74 MB, which was most of a scan's memory. Each pattern is therefore compiled
//! with its long runs of one byte class unbounded (13 MB for all of them) and each such run
//! inside a hidden group. Matches always come out as the pattern as written finds them: a match
//! of the loosened pattern whose hidden groups are all within their bounds is also the written
//! pattern's leftmost-first match at that place (the written pattern's matches are a subset,
//! ranked in the same order), and a window in which a run exceeds its bound is searched again
//! with the pattern as written, compiled only then.

use std::ops::Range;
use std::sync::OnceLock;

use regex_automata::meta::Regex;
use regex_automata::util::captures::Captures;
use regex_automata::{Input, meta};
use regex_syntax::hir::{Capture, Hir, HirKind, Repetition};

/// A repetition whose bounds differ by more than this is compiled unbounded; shorter ones cost
/// little unrolled.
const UNBOUND_ABOVE: u32 = 16;

/// A rule pattern compiled for scanning.
#[derive(Debug)]
pub(crate) struct Pattern {
    /// The pattern with its long single-byte runs unbounded.
    loose: Regex,
    /// Each hidden group of `loose` with the most bytes its run may hold.
    bounds: Vec<(usize, usize)>,
    /// The pattern as written, for windows where `loose` overran a bound.
    exact: OnceLock<Option<Regex>>,
}

impl Pattern {
    /// Compiles `text`; with `verify`, compiles the pattern as written as well, to refuse one
    /// that compiles only loosened (its first overrun would find nothing).
    pub(crate) fn compile(text: &str, verify: bool) -> Result<Self, String> {
        Self::compile_parsed(&parse(text)?, verify)
    }

    /// [`Pattern::compile`] of a pattern already parsed.
    pub(crate) fn compile_parsed(hir: &Hir, verify: bool) -> Result<Self, String> {
        let mut next = u32::try_from(hir.properties().explicit_captures_len())
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        let mut bounds = Vec::new();
        let loose = loosen(hir.clone(), false, &mut next, &mut bounds);
        if verify && !bounds.is_empty() {
            build(hir)?;
        }
        Ok(Pattern {
            loose: build(&loose)?,
            bounds,
            exact: OnceLock::new(),
        })
    }

    /// Whether the pattern as written, `text`, compiles too: a window where a loosened run
    /// overruns its bound is searched with it.
    pub(crate) fn check_written(&self, text: &str) -> Result<(), String> {
        if self.bounds.is_empty() {
            return Ok(());
        }
        parse(text).and_then(|hir| build(&hir)).map(drop)
    }

    /// Every match in `window` of `bytes` of the pattern `text` (which this was compiled
    /// from), leftmost first, with its groups.
    pub(crate) fn captures(&self, text: &str, bytes: &[u8], window: Range<usize>) -> Vec<Captures> {
        let input = || Input::new(bytes).range(window.clone());
        let found: Vec<Captures> = self.loose.captures_iter(input()).collect();
        let overran = found.iter().any(|caps| {
            self.bounds
                .iter()
                .any(|&(group, max)| caps.get_group(group).is_some_and(|m| m.len() > max))
        });
        if !overran {
            return found;
        }
        let exact = self
            .exact
            .get_or_init(|| parse(text).and_then(|hir| build(&hir)).ok());
        match exact {
            Some(exact) => exact.captures_iter(input()).collect(),
            None => Vec::new(),
        }
    }

    /// Whether the pattern as written has been compiled (after an overrun).
    #[cfg(test)]
    pub(crate) fn compiled_as_written(&self) -> bool {
        self.exact.get().is_some()
    }

    /// Heap bytes held by the compiled forms.
    #[cfg(test)]
    pub(crate) fn memory_usage(&self) -> usize {
        self.loose.memory_usage()
            + self
                .exact
                .get()
                .and_then(Option::as_ref)
                .map_or(0, Regex::memory_usage)
    }
}

/// A rule pattern parsed as [`Pattern::compile`] reads it: bytes, ASCII classes.
pub(crate) fn parse(pattern: &str) -> Result<Hir, String> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .map_err(|e| e.to_string())
}

/// The capture groups of a parsed pattern, by index (1-based, as the compiled regex numbers
/// them), with their names.
pub(crate) fn capture_groups(hir: &Hir) -> Vec<(usize, Option<String>)> {
    let mut out = Vec::new();
    let mut stack = vec![hir];
    while let Some(h) = stack.pop() {
        match h.kind() {
            HirKind::Capture(c) => {
                out.push((c.index as usize, c.name.as_deref().map(str::to_owned)));
                stack.push(&c.sub);
            }
            HirKind::Concat(hs) | HirKind::Alternation(hs) => stack.extend(hs.iter()),
            HirKind::Repetition(r) => stack.push(&r.sub),
            HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => {}
        }
    }
    out.sort();
    out
}

/// Compiles a parsed pattern for bytes, bounded in size.
fn build(hir: &Hir) -> Result<Regex, String> {
    Regex::builder()
        .configure(
            meta::Config::new()
                .nfa_size_limit(Some(4 << 20))
                // regex-automata's default: larger caches used more memory and ran no faster.
                .hybrid_cache_capacity(2 << 20),
        )
        .build_from_hir(hir)
        .map_err(|e| e.to_string())
}

/// `hir` with each repetition of one byte whose bounds differ by more than [`UNBOUND_ABOVE`],
/// and which no other repetition contains, made unbounded inside a new group numbered from
/// `next`; `bounds` receives each new group with its original upper bound. A group inside a
/// repetition would report only its last round, so repetitions inside repetitions stay as
/// written.
fn loosen(
    hir: Hir,
    inside_repetition: bool,
    next: &mut u32,
    bounds: &mut Vec<(usize, usize)>,
) -> Hir {
    match hir.into_kind() {
        HirKind::Repetition(rep) => {
            let one_byte = rep.sub.properties().minimum_len() == Some(1)
                && rep.sub.properties().maximum_len() == Some(1);
            match rep.max {
                Some(max) if !inside_repetition && one_byte && max - rep.min > UNBOUND_ABOVE => {
                    let index = *next;
                    *next += 1;
                    bounds.push((index as usize, max as usize));
                    Hir::capture(Capture {
                        index,
                        name: None,
                        sub: Box::new(Hir::repetition(Repetition { max: None, ..rep })),
                    })
                }
                _ => {
                    let sub = loosen(*rep.sub, true, next, bounds);
                    Hir::repetition(Repetition {
                        sub: Box::new(sub),
                        ..rep
                    })
                }
            }
        }
        HirKind::Capture(cap) => {
            let sub = loosen(*cap.sub, inside_repetition, next, bounds);
            Hir::capture(Capture {
                sub: Box::new(sub),
                ..cap
            })
        }
        HirKind::Concat(subs) => Hir::concat(
            subs.into_iter()
                .map(|h| loosen(h, inside_repetition, next, bounds))
                .collect(),
        ),
        HirKind::Alternation(subs) => Hir::alternation(
            subs.into_iter()
                .map(|h| loosen(h, inside_repetition, next, bounds))
                .collect(),
        ),
        HirKind::Empty => Hir::empty(),
        HirKind::Literal(lit) => Hir::literal(lit.0),
        HirKind::Class(class) => Hir::class(class),
        HirKind::Look(look) => Hir::look(look),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    fn spans(p: &Pattern, text: &str, bytes: &[u8]) -> Vec<Vec<Option<Range<usize>>>> {
        p.captures(text, bytes, 0..bytes.len())
            .iter()
            .map(|c| (0..=1).map(|g| c.get_group(g).map(|m| m.range())).collect())
            .collect()
    }

    #[test]
    fn long_runs_compile_unbounded_and_small() {
        let pem = "(?P<secret>-----BEGIN RSA PRIVATE KEY-----[A-Za-z0-9+/=\\r\\n]{64,12000}?-----END RSA PRIVATE KEY-----)";
        let loose = Pattern::compile(pem, true).unwrap();
        assert_eq!(loose.bounds, [(2, 12000)]);
        let written = build(&parse(pem).unwrap()).unwrap();
        assert!(
            loose.memory_usage() * 20 < written.memory_usage(),
            "{} bytes loosened, {} as written",
            loose.memory_usage(),
            written.memory_usage()
        );
        // Short spans, and runs inside other repetitions, stay as written.
        for kept in [
            "(?P<secret>[a-f0-9]{32,40})",
            "(?P<secret>(?:[a-z]{1,63}\\.){1,4})",
        ] {
            assert!(
                Pattern::compile(kept, true).unwrap().bounds.is_empty(),
                "{kept}"
            );
        }
    }

    #[test]
    fn matches_are_the_written_patterns_even_past_a_bound() {
        let text = "\\b(?P<secret>tok_[a-z0-9]{24,60})\\b";
        let p = Pattern::compile(text, true).unwrap();
        let ok = format!("a tok_{} b", "q1".repeat(20));
        assert_eq!(spans(&p, text, ok.as_bytes()), [[Some(2..46), Some(2..46)]]);
        assert!(!p.compiled_as_written(), "no run overran its bound");

        // 70 characters: the loosened pattern matches all of them, the written one nothing
        // (no `\b` after 60 of them).
        let long = format!("a tok_{} b", "q1".repeat(35));
        assert!(spans(&p, text, long.as_bytes()).is_empty());
        assert!(p.compiled_as_written());

        // Past the bound, a greedy run stops at it when what follows allows.
        let text = "(?P<secret>key=[a-z]{2,30})";
        let p = Pattern::compile(text, false).unwrap();
        let long = format!("key={}", "x".repeat(40));
        assert_eq!(
            spans(&p, text, long.as_bytes()),
            [[Some(0..34), Some(0..34)]]
        );
    }
}
