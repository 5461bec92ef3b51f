//! The server's settings: section `paper-ls` of the client's configuration
//! (pushed with `workspace/didChangeConfiguration`, pulled with
//! `workspace/configuration`), the same shape in `initializationOptions`, and
//! `corpus` from a `paper-ls.toml` at the workspace root.
//!
//! Parsing is lenient: unknown keys are ignored, a single string is accepted
//! where a list is expected, and a malformed value keeps the default.

use serde_json::Value;

pub const SECTION: &str = "paper-ls";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Corpus files, folders or globs, relative to the workspace root.
    pub corpus: Vec<String>,
    /// How many completion items to send at most.
    pub max_completions: usize,
    /// Delay between the last edit and publishing diagnostics, in milliseconds.
    pub diagnostics_delay_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            corpus: Vec::new(),
            max_completions: 50,
            diagnostics_delay_ms: 200,
        }
    }
}

impl Settings {
    /// Reads settings from a JSON value that is either the section itself or
    /// an object holding it under `paper-ls`.
    pub fn from_json(value: &Value) -> Settings {
        let section = value
            .get(SECTION)
            .or_else(|| value.get("paperLs"))
            .unwrap_or(value);
        let mut settings = Settings::default();
        if let Some(corpus) = section.get("corpus") {
            settings.corpus = string_list(corpus);
        }
        if let Some(n) = section.get("maxCompletions").and_then(Value::as_u64) {
            settings.max_completions = (n as usize).clamp(1, 1000);
        }
        if let Some(n) = section.get("diagnosticsDelay").and_then(Value::as_u64) {
            settings.diagnostics_delay_ms = n.min(10_000);
        }
        settings
    }
}

fn string_list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_section_nested_or_bare() {
        let nested = Settings::from_json(
            &json!({"paper-ls": {"corpus": ["a.bib", "refs/*.bib"], "maxCompletions": 20}}),
        );
        assert_eq!(nested.corpus, ["a.bib", "refs/*.bib"]);
        assert_eq!(nested.max_completions, 20);
        let bare = Settings::from_json(&json!({"corpus": "one.bib"}));
        assert_eq!(bare.corpus, ["one.bib"]);
        assert_eq!(Settings::from_json(&json!(null)), Settings::default());
        assert_eq!(
            Settings::from_json(&json!({"corpus": 3})).corpus,
            Vec::<String>::new()
        );
    }
}
