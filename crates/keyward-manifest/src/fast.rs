//! A fast path for the plain block YAML that declarations are nearly always written in.
//!
//! saphyr's scanner reads about 40 MB/s per core, which alone would spend most of the time budget
//! for a large register. Declarations use a small corner of YAML: block mappings, block or
//! one-line flow lists and maps, plain and simple quoted scalars, comments and `---`. This module
//! reads exactly that corner line by line and builds the same [`Node`] tree saphyr's events
//! would; at the first thing outside it (anchors, tags, block scalars, escapes, multi-line
//! scalars, tabs, anything unusual, and every syntax error) it gives up on the whole file and the
//! caller parses it with saphyr, so saphyr stays the one judge of what YAML means. A differential
//! test holds the two to the same trees.

use std::borrow::Cow;

use saphyr_parser::ScalarStyle;

use crate::tree::{Kind, Node};

/// The file's documents, or `None` when any part of it is outside the fast path's corner.
pub(crate) fn load(text: &str) -> Option<Vec<Node<'_>>> {
    if has_unusual_char(text.as_bytes()) {
        return None;
    }
    let mut docs = Vec::new();
    let mut lines = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        if raw == "---" {
            document(&mut lines, &mut docs)?;
            continue;
        }
        if raw.starts_with("---") || raw.starts_with("...") || raw.starts_with('%') {
            return None;
        }
        let body = raw.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        lines.push(Line {
            no: i + 1,
            indent: raw.len() - body.len(),
            body: body.trim_end_matches(' '),
        });
    }
    document(&mut lines, &mut docs)?;
    Some(docs)
}

/// Whether the text holds a control character other than a line feed, a line or paragraph
/// separator, or a byte-order mark: read as bytes (every file's every character passes here),
/// on UTF-8 whose lead bytes say what follows.
fn has_unusual_char(text: &[u8]) -> bool {
    text.iter().enumerate().any(|(i, &b)| match b {
        b'\n' => false,
        0x00..=0x1f | 0x7f => true,
        // U+0080–U+009F, the C1 controls.
        0xc2 => matches!(text.get(i + 1), Some(0x80..=0x9f)),
        // U+2028 and U+2029.
        0xe2 => text.get(i + 1) == Some(&0x80) && matches!(text.get(i + 2), Some(0xa8 | 0xa9)),
        // U+FEFF.
        0xef => text.get(i + 1) == Some(&0xbb) && text.get(i + 2) == Some(&0xbf),
        _ => false,
    })
}

/// Where `pair` first occurs in `s`, found byte by byte (a substring search sets up a searcher
/// for every call, and values are short).
fn find_pair(s: &str, pair: [u8; 2]) -> Option<usize> {
    s.as_bytes().windows(2).position(|w| w == pair)
}

/// One line holding content: its number, indentation and text without surrounding spaces.
struct Line<'i> {
    no: usize,
    indent: usize,
    body: &'i str,
}

fn document<'i>(lines: &mut Vec<Line<'i>>, docs: &mut Vec<Node<'i>>) -> Option<()> {
    if lines.is_empty() {
        return Some(());
    }
    if lines.first()?.indent != 0 {
        return None;
    }
    let mut pos = 0;
    let root = block_map(lines, &mut pos, 0)?;
    if pos != lines.len() {
        return None;
    }
    docs.push(root);
    lines.clear();
    Some(())
}

fn scalar(text: &str, style: ScalarStyle, line: usize) -> Node<'_> {
    Node {
        line,
        tag: None,
        kind: Kind::Scalar(Cow::Borrowed(text), style),
    }
}

fn collection(kind: Kind<'_>, line: usize) -> Node<'_> {
    Node {
        line,
        tag: None,
        kind,
    }
}

fn is_seq_item(body: &str) -> bool {
    body == "-" || body.starts_with("- ")
}

/// A block mapping whose keys sit at exactly `indent`.
fn block_map<'i>(lines: &[Line<'i>], pos: &mut usize, indent: usize) -> Option<Node<'i>> {
    let first = lines.get(*pos)?.no;
    let mut entries = Vec::new();
    while let Some(l) = lines.get(*pos) {
        if l.indent < indent {
            break;
        }
        if l.indent > indent {
            return None;
        }
        let (key, rest) = split_key(l.body)?;
        *pos += 1;
        let value = if rest.is_empty() || rest.starts_with('#') {
            match lines.get(*pos) {
                Some(n) if n.indent >= indent && is_seq_item(n.body) => {
                    block_seq(lines, pos, n.indent)?
                }
                Some(n) if n.indent > indent => block_map(lines, pos, n.indent)?,
                _ => scalar("", ScalarStyle::Plain, l.no),
            }
        } else {
            let value = inline(rest, l.no)?;
            if lines.get(*pos).is_some_and(|n| n.indent > indent) {
                return None;
            }
            value
        };
        entries.push((scalar(key, ScalarStyle::Plain, l.no), value));
    }
    Some(collection(Kind::Map(entries), first))
}

