//! "Cite this paper": for a title written in prose with no citation after it,
//! the citation to insert right after the title, in the document's syntax —
//! ` [@key]` in Markdown, `~\cite{key}` in LaTeX.

use crate::notes::Language;

/// An insertion: `text` goes in at byte `at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Insertion {
    pub at: usize,
    pub text: String,
}

/// Where and what to insert to cite `key` after the title ending at `title_end`,
/// or `None` when a citation already follows the title.
pub fn cite_after_title(
    text: &str,
    lang: Language,
    title_end: usize,
    key: &str,
) -> Option<Insertion> {
    let rest = text.get(title_end..)?;
    // Step over what closes the title's markup: emphasis, quotes, braces.
    let closing = rest
        .char_indices()
        .take_while(|(_, c)| matches!(c, '*' | '_' | '"' | '\'' | '”' | '’' | '»' | '}'))
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    let after = rest[closing..].trim_start_matches([' ', '\t', '~']);
    let already_cited = match lang {
        Language::Markdown => {
            after.starts_with("[@") || after.starts_with("[-@") || after.starts_with('@')
        }
        Language::Latex => after.contains_cite_command(),
        Language::Typst => after.starts_with('@') || after.starts_with("#cite("),
    };
    if already_cited {
        return None;
    }
    let citation = match lang {
        Language::Markdown => format!(" [@{key}]"),
        Language::Latex => format!("~\\cite{{{key}}}"),
        Language::Typst => format!(" {}", crate::notes::typst_citation(key)),
    };
    Some(Insertion {
        at: title_end + closing,
        text: citation,
    })
}

trait CiteCommandStart {
    fn contains_cite_command(&self) -> bool;
}

impl CiteCommandStart for str {
    /// `\parencite`, `\textcite`, `\autocite`… at the start.
    fn contains_cite_command(&self) -> bool {
        let name: String = self
            .strip_prefix('\\')
            .unwrap_or("")
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        name.to_ascii_lowercase().contains("cite")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insert(text: &str, lang: Language, title: &str) -> Option<String> {
        let end = text.find(title).unwrap() + title.len();
        let ins = cite_after_title(text, lang, end, "k")?;
        Some(format!(
            "{}{}{}",
            &text[..ins.at],
            ins.text,
            &text[ins.at..]
        ))
    }

    #[test]
    fn inserts_after_the_title_and_its_markup() {
        assert_eq!(
            insert("I read *Grok Fast* today.", Language::Markdown, "Grok Fast").unwrap(),
            "I read *Grok Fast* [@k] today."
        );
        assert_eq!(
            insert("I read \\emph{Grok Fast}.", Language::Latex, "Grok Fast").unwrap(),
            "I read \\emph{Grok Fast}~\\cite{k}."
        );
        assert_eq!(
            insert("“Grok Fast” is good", Language::Markdown, "Grok Fast").unwrap(),
            "“Grok Fast” [@k] is good"
        );
    }

    #[test]
    fn nothing_when_already_cited() {
        assert_eq!(
            insert("Grok Fast [@k] is good", Language::Markdown, "Grok Fast"),
            None
        );
        assert_eq!(
            insert("Grok Fast~\\citep{k}", Language::Latex, "Grok Fast"),
            None
        );
        assert_eq!(
            insert(
                "\\emph{Grok Fast} \\parencite{k}",
                Language::Latex,
                "Grok Fast"
            ),
            None
        );
    }
}
