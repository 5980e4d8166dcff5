//! A small YAML tree with positions, built from saphyr's parser events, and typed readers over
//! it that fail naming the file, line, column and field path.
//!
//! Scalars are kept as written and typed field by field (Kubernetes reads YAML by converting it
//! to JSON, so a field's type is the schema's business, not the YAML resolver's). Merge keys
//! (`<<`) are applied, as the YAML 1.1 reader Kubernetes uses does.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use keyward_connect::ConnectError;
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

/// The most nodes that alias expansion may produce in one file, against "billion laughs".
const ALIAS_BUDGET: usize = 100_000;
/// The deepest nesting accepted; real manifests stay far below it, and dropping a tree is
/// recursive.
const MAX_DEPTH: usize = 200;

/// One node and where it starts.
#[derive(Debug, Clone)]
pub(crate) struct Node<'i> {
    /// 1-based line (0 when the source gave none).
    pub line: usize,
    /// 1-based column (0 when the source gave none).
    pub col: usize,
    /// The content.
    pub value: Value<'i>,
}

/// A node's content.
#[derive(Debug, Clone)]
pub(crate) enum Value<'i> {
    /// `null`, `~` or nothing.
    Null,
    /// A scalar as written; `plain` when unquoted and untagged, the only form that may be a
    /// boolean.
    Scalar { text: Cow<'i, str>, plain: bool },
    /// A sequence.
    Seq(Vec<Node<'i>>),
    /// A mapping's entries in document order.
    Map(Vec<(Node<'i>, Node<'i>)>),
}

impl<'i> Node<'i> {
    /// The scalar text of this node, when it is a scalar.
    fn text(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// How many nodes this one holds, itself included, counting no further than `limit`.
    fn size(&self, limit: usize) -> usize {
        let mut n = 1;
        let children: Box<dyn Iterator<Item = &Node<'i>>> = match &self.value {
            Value::Null | Value::Scalar { .. } => return 1,
            Value::Seq(items) => Box::new(items.iter()),
            Value::Map(entries) => Box::new(entries.iter().flat_map(|(k, v)| [k, v])),
        };
        for c in children {
            n += c.size(limit.saturating_sub(n));
            if n > limit {
                break;
            }
        }
        n
    }
}

/// A syntax error: 1-based line and column, and what is wrong.
pub(crate) type SyntaxError = (usize, usize, String);

/// Parses every document of `text`; the first syntax error ends the file.
pub(crate) fn load(text: &str) -> Result<Vec<Node<'_>>, SyntaxError> {
    let mut parser = Parser::new_from_str(text);
    let mut b = Builder {
        docs: Vec::new(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_budget: ALIAS_BUDGET,
    };
    while let Some(event) = parser.next_event() {
        let (ev, span) = event.map_err(|e| {
            let m = e.marker();
            (m.line().max(1), m.col() + 1, e.info().to_owned())
        })?;
        b.on_event(ev, span)?;
    }
    Ok(b.docs)
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
}

impl<'i> Builder<'i> {
    fn on_event(&mut self, ev: Event<'i>, span: Span) -> Result<(), SyntaxError> {
        let (line, col) = (span.start.line(), span.start.col() + 1);
        let deep = self.stack.len() >= MAX_DEPTH;
        let too_deep = || (line, col, format!("nested deeper than {MAX_DEPTH} levels"));
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let value = scalar(text, style, tag.as_deref());
                self.insert(Node { line, col, value }, anchor);
            }
            Event::SequenceStart(anchor, _) => {
                if deep {
                    return Err(too_deep());
                }
                self.stack.push(Open {
                    node: Node {
                        line,
                        col,
                        value: Value::Seq(Vec::new()),
                    },
                    anchor,
                    key: None,
                });
            }
            Event::MappingStart(anchor, _) => {
                if deep {
                    return Err(too_deep());
                }
                self.stack.push(Open {
                    node: Node {
                        line,
                        col,
                        value: Value::Map(Vec::new()),
                    },
                    anchor,
                    key: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(mut done) = self.stack.pop() {
                    if let Value::Map(entries) = &mut done.node.value {
                        merge_keys(entries);
                    }
                    self.insert(done.node, done.anchor);
                }
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id) else {
                    return Err((line, col, "unknown alias".to_owned()));
                };
                let size = target.size(self.alias_budget);
                if size > self.alias_budget {
                    return Err((line, col, "aliases expand to too many nodes".to_owned()));
                }
                self.alias_budget -= size;
                let mut node = target.clone();
                (node.line, node.col) = (line, col);
                self.insert(node, 0);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd => {}
        }
        Ok(())
    }

    fn insert(&mut self, node: Node<'i>, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let Some(open) = self.stack.last_mut() else {
            self.docs.push(node);
            return;
        };
        match &mut open.node.value {
            Value::Seq(items) => items.push(node),
            Value::Map(entries) => match open.key.take() {
                None => open.key = Some(node),
                Some(key) => entries.push((key, node)),
            },
            Value::Null | Value::Scalar { .. } => {}
        }
    }
}

