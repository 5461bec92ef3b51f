//! Title mentions: the fixture with the bundled corpus, whole-note
//! detection, and the chunk cache against it.

use super::*;
use crate::corpus::bundled::load_bundled;
use crate::corpus::Corpus;
use crate::notes::citations_in;
use crate::notes::prose_words::tests::{random_note, xorshift, CHUNK_PIECES, PIECES};
use crate::text::words::is_english_word;
use std::sync::OnceLock;

const GROKFAST: &str = "Grokfast: Accelerated Grokking by Amplifying Slow Gradients";
const SLIMFLOW: &str = "SlimFlow: Training Smaller One-Step Diffusion Models with Rectified Flow";
const MESHCNN: &str = "MeshCNN: A Network with an Edge";

/// The bundled corpus, two generic one-word titles such as the ACL
/// Anthology has, and a paper titled with an ordinary word's prefix.
fn fixture() -> &'static (Corpus, Arc<TitleMatcher>) {
    static FIXTURE: OnceLock<(Corpus, Arc<TitleMatcher>)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let corpus = load_bundled(&std::env::temp_dir().join("paper-ls-unit-tests"));
        let extra = [
            "Translation",
            "Introduction",
            "Attention: A Survey of Mechanisms",
        ];
        let titles = corpus.papers.iter().map(|p| p.title).chain(extra);
        let matcher = TitleMatcher::build(titles, &is_english_word);
        (corpus, Arc::new(matcher))
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
                        .map_or("(extra)".into(), |p| p.title.to_string())
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
    let wrapped = "We read Grokfast: Accelerated Grokking by\nAmplifying Slow Gradients last week.";
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
    let tex = r#"Also {\"O}bner-free: \textit{Ablations in Context}: Don't Stop Pre\-training."#;
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
    let mut next = xorshift(0x2545_f491_4f6c_dd1d);
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

/// Titles whole, in parts and hard-wrapped, for generated notes.
const TITLE_PIECES: &[&str] = &[
    GROKFAST,
    MESHCNN,
    SLIMFLOW,
    "Grokfast",
    "SlimFlow ",
    "Grokfast: Accelerated Grokking\n",
    "by Amplifying Slow Gradients",
    " a network with an edge ",
    "\\emph{MeshCNN}",
    "*Grokfast*",
    "Attention: A Survey of Mechanisms",
];

/// [`title_mentions_cached`] of `text`, checked against [`title_mentions`].
fn cached(text: &str, lang: Language, cache: &mut MentionCache) -> ScanStats {
    let matcher = &fixture().1;
    let (found, stats) =
        title_mentions_cached(matcher, text, lang, &citations_in(text, lang), cache);
    assert_eq!(
        found,
        title_mentions(matcher, text, lang),
        "{lang:?} {text:?}"
    );
    stats
}

/// Generated notes of both languages, with titles among fences, front
/// matter, math, unclosed braces and environments, comments and verbatim
/// text: the chunks give the whole note's mentions, with a fresh cache and
/// with one carried from note to note.
#[test]
fn cached_mentions_are_the_whole_note_mentions() {
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    let mut carried = [MentionCache::default(), MentionCache::default()];
    for _ in 0..1500 {
        let text = random_note(&mut next, &[PIECES, CHUNK_PIECES, TITLE_PIECES]);
        for (lang, cache) in [Language::Markdown, Language::Latex]
            .into_iter()
            .zip(&mut carried)
        {
            cached(&text, lang, &mut MentionCache::default());
            cached(&text, lang, cache);
        }
    }
}

