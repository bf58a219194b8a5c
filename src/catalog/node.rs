//! A format-neutral document tree with source positions.
//!
//! YAML, TOML and JSON catalogs are all read into [`Node`]s first, so that the
//! schema walk in [`super::parse`] can report every problem with its line and
//! column, whatever the file format.

use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// A 1-based line and column in a catalog file: the root file (`src` 0) or
/// one of the files and URLs it includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Pos {
    /// Line, counting from 1.
    pub line: usize,
    /// Column, counting from 1.
    pub col: usize,
    /// Which document: 0 the root catalog, else an index into its includes.
    #[serde(default)]
    pub src: u16,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A mapping key with the position it was written at.
#[derive(Debug, Clone)]
pub struct Key {
    /// The key text.
    pub name: String,
    /// Where the key was written.
    pub pos: Pos,
}

/// The value part of a [`Node`].
#[derive(Debug, Clone)]
pub enum Value {
    /// A mapping, in file order.
    Map(Vec<(Key, Node)>),
    /// A sequence.
    Seq(Vec<Node>),
    /// A string (quoted, or a plain scalar that is no other type).
    Str(String),
    /// An integer.
    Int(i64),
    /// A floating point number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// An explicit null or an empty value.
    Null,
}

/// A value with the position where it starts.
#[derive(Debug, Clone)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the value starts.
    pub pos: Pos,
}

impl Node {
    /// Marks every position in the tree as coming from document `src`.
    pub fn set_src(&mut self, src: u16) {
        self.pos.src = src;
        match &mut self.value {
            Value::Map(entries) => {
                for (key, node) in entries {
                    key.pos.src = src;
                    node.set_src(src);
                }
            }
            Value::Seq(items) => items.iter_mut().for_each(|n| n.set_src(src)),
            _ => {}
        }
    }

    /// Lays `over` on `self`: mappings merge key by key (recursively), lists
    /// and scalars are replaced; `over` wins.
    pub fn overlay(&mut self, over: Node) {
        match (&mut self.value, over.value) {
            (Value::Map(base), Value::Map(entries)) => {
                for (key, node) in entries {
                    match base.iter_mut().find(|(k, _)| k.name == key.name) {
                        Some((_, existing)) => existing.overlay(node),
                        None => base.push((key, node)),
                    }
                }
            }
            (_, value) => {
                self.value = value;
                self.pos = over.pos;
            }
        }
    }

    /// Removes and returns the top-level key `name` of a mapping.
    pub fn take_key(&mut self, name: &str) -> Option<Node> {
        let Value::Map(entries) = &mut self.value else {
            return None;
        };
        let i = entries.iter().position(|(k, _)| k.name == name)?;
        Some(entries.remove(i).1)
    }

    /// The name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Map(_) => "a mapping",
            Value::Seq(_) => "a list",
            Value::Str(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Null => "null",
        }
    }
}

impl Node {
    /// The tree as JSON, for schema checks and tools.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Str(s) => J::String(s.clone()),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => J::from(*f),
            Value::Bool(b) => J::Bool(*b),
            Value::Null => J::Null,
        }
    }
}

/// A syntax error, before any schema check could run.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    /// Where the parser stopped.
    pub pos: Pos,
    /// What the parser said.
    pub message: String,
}

fn syntax(pos: Pos, message: impl Into<String>) -> SyntaxError {
    SyntaxError {
        pos,
        message: message.into(),
    }
}

/// At most this many alias uses (`*name`) in one YAML catalog.
pub const MAX_ALIAS_USES: usize = 10_000;
/// At most this many nodes in the tree once aliases are expanded: a few
/// hundred bytes of nested aliases (a "billion laughs") would otherwise
/// expand to billions of nodes and exhaust memory.
pub const MAX_NODES: usize = 250_000;
/// At most this many levels of nesting (a catalog needs fewer than ten).
pub const MAX_DEPTH: usize = 64;

/// Reads YAML (1.2, which includes JSON) into a [`Node`].
///
/// Aliases are expanded and `<<` merge keys are honoured, since users share
/// credential blocks between clusters that way; the expansion is capped by
/// [`MAX_ALIAS_USES`] and [`MAX_NODES`], nesting by [`MAX_DEPTH`].
pub fn from_yaml(text: &str) -> Result<Node, SyntaxError> {
    let mut reader = YamlReader {
        text,
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        last_span: Span::default(),
        nodes: 0,
        alias_uses: 0,
        depth: 0,
    };
    reader.document()
}

