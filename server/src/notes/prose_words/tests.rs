//! Which words of a note are prose, their exact bytes, and block starts.

use super::*;
use crate::index::title_matcher::{folded, normalize_word};

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
const PIECES: &[&str] = &[
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
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed as usize
    };
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