/// A note of `n` paragraphs with titles, citations, math, code or verbatim
/// text and comments, all closed.
fn paragraphs(lang: Language, n: usize) -> String {
    (0..n)
        .map(|k| match lang {
            Language::Markdown if k % 10 == 3 => format!("```\ncode {k}\n\n```\n\n"),
            Language::Markdown => format!(
                "Paragraph {k} reads {GROKFAST} with [@key{k}], `code` and $x$,\n\
                 wrapped *over* lines about MeshCNN.\n\n"
            ),
            Language::Latex if k % 10 == 3 => {
                format!("\\begin{{verbatim}}\nv {k}\n\n\\end{{verbatim}}\n\n")
            }
            Language::Latex => format!(
                "Paragraph {k} reads \\emph{{{GROKFAST}}} with \\cite{{key{k}}} and $x_{k}$ % c\n\
                 wrapped \\textbf{{over}} lines about MeshCNN.\n\n"
            ),
            Language::Typst => format!(
                "Paragraph {k} reads _{GROKFAST}_ with @key{k}, `code` and $x$,\n\
                 wrapped *over* lines about MeshCNN.\n\n"
            ),
        })
        .collect()
}

/// A one-letter edit inside a paragraph reads that paragraph again and
/// nothing else; opening math or code there reads on as far as it reaches.
#[test]
fn an_edit_in_a_paragraph_reads_that_paragraph_only() {
    for lang in [Language::Markdown, Language::Latex] {
        let mut cache = MentionCache::default();
        let mut text = paragraphs(lang, 60);
        let first = cached(&text, lang, &mut cache);
        assert!(first.chunks >= 54, "{lang:?} {first:?}");
        assert!(first.scanned >= first.chunks);
        assert_eq!(cached(&text, lang, &mut cache).scanned, 0);
        let middle = text.find("Paragraph 31 reads").unwrap() + "Paragraph 31 re".len();
        text.insert(middle, 'x');
        let stats = cached(&text, lang, &mut cache);
        assert_eq!((stats.chunks, stats.scanned), (first.chunks, 1), "{lang:?}");
        assert!(stats.scanned_bytes < 200, "{lang:?} {stats:?}");
        // An unclosed `$` (or code span) reaches to the next one in LaTeX;
        // in Markdown it stops at the paragraph's end.
        text.insert(middle, '$');
        let stats = cached(&text, lang, &mut cache);
        match lang {
            Language::Markdown => assert_eq!(stats.scanned, 1),
            Language::Latex => assert!(stats.scanned > 1 && stats.chunks < first.chunks),
            Language::Typst => unreachable!("a Typst note is one chunk"),
        }
        text.remove(middle);
        let stats = cached(&text, lang, &mut cache);
        assert_eq!(stats.chunks, first.chunks, "{lang:?}");
    }
}

/// Random edits, fences, math and verbatim openings among them: after each
/// one the cache answers what a fresh whole-note scan does. Deletions and
/// markup are undone after the check (they are typed, then closed or taken
/// back; an unclosed `$` or environment in LaTeX can change all the rest);
/// words and line breaks typed after a space stay, and read a paragraph or
/// two, not the note.
#[test]
fn random_edits_keep_the_cache_exact() {
    const WORDS: &[&str] = &["x", " ", "\n", "\n\n", "Grokfast", "MeshCNN: "];
    const MARKUP: &[&str] = &[
        "```\n",
        "$",
        "\\begin{verbatim}",
        "\\end{verbatim}",
        "%",
        "{",
        "}",
        "<!--",
        "\\[",
        "`",
    ];
    let mut next = xorshift(0x2545_f491_4f6c_dd1d);
    for lang in [Language::Markdown, Language::Latex] {
        let mut cache = MentionCache::default();
        let mut text = paragraphs(lang, 30);
        cached(&text, lang, &mut cache);
        let (mut read, mut total) = (0, 0);
        for _ in 0..250 {
            let before = text.clone();
            let at = floor_char_boundary(&text, next() % (text.len() + 1));
            let undo = match next() % 3 {
                0 => {
                    let end = floor_char_boundary(&text, at + next() % 12);
                    text.replace_range(at..end.max(at), "");
                    true
                }
                1 => {
                    text.insert_str(at, MARKUP[next() % MARKUP.len()]);
                    true
                }
                _ => {
                    // After a space, so as not to break a command's name.
                    let at = text[at..].find(' ').map_or(text.len(), |p| at + p + 1);
                    text.insert_str(at, WORDS[next() % WORDS.len()]);
                    false
                }
            };
            let stats = cached(&text, lang, &mut cache);
            if undo {
                text = before;
                cached(&text, lang, &mut cache);
            } else {
                read += stats.scanned_bytes;
                total += text.len();
            }
        }
        assert!(read * 10 < total, "{lang:?}: read {read} of {total} bytes");
    }
}