/// An anchored node and how many nodes it stands for once expanded.
struct Anchored {
    node: Node,
    size: usize,
}

struct YamlReader<'a> {
    text: &'a str,
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    anchors: HashMap<usize, Anchored>,
    /// Where the last event was, for naming an alias in an error.
    last_span: Span,
    /// Nodes in the tree so far, aliases counted expanded.
    nodes: usize,
    alias_uses: usize,
    depth: usize,
}

fn yaml_pos(span: Span) -> Pos {
    Pos {
        line: span.start.line(),
        col: span.start.col() + 1,
        src: 0,
    }
}

impl<'a> YamlReader<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Pos), SyntaxError> {
        match self.parser.next_event() {
            Some(Ok((event, span))) => {
                self.last_span = span;
                Ok((event, yaml_pos(span)))
            }
            Some(Err(e)) => Err(syntax(
                Pos {
                    line: e.marker().line(),
                    col: e.marker().col() + 1,
                    src: 0,
                },
                e.info().to_string(),
            )),
            None => Err(syntax(Pos::default(), "unexpected end of input")),
        }
    }

    fn document(&mut self) -> Result<Node, SyntaxError> {
        let mut root = None;
        loop {
            let (event, pos) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::DocumentStart(_) if root.is_some() => {
                    return Err(syntax(
                        pos,
                        "a catalog is one YAML document; found a second",
                    ));
                }
                Event::DocumentStart(_) => root = Some(self.node()?),
                Event::StreamEnd => {
                    return Ok(root.unwrap_or(Node {
                        value: Value::Null,
                        pos: Pos {
                            line: 1,
                            col: 1,
                            src: 0,
                        },
                    }));
                }
                _ => return Err(syntax(pos, "unexpected YAML structure")),
            }
        }
    }

    fn node(&mut self) -> Result<Node, SyntaxError> {
        let (event, pos) = self.next()?;
        self.node_from(event, pos)
    }

    fn node_from(&mut self, event: Event<'a>, pos: Pos) -> Result<Node, SyntaxError> {
        let nodes_before = self.nodes;
        self.count_nodes(1, pos)?;
        let (node, anchor) = match event {
            Event::Scalar(text, style, anchor, _tag) => (
                Node {
                    value: scalar(text.as_ref(), style),
                    pos,
                },
                anchor,
            ),
            Event::SequenceStart(anchor, _tag) => (self.nested(pos, Self::sequence)?, anchor),
            Event::MappingStart(anchor, _tag) => (self.nested(pos, Self::mapping)?, anchor),
            Event::Alias(id) => return self.alias(id, pos),
            _ => return Err(syntax(pos, "unexpected YAML structure")),
        };
        if anchor > 0 {
            let size = self.nodes - nodes_before;
            self.anchors.insert(
                anchor,
                Anchored {
                    node: node.clone(),
                    size,
                },
            );
        }
        Ok(node)
    }

    /// Expands the alias `id` used at `pos`, within the caps.
    fn alias(&mut self, id: usize, pos: Pos) -> Result<Node, SyntaxError> {
        let name = self.alias_name();
        self.alias_uses += 1;
        if self.alias_uses > MAX_ALIAS_USES {
            return Err(syntax(
                pos,
                format!("too many alias uses (more than {MAX_ALIAS_USES}) at `*{name}`"),
            ));
        }
        let size = self
            .anchors
            .get(&id)
            .ok_or_else(|| syntax(pos, format!("alias `*{name}` to an unknown anchor")))?
            .size;
        // the alias event itself was counted as one node; its expansion replaces it
        self.count_nodes(size.saturating_sub(1), pos).map_err(|_| {
            syntax(
                pos,
                format!(
                    "alias `*{name}` expands the catalog beyond {MAX_NODES} nodes \
                     (nested aliases, a \"billion laughs\")"
                ),
            )
        })?;
        Ok(Node {
            value: self.anchors[&id].node.value.clone(),
            pos,
        })
    }

    /// The name of the alias just read (`*name`), from the source text.
    fn alias_name(&self) -> String {
        let start = self.last_span.start.index() + 1;
        let len = self.last_span.end.index().saturating_sub(start);
        self.text
            .chars()
            .skip(start)
            .take(len.min(64))
            .filter(|c| !c.is_control())
            .collect()
    }

    fn count_nodes(&mut self, more: usize, pos: Pos) -> Result<(), SyntaxError> {
        self.nodes = self.nodes.saturating_add(more);
        if self.nodes > MAX_NODES {
            return Err(syntax(
                pos,
                format!("the catalog has more than {MAX_NODES} nodes"),
            ));
        }
        Ok(())
    }

    /// Reads a sequence or mapping one level deeper, within [`MAX_DEPTH`].
    fn nested(
        &mut self,
        pos: Pos,
        read: fn(&mut Self, Pos) -> Result<Node, SyntaxError>,
    ) -> Result<Node, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(syntax(
                pos,
                format!("nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        let node = read(self, pos);
        self.depth -= 1;
        node
    }

    fn sequence(&mut self, pos: Pos) -> Result<Node, SyntaxError> {
        let mut items = Vec::new();
        loop {
            let (event, item_pos) = self.next()?;
            if matches!(event, Event::SequenceEnd) {
                return Ok(Node {
                    value: Value::Seq(items),
                    pos,
                });
            }
            items.push(self.node_from(event, item_pos)?);
        }
    }

    fn mapping(&mut self, pos: Pos) -> Result<Node, SyntaxError> {
        let mut entries: Vec<(Key, Node)> = Vec::new();
        // first line of each key: duplicates found in constant time, so a
        // mapping of many keys costs linear, not quadratic, time
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut merged: Vec<(Key, Node)> = Vec::new();
        loop {
            let (event, key_pos) = self.next()?;
            let name = match event {
                Event::MappingEnd => break,
                Event::Scalar(text, ..) => text.into_owned(),
                _ => return Err(syntax(key_pos, "mapping keys must be plain strings")),
            };
            let value = self.node()?;
            if name == "<<" {
                merged.extend(merge_source(value)?);
                continue;
            }
            if let Some(first_line) = seen.get(&name) {
                return Err(syntax(
                    key_pos,
                    format!("duplicate key `{name}` (first at line {first_line})"),
                ));
            }
            seen.insert(name.clone(), key_pos.line);
            entries.push((Key { name, pos: key_pos }, value));
        }
        for (key, value) in merged {
            if !seen.contains_key(&key.name) {
                seen.insert(key.name.clone(), key.pos.line);
                entries.push((key, value));
            }
        }
        Ok(Node {
            value: Value::Map(entries),
            pos,
        })
    }
}

fn merge_source(value: Node) -> Result<Vec<(Key, Node)>, SyntaxError> {
    match value.value {
        Value::Map(entries) => Ok(entries),
        Value::Seq(items) => {
            let mut all = Vec::new();
            for item in items {
                all.extend(merge_source(item)?);
            }
            Ok(all)
        }
        _ => Err(syntax(
            value.pos,
            "`<<` merges a mapping or a list of mappings",
        )),
    }
}

/// Types a YAML scalar the way YAML 1.2's core schema does.
fn scalar(text: &str, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::Str(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        t => {
            if let Ok(i) = t.parse::<i64>() {
                Value::Int(i)
            } else if let Some(f) = looks_like_float(t).then(|| t.parse::<f64>().ok()).flatten() {
                Value::Float(f)
            } else {
                Value::Str(t.to_string())
            }
        }
    }
}

fn looks_like_float(t: &str) -> bool {
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    !body.is_empty()
        && body.chars().filter(|c| *c == '.').count() <= 1
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        && body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
}

/// Reads JSON into a [`Node`]: strict JSON syntax first (so errors read like
/// JSON errors), then positions from the YAML reader, JSON being YAML 1.2.
pub fn from_json(text: &str) -> Result<Node, SyntaxError> {
    if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
        return Err(syntax(
            Pos {
                line: e.line(),
                col: e.column(),
                src: 0,
            },
            strip_position(&e.to_string()),
        ));
    }
    from_yaml(&text.replace('\t', " "))
}

