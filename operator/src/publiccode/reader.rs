//! Reading a YAML mapping key by key, with a finding for every key of the wrong type and
//! every key the standard does not define. A hand-rolled walk rather than serde derive:
//! derive stops at the first error, while a publiccode.yml author wants all of them at once,
//! each with its key path, as the reference parser gives them.

use serde_json::{Map, Value};

use super::Findings;
use super::findings::KeyPath;
use super::model::Choice;

/// The keys of one mapping, read one by one; [`Fields::finish`] reports the keys nobody read.
pub(crate) struct Fields<'a> {
    path: KeyPath,
    map: &'a Map<String, Value>,
    read: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    /// The mapping at `path`, or a "wrong type" finding when `value` is not a mapping.
    pub(crate) fn new(path: KeyPath, value: &'a Value, out: &mut Findings) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Self::from_map(path, map)),
            _ => {
                out.wrong_type(&path);
                None
            }
        }
    }

    /// The keys of `map`, a mapping at `path`.
    pub(crate) fn from_map(path: KeyPath, map: &'a Map<String, Value>) -> Self {
        Self { path, map, read: Vec::new() }
    }

    /// The path of `key` in this mapping.
    pub(crate) fn path(&self, key: &str) -> KeyPath {
        self.path.key(key)
    }

    /// The value of `key`; `null` counts as absent, as the reference parser treats it.
    pub(crate) fn value(&mut self, key: &'static str) -> Option<&'a Value> {
        self.read.push(key);
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// Whether `key` is written with a value (`null` counts as absent).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(|v| !v.is_null())
    }

    /// A string key.
    pub(crate) fn string(&mut self, key: &'static str, out: &mut Findings) -> Option<String> {
        let path = self.path(key);
        as_string(self.value(key)?, &path, out)
    }

    /// A string key the standard makes mandatory.
    pub(crate) fn required_string(&mut self, key: &'static str, out: &mut Findings) -> Option<String> {
        let value = self.string(key, out).filter(|s| !s.is_empty());
        if value.is_none() {
            out.required(&self.path(key));
        }
        value
    }

    /// A boolean key. YAML 1.1 spellings (`yes`, `on`) are strings, hence wrong types.
    pub(crate) fn bool(&mut self, key: &'static str, out: &mut Findings) -> Option<bool> {
        match self.value(key)? {
            Value::Bool(b) => Some(*b),
            _ => {
                out.wrong_type(&self.path(key));
                None
            }
        }
    }

    /// A key with a closed set of values.
    pub(crate) fn choice<C: Choice>(&mut self, key: &'static str, out: &mut Findings) -> Option<C> {
        let text = self.required_string(key, out)?;
        let choice = C::parse(&text);
        if choice.is_none() {
            let path = self.path(key);
            let values: Vec<String> = C::ALL.iter().map(|c| format!("\"{}\"", c.as_str())).collect();
            out.error(&path, format!("{} must be one of the following: {}", path.last(), or_list(&values)));
        }
        choice
    }

    /// A list of strings, each with its path (`platforms[0]`) for the checks that follow.
    pub(crate) fn strings(&mut self, key: &'static str, out: &mut Findings) -> Vec<(KeyPath, String)> {
        let path = self.path(key);
        let Some(value) = self.value(key) else { return Vec::new() };
        let Value::Array(items) = value else {
            out.wrong_type(&path);
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let item_path = path.index(i);
                as_string(item, &item_path, out).map(|s| (item_path, s))
            })
            .collect()
    }

    /// A nested mapping.
    pub(crate) fn object(&mut self, key: &'static str, out: &mut Findings) -> Option<Fields<'a>> {
        let path = self.path(key);
        Fields::new(path, self.value(key)?, out)
    }

    /// A list of mappings.
    pub(crate) fn objects(&mut self, key: &'static str, out: &mut Findings) -> Vec<Fields<'a>> {
        let path = self.path(key);
        let Some(value) = self.value(key) else { return Vec::new() };
        let Value::Array(items) = value else {
            out.wrong_type(&path);
            return Vec::new();
        };
        items.iter().enumerate().filter_map(|(i, item)| Fields::new(path.index(i), item, out)).collect()
    }

    /// The entries of a mapping whose keys the standard leaves free (`description.<lang>`):
    /// none of them is unknown, so there is nothing to finish.
    pub(crate) fn into_entries(self) -> &'a Map<String, Value> {
        self.map
    }

    /// Reports every key that was not read: the standard does not define it.
    pub(crate) fn finish(self, out: &mut Findings) {
        for key in self.map.keys().filter(|k| !self.read.contains(&k.as_str())) {
            out.error(&self.path(key), format!("unknown field \"{key}\""));
        }
    }
}

/// A scalar where a string is expected. Unquoted numbers are already strings (see
/// `yaml.rs`); a boolean is taken as `true` or `false`, as the reference parser's decoder
/// takes it. Only a sequence or a mapping is of the wrong type.
fn as_string(value: &Value, path: &KeyPath, out: &mut Findings) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        _ => {
            out.wrong_type(path);
            None
        }
    }
}

/// `"a", "b" or "c"`, as the reference parser lists allowed values.
pub(crate) fn or_list(items: &[String]) -> String {
    match items.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_as_the_reference_parser_writes_them() {
        let until = KeyPath::default().key("maintenance").key("contractors").index(0).key("until");
        assert_eq!(until.as_str(), "maintenance.contractors[0].until");
        assert_eq!(until.last(), "until");
        assert_eq!(KeyPath::default().key("platforms").index(2).last(), "platforms[2]");
    }

    #[test]
    fn allowed_values_are_listed_with_a_final_or() {
        let items = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(or_list(&items(&["\"a\"", "\"b\"", "\"c\""])), "\"a\", \"b\" or \"c\"");
        assert_eq!(or_list(&items(&["\"a\""])), "\"a\"");
    }
}
