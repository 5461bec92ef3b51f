//! Which words of a note are prose, their exact bytes, and block starts.

use super::*;
use crate::text::words::{folded, normalize_word};

/// Each word as its text in the note, `|` before a word that starts a block.
fn shown(text: &str, lang: Language) -> Vec<String> {
    prose_words(text, lang)
        .into_iter()
        .map(|w| {
            let bar = if w.starts_block { "|" } else { "" };
            format!("{bar}{}", &text[w.range])
        })
        .collect()
}

fn md(text: &str) -> Vec<String> {
    shown(text, Language::Markdown)
}

fn tex(text: &str) -> Vec<String> {
    shown(text, Language::Latex)
}

#[test]
fn markdown_words_and_blocks() {
    assert_eq!(
        md("# Head *ing*\nA **b**, c-d\nwrapped\n\nnext para"),
        ["|Head", "ing", "|A", "b", "c", "d", "wrapped", "|next", "para"]
    );
    assert_eq!(
        md("- one\n- two\n  more\n3. three"),
        ["|one", "|two", "more", "|three"]
    );
    assert_eq!(md("Title\n=====\ntext"), ["|Title", "|text"]);
    assert_eq!(md("> quoted\n> on"), ["|quoted", "on"]);
}

#[test]
fn markdown_non_prose_is_skipped() {
    let cases: &[(&str, &[&str])] = &[
        ("---\ntitle: Hidden\n---\nshown", &["|shown"]),
        ("a `code span` b", &["|a", "|b"]),
        ("a ``x ` y`` b", &["|a", "|b"]),
        ("a <!-- hidden --> b", &["|a", "b"]),
        ("a <span class=\"x\">in</span> b", &["|a", "in", "b"]),
        ("a <https://x.org/y> b", &["|a", "|b"]),
        ("see https://x.org/a-b, then", &["|see", "|then"]),
        ("see www.x.org now", &["|see", "|now"]),
        ("[text](https://x.org/(a)) after", &["|text", "after"]),
        (
            "cite [@key-one; see @key2, p. 3] x",
            &["|cite", "|see", "|p", "3", "x"],
        ),
        (
            "cite @{braced:key} x, @{not a key}",
            &["|cite", "|x", "not", "a", "key"],
        ),
        ("me@example.com", &["|me", "example", "com"]),
        (
            "a $x + y$ b, costs $5 and $6",
            &["|a", "|b", "costs", "5", "and", "6"],
        ),
        ("a $$\\int$$ b", &["|a", "|b"]),
        ("```\nfenced\n```\nafter", &["|after"]),
        ("para\n\n    indented code\n", &["|para"]),
        ("a\\*b", &["|a", "b"]),
        // What is left open in one paragraph does not change the next.
        ("`open\n\nb `x` c", &["|open", "|b", "|c"]),
        ("$open\n\nb $x$ c", &["|open", "|b", "|c"]),
        ("a <!-- open\n\nb <!-- x --> c", &["|a", "open", "|b", "c"]),
    ];
    for (text, want) in cases {
        assert_eq!(md(text), *want, "{text:?}");
    }
}

#[test]
fn latex_words_and_blocks() {
    assert_eq!(
        tex("\\section{Intro} text \\emph{emph} and~more---so\n\nnext"),
        ["|Intro", "|text", "emph", "and", "more", "so", "|next"]
    );
    assert_eq!(
        tex("a\\footnote{note} b \\item c"),
        ["|a", "|note", "|b", "|c"]
    );
    assert_eq!(
        tex("\\begin{itemize}[x]\\item one\\end{itemize} two"),
        ["|one", "|two"]
    );
}

#[test]
fn latex_accents_join_their_word() {
    let words = prose_words(
        r#"Gr{\"o}bner and \"Ozg\"ur, G\"{o}del, {\'E}cole, Stra\ss e, \o{}l"#,
        Language::Latex,
    );
    let text = r#"Gr{\"o}bner and \"Ozg\"ur, G\"{o}del, {\'E}cole, Stra\ss e, \o{}l"#;
    let spans: Vec<&str> = words.iter().map(|w| &text[w.range.clone()]).collect();
    assert_eq!(
        spans,
        [
            r#"Gr{\"o}bner"#,
            "and",
            r#"\"Ozg\"ur"#,
            r#"G\"{o}del"#,
            r#"{\'E}cole"#,
            r"Stra\ss e",
            r"\o{}l"
        ]
    );
    let keys: Vec<u64> = words.iter().map(|w| w.norm.key).collect();
    for (key, plain) in keys
        .iter()
        .zip(["Gröbner", "and", "Özgür", "Gödel", "École", "Straße", "øl"])
    {
        assert_eq!(*key, normalize_word(plain).unwrap().key, "{plain}");
    }
    assert_eq!(folded("Straße"), "strasse");
}