/// `serde_json` appends " at line N column M", which our prefix already says.
fn strip_position(message: &str) -> String {
    message
        .rfind(" at line ")
        .map_or(message, |i| &message[..i])
        .to_string()
}

/// Reads TOML into a [`Node`]. Tables keep their file order.
pub fn from_toml(text: &str) -> Result<Node, SyntaxError> {
    let lines = LineIndex::new(text);
    let mut value = toml_span::parse(text).map_err(|e| {
        let pos = e.line_info.map_or_else(
            || lines.pos(e.span.start),
            |(line, col)| Pos {
                line: line + 1,
                col: col + 1,
                src: 0,
            },
        );
        syntax(pos, e.to_string())
    })?;
    Ok(toml_node(&mut value, &lines))
}

fn toml_node(value: &mut toml_span::Value<'_>, lines: &LineIndex) -> Node {
    use toml_span::value::ValueInner;
    let pos = lines.pos(value.span.start);
    let value = match value.take() {
        ValueInner::String(s) => Value::Str(s.into_owned()),
        ValueInner::Integer(i) => Value::Int(i),
        ValueInner::Float(f) => Value::Float(f),
        ValueInner::Boolean(b) => Value::Bool(b),
        ValueInner::Array(mut items) => {
            Value::Seq(items.iter_mut().map(|v| toml_node(v, lines)).collect())
        }
        ValueInner::Table(table) => {
            let mut entries: Vec<(Key, Node)> = table
                .into_iter()
                .map(|(key, mut v)| {
                    let key = Key {
                        name: key.name.into_owned(),
                        pos: lines.pos(key.span.start),
                    };
                    (key, toml_node(&mut v, lines))
                })
                .collect();
            entries.sort_by_key(|(k, _)| (k.pos.line, k.pos.col));
            Value::Map(entries)
        }
    };
    Node { value, pos }
}