/// A block sequence of scalars or one-line flow collections whose dashes sit at `indent`.
fn block_seq<'i>(lines: &[Line<'i>], pos: &mut usize, indent: usize) -> Option<Node<'i>> {
    let first = lines.get(*pos)?.no;
    let mut items = Vec::new();
    while let Some(l) = lines.get(*pos) {
        if l.indent != indent || !is_seq_item(l.body) {
            break;
        }
        let rest = l.body.get(1..)?.trim_start_matches(' ');
        if rest.is_empty() || rest.starts_with('#') {
            return None;
        }
        items.push(inline(rest, l.no)?);
        *pos += 1;
        if lines.get(*pos).is_some_and(|n| n.indent > indent) {
            return None;
        }
    }
    Some(collection(Kind::Seq(items), first))
}

/// Splits `key: rest` or `key:` with a plain, unremarkable key.
fn split_key(body: &str) -> Option<(&str, &str)> {
    // A byte search: `str::find(char)` compares each match through `memcmp`, a call per line.
    let colon = body.bytes().position(|b| b == b':')?;
    let key = body.get(..colon)?;
    let rest = body.get(colon + 1..)?;
    if !is_simple_key(key) {
        return None;
    }
    if rest.is_empty() {
        Some((key, rest))
    } else if rest.starts_with(' ') {
        Some((key, rest.trim_start_matches(' ')))
    } else {
        None
    }
}

fn is_simple_key(key: &str) -> bool {
    let b = key.as_bytes();
    b.first()
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'/'))
}

/// Characters that give a scalar's first character a meaning other than text.
fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
            | b' '
    )
}

/// What may follow a closed quote or bracket: nothing, or spaces and a comment.
fn is_trailer(rest: &str) -> bool {
    rest.is_empty() || (rest.starts_with(' ') && rest.trim_start_matches(' ').starts_with('#'))
}

/// A value written on the rest of its line.
fn inline(s: &str, line: usize) -> Option<Node<'_>> {
    match *s.as_bytes().first()? {
        b'"' | b'\'' => {
            let (node, after) = quoted(s, line)?;
            is_trailer(after).then_some(node)
        }
        b'[' => flow(s, line, b']'),
        b'{' => flow(s, line, b'}'),
        c if is_indicator(c) => None,
        _ => {
            let text = find_pair(s, *b" #").map_or(s, |i| s.get(..i).unwrap_or(s));
            let text = text.trim_end_matches(' ');
            if find_pair(text, *b": ").is_some() || text.ends_with(':') {
                return None;
            }
            Some(scalar(text, ScalarStyle::Plain, line))
        }
    }
}

/// A one-line quoted scalar without escapes, and what follows its closing quote.
fn quoted(s: &str, line: usize) -> Option<(Node<'_>, &str)> {
    let quote = *s.as_bytes().first()?;
    let inner = s.get(1..)?;
    let close = inner.find(char::from(quote))?;
    let text = inner.get(..close)?;
    let after = inner.get(close + 1..)?;
    let style = if quote == b'"' {
        if text.contains('\\') {
            return None;
        }
        ScalarStyle::DoubleQuoted
    } else {
        if after.starts_with('\'') {
            return None;
        }
        ScalarStyle::SingleQuoted
    };
    Some((scalar(text, style, line), after))
}

/// A one-line flow sequence (`close` is `]`) or flow mapping (`}`) of scalars.
fn flow(s: &str, line: usize, close: u8) -> Option<Node<'_>> {
    let mut rest = s.get(1..)?.trim_start_matches(' ');
    let mut items = Vec::new();
    let mut entries = Vec::new();
    if let Some(after) = rest.strip_prefix(char::from(close)) {
        rest = after;
    } else {
        loop {
            if close == b'}' {
                let (key, after) = split_key(rest)?;
                if after.is_empty() {
                    return None;
                }
                let (value, after) = flow_scalar(after, line, false)?;
                entries.push((scalar(key, ScalarStyle::Plain, line), value));
                rest = after;
            } else {
                let (item, after) = flow_scalar(rest, line, true)?;
                items.push(item);
                rest = after;
            }
            rest = rest.trim_start_matches(' ');
            if let Some(after) = rest.strip_prefix(',') {
                rest = after.trim_start_matches(' ');
                if rest.starts_with(char::from(close)) {
                    return None;
                }
            } else if let Some(after) = rest.strip_prefix(char::from(close)) {
                rest = after;
                break;
            } else {
                return None;
            }
        }
    }
    if !is_trailer(rest) {
        return None;
    }
    let kind = if close == b'}' {
        Kind::Map(entries)
    } else {
        Kind::Seq(items)
    };
    Some(collection(kind, line))
}

