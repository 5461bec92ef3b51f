//! Paper titles mentioned in a note's prose: the spans a reader would take
//! for a corpus paper ("Grokfast: Accelerated Grokking by Amplifying Slow
//! Gradients", or its short name "Grokfast"), with the papers they name.
//!
//! The glue between the notes layer (the note's prose words, markup and
//! line breaks already out of the way) and the corpus's title matcher;
//! hover and the features after it use the exact byte ranges. Byte offsets
//! in, plain data out, no LSP.

use crate::index::title_matcher::TitleMatcher;
use crate::notes::prose_words::prose_words;
use crate::notes::Language;
use std::ops::Range;

/// A title (or short name) written in a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TitleMention {
    /// The papers with that title, by their position in `Corpus::papers`.
    pub papers: Vec<usize>,
    /// From the first byte of the first title word to the last byte of the
    /// last one; markup before or after the title is not included, markup
    /// inside it is.
    pub range: Range<usize>,
    /// Only the title's short name is written.
    pub short_name: bool,
}

/// Every title mention in `text`, in document order, none overlapping.
pub fn title_mentions(matcher: &TitleMatcher, text: &str, lang: Language) -> Vec<TitleMention> {
    let words = prose_words(text, lang);
    matcher
        .find(&words)
        .into_iter()
        .map(|m| TitleMention {
            papers: m.papers,
            range: words[m.first_word].range.start..words[m.last_word].range.end,
            short_name: m.short_name,
        })
        .collect()
}