/// Maps byte offsets to lines and columns.
struct LineIndex {
    starts: Vec<usize>,
    text_len: usize,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self {
            starts,
            text_len: text.len(),
        }
    }

    fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text_len);
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        Pos {
            line,
            col: offset - start + 1,
            src: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_keys(node: &Node) -> Vec<(String, usize)> {
        match &node.value {
            Value::Map(entries) => entries
                .iter()
                .map(|(k, _)| (k.name.clone(), k.pos.line))
                .collect(),
            _ => panic!("not a map"),
        }
    }

    #[test]
    fn yaml_positions_are_one_based() {
        let node = from_yaml("version: 1\nclusters:\n  a: {}\n").unwrap();
        assert_eq!(
            map_keys(&node),
            vec![("version".into(), 1), ("clusters".into(), 2)]
        );
    }

    #[test]
    fn yaml_scalars_are_typed_like_yaml_1_2() {
        let node = from_yaml("a: 1\nb: '1'\nc: 103.110.174.19\nd: true\ne:\nf: 1.5\n").unwrap();
        let Value::Map(entries) = node.value else {
            panic!()
        };
        let kinds: Vec<&str> = entries.iter().map(|(_, v)| v.type_name()).collect();
        assert_eq!(
            kinds,
            [
                "an integer",
                "a string",
                "a string",
                "a boolean",
                "null",
                "a number"
            ]
        );
    }

    #[test]
    fn yaml_duplicate_keys_are_errors_with_both_lines() {
        let err = from_yaml("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.pos.line, 3);
        assert!(err.message.contains("first at line 1"), "{}", err.message);
    }

    #[test]
    fn yaml_aliases_and_merge_keys_expand() {
        let node = from_yaml("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n").unwrap();
        let Value::Map(entries) = node.value else {
            panic!()
        };
        let other = &entries[1].1;
        let keys = map_keys(other);
        assert_eq!(keys.len(), 2);
        let Value::Map(o) = &other.value else {
            panic!()
        };
        assert!(
            matches!(o[0].1.value, Value::Int(3)),
            "own key wins over merged"
        );
    }

    #[test]
    fn json_syntax_errors_carry_json_positions() {
        let err = from_json("{\n  \"a\": 1,\n}\n").unwrap_err();
        assert_eq!(err.pos.line, 3);
    }

    #[test]
    fn json_with_tabs_reads_with_positions() {
        let node = from_json("{\n\t\"version\": 1,\n\t\"clusters\": {}\n}\n").unwrap();
        assert_eq!(
            map_keys(&node),
            vec![("version".into(), 2), ("clusters".into(), 3)]
        );
    }

    #[test]
    fn toml_keeps_file_order_and_positions() {
        let node = from_toml("version = 1\ndomain = \"x\"\n[clusters.b]\nport = 1\n[clusters.a]\n")
            .unwrap();
        assert_eq!(
            map_keys(&node),
            vec![
                ("version".into(), 1),
                ("domain".into(), 2),
                ("clusters".into(), 3)
            ]
        );
        let Value::Map(entries) = node.value else {
            panic!()
        };
        assert_eq!(
            map_keys(&entries[2].1),
            vec![("b".into(), 3), ("a".into(), 5)]
        );
    }

    #[test]
    fn toml_syntax_error_has_a_line() {
        let err = from_toml("version = 1\ndomain = \n").unwrap_err();
        assert_eq!(err.pos.line, 2);
    }
}