/// A scalar inside a flow collection, and what follows it.
fn flow_scalar(s: &str, line: usize, colon_ok: bool) -> Option<(Node<'_>, &str)> {
    let first = *s.as_bytes().first()?;
    if first == b'"' || first == b'\'' {
        return quoted(s, line);
    }
    if is_indicator(first) {
        return None;
    }
    let end = s.find([',', ']', '}']).unwrap_or(s.len());
    let text = s.get(..end)?.trim_end_matches(' ');
    if text.contains(['[', '{', '#', '"', '\''])
        || text.ends_with(':')
        || find_pair(text, *b": ").is_some()
        || (!colon_ok && text.contains(':'))
    {
        return None;
    }
    Some((scalar(text, ScalarStyle::Plain, line), s.get(end..)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree;

    #[test]
    fn unusual_characters_are_found_as_the_character_rules_find_them() {
        let by_char = |t: &str| {
            t.chars().any(|c| {
                (c.is_control() && c != '\n') || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
            })
        };
        // Every character in the ranges these bytes lead, between plain text on both sides,
        // and at the very end of the text (a lead byte without what would follow).
        let ranges = [
            0u32..0x800,
            0x2000..0x2100,
            0xfe00..0x10000,
            0x1f600..0x1f610,
        ];
        for c in ranges.into_iter().flatten().filter_map(char::from_u32) {
            for t in [format!("a{c}b"), format!("ab{c}")] {
                assert_eq!(has_unusual_char(t.as_bytes()), by_char(&t), "{:?}", c);
            }
        }
        assert!(!has_unusual_char(b"key: value\n  - item\n"));
        assert!(has_unusual_char("a\tb".as_bytes()));
        assert_eq!(find_pair("a: b #c", *b" #"), Some(4));
        assert_eq!(find_pair("a:b", *b": "), None);
        assert_eq!(find_pair("", *b": "), None);
    }

    /// A tree as text; the line of an empty plain scalar is left out, since saphyr places it
    /// wherever the next token is and no message uses it.
    fn render(nodes: &[Node<'_>]) -> String {
        fn one(n: &Node<'_>, out: &mut String) {
            match &n.kind {
                Kind::Scalar(t, style) if t.is_empty() && *style == ScalarStyle::Plain => {
                    out.push_str("~ ");
                }
                Kind::Scalar(t, style) => out.push_str(&format!("{}:{style:?}:{t:?} ", n.line)),
                Kind::Seq(items) => {
                    out.push_str(&format!("{}:[ ", n.line));
                    items.iter().for_each(|i| one(i, out));
                    out.push_str("] ");
                }
                Kind::Map(entries) => {
                    out.push_str(&format!("{}:{{ ", n.line));
                    for (k, v) in entries {
                        one(k, out);
                        out.push_str("=> ");
                        one(v, out);
                    }
                    out.push_str("} ");
                }
            }
        }
        let mut out = String::new();
        for n in nodes {
            one(n, &mut out);
            out.push('\n');
        }
        out
    }

    /// Checks that the fast path either declines `text` or reads it exactly as saphyr does;
    /// returns whether it read it.
    fn agrees(text: &str) -> bool {
        let slow = tree::load(text);
        let Some(fast) = load(text) else {
            return false;
        };
        let Ok(slow) = slow else {
            panic!("fast path accepted what saphyr rejects: {text:?}\n{slow:?}")
        };
        // saphyr keeps empty documents as null roots; the fast path drops them.
        let slow: Vec<_> = slow
            .into_iter()
            .filter(|n| !matches!(&n.kind, Kind::Scalar(t, ScalarStyle::Plain) if t.is_empty()))
            .collect();
        assert_eq!(render(&fast), render(&slow), "{text:?}");
        true
    }

    const TYPICAL: &str = "\
# Payments team
---
apiVersion: keyward/v1
kind: NonHumanIdentity
metadata:
  name: payments-ci-deployer   # the key
  labels: {team: payments, app.kubernetes.io/name: x, n: 0042}
  # a comment between keys

spec:
  kind: iam_user
  provider: \"aws\"
  externalId: arn:aws:iam::123456789012:user/payments-ci
  owner: 'alice@example.com'
  purpose: Deploys the payments service from CI, nightly #3
  privilegeCeiling: [\"s3:PutObject\", ecs:UpdateService, 'a, b', 7]
  ceilingTwo:
    - s3:GetObject
    - \"x\"
  ceilingThree:
  - a
  - b  # c
  supplier: null
  reviewEvery: 90d
  expires: 2027-03-31
  nested:
    deeper:
      leaf: ~
    empty:
  emptyList: []
  emptyMap: {}
---
---
apiVersion: keyward/v1
";

    #[test]
    fn reads_typical_declarations_as_saphyr_does() {
        assert!(agrees(TYPICAL));
        assert!(agrees(""));
        assert!(agrees("# only comments\n\n"));
        assert!(agrees("a: b\n---\nc: d\n"));
        assert!(agrees("a: Zahlungsdienst für CI — nächtlich\n"));
    }

    #[test]
    fn declines_or_agrees_on_the_unusual() {
        let cases = [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: |\n  text\n",
            "a: >\n  text\n",
            "a: b\n  c\n",
            "a: b: c\n",
            "a: b:\n",
            "a: \"x\\ny\"\n",
            "a: 'it''s'\n",
            "a: 'x' y\n",
            "a: \"x\"#c\n",
            "a: [x, [y]]\n",
            "a: [x,]\n",
            "a: [x, y\n",
            "a: [x: y]\n",
            "a: [a:b, c]\n",
            "a: {b: c:d}\n",
            "a: {b}\n",
            "a: {b: }\n",
            "a: {b: [c]}\n",
            "a: x#y\n",
            "a: x # y\n",
            "a: x ]\n",
            "a: x }\n",
            "a: x, y\n",
            "a: x :y\n",
            "a: b - c\n",
            "a: http://x.example/a?b=c&d\n",
            "a: -1\n",
            "a: ?x\n",
            "a: :x\n",
            "a: @x\n",
            "a: %x\n",
            "a:\tb\n",
            "a: b\r\nc: d\r\n",
            "  a: b\n",
            "a:\n  b: c\n d: e\n",
            "a:\n  b: c\n    d: e\n",
            "a:\n- b\n- c\nd: e\n",
            "a:\n  - b\n  c: d\n",
            "a:\n  - b\n   - c\n",
            "a:\n  -\n    b\n",
            "a:\n  - b: c\n",
            "a:\n  - [b, c]\n  - {d: e}\n",
            "- a\n- b\n",
            "a\n",
            "\"a\": b\n",
            "a b: c\n",
            "a: b\na: c\n",
            "--- a: b\n",
            "...\n",
            "%YAML 1.2\n---\na: b\n",
            "a: b\n...\n",
            "a: 'multi\n  line'\n",
            "a: \"multi\n  line\"\n",
            "a: [multi,\n  line]\n",
            "a: b #\n",
            "a: '' \n",
            "a: \"\"\n",
            "a: ' x '\n",
            "a:  two  spaces  \n",
            "a: null\nb: Null\nc: NULL\nd: ~\ne: true\nf: 1.5e3\n",
            "a: [null, ~, '']\n",
            "a: x\n---\n  b: c\n",
            "a: x\n# c\n  # c\nb: y\n",
            "1: x\n",
            "_a/b.c-d: x\n",
            "a: {b: c, d: e}  # c\n",
            "a: [b]  x\n",
            "a: { b: c }\n",
            "a: [ b , c ]\n",
            "a: [\"b\" , 'c']\n",
            "a: ['b'x]\n",
            "a: b\u{85}c\n",
            "a: b\u{2028}c\n",
        ];
        for case in cases {
            agrees(case);
        }
    }

    #[test]
    fn randomised_inputs_never_disagree() {
        // Lines drawn from a small vocabulary of valid and broken pieces, many times over.
        let pieces = [
            "a: b",
            "a:",
            "  b: c",
            "  b:",
            "    c: d",
            "- x",
            "  - x",
            "  - 'y'",
            "---",
            "# c",
            "",
            "a: [x, 'y', \"z\"]",
            "a: {k: v, l: 'w'}",
            "  a: x # c",
            "b: 'q'",
            "c: \"q\"",
            "a: b: c",
            "  -",
            "a: [x",
            "d: x:y",
            "e: x #y",
            " f: g",
            "g: ~",
            "h: null",
            "i: ''",
            "j: [ ]",
            "k: {}",
            "l: [a, b]  # c",
            "- [a]",
            "m: -x",
            "n: x]",
            "o: 'a''b'",
            "p: a  b",
            "q: [a:b]",
            "r: {a: b:c}",
            "  s: [x, {y: z}]",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % n as u64).unwrap()
        };
        let mut accepted = 0;
        for _ in 0..20_000 {
            let count = 1 + next(8);
            let text: String = (0..count)
                .map(|_| format!("{}\n", pieces[next(pieces.len())]))
                .collect();
            if agrees(&text) {
                accepted += 1;
            }
        }
        assert!(accepted > 1_000, "{accepted}");
    }
}
