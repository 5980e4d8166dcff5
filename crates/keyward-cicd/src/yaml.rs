//! A YAML tree with positions, built from saphyr's parser events, and the typed look-ups the
//! CI readers share.
//!
//! Scalars are kept as written (no YAML 1.1 typing), so `on:` stays the key `on` rather than
//! the boolean GitHub's own docs warn about, and `0123` stays text. Nesting and alias expansion
//! are bounded so hostile input cannot exhaust the stack or memory.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use keyward_connect::ConnectError;
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, SpannedEventReceiver, Tag};

/// The most nodes alias expansion may produce in one file, against "billion laughs".
const ALIAS_BUDGET: usize = 100_000;
/// The deepest nesting accepted; real CI files stay under 15.
const MAX_DEPTH: usize = 128;

/// One node with the position it starts at.
#[derive(Debug, Clone)]
pub(crate) struct Node<'i> {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// Levels of nesting below and including this node.
    height: usize,
    /// The node's explicit tag, if any.
    pub tag: Option<Cow<'i, Tag>>,
    /// The node's content.
    pub kind: Kind<'i>,
}

/// A node's content.
#[derive(Debug, Clone)]
pub(crate) enum Kind<'i> {
    /// A scalar as written, and how it was quoted.
    Scalar(Cow<'i, str>, ScalarStyle),
    /// A sequence.
    Seq(Vec<Node<'i>>),
    /// A mapping's entries in document order.
    Map(Vec<(Node<'i>, Node<'i>)>),
}

impl<'i> Node<'i> {
    /// The position as `(line, column)`.
    pub fn pos(&self) -> (usize, usize) {
        (self.line, self.col)
    }

    /// The scalar's text, when this is a scalar.
    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar(t, _) => Some(t),
            _ => None,
        }
    }

    /// Whether this is a null: nothing, `~` or `null` unquoted.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar(t, ScalarStyle::Plain)
            if matches!(&**t, "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The items, when this is a sequence.
    pub fn items(&self) -> Option<&[Node<'i>]> {
        match &self.kind {
            Kind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// Whether the node carries the tag `!name` (GitLab's `!reference`).
    pub fn has_local_tag(&self, name: &str) -> bool {
        self.tag
            .as_ref()
            .is_some_and(|t| t.handle == "!" && t.suffix == name)
    }

    /// What sort of node this is, for error messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            _ if self.is_null() => "null",
            Kind::Scalar(..) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }
}

/// Parses every document of `text`; a syntax error names its line and column.
pub(crate) fn load<'i>(path: &Path, text: &'i str) -> Result<Vec<Node<'i>>, ConnectError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut builder = Builder {
        docs: Vec::new(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_budget: ALIAS_BUDGET,
        error: None,
    };
    let syntax = |e: ScanError| {
        let m = e.marker();
        ConnectError::syntax(
            path,
            m.line().max(1),
            m.col() + 1,
            format!("invalid YAML: {}", e.info()),
        )
    };
    let parsed = Parser::new_from_str(text).load(&mut builder, true);
    // The builder's own limits trip before the parser reads on, so theirs is the first error.
    if let Some(e) = builder.error {
        return Err(syntax(e));
    }
    parsed.map_err(syntax)?;
    Ok(builder.docs)
}

/// A collection still being read.
struct Open<'i> {
    node: Node<'i>,
    anchor: usize,
    key: Option<Node<'i>>,
}

struct Builder<'i> {
    docs: Vec<Node<'i>>,
    stack: Vec<Open<'i>>,
    anchors: HashMap<usize, Node<'i>>,
    alias_budget: usize,
    error: Option<ScanError>,
}

impl<'i> Builder<'i> {
    fn insert(&mut self, node: Node<'i>, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let Some(open) = self.stack.last_mut() else {
            self.docs.push(node);
            return;
        };
        open.node.height = open.node.height.max(node.height + 1);
        match &mut open.node.kind {
            Kind::Seq(items) => items.push(node),
            Kind::Map(entries) => match open.key.take() {
                None => open.key = Some(node),
                Some(key) => entries.push((key, node)),
            },
            Kind::Scalar(..) => {}
        }
    }
}