/// A scalar typed only as far as null: everything else stays text for the schema to judge.
fn scalar<'i>(text: Cow<'i, str>, style: ScalarStyle, tag: Option<&Tag>) -> Value<'i> {
    let plain = style == ScalarStyle::Plain && tag.is_none_or(|t| t.suffix == "bool");
    if plain && matches!(&*text, "" | "~" | "null" | "Null" | "NULL") {
        return Value::Null;
    }
    if tag.is_some_and(|t| t.suffix == "null") {
        return Value::Null;
    }
    Value::Scalar { text, plain }
}

/// Applies `<<` merge keys: the merged mappings' entries join this one unless it sets the key
/// itself, the first merged mapping winning over later ones.
fn merge_keys<'i>(entries: &mut Vec<(Node<'i>, Node<'i>)>) {
    let is_merge =
        |k: &Node<'_>| matches!(&k.value, Value::Scalar { text, plain: true } if text == "<<");
    if !entries.iter().any(|(k, _)| is_merge(k)) {
        return;
    }
    let (merges, mut own): (Vec<_>, Vec<_>) = std::mem::take(entries)
        .into_iter()
        .partition(|(k, _)| is_merge(k));
    let mut sources = Vec::new();
    for (_, v) in merges {
        match v.value {
            Value::Map(m) => sources.push(m),
            Value::Seq(items) => sources.extend(items.into_iter().filter_map(|n| match n.value {
                Value::Map(m) => Some(m),
                _ => None,
            })),
            _ => {}
        }
    }
    for source in sources {
        for (k, v) in source {
            let taken = own
                .iter()
                .any(|(o, _)| o.text().is_some() && o.text() == k.text());
            if !taken {
                own.push((k, v));
            }
        }
    }
    *entries = own;
}

/// Converts a JSON value (for the rare JSON file saphyr cannot read) into a tree without
/// positions.
pub(crate) fn from_json(v: serde_json::Value) -> Node<'static> {
    let value = match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Scalar {
            text: Cow::Borrowed(if b { "true" } else { "false" }),
            plain: true,
        },
        serde_json::Value::Number(n) => Value::Scalar {
            text: Cow::Owned(n.to_string()),
            plain: true,
        },
        serde_json::Value::String(s) => Value::Scalar {
            text: Cow::Owned(s),
            plain: false,
        },
        serde_json::Value::Array(items) => Value::Seq(items.into_iter().map(from_json).collect()),
        serde_json::Value::Object(map) => Value::Map(
            map.into_iter()
                .map(|(k, v)| {
                    let key = Value::Scalar {
                        text: Cow::Owned(k),
                        plain: false,
                    };
                    (
                        Node {
                            line: 0,
                            col: 0,
                            value: key,
                        },
                        from_json(v),
                    )
                })
                .collect(),
        ),
    };
    Node {
        line: 0,
        col: 0,
        value,
    }
}