/// The largest char boundary at or before `i`, within `text`.
fn floor_char_boundary(text: &str, i: usize) -> usize {
    (0..=i.min(text.len()))
        .rev()
        .find(|&b| text.is_char_boundary(b))
        .unwrap_or(0)
}

#[test]
fn a_new_matcher_empties_the_cache() {
    let text = paragraphs(Language::Markdown, 5);
    let mut cache = MentionCache::default();
    cached(&text, Language::Markdown, &mut cache);
    let other = Arc::new(TitleMatcher::build([MESHCNN], &is_english_word));
    let cites = citations_in(&text, Language::Markdown);
    let (found, stats) =
        title_mentions_cached(&other, &text, Language::Markdown, &cites, &mut cache);
    assert_eq!(stats.scanned, stats.chunks);
    assert_eq!(found, title_mentions(&other, &text, Language::Markdown));
    assert!(found.iter().all(|m| m.papers == [0]));
}

/// Short titles of ordinary words match where the writer marked them:
/// emphasis or quotes around exactly the title, or Title Case in running
/// text; never in plain running text.
#[test]
fn titles_the_writer_marked_match_however_short() {
    let md = Language::Markdown;
    let snf = "Stochastic Normalizing Flows";
    assert_eq!(
        spans("We tried *Stochastic Normalizing Flows* here.", md),
        [snf]
    );
    assert_eq!(spans("We tried _Stochastic Normalizing Flows_.", md), [snf]);
    assert_eq!(
        spans("We tried **Stochastic normalizing flows**.", md),
        ["Stochastic normalizing flows"]
    );
    assert_eq!(
        spans("As \"Repelling Random Walks,\" shows", md),
        ["Repelling Random Walks"]
    );
    assert_eq!(
        spans("As “Repelling Random Walks” shows", md),
        ["Repelling Random Walks"]
    );
    assert_eq!(
        spans(
            "Background: Stochastic Normalizing Flows mix MCMC and flows.",
            md
        ),
        [snf]
    );
    // Plain running text, lower case, part of a longer marked phrase, or
    // inside a longer capitalised name: no.
    assert!(spans("stochastic normalizing flows are a family of models", md).is_empty());
    assert!(spans("We tried *stochastic normalizing flows again*.", md).is_empty());
    assert!(spans("The Deep Stochastic Normalizing Flows Toolkit is out.", md).is_empty());
    assert!(spans("* Stochastic normalizing flows, as a list item", md).is_empty());
    // Two words are too few for Title Case alone.
    assert!(spans("We use Random Walks here.", md).is_empty());

    let tex = Language::Latex;
    assert_eq!(
        spans("We tried \\emph{Repelling Random Walks}.", tex),
        ["Repelling Random Walks"]
    );
    assert_eq!(
        spans("We tried ``Repelling random walks''.", tex),
        ["Repelling random walks"]
    );
    assert_eq!(
        spans("We tried \\textit{Repelling Random Walks} too.", tex),
        ["Repelling Random Walks"]
    );
    assert!(spans("repelling random walks on graphs", tex).is_empty());

    let typ = Language::Typst;
    assert_eq!(
        spans("We tried _Repelling Random Walks_.", typ),
        ["Repelling Random Walks"]
    );
    assert_eq!(
        spans("We tried #emph[Repelling Random Walks].", typ),
        ["Repelling Random Walks"]
    );
    let found = mentions("We tried *Stochastic Normalizing Flows* here.", md);
    assert_eq!(found[0].1, [snf]);
    assert!(!found[0].2, "a whole title, not a short name");
}
