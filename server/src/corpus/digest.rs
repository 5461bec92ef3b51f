//! The paper digest format: a listing page saved as text, one title line
//! followed by one abstract line per paper (the seed in `../shared/seed`).
//!
//! Page chrome is not a paper: newsletter banners are dropped, and a banner
//! word glued to the first title ("SubscribeMassive End-to-end…") is cut off.
//! The format has no authors, years or keys; `keys::assign_keys` makes keys.

use super::paper::{Origin, Paper, Problem, Severity};
use std::path::Path;

/// Banner lines of listing pages, matched case-insensitively as substrings.
const CHROME_LINES: &[&str] = &[
    "trending papers in your email",
    "in your email inbox",
    "subscribe to",
    "sign up for",
    "unsubscribe",
];

/// Button words that a text export glues to the next line's first word.
const GLUED_CHROME_WORDS: &[&str] = &["Subscribe", "Sign up", "Sign in", "Log in", "Share"];

/// Titles are short; a line longer than this is prose, never a title.
const MAX_TITLE_CHARS: usize = 400;
const MAX_TITLE_WORDS: usize = 40;

/// Parses a digest into papers (key empty: to be generated) and problems.
pub fn load_digest(file: usize, path: &Path, text: &str) -> (Vec<Paper>, Vec<Problem>) {
    let mut papers = Vec::new();
    let mut problems = Vec::new();
    let mut pending_title: Option<(String, usize, u32)> = None;
    let mut offset = 0;
    for (index, raw_line) in text.split_inclusive('\n').enumerate() {
        let line_start = offset;
        offset += raw_line.len();
        let line_no = index as u32 + 1;
        let line = raw_line.trim();
        if line.is_empty() || is_chrome_line(line) {
            continue;
        }
        let (line, skipped) = strip_glued_chrome(line);
        let content_start = line_start + raw_line.find(line).unwrap_or(skipped);
        match pending_title.take() {
            None if looks_like_title(line) => {
                pending_title = Some((line.to_string(), content_start, line_no));
            }
            None => problems.push(problem(
                path,
                line_no,
                "a paragraph without a title line before it; skipped",
            )),
            Some((title, start, title_line)) => {
                let mut paper = Paper::titled(collapse_spaces(&title), "misc");
                paper.abstract_text = Some(collapse_spaces(line));
                paper.origin = Origin {
                    file,
                    line: title_line,
                    span: start..line_start + raw_line.trim_end().len(),
                    key_span: None,
                    key_columns: None,
                };
                papers.push(paper);
            }
        }
    }
    if let Some((title, start, title_line)) = pending_title {
        problems.push(problem(
            path,
            title_line,
            "the last title has no abstract line",
        ));
        let mut paper = Paper::titled(collapse_spaces(&title), "misc");
        paper.origin = Origin {
            file,
            line: title_line,
            span: start..start + title.len(),
            key_span: None,
            key_columns: None,
        };
        papers.push(paper);
    }
    (papers, problems)
}

fn problem(path: &Path, line: u32, message: &str) -> Problem {
    Problem {
        file: path.to_path_buf(),
        line,
        severity: Severity::Warning,
        message: message.to_string(),
    }
}

fn is_chrome_line(line: &str) -> bool {
    let lower = line.to_lowercase();
    CHROME_LINES.iter().any(|c| lower.contains(c))
        || GLUED_CHROME_WORDS
            .iter()
            .any(|w| line.eq_ignore_ascii_case(w))
}

/// Cuts a button word glued to a capitalised word ("SubscribeMassive …"):
/// the glue shows as a lower-case letter directly followed by an upper-case one.
fn strip_glued_chrome(line: &str) -> (&str, usize) {
    for word in GLUED_CHROME_WORDS {
        if let Some(rest) = line.strip_prefix(word) {
            if rest.starts_with(|c: char| c.is_uppercase()) {
                return (rest, word.len());
            }
        }
    }
    (line, 0)
}

fn looks_like_title(line: &str) -> bool {
    line.chars().count() <= MAX_TITLE_CHARS && line.split_whitespace().count() <= MAX_TITLE_WORDS
}

fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "Get trending papers in your email inbox once a day!\n\
Get trending papers in your email inbox!\n\
SubscribeMassive End-to-end Models for Short Search Queries\n\
In this work, we investigate two popular models.\n\
Grokfast: Accelerated Grokking by Amplifying Slow Gradients\n\
One puzzling artifact in machine learning dubbed grokking.\n";

    #[test]
    fn pairs_titles_with_abstracts_and_drops_chrome() {
        let (papers, problems) = load_digest(0, Path::new("d.txt"), PAGE);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(papers.len(), 2);
        assert_eq!(
            papers[0].title,
            "Massive End-to-end Models for Short Search Queries"
        );
        assert_eq!(
            papers[0].abstract_text.as_deref(),
            Some("In this work, we investigate two popular models.")
        );
        assert_eq!(papers[0].origin.line, 3);
        assert_eq!(&PAGE[papers[0].origin.span.clone()][..7], "Massive");
        assert_eq!(
            papers[1].title,
            "Grokfast: Accelerated Grokking by Amplifying Slow Gradients"
        );
        assert_eq!(papers[1].origin.line, 5);
    }

    #[test]
    fn a_dangling_title_still_loads_with_a_warning() {
        let (papers, problems) = load_digest(0, Path::new("d.txt"), "Only a Title\r\n");
        assert_eq!(papers.len(), 1);
        assert_eq!(papers[0].title, "Only a Title");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 1);
    }

    #[test]
    fn a_word_that_merely_starts_with_subscribe_is_kept() {
        let (papers, _) = load_digest(0, Path::new("d.txt"), "Subscriber Models\nAbstract.\n");
        assert_eq!(papers[0].title, "Subscriber Models");
    }
}
