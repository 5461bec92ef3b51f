//! A note's text → the citations in it, and where a citation key is being typed.
//!
//! This is the language-neutral front of the notes layer: it names the two
//! languages a note can be written in, defines the [`Citation`] value both
//! parsers produce, and hands each question to `markdown` (pandoc citation
//! syntax) or `latex` (natbib and biblatex cite commands). `bibliography`
//! answers which bibliography files a note names for itself; `prose_words`
//! cuts a note into the words a reader sees as prose (which the index's
//! title matcher reads: `index::title_mentions`).
//!
//! Everything here speaks in byte offsets into UTF-8 text (`usize`,
//! `Range<usize>`). It deliberately knows nothing of LSP positions (see
//! `text::line_index`) or of files on disk; whether a key names a known
//! paper is for the features layer to decide. Parsing never fails: any
//! text, however half-written, yields the citations that can be recognised.

pub mod bibliography;
mod latex;
mod markdown;
pub mod prose_words;
pub(crate) mod typst;

use std::ops::Range;
use std::path::Path;

pub use bibliography::{
    bibliographies_named, latex_structure, yaml_strings_at, LatexStructure, NamedBibliographies,
};

/// The markup a note is written in; it decides which citation syntax applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Language {
    /// Pandoc Markdown, including Quarto and R Markdown.
    Markdown,
    /// LaTeX with natbib or biblatex.
    Latex,
    /// Typst.
    Typst,
}

/// The file extensions of notes, each with its language — the one list the
/// server, `paper-ls check` and the file watchers share. Package and class
/// files (`.sty`, `.cls`) are left out on purpose: the cite commands in them
/// are definitions, not citations.
pub const NOTE_EXTENSIONS: &[(&str, Language)] = &[
    ("md", Language::Markdown),
    ("markdown", Language::Markdown),
    ("qmd", Language::Markdown),
    ("Rmd", Language::Markdown),
    ("tex", Language::Latex),
    ("ltx", Language::Latex),
    ("typ", Language::Typst),
];

impl Language {
    /// The language of a note from its file extension (case-insensitive),
    /// by [`NOTE_EXTENSIONS`].
    pub fn from_path(path: &Path) -> Option<Language> {
        let ext = path.extension()?.to_str()?;
        NOTE_EXTENSIONS
            .iter()
            .find(|(e, _)| e.eq_ignore_ascii_case(ext))
            .map(|(_, language)| *language)
    }

    /// The language from an editor's language identifier (`markdown`,
    /// `quarto`, `rmd`, `latex`, `tex`, `typst`), for documents that have no
    /// path yet.
    pub fn from_language_id(id: &str) -> Option<Language> {
        match id.to_ascii_lowercase().as_str() {
            "markdown" | "quarto" | "rmd" | "rmarkdown" | "pandoc" => Some(Language::Markdown),
            "latex" | "tex" | "plaintex" | "context" => Some(Language::Latex),
            "typst" | "typ" => Some(Language::Typst),
            _ => None,
        }
    }
}

/// One citation of one key. A citation that names several keys (`[@a; @b]`,
/// `\cite{a,b}`) yields one `Citation` per key, all sharing `whole`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Citation {
    /// The key exactly as written.
    pub key: String,
    /// The bytes of the key alone: no `@`, `-@`, braces or separators.
    pub range: Range<usize>,
    /// The whole citation the key belongs to: `[see @a, p. 3; @b]`,
    /// `@a [p. 33]`, `\citep[see][]{a, b}`.
    pub whole: Range<usize>,
    /// How the key is cited.
    pub form: CitationForm,
}

/// How a key is cited, for features that insert or rewrite citations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CitationForm {
    /// Pandoc, inside a bracketed list: `[@key]`, or `[-@key]` when
    /// `suppress_author` (the author's name is left out).
    Bracketed { suppress_author: bool },
    /// Pandoc, in running text: `@key`, `@key [p. 33]`, or `-@key`.
    InText { suppress_author: bool },
    /// A LaTeX cite command, named without its backslash and with its star:
    /// `citep*`, `Textcite`, `parencites`.
    Command(String),
    /// Typst, in markup: `@key`, `@key[p. 7]`.
    TypstReference,
    /// Typst, a call: `#cite(<key>)`, `#cite(label("key"))`, `#ref(<key>)`.
    TypstCite,
}

/// Where completion of a citation key applies: the partial key around the
/// cursor (possibly empty), which a completion item replaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyContext {
    /// The bytes of the key being typed, including any part after the cursor.
    pub range: Range<usize>,
    /// The text typed so far: from the start of `range` up to the cursor.
    pub typed: String,
}

/// How `key` is cited in Typst: `@key` when the compiler reads it as a
/// label, else `#cite(label("key"))` (a key with `/` or a space, say).
pub fn typst_citation(key: &str) -> String {
    if typst::is_reference_key(key) {
        format!("@{key}")
    } else {
        format!("#cite(label({key:?}))")
    }
}

/// Every citation in `text`, in document order.
pub fn citations_in(text: &str, lang: Language) -> Vec<Citation> {
    match lang {
        Language::Markdown => markdown::citations(text),
        Language::Latex => latex::citations(text),
        Language::Typst => typst::citations(text),
    }
}