/// How many nodes `node` holds, itself included, counting no further than `limit`.
fn size(node: &Node<'_>, limit: usize) -> usize {
    let mut n = 1;
    match &node.kind {
        Kind::Scalar(..) => {}
        Kind::Seq(items) => {
            for item in items {
                n += size(item, limit.saturating_sub(n));
                if n > limit {
                    break;
                }
            }
        }
        Kind::Map(entries) => {
            for (k, v) in entries {
                n += size(k, limit.saturating_sub(n)) + size(v, limit.saturating_sub(n));
                if n > limit {
                    break;
                }
            }
        }
    }
    n
}

impl<'i> SpannedEventReceiver<'i> for Builder<'i> {
    fn on_event(&mut self, ev: Event<'i>, span: Span) {
        if self.error.is_some() {
            return;
        }
        let (line, col) = (span.start.line().max(1), span.start.col() + 1);
        let opens_seq = matches!(ev, Event::SequenceStart(..));
        let open = |kind, anchor, tag| Open {
            node: Node {
                line,
                col,
                height: 1,
                tag,
                kind,
            },
            anchor,
            key: None,
        };
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let kind = Kind::Scalar(text, style);
                let node = Node {
                    line,
                    col,
                    height: 1,
                    tag,
                    kind,
                };
                self.insert(node, anchor);
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                if self.stack.len() >= MAX_DEPTH {
                    self.error = Some(ScanError::new(
                        span.start,
                        format!("nested deeper than {MAX_DEPTH} levels"),
                    ));
                    return;
                }
                let kind = if opens_seq {
                    Kind::Seq(Vec::new())
                } else {
                    Kind::Map(Vec::new())
                };
                self.stack.push(open(kind, anchor, tag));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(done) = self.stack.pop() {
                    self.insert(done.node, done.anchor);
                }
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id) else {
                    self.error = Some(ScanError::new_str(span.start, "unknown alias"));
                    return;
                };
                if self.stack.len() + target.height > MAX_DEPTH {
                    self.error = Some(ScanError::new(
                        span.start,
                        format!("aliases nest deeper than {MAX_DEPTH} levels"),
                    ));
                    return;
                }
                let n = size(target, self.alias_budget);
                if n > self.alias_budget {
                    self.error = Some(ScanError::new_str(
                        span.start,
                        "aliases expand to too many nodes",
                    ));
                    return;
                }
                self.alias_budget -= n;
                let mut node = target.clone();
                node.line = line;
                node.col = col;
                self.insert(node, 0);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd => {}
        }
    }
}

/// One step of a field path: a mapping key or a list index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seg<'a> {
    /// A mapping key.
    Key(&'a str),
    /// A list index.
    Index(usize),
}

/// Renders a field path the way errors and facts show it: `jobs.build.steps[2].with.token`.
pub(crate) fn render(path: &[Seg<'_>]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// How a reader treats repeated keys and `<<` merge keys: GitHub rejects repeated keys and has
/// no merge keys; GitLab (Ruby's YAML) merges `<<` and lets a later key win.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// GitHub Actions.
    Github,
    /// GitLab CI.
    Gitlab,
}

/// Reads one file's tree, naming the file in every error.
pub(crate) struct Reader<'p> {
    pub path: &'p Path,
    pub dialect: Dialect,
}