#[test]
fn latex_non_prose_is_skipped() {
    let cases: &[(&str, &[&str])] = &[
        ("a % comment\nb", &["|a", "b"]),
        ("Grok%\n  fast", &["|Grok%\n  fast"]),
        ("a 50\\% b", &["|a", "50", "b"]),
        ("a \\verb|x y| b", &["|a", "|b"]),
        ("a\n\\begin{verbatim}\nx\n\\end{verbatim}\nb", &["|a", "|b"]),
        ("a \\begin{equation} x \\end{equation} b", &["|a", "|b"]),
        ("a $x$ b \\(y\\) c \\[z\\] d", &["|a", "|b", "|c", "|d"]),
        (
            "see \\label{sec:x}\\ref{fig:y} and \\url{http://a.b}",
            &["|see", "|and"],
        ),
        (
            "as \\citep[see][p.~3]{key-a, key-b} shows",
            &["|as", "|shows"],
        ),
        ("\\includegraphics[width=3cm]{fig/a.png} x", &["|x"]),
        ("\\newcommand{\\foo}[1]{body #1} x", &["|x"]),
        ("\\def\\foo#1{body} x", &["|x"]),
        (
            "\\usepackage[utf8]{inputenc}\n\\begin{document}\nx",
            &["|x"],
        ),
        (
            "\\begin{tabular}{lll} a & b \\\\ \\end{tabular}",
            &["|a", "b"],
        ),
        ("a \\& b\\\\c", &["|a", "b", "c"]),
    ];
    for (text, want) in cases {
        assert_eq!(tex(text), *want, "{text:?}");
    }
}

#[test]
fn multibyte_text_keeps_exact_ranges() {
    for lang in [Language::Markdown, Language::Latex] {
        let text = "φ 🔬 漢字 naïve e\u{301}t\u{e9}";
        let words: Vec<String> = shown(text, lang);
        assert_eq!(words, ["|φ", "漢", "字", "naïve", "e\u{301}t\u{e9}"]);
    }
}

/// Pieces either scanner cares about, multi-byte characters among them.
pub(crate) const PIECES: &[&str] = &[
    "\\",
    "{",
    "}",
    "%",
    "$",
    "$$",
    "`",
    "```",
    "<",
    ">",
    "<!--",
    "-->",
    "[",
    "]",
    "(",
    ")",
    "](",
    "@",
    "@{",
    "\n",
    "\n\n",
    " ",
    "    ",
    "- ",
    "# ",
    "> ",
    "a",
    "Z",
    "9",
    "φ",
    "漢",
    "\u{301}",
    "🔬",
    "\\\"",
    "\\'{",
    "\\ss",
    "\\o",
    "\\v",
    "\\verb",
    "\\begin{verbatim}",
    "\\end{",
    "\\section{",
    "\\cite{",
    "\\label{",
    "\\def",
    "\\(",
    "\\[",
    "~",
    "*",
    "_",
    "https://",
    "www.",
    ":",
    "=",
    "---",
];

#[test]
fn random_texts_never_panic_and_ranges_are_in_order() {
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..4000 {
        let text: String = (0..next() % 30)
            .map(|_| PIECES[next() % PIECES.len()])
            .collect();
        for lang in [Language::Markdown, Language::Latex] {
            let words = prose_words(&text, lang);
            let mut last_end = 0;
            for w in &words {
                assert!(text.get(w.range.clone()).is_some(), "{text:?} {lang:?}");
                assert!(
                    w.range.start >= last_end && w.range.start < w.range.end,
                    "{text:?}"
                );
                last_end = w.range.end;
            }
        }
    }
}

/// Pieces that open or close something across paragraphs, for notes cut
/// into chunks.
pub(crate) const CHUNK_PIECES: &[&str] = &[
    "```\n",
    "~~~\n",
    "---\n",
    "$",
    "$$",
    "\\(",
    "\\)",
    "\\[",
    "\\]",
    "\\$",
    "%",
    "% note\n",
    "\\\\",
    "\\",
    "{",
    "}",
    "\\begin{verbatim}",
    "\\end{verbatim}",
    "\\begin{equation}",
    "\\end{equation}",
    "\\begin{itemize}",
    "\\item ",
    "\\verb|",
    "|",
    "\\section",
    "\\footnote{",
    "\\cite{key}",
    "\\citep[p.~3]{a,b}",
    "\\cite{a,\n\nb}",
    "\\label{x",
    "[@key]",
    "@key",
    "<!--",
    "-->",
    "    ",
    "> ",
    "1. ",
    "Grokfast ",
    "accelerated grokking ",
    "word ",
    "\r",
];

/// Paragraph separators, blank lines of every kind among them.
const SEPARATORS: &[&str] = &[
    "\n\n",
    "\n\n\n",
    "\n \t\n",
    "\r\n\r\n",
    "\n\u{3000}\n",
    "\n",
];