/// A node with the file it is in and its field path, so every reader can fail precisely.
#[derive(Clone)]
pub(crate) struct Field<'a, 'i> {
    file: &'a Path,
    node: &'a Node<'i>,
    path: String,
}

impl<'a, 'i> Field<'a, 'i> {
    /// A node at a path (empty for a document's root).
    pub fn new(file: &'a Path, node: &'a Node<'i>, path: impl Into<String>) -> Self {
        Self {
            file,
            node,
            path: path.into(),
        }
    }

    /// The file this is in.
    pub fn file(&self) -> &'a Path {
        self.file
    }

    /// The node's line.
    pub fn line(&self) -> usize {
        self.node.line
    }

    /// Whether this is null.
    pub fn is_null(&self) -> bool {
        matches!(self.node.value, Value::Null)
    }

    /// An error about this field.
    pub fn error(&self, reason: impl Into<String>) -> ConnectError {
        ConnectError::field(
            self.file,
            (self.node.line, self.node.col),
            &self.path,
            reason,
        )
    }

    fn wrong_type(&self, expected: &str) -> ConnectError {
        let found = match &self.node.value {
            Value::Null => "null",
            Value::Scalar { .. } => "a scalar",
            Value::Seq(_) => "a sequence",
            // An unrendered Helm template (`{{ .Values.x }}`) reads as a flow mapping.
            Value::Map(_) => "a mapping",
        };
        self.error(format!("expected {expected}, found {found}"))
    }

    /// The value under `key` when this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<Field<'a, 'i>> {
        let Value::Map(entries) = &self.node.value else {
            return None;
        };
        // The last occurrence wins, as in the JSON Kubernetes converts YAML to.
        let node = entries
            .iter()
            .rev()
            .find(|(k, _)| k.text() == Some(key))
            .map(|(_, v)| v)?;
        Some(Field::new(self.file, node, join(&self.path, key)))
    }

    /// The value under `key`, required to be a mapping when present and not null.
    pub fn map(&self, key: &str) -> Result<Option<Field<'a, 'i>>, ConnectError> {
        match self.get(key) {
            Some(f) if f.is_null() => Ok(None),
            Some(f) => match f.node.value {
                Value::Map(_) => Ok(Some(f)),
                _ => Err(f.wrong_type("a mapping")),
            },
            None => Ok(None),
        }
    }

    /// Whether this is a mapping.
    pub fn is_map(&self) -> bool {
        matches!(self.node.value, Value::Map(_))
    }

    /// The text under `key`: `None` when absent or null; an error when it is a collection.
    pub fn str(&self, key: &str) -> Result<Option<String>, ConnectError> {
        self.get(key).map_or(Ok(None), |f| f.as_str())
    }

    /// Like [`Self::str`], treating the empty string as absent.
    pub fn non_empty(&self, key: &str) -> Result<Option<String>, ConnectError> {
        Ok(self.str(key)?.filter(|s| !s.is_empty()))
    }

    /// The boolean under `key`: `None` when absent or null.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ConnectError> {
        self.get(key).map_or(Ok(None), |f| f.as_bool())
    }

    /// The strings under `key` (empty when absent or null).
    pub fn strings(&self, key: &str) -> Result<Vec<String>, ConnectError> {
        self.get(key).map_or(Ok(Vec::new()), |f| f.as_strings())
    }

    /// The string map under `key` (empty when absent or null).
    pub fn string_map(&self, key: &str) -> Result<BTreeMap<String, String>, ConnectError> {
        self.get(key)
            .map_or(Ok(BTreeMap::new()), |f| f.as_string_map())
    }

    /// The items under `key` (none when absent or null), each required to be a mapping.
    pub fn maps(&self, key: &str) -> Result<Vec<Field<'a, 'i>>, ConnectError> {
        self.get(key).map_or(Ok(Vec::new()), |f| f.as_maps())
    }

    /// This field as text: `None` when null; an error when it is a collection.
    pub fn as_str(&self) -> Result<Option<String>, ConnectError> {
        match &self.node.value {
            Value::Null => Ok(None),
            Value::Scalar { text, .. } => Ok(Some(text.to_string())),
            _ => Err(self.wrong_type("a string")),
        }
    }

    /// This field as a boolean, unquoted, in the YAML 1.1 spellings kubectl reads (`true`,
    /// `yes`, `on`, `y` and their capitalisations, and their opposites): `None` when null.
    pub fn as_bool(&self) -> Result<Option<bool>, ConnectError> {
        match &self.node.value {
            Value::Null => Ok(None),
            Value::Scalar { text, plain: true } => match &**text {
                "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y"
                | "Y" => Ok(Some(true)),
                "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n"
                | "N" => Ok(Some(false)),
                other => Err(self.error(format!("expected true or false, found `{other}`"))),
            },
            Value::Scalar { text, plain: false } => {
                Err(self.error(format!("expected true or false, found the string `{text}`")))
            }
            _ => Err(self.wrong_type("true or false")),
        }
    }

    /// The items of this sequence (none when null), each with its path.
    pub fn as_items(&self) -> Result<Vec<Field<'a, 'i>>, ConnectError> {
        match &self.node.value {
            Value::Null => Ok(Vec::new()),
            Value::Seq(items) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, n)| Field::new(self.file, n, format!("{}[{i}]", self.path)))
                .collect()),
            _ => Err(self.wrong_type("a sequence")),
        }
    }

    /// The items of this sequence, each required to be a mapping.
    pub fn as_maps(&self) -> Result<Vec<Field<'a, 'i>>, ConnectError> {
        let items = self.as_items()?;
        for item in &items {
            if !item.is_map() {
                return Err(item.wrong_type("a mapping"));
            }
        }
        Ok(items)
    }

    /// This sequence of strings (empty when null).
    pub fn as_strings(&self) -> Result<Vec<String>, ConnectError> {
        let mut out = Vec::new();
        for item in self.as_items()? {
            // A null item reads as the empty string, as in Kubernetes' JSON decoding.
            out.push(item.as_str()?.unwrap_or_default());
        }
        Ok(out)
    }

    /// This mapping of strings to strings (labels, annotations); null values read as empty.
    pub fn as_string_map(&self) -> Result<BTreeMap<String, String>, ConnectError> {
        let entries = match &self.node.value {
            Value::Null => return Ok(BTreeMap::new()),
            Value::Map(entries) => entries,
            _ => return Err(self.wrong_type("a mapping")),
        };
        let mut out = BTreeMap::new();
        for (k, v) in entries {
            let key_field = Field::new(self.file, k, self.path.clone());
            let Some(key) = key_field.as_str()? else {
                return Err(key_field.error("a key is null"));
            };
            let path = join(&self.path, &key);
            let value = Field::new(self.file, v, path).as_str()?.unwrap_or_default();
            out.insert(key, value);
        }
        Ok(out)
    }
}

