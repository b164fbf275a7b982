//! Reading the YAML text into the JSON tree the validator walks, with one difference from
//! a plain `serde_json::Value`: an unquoted number becomes a string holding the text as
//! written. publiccode.yml has no numeric key, and the reference parser's YAML decoder
//! (goccy/go-yaml) accepts a number where a string is expected, so `phone: +391624231322`,
//! `phone: 0612345678` and `softwareVersion: 1.10` are valid strings. goccy stores the
//! number's canonical form (`391624231322`); mediana keeps the spelling, `+` and zeros
//! included, read from the scalar's place in the source.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use serde_saphyr::Spanned;

/// A YAML node as the parser gives it, before numbers get their source text.
#[derive(Debug)]
pub(crate) enum Node {
    /// `~`, `null` or nothing.
    Null,
    /// `true` or `false` (YAML 1.2 spellings only).
    Bool(bool),
    /// An unquoted number, in its canonical form: used when the source text is not at hand.
    Number(String),
    /// Any other scalar.
    String(String),
    /// A sequence.
    Seq(Vec<Spanned<Node>>),
    /// A mapping, in the order of the file.
    Map(Vec<(String, Spanned<Node>)>),
}

impl Node {
    /// The value of `key`, when this is a mapping that has it.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        let Self::Map(entries) = self else { return None };
        entries.iter().find(|(k, _)| k == key).map(|(_, v)| &v.value)
    }
}

/// Reads `text`, a YAML document.
pub(crate) fn read(text: &str) -> Result<Spanned<Node>, serde_saphyr::Error> {
    // Strict booleans: `yes`/`on` are strings in YAML 1.2, and the reference parser rejects
    // them for `localisationReady`.
    serde_saphyr::from_str_with_options(text, serde_saphyr::options! { strict_booleans: true })
}

/// The tree of `node`, read from `source`, with unquoted numbers as the strings written.
pub(crate) fn to_json(node: Spanned<Node>, source: &str) -> Value {
    match node.value {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(b),
        Node::Number(canonical) => Value::String(written(&node.defined, source).unwrap_or(canonical)),
        Node::String(s) => Value::String(s),
        Node::Seq(items) => Value::Array(items.into_iter().map(|item| to_json(item, source)).collect()),
        Node::Map(entries) => {
            Value::Object(entries.into_iter().map(|(k, v)| (k, to_json(v, source))).collect::<Map<_, _>>())
        }
    }
}

/// The text of a number scalar in the source, at `defined`: the scalar itself even when it
/// is reached through an alias. A span that does not cover a plain number spelling (no
/// byte offsets, a tag) gives `None`, and the canonical form is kept.
fn written(defined: &serde_saphyr::Location, source: &str) -> Option<String> {
    let span = defined.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    let text = source.get(start..start.checked_add(len)?)?;
    let plain = !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "+-._".contains(c));
    plain.then(|| text.to_owned())
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Node, E> {
        Ok(Node::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Node, E> {
        Ok(Node::Number(n.to_string()))
    }

    fn visit_i128<E: de::Error>(self, n: i128) -> Result<Node, E> {
        Ok(Node::Number(n.to_string()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Node, E> {
        Ok(Node::Number(n.to_string()))
    }

    fn visit_u128<E: de::Error>(self, n: u128) -> Result<Node, E> {
        Ok(Node::Number(n.to_string()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Node, E> {
        Ok(Node::Number(n.to_string()))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Node, E> {
        Ok(Node::String(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Node, E> {
        Ok(Node::String(s))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<String, Spanned<Node>>()? {
            entries.push(entry);
        }
        Ok(Node::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        to_json(read(text).expect("YAML"), text)
    }

    #[test]
    fn unquoted_numbers_keep_their_spelling() {
        let tree = json("a: +391624231322\nb: 0612345678\nc: 1.10\nd: [2, -3.0e1]\ne: {f: 007}\n");
        assert_eq!(
            tree,
            serde_json::json!({"a": "+391624231322", "b": "0612345678", "c": "1.10", "d": ["2", "-3.0e1"], "e": {"f": "007"}})
        );
    }

    #[test]
    fn other_scalars_are_as_yaml_reads_them() {
        let tree = json("a: true\nb: yes\nc: ~\nd: \"1.0\"\ne: 'x'\nf: &n 12\ng: *n\n");
        assert_eq!(
            tree,
            serde_json::json!({"a": true, "b": "yes", "c": null, "d": "1.0", "e": "x", "f": "12", "g": "12"})
        );
    }
}