/// The mention whose range contains `offset`, its end included (a cursor
/// right after a title still counts). `mentions` must be in document order,
/// as [`title_mentions`] returns them.
pub fn mention_at(mentions: &[TitleMention], offset: usize) -> Option<&TitleMention> {
    let after = mentions.partition_point(|m| m.range.start <= offset);
    let candidate = mentions.get(after.checked_sub(1)?)?;
    (offset <= candidate.range.end).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::bundled::load_bundled;
    use crate::corpus::Corpus;
    use crate::index::title_matcher::is_english_word;
    use std::sync::OnceLock;

    const GROKFAST: &str = "Grokfast: Accelerated Grokking by Amplifying Slow Gradients";
    const SLIMFLOW: &str =
        "SlimFlow: Training Smaller One-Step Diffusion Models with Rectified Flow";
    const MESHCNN: &str = "MeshCNN: A Network with an Edge";

    /// The bundled corpus, two generic one-word titles such as the ACL
    /// Anthology has, and a paper titled with an ordinary word's prefix.
    fn fixture() -> &'static (Corpus, TitleMatcher) {
        static FIXTURE: OnceLock<(Corpus, TitleMatcher)> = OnceLock::new();
        FIXTURE.get_or_init(|| {
            let corpus = load_bundled();
            let extra = [
                "Translation",
                "Introduction",
                "Attention: A Survey of Mechanisms",
            ];
            let titles = corpus.papers.iter().map(|p| p.title.as_str()).chain(extra);
            let matcher = TitleMatcher::build(titles, &is_english_word);
            (corpus, matcher)
        })
    }

    fn paper_titled(title: &str) -> usize {
        let (corpus, _) = fixture();
        corpus.papers.iter().position(|p| p.title == title).unwrap()
    }

    /// The mentions in `text` as (text of the range, titles, short name).
    fn mentions(text: &str, lang: Language) -> Vec<(&str, Vec<String>, bool)> {
        let (corpus, matcher) = fixture();
        title_mentions(matcher, text, lang)
            .into_iter()
            .map(|m| {
                let titles = m
                    .papers
                    .iter()
                    .map(|&p| {
                        corpus
                            .papers
                            .get(p)
                            .map_or("(extra)".into(), |p| p.title.clone())
                    })
                    .collect();
                (&text[m.range], titles, m.short_name)
            })
            .collect()
    }

    /// The texts of the mentions in `text`.
    fn spans(text: &str, lang: Language) -> Vec<&str> {
        mentions(text, lang).into_iter().map(|m| m.0).collect()
    }

    #[test]
    fn the_bundled_titles_are_there() {
        for t in [GROKFAST, SLIMFLOW, MESHCNN] {
            let _ = paper_titled(t);
        }
    }

    #[test]
    fn exact_and_lower_cased_titles() {
        let text = format!("Today I read {GROKFAST}.");
        assert_eq!(
            mentions(&text, Language::Markdown),
            [(GROKFAST, vec![GROKFAST.to_string()], false)]
        );
        let lower = SLIMFLOW.to_lowercase();
        let text = format!("see {lower}, then");
        assert_eq!(spans(&text, Language::Markdown), [lower.as_str()]);
        assert_eq!(spans(&text, Language::Latex), [lower.as_str()]);
    }

    #[test]
    fn emphasis_around_part_or_all() {
        let cases = [
            (
                "Read *Grokfast: Accelerated Grokking by Amplifying Slow Gradients*.",
                "Grokfast: Accelerated Grokking by Amplifying Slow Gradients",
            ),
            (
                "Read **Grokfast**: Accelerated Grokking by *Amplifying* Slow Gradients.",
                "Grokfast**: Accelerated Grokking by *Amplifying* Slow Gradients",
            ),
            ("Read _MeshCNN: A Network with an Edge_ now", MESHCNN),
        ];
        for (text, want) in cases {
            assert_eq!(spans(text, Language::Markdown), [want], "{text}");
        }
        let tex =
            r"We use \emph{Grokfast}: Accelerated Grokking by \textbf{Amplifying Slow} Gradients.";
        assert_eq!(
            spans(tex, Language::Latex),
            [r"Grokfast}: Accelerated Grokking by \textbf{Amplifying Slow} Gradients"]
        );
    }

    #[test]
    fn quotes_and_hard_wrapping() {
        let text = format!("“{MESHCNN}” and \"{GROKFAST}\"");
        assert_eq!(spans(&text, Language::Markdown), [MESHCNN, GROKFAST]);
        let wrapped =
            "We read Grokfast: Accelerated Grokking by\nAmplifying Slow Gradients last week.";
        let want = "Grokfast: Accelerated Grokking by\nAmplifying Slow Gradients";
        assert_eq!(spans(wrapped, Language::Markdown), [want]);
        assert_eq!(spans(wrapped, Language::Latex), [want]);
        let quoted = "> We read Grokfast: Accelerated Grokking by\n> Amplifying Slow Gradients.";
        assert_eq!(spans(quoted, Language::Markdown).len(), 1);
    }

    #[test]
    fn latex_escapes_and_accents() {
        let titles = [
            "Gröbner Bases & Neural Networks for Algebra",
            "Ablations in Context: Don’t Stop Pretraining",
        ];
        let matcher = TitleMatcher::build(titles, &is_english_word);
        let tex = r#"As in Gr{\"o}bner Bases \& Neural~Networks for Algebra, see"#;
        let found = title_mentions(&matcher, tex, Language::Latex);
        assert_eq!(found.len(), 1);
        assert_eq!(
            &tex[found[0].range.clone()],
            r#"Gr{\"o}bner Bases \& Neural~Networks for Algebra"#
        );
        let tex =
            r#"Also {\"O}bner-free: \textit{Ablations in Context}: Don't Stop Pre\-training."#;
        let found = title_mentions(&matcher, tex, Language::Latex);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].papers, [1]);
        let md = "Gröbner bases & neural networks for algebra";
        assert_eq!(title_mentions(&matcher, md, Language::Markdown).len(), 1);
    }

    #[test]
    fn titles_outside_prose_do_not_match() {
        let markdown = [
            format!("```\n{GROKFAST}\n```\n"),
            format!("    {GROKFAST}\n"),
            format!("Code: `{GROKFAST}` here"),
            format!("<!-- {GROKFAST} -->"),
            "See https://example.org/Grokfast:Accelerated-Grokking-by-Amplifying-Slow-Gradients"
                .to_string(),
            format!("[link](https://x.org/{}) text", GROKFAST.replace(' ', "-")),
            "[@grokfast-accelerated-grokking] and @Grokfast".to_string(),
            format!("---\ntitle: {GROKFAST}\n---\nbody"),
        ];
        for text in &markdown {
            assert_eq!(
                spans(text, Language::Markdown),
                Vec::<&str>::new(),
                "{text}"
            );
        }
        let latex = [
            format!("% {GROKFAST}\nbody"),
            format!("\\begin{{verbatim}}\n{GROKFAST}\n\\end{{verbatim}}"),
            format!("\\verb|{GROKFAST}|"),
            "\\label{Grokfast} \\ref{MeshCNN} \\url{https://x/SlimFlow}".to_string(),
            "\\cite{Grokfast} \\citep[see][]{SlimFlow}".to_string(),
        ];
        for text in &latex {
            assert_eq!(spans(text, Language::Latex), Vec::<&str>::new(), "{text}");
        }
    }

    #[test]
    fn partial_titles_and_ordinary_words_do_not_match() {
        let texts = [
            "Accelerated grokking by amplifying slow signals is not new.",
            "A network with an edge is a graph.",
            "Translation is hard. Introduction. Attention is key; Attention: a survey",
            "grokfast and slimflow in lower case are not names",
            "Training smaller one-step diffusion models with rectified flow",
        ];
        for text in texts {
            assert_eq!(
                spans(text, Language::Markdown),
                Vec::<&str>::new(),
                "{text}"
            );
        }
    }

    #[test]
    fn short_names() {
        let text = "Grokfast beats SlimFlow, and MeshCNN's edges.";
        let got = mentions(text, Language::Markdown);
        let want = [
            ("Grokfast", GROKFAST),
            ("SlimFlow", SLIMFLOW),
            ("MeshCNN", MESHCNN),
        ];
        assert_eq!(got.len(), 3);
        for ((span, titles, short), (w_span, w_title)) in got.into_iter().zip(want) {
            assert_eq!(
                (span, titles, short),
                (w_span, vec![w_title.to_string()], true)
            );
        }
        assert_eq!(
            spans(r"\emph{Grokfast} is fast", Language::Latex),
            ["Grokfast"]
        );
    }

    #[test]
    fn titles_do_not_cross_blocks() {
        let texts = [
            "Grokfast: Accelerated Grokking\n\nby Amplifying Slow Gradients",
            "# Grokfast: Accelerated Grokking\nby Amplifying Slow Gradients",
            "- Grokfast: Accelerated Grokking\n- by Amplifying Slow Gradients",
        ];
        for text in texts {
            assert!(
                mentions(text, Language::Markdown).iter().all(|m| m.2),
                "{text}"
            );
        }
        let tex = "\\section{Grokfast: Accelerated Grokking} by Amplifying Slow Gradients";
        assert!(mentions(tex, Language::Latex).iter().all(|m| m.2));
    }

    #[test]
    fn ranges_are_exact_after_multibyte_text() {
        for prefix in ["φ ", "🔬 ", "漢字", "naïve — "] {
            let text = format!("{prefix}{GROKFAST} ✓");
            let found = title_mentions(&fixture().1, &text, Language::Markdown);
            let start = text.find("Grokfast").unwrap();
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(found[0].range, start..start + GROKFAST.len());
            assert_eq!(found[0].papers, [paper_titled(GROKFAST)]);
        }
    }

    #[test]
    fn mention_at_includes_the_end() {
        let text = format!("See {MESHCNN}, and Grokfast.");
        let found = title_mentions(&fixture().1, &text, Language::Markdown);
        let start = text.find("MeshCNN").unwrap();
        let end = start + MESHCNN.len();
        assert_eq!(mention_at(&found, start - 1), None);
        assert_eq!(mention_at(&found, start).map(|m| m.range.end), Some(end));
        assert_eq!(mention_at(&found, end).map(|m| m.range.end), Some(end));
        assert_eq!(mention_at(&found, end + 1), None);
        assert!(mention_at(&found, text.find("Grokfast").unwrap()).is_some_and(|m| m.short_name));
        assert_eq!(mention_at(&[], 0), None);
    }

    /// Title words mixed with markup of both languages: no panic, and
    /// every mention is a valid, ordered, non-overlapping range.
    #[test]
    fn random_texts_give_valid_ranges() {
        const PIECES: &[&str] = &[
            "Grokfast",
            ": ",
            "Accelerated ",
            "Grokking ",
            "by ",
            "Amplifying ",
            "Slow ",
            "Gradients",
            "MeshCNN",
            " a network with an edge",
            "*",
            "**",
            "`",
            "\\emph{",
            "}",
            "{\\\"o}",
            "%",
            "$",
            "\n",
            "\n\n",
            "- ",
            "# ",
            "φ",
            "漢",
            "🔬",
            "\u{301}",
            "@",
            "[@",
            "]",
            "https://",
            "\\cite{",
            "~",
            "\\&",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as usize
        };
        let (_, matcher) = fixture();
        for _ in 0..3000 {
            let text: String = (0..next() % 40)
                .map(|_| PIECES[next() % PIECES.len()])
                .collect();
            for lang in [Language::Markdown, Language::Latex] {
                let found = title_mentions(matcher, &text, lang);
                let mut last_end = 0;
                for m in &found {
                    assert!(text.get(m.range.clone()).is_some(), "{text:?}");
                    assert!(
                        m.range.start >= last_end && !m.papers.is_empty(),
                        "{text:?}"
                    );
                    last_end = m.range.end;
                }
            }
        }
    }
}
