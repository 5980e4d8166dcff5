//! A light YAML tree with line numbers, built from saphyr's parser events.
//!
//! saphyr's own `MarkedYaml` loader hashes every mapping key into a linked hash map and costs a
//! third of the parse time; the schema only ever looks keys up among a handful of known names,
//! so plain vectors do. Scalars are kept as written (no YAML 1.2 typing), so `0123` stays `0123`
//! and `2027-03-31` stays text: typing is the schema's job, field by field.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, SpannedEventReceiver, Tag};

/// The most nodes that alias expansion may produce in one file, against "billion laughs".
const ALIAS_BUDGET: usize = 100_000;

/// One node and the line it starts on.
#[derive(Debug, Clone)]
pub(crate) struct Node<'i> {
    /// 1-based line of the node's first character.
    pub line: usize,
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

impl Node<'_> {
    /// How many nodes this one holds, itself included, counting no further than `limit`.
    fn size(&self, limit: usize) -> usize {
        let mut n = 1;
        match &self.kind {
            Kind::Scalar(..) => {}
            Kind::Seq(items) => {
                for item in items {
                    n += item.size(limit.saturating_sub(n));
                    if n > limit {
                        break;
                    }
                }
            }
            Kind::Map(entries) => {
                for (k, v) in entries {
                    n += k.size(limit.saturating_sub(n)) + v.size(limit.saturating_sub(n));
                    if n > limit {
                        break;
                    }
                }
            }
        }
        n
    }
}

/// Parses every document of `text`; the first syntax error ends the file.
pub(crate) fn load(text: &str) -> Result<Vec<Node<'_>>, ScanError> {
    let mut builder = Builder {
        docs: Vec::new(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_budget: ALIAS_BUDGET,
        error: None,
    };
    Parser::new_from_str(text).load(&mut builder, true)?;
    match builder.error {
        Some(e) => Err(e),
        None => Ok(builder.docs),
    }
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

impl<'i> SpannedEventReceiver<'i> for Builder<'i> {
    fn on_event(&mut self, ev: Event<'i>, span: Span) {
        if self.error.is_some() {
            return;
        }
        let line = span.start.line();
        let open = |kind, anchor, tag| Open {
            node: Node { line, tag, kind },
            anchor,
            key: None,
        };
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let kind = Kind::Scalar(text, style);
                self.insert(Node { line, tag, kind }, anchor);
            }
            Event::SequenceStart(anchor, tag) => {
                self.stack.push(open(Kind::Seq(Vec::new()), anchor, tag));
            }
            Event::MappingStart(anchor, tag) => {
                self.stack.push(open(Kind::Map(Vec::new()), anchor, tag));
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
                let size = target.size(self.alias_budget);
                if size > self.alias_budget {
                    self.error = Some(ScanError::new_str(
                        span.start,
                        "aliases expand to too many nodes",
                    ));
                    return;
                }
                self.alias_budget -= size;
                let mut node = target.clone();
                node.line = line;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_lines_and_keeps_scalars_as_written() {
        let docs = load("a: 0123\nb:\n  - x\n  - 'y'\n---\n").unwrap();
        assert_eq!(docs.len(), 2);
        let Kind::Map(entries) = &docs[0].kind else {
            panic!("{docs:?}")
        };
        assert_eq!(entries.len(), 2);
        assert!(matches!(&entries[0].1.kind, Kind::Scalar(t, ScalarStyle::Plain) if t == "0123"));
        let Kind::Seq(items) = &entries[1].1.kind else {
            panic!("{entries:?}")
        };
        assert_eq!(items[1].line, 4);
        assert!(matches!(&items[1].kind, Kind::Scalar(t, ScalarStyle::SingleQuoted) if t == "y"));
        assert!(matches!(&docs[1].kind, Kind::Scalar(t, ScalarStyle::Plain) if t.is_empty()));
    }

    #[test]
    fn aliases_expand_within_a_budget() {
        let docs = load("a: &x [1, 2]\nb: *x\n").unwrap();
        let Kind::Map(entries) = &docs[0].kind else {
            panic!()
        };
        assert!(matches!(&entries[1].1.kind, Kind::Seq(items) if items.len() == 2));
        assert_eq!(entries[1].1.line, 2);

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
        let err = load(&bomb).unwrap_err();
        assert_eq!(err.info(), "aliases expand to too many nodes");
    }
}