/// `a.b` from `a` and `b`, quoting keys that hold dots (`labels["app.kubernetes.io/name"]`).
fn join(path: &str, key: &str) -> String {
    let quoted = key.contains(['.', '[', ']', '"', ' ']);
    match (path.is_empty(), quoted) {
        (true, false) => key.to_owned(),
        (true, true) => format!("[{key:?}]"),
        (false, false) => format!("{path}.{key}"),
        (false, true) => format!("{path}[{key:?}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Node<'_> {
        let mut docs = load(text).unwrap();
        assert_eq!(docs.len(), 1, "{docs:?}");
        docs.remove(0)
    }

    #[test]
    fn empty_and_comment_only_documents_are_null_roots() {
        let docs =
            load("# Source: chart/templates/sa.yaml\n---\n# nothing\n---\na: 1\n---\n").unwrap();
        assert_eq!(docs.len(), 3);
        assert!(matches!(docs[0].value, Value::Null));
        assert!(matches!(docs[1].value, Value::Map(_)));
        assert_eq!((docs[1].line, docs[1].col), (5, 1));
    }

    #[test]
    fn typed_readers_name_the_field_and_position() {
        let n = doc(
            "metadata:\n  labels:\n    app.kubernetes.io/name: x\n    v: 1.2\n  flag: \"true\"\n  list: {a: b}\n",
        );
        let f = Field::new(Path::new("m.yaml"), &n, "");
        let meta = f.map("metadata").unwrap().unwrap();
        let labels = meta.string_map("labels").unwrap();
        assert_eq!(labels["app.kubernetes.io/name"], "x");
        assert_eq!(labels["v"], "1.2");
        let err = meta.bool("flag").unwrap_err();
        assert_eq!(
            err.to_string(),
            "m.yaml:5:9: metadata.flag: expected true or false, found the string `true`"
        );
        let err = meta.strings("list").unwrap_err();
        assert_eq!(
            err.to_string(),
            "m.yaml:6:9: metadata.list: expected a sequence, found a mapping"
        );
        assert_eq!(meta.str("missing").unwrap(), None);
        let n = doc("a: yes\nb: Off\nc: !!bool true\nd: 1\n");
        let f = Field::new(Path::new("m.yaml"), &n, "");
        assert_eq!(f.bool("a").unwrap(), Some(true));
        assert_eq!(f.bool("b").unwrap(), Some(false));
        assert_eq!(f.bool("c").unwrap(), Some(true));
        assert!(f.bool("d").is_err());
    }

    #[test]
    fn json_saphyr_cannot_read_still_reads_without_positions() {
        // JSON escapes a character outside the BMP as a surrogate pair; YAML refuses those.
        let text = r#"{"kind": "ServiceAccount", "metadata": {"annotations": {"description": "\ud83d\udd11 keys"}}, "x": 1}"#;
        assert!(
            load(text).is_err(),
            "saphyr now reads surrogate pairs: find another case"
        );
        let n = from_json(serde_json::from_str(text).unwrap());
        let f = Field::new(Path::new("m.json"), &n, "");
        assert_eq!(f.str("kind").unwrap().as_deref(), Some("ServiceAccount"));
        let meta = f.map("metadata").unwrap().unwrap();
        assert_eq!(
            meta.string_map("annotations").unwrap()["description"],
            "\u{1f511} keys"
        );
        assert_eq!(
            f.bool("x").unwrap_err().to_string(),
            "m.json:0:0: x: expected true or false, found `1`"
        );
    }

    #[test]
    fn dotted_keys_are_quoted_in_paths() {
        assert_eq!(
            join("metadata.annotations", "keyward.io/owner"),
            "metadata.annotations[\"keyward.io/owner\"]"
        );
        assert_eq!(join("", "kind"), "kind");
    }

    #[test]
    fn merge_keys_fill_what_the_mapping_does_not_set() {
        let n = doc("base: &b {a: 1, c: 3}\nx:\n  <<: *b\n  a: 2\n");
        let f = Field::new(Path::new("m.yaml"), &n, "");
        let x = f.map("x").unwrap().unwrap();
        assert_eq!(x.str("a").unwrap().as_deref(), Some("2"));
        assert_eq!(x.str("c").unwrap().as_deref(), Some("3"));
    }

    #[test]
    fn syntax_errors_and_bombs_have_positions() {
        let (line, col, msg) = load("a: [1, 2\n").unwrap_err();
        assert_eq!((line, col), (2, 1), "{msg}");
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (prev, name) in [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "f")] {
            bomb.push_str(&format!(
                "{name}: &{name} [{}]\n",
                vec![format!("*{prev}"); 10].join(", ")
            ));
        }
        assert_eq!(
            load(&bomb).unwrap_err().2,
            "aliases expand to too many nodes"
        );
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert!(load(&deep).unwrap_err().2.starts_with("nested deeper"));
        assert!(
            load(&"- ".repeat(20_000))
                .unwrap_err()
                .2
                .starts_with("nested deeper")
        );
        let mut indented = String::new();
        for i in 0..5_000 {
            indented.push_str(&format!("{}k:\n", " ".repeat(i)));
        }
        assert!(load(&indented).unwrap_err().2.starts_with("nested deeper"));
    }
}
