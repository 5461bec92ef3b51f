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
    /// Show each cited paper's short title after its key.
    pub inlay_hints: bool,
    /// Where literature notes are created, relative to the workspace root.
    pub literature_folder: String,
    /// The literature note template (`{{title}}`, `{{key}}`, …); `None` for the built-in one.
    pub literature_template: Option<String>,
    /// Which of a document's bibliography files papers are added to (a path
    /// relative to the workspace root, or a file name); `None`: the first
    /// one that can be written.
    pub bibliography_target: Option<String>,
    /// Accepting a completion also adds the paper to the document's
    /// bibliography when it lacks it.
    pub add_on_complete: bool,
    /// The citation style references are formatted in when the document
    /// names none: a CSL style name or a `.csl` file.
    pub citation_style: String,
    /// Related papers and search by meaning (sentence embeddings).
    pub semantic: SemanticSettings,
}

/// `semantic.*`: whether corpora are embedded, by which model, up to what size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SemanticSettings {
    pub enabled: bool,
    /// The model's folder (relative to the workspace root or absolute);
    /// `None`: all-MiniLM-L6-v2 in the cache, fetched on first use.
    pub model: Option<String>,
    /// Corpora with more papers are not embedded (minutes per 10,000 papers).
    pub max_papers: usize,
}

impl Default for SemanticSettings {
    fn default() -> Self {
        SemanticSettings {
            enabled: true,
            model: None,
            max_papers: 100_000,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            corpus: Vec::new(),
            max_completions: 50,
            diagnostics_delay_ms: 200,
            inlay_hints: true,
            literature_folder: "literature".into(),
            literature_template: None,
            bibliography_target: None,
            add_on_complete: true,
            citation_style: "apa".into(),
            semantic: SemanticSettings::default(),
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
        if let Some(on) = section.get("inlayHints").and_then(Value::as_bool) {
            settings.inlay_hints = on;
        }
        let notes = section.get("literatureNotes");
        if let Some(folder) = notes
            .and_then(|n| n.get("folder"))
            .and_then(Value::as_str)
            .filter(|f| !f.trim().is_empty())
        {
            settings.literature_folder = folder.to_string();
        }
        settings.literature_template = notes
            .and_then(|n| n.get("template"))
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
            .map(str::to_string);
        let bibliography = section.get("bibliography");
        settings.bibliography_target = bibliography
            .and_then(|b| b.get("target"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if let Some(on) = bibliography
            .and_then(|b| b.get("addOnComplete"))
            .and_then(Value::as_bool)
        {
            settings.add_on_complete = on;
        }
        if let Some(style) = section
            .get("citationStyle")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            settings.citation_style = style.to_string();
        }
        if let Some(semantic) = section.get("semantic") {
            if let Some(on) = semantic.get("enabled").and_then(Value::as_bool) {
                settings.semantic.enabled = on;
            }
            settings.semantic.model = semantic
                .get("model")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_string);
            if let Some(n) = semantic.get("maxPapers").and_then(Value::as_u64) {
                settings.semantic.max_papers = n as usize;
            }
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

    #[test]
    fn semantic_settings_default_to_on_with_the_bundled_model_choice() {
        assert_eq!(Settings::default().semantic, SemanticSettings::default());
        let set = Settings::from_json(
            &json!({"semantic": {"enabled": false, "model": " models/specter2 ", "maxPapers": 5000}}),
        );
        assert!(!set.semantic.enabled);
        assert_eq!(set.semantic.model.as_deref(), Some("models/specter2"));
        assert_eq!(set.semantic.max_papers, 5000);
    }
}