impl Reader<'_> {
    /// A wrong-typed or wrong-valued field at `node`.
    pub fn err(&self, node: &Node<'_>, field: &str, reason: impl Into<String>) -> ConnectError {
        ConnectError::field(self.path, node.pos(), field, reason)
    }

    /// A mapping's entries with string keys, `<<` merges applied (GitLab). `None` when `node`
    /// is null; an error when it is neither a mapping nor null.
    pub fn map<'a, 'i>(
        &self,
        node: &'a Node<'i>,
        field: &str,
    ) -> Result<Option<Vec<(&'a str, &'a Node<'i>)>>, ConnectError> {
        match &node.kind {
            Kind::Map(entries) => self.entries(entries, field, 0).map(Some),
            _ if node.is_null() => Ok(None),
            _ => Err(self.err(
                node,
                field,
                format!("expected a mapping, found {}", node.describe()),
            )),
        }
    }

    /// Like [`Reader::map`], with null read as an empty mapping.
    pub fn map_or_empty<'a, 'i>(
        &self,
        node: &'a Node<'i>,
        field: &str,
    ) -> Result<Vec<(&'a str, &'a Node<'i>)>, ConnectError> {
        Ok(self.map(node, field)?.unwrap_or_default())
    }

    fn entries<'a, 'i>(
        &self,
        entries: &'a [(Node<'i>, Node<'i>)],
        field: &str,
        depth: usize,
    ) -> Result<Vec<(&'a str, &'a Node<'i>)>, ConnectError> {
        let mut out: Vec<(&'a str, &'a Node<'i>)> = Vec::with_capacity(entries.len());
        let mut merged: Vec<(&'a str, &'a Node<'i>)> = Vec::new();
        for (k, v) in entries {
            let Some(key) = k.text() else {
                return Err(self.err(
                    k,
                    field,
                    format!("keys must be strings, found {}", k.describe()),
                ));
            };
            if self.dialect == Dialect::Gitlab
                && key == "<<"
                && matches!(k.kind, Kind::Scalar(_, ScalarStyle::Plain))
            {
                if depth > MAX_DEPTH {
                    return Err(self.err(k, field, "merge keys nest too deep"));
                }
                let sources: Vec<&Node<'i>> = match &v.kind {
                    Kind::Seq(items) => items.iter().collect(),
                    _ => vec![v],
                };
                for src in sources {
                    match &src.kind {
                        Kind::Map(inner) => {
                            for (ik, iv) in self.entries(inner, field, depth + 1)? {
                                if !merged.iter().any(|(mk, _)| *mk == ik) {
                                    merged.push((ik, iv));
                                }
                            }
                        }
                        _ => {
                            return Err(self.err(
                                src,
                                field,
                                format!("a `<<` merge takes a mapping, found {}", src.describe()),
                            ));
                        }
                    }
                }
                continue;
            }
            if let Some(i) = out.iter().position(|(ok, _)| *ok == key) {
                match self.dialect {
                    Dialect::Github => {
                        let at = if field.is_empty() {
                            key.to_owned()
                        } else {
                            format!("{field}.{key}")
                        };
                        return Err(self.err(k, &at, "repeated key"));
                    }
                    Dialect::Gitlab => {
                        out.remove(i);
                    }
                }
            }
            out.push((key, v));
        }
        // Keys given beside a merge win over the merged ones.
        for (mk, mv) in merged {
            if !out.iter().any(|(k, _)| *k == mk) {
                out.push((mk, mv));
            }
        }
        Ok(out)
    }

    /// A scalar's text; an error when `node` is a list or mapping. `None` for null.
    pub fn scalar<'a>(
        &self,
        node: &'a Node<'_>,
        field: &str,
    ) -> Result<Option<&'a str>, ConnectError> {
        match &node.kind {
            _ if node.is_null() => Ok(None),
            Kind::Scalar(t, _) => Ok(Some(t)),
            _ => Err(self.err(
                node,
                field,
                format!("expected a string, found {}", node.describe()),
            )),
        }
    }

    /// A list's items; a lone scalar reads as a list of one, null as empty (both forms are
    /// accepted wherever GitHub and GitLab take a list).
    pub fn list<'a, 'i>(
        &self,
        node: &'a Node<'i>,
        field: &str,
    ) -> Result<Vec<&'a Node<'i>>, ConnectError> {
        match &node.kind {
            _ if node.is_null() => Ok(Vec::new()),
            Kind::Seq(items) => Ok(items.iter().collect()),
            Kind::Scalar(..) => Ok(vec![node]),
            Kind::Map(_) => Err(self.err(
                node,
                field,
                format!("expected a list, found {}", node.describe()),
            )),
        }
    }
}

