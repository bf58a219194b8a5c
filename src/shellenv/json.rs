//! A JSON object of every variable, for scripts.

use serde_json::{Map, Value};

use crate::pgenv::Var;

/// The object, pretty-printed.
pub fn render(vars: &[Var]) -> String {
    let object: Map<String, Value> = vars
        .iter()
        .map(|v| (v.name.clone(), Value::String(v.value.expose().to_string())))
        .collect();
    let mut text = serde_json::to_string_pretty(&Value::Object(object)).unwrap_or_default();
    text.push('\n');
    text
}