/// Whether a citation key can be completed at `offset`, and if so which bytes
/// the completion replaces. `None` outside any citation syntax, inside code,
/// comments or URLs, and for an offset past the end or inside a character.
pub fn key_context_at(text: &str, lang: Language, offset: usize) -> Option<KeyContext> {
    if offset > text.len() || !text.is_char_boundary(offset) {
        return None;
    }
    match lang {
        Language::Markdown => markdown::key_context_at(text, offset),
        Language::Latex => latex::key_context_at(text, offset),
        Language::Typst => typst::key_context_at(text, offset),
    }
}

/// The citation whose key range contains `offset`, the end included so that a
/// cursor right after a key still counts. `cits` must be in document order, as
/// [`citations_in`] returns them.
pub fn citation_at(cits: &[Citation], offset: usize) -> Option<&Citation> {
    // Key ranges never touch (a separator always lies between two keys), so
    // the only candidate is the last citation starting at or before offset.
    let after = cits.partition_point(|c| c.range.start <= offset);
    let candidate = cits.get(after.checked_sub(1)?)?;
    (offset <= candidate.range.end).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_from_path() {
        let cases = [
            ("notes/a.md", Some(Language::Markdown)),
            ("a.markdown", Some(Language::Markdown)),
            ("a.qmd", Some(Language::Markdown)),
            ("a.Rmd", Some(Language::Markdown)),
            ("a.rmd", Some(Language::Markdown)),
            ("A.MD", Some(Language::Markdown)),
            ("thesis/main.tex", Some(Language::Latex)),
            ("a.ltx", Some(Language::Latex)),
            ("a.sty", None),
            ("a.bib", None),
            ("README", None),
        ];
        for (path, want) in cases {
            assert_eq!(Language::from_path(Path::new(path)), want, "{path}");
        }
        assert_eq!(
            Language::from_language_id("quarto"),
            Some(Language::Markdown)
        );
        assert_eq!(Language::from_language_id("latex"), Some(Language::Latex));
        assert_eq!(Language::from_language_id("rust"), None);
    }

    #[test]
    fn citation_at_includes_the_end_of_a_key() {
        let text = "See [@alpha; @beta] and \\cite{x}.";
        let cits = citations_in(text, Language::Markdown);
        let at = |o| citation_at(&cits, o).map(|c| c.key.as_str());
        let alpha = text.find("alpha").unwrap();
        assert_eq!(at(alpha - 1), None);
        assert_eq!(at(alpha), Some("alpha"));
        assert_eq!(at(alpha + 5), Some("alpha"));
        assert_eq!(at(alpha + 6), None);
        assert_eq!(at(text.find("beta").unwrap() + 4), Some("beta"));
        assert_eq!(at(usize::MAX), None);
        assert_eq!(citation_at(&[], 0), None);
    }

    #[test]
    fn key_context_rejects_bad_offsets() {
        let text = "[@gró";
        assert_eq!(
            key_context_at(text, Language::Markdown, text.len() + 1),
            None
        );
        assert_eq!(
            key_context_at(text, Language::Markdown, text.len() - 1),
            None
        );
        let ctx = key_context_at(text, Language::Markdown, text.len()).unwrap();
        assert_eq!(ctx.typed, "gró");
    }

    /// Pieces the parsers care about, multi-byte characters among them.
    const PIECES: &[&str] = &[
        "@",
        "-",
        "[",
        "]",
        ";",
        "{",
        "}",
        "\\",
        "%",
        "`",
        "~",
        "<",
        ">",
        "!",
        "(",
        ")",
        "\n",
        "\r",
        " ",
        "    ",
        "a",
        "Z",
        "9",
        "_",
        ".",
        ":",
        "/",
        "#",
        "---",
        "```",
        "<!--",
        "-->",
        "\\cite",
        "\\cites",
        "\\verb",
        "\\begin{verbatim}",
        "https://",
        "φ",
        "ï",
        "🔬",
        "漢",
        "\u{301}",
        "*",
        ",",
        "^",
        "=",
        "'",
        "\"",
    ];

    /// Deterministic pseudo-random texts made of `PIECES` (xorshift).
    fn random_texts(count: usize) -> Vec<String> {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as usize
        };
        (0..count)
            .map(|_| {
                (0..next() % 24)
                    .map(|_| PIECES[next() % PIECES.len()])
                    .collect()
            })
            .collect()
    }

    /// No panic on any of them, and every range sits on the key it names.
    #[test]
    fn random_texts_never_panic() {
        for text in random_texts(3000) {
            for lang in [Language::Markdown, Language::Latex, Language::Typst] {
                for c in citations_in(&text, lang) {
                    assert_eq!(text.get(c.range.clone()), Some(c.key.as_str()), "{text:?}");
                    assert!(text.get(c.whole.clone()).is_some(), "{text:?}");
                }
                for offset in 0..=text.len() + 1 {
                    if let Some(ctx) = key_context_at(&text, lang, offset) {
                        assert!(ctx.range.start <= offset && offset <= ctx.range.end);
                        assert_eq!(text.get(ctx.range.start..offset), Some(ctx.typed.as_str()));
                    }
                }
                let _ = bibliographies_named(&text, lang);
            }
            let _ = latex_structure(&text);
        }
    }
}