/// Calls `f` on every scalar under `node` (values only, not keys) with its field path.
pub(crate) fn walk_scalars<'a, 'i>(
    node: &'a Node<'i>,
    path: &mut Vec<Seg<'a>>,
    f: &mut impl FnMut(&[Seg<'a>], &'a Node<'i>, &'a str),
) {
    match &node.kind {
        Kind::Scalar(t, _) => f(path, node, t),
        Kind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                walk_scalars(item, path, f);
                path.pop();
            }
        }
        Kind::Map(entries) => {
            for (k, v) in entries {
                path.push(Seg::Key(k.text().unwrap_or("?")));
                walk_scalars(v, path, f);
                path.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(d: Dialect) -> Reader<'static> {
        Reader {
            path: Path::new("f.yml"),
            dialect: d,
        }
    }

    #[test]
    fn positions_are_one_based() {
        let docs = load(Path::new("f.yml"), "a:\n  b: [x, 'y']\n").unwrap();
        let r = reader(Dialect::Github);
        let top = r.map(&docs[0], "").unwrap().unwrap();
        assert_eq!(top[0].0, "a");
        let inner = r.map(top[0].1, "a").unwrap().unwrap();
        assert_eq!(inner[0].1.pos(), (2, 6));
        assert_eq!(inner[0].1.items().unwrap()[1].pos(), (2, 10));
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err = load(Path::new("w.yml"), "jobs:\n  a: [1, 2\n").unwrap_err();
        assert!(matches!(err, ConnectError::Syntax { line: 3, .. }), "{err}");
        assert!(err.to_string().starts_with("w.yml:3:"), "{err}");
    }

    #[test]
    fn depth_and_aliases_are_bounded() {
        let deep = "[".repeat(200);
        let err = load(Path::new("d.yml"), &deep).unwrap_err();
        assert!(err.to_string().contains("nested deeper than 128"), "{err}");

        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f"]
            .windows(2)
            .map(|w| (w[0], w[1]))
        {
            bomb.push_str(&format!(
                "{name}: &{name} [{}]\n",
                vec![format!("*{prev}"); 10].join(", ")
            ));
        }
        let err = load(Path::new("b.yml"), &bomb).unwrap_err();
        assert!(err.to_string().contains("too many nodes"), "{err}");

        let mut chain = String::from("a0: &a0 [x]\n");
        for i in 1..200 {
            chain.push_str(&format!("a{i}: &a{i} [*a{}]\n", i - 1));
        }
        let err = load(Path::new("c.yml"), &chain).unwrap_err();
        assert!(err.to_string().contains("aliases nest deeper"), "{err}");
    }

    #[test]
    fn github_rejects_repeated_keys_and_gitlab_merges() {
        let docs = load(Path::new("f.yml"), "a: 1\nb: 2\na: 3\n").unwrap();
        let err = reader(Dialect::Github).map(&docs[0], "").unwrap_err();
        assert_eq!(err.to_string(), "f.yml:3:1: a: repeated key");
        let m = reader(Dialect::Gitlab).map(&docs[0], "").unwrap().unwrap();
        assert_eq!(
            m.iter()
                .map(|(k, v)| (*k, v.text().unwrap()))
                .collect::<Vec<_>>(),
            [("b", "2"), ("a", "3")]
        );

        let docs = load(
            Path::new("f.yml"),
            ".base: &base\n  x: 1\n  y: 2\njob:\n  <<: *base\n  y: 3\n",
        )
        .unwrap();
        let r = reader(Dialect::Gitlab);
        let top = r.map(&docs[0], "").unwrap().unwrap();
        let job = r.map(top[1].1, "job").unwrap().unwrap();
        assert_eq!(
            job.iter()
                .map(|(k, v)| (*k, v.text().unwrap()))
                .collect::<Vec<_>>(),
            [("y", "3"), ("x", "1")]
        );
    }

    #[test]
    fn wrong_types_name_the_field() {
        let docs = load(Path::new("f.yml"), "a: [1]\n").unwrap();
        let r = reader(Dialect::Github);
        let top = r.map(&docs[0], "").unwrap().unwrap();
        let err = r.map(top[0].1, "a").unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.yml:1:4: a: expected a mapping, found a list"
        );
        assert_eq!(
            render(&[
                Seg::Key("jobs"),
                Seg::Key("b"),
                Seg::Key("steps"),
                Seg::Index(2)
            ]),
            "jobs.b.steps[2]"
        );
    }
}