/// Deterministic pseudo-random numbers (xorshift64).
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> usize {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed as usize
    }
}

/// A note of a few paragraphs made of `pieces`, separated by blank lines
/// (or not), sometimes with front matter.
pub(crate) fn random_note(next: &mut impl FnMut() -> usize, pieces: &[&[&str]]) -> String {
    let mut text = String::new();
    if next().is_multiple_of(8) {
        text.push_str("---\ntitle: Grokfast\n---\n");
    }
    for _ in 0..next() % 10 {
        for _ in 0..next() % 14 {
            let set = pieces[next() % pieces.len()];
            text.push_str(set[next() % set.len()]);
        }
        text.push_str(SEPARATORS[next() % SEPARATORS.len()]);
    }
    text
}

/// The words of `text` read chunk by chunk, as title detection reads an
/// open note.
fn chunked_words(text: &str, lang: Language) -> Vec<ProseWord> {
    let citations = crate::notes::citations_in(text, lang);
    prose_chunks(text, lang, &citations)
        .read_exact(text, |chunk, cites| {
            let read = chunk_words(chunk, lang, cites);
            (read.words, read.end)
        })
        .into_iter()
        .flat_map(|(bytes, words)| {
            words.into_iter().map(move |mut w| {
                w.range = w.range.start + bytes.start..w.range.end + bytes.start;
                w
            })
        })
        .collect()
}

#[test]
fn chunked_words_are_the_whole_note_words() {
    let mut next = xorshift(0x2545_f491_4f6c_dd1d);
    for _ in 0..6000 {
        let text = random_note(&mut next, &[PIECES, CHUNK_PIECES]);
        for lang in [Language::Markdown, Language::Latex] {
            assert_eq!(
                chunked_words(&text, lang),
                prose_words(&text, lang),
                "{lang:?} {text:?}"
            );
        }
    }
}

#[test]
fn latex_is_cut_at_paragraphs_only_where_nothing_reaches_across() {
    let pieces = |text: &str| -> Vec<String> {
        let citations = crate::notes::citations_in(text, Language::Latex);
        prose_chunks(text, Language::Latex, &citations)
            .read_exact(text, |_, _| ((), ChunkEnd::default()))
            .into_iter()
            .map(|(bytes, ())| text[bytes].to_string())
            .collect()
    };
    assert_eq!(pieces("a\n\nb\n \nc"), ["a\n\n", "b\n \n", "c"]);
    assert_eq!(pieces("\n\na\n"), ["\n\na\n"]);
    // A comment or a backslash before the blank line, a citation across it.
    assert_eq!(pieces("a % x\n\nb"), ["a % x\n\nb"]);
    assert_eq!(pieces("a\\\n\nb"), ["a\\\n\nb"]);
    assert_eq!(
        pieces("\\cite[x\\\n\ny]{k}\n\nb"),
        ["\\cite[x\\\n\ny]{k}\n\n", "b"]
    );
    let read = |text: &str| chunk_words(text, Language::Latex, &[]).end;
    assert!(read("a $x$ b\n\n").holds_before("c $y$"));
    assert!(read("a $x b\n\n").holds_before("c"));
    assert!(!read("a $x b\n\n").holds_before("c $y"));
    assert!(!read("\\[ x\n\n").holds_before("\\]"));
    assert!(read("\\[ x\n\n").holds_before("\\)"));
    assert!(!read("\\begin{verbatim}\n\n").holds_before("x"));
    assert!(read("\\begin{verbatim}\n\n").holds_before(""));
}

/// Chunks read on their own, then shifted, are the whole note's words:
/// in both languages, with fences, front matter, math, unclosed braces and
/// environments, comments and verbatim text, across a corpus of texts.
#[test]
fn chunked_words_on_paragraph_notes() {
    let cases = [
        "---\ntitle: x\n---\npara one\n\n```\ncode\n\nmore code\n```\n\npara two",
        "a $x\n\ny$ b\n\nc $z$ d\n\ne",
        "\\begin{verbatim}\nx\n\ny\n\\end{verbatim}\n\nafter\n\nmore",
        "\\section{Title\n\nnot closed} body\n\nnext",
        "\\begin{itemize}\n\\item one\n\n\\item two\n\\end{itemize}\n\nend",
        "text %comment\n\nafter comment\n\n\\verb|x\n\ny| z",
        "a \\[ b\n\nc \\] d\n\ne \\( f\n\n\\) g",
        "a $$ b\n\nc\n\nd $$ e",
        "`code\n\nspan` and <!-- c\n\n--> x",
    ];
    for text in cases {
        for lang in [Language::Markdown, Language::Latex] {
            assert_eq!(
                chunked_words(text, lang),
                prose_words(text, lang),
                "{lang:?} {text:?}"
            );
        }
    }
}
