use super::*;

/// The keys found in `text`, each checked to sit exactly on its range.
fn keys(text: &str) -> Vec<String> {
    let cits = citations(text);
    for c in &cits {
        assert_eq!(
            &text[c.range.clone()],
            c.key,
            "range of {:?} in {text:?}",
            c.key
        );
        assert!(c.whole.start < c.range.start && c.range.end < c.whole.end);
    }
    assert!(cits.windows(2).all(|w| w[0].range.end < w[1].range.start));
    cits.into_iter().map(|c| c.key).collect()
}

#[test]
fn citation_keys() {
    let cases: &[(&str, &[&str])] = &[
        ("\\cite{a}", &["a"]),
        ("\\citep{a, b,c}", &["a", "b", "c"]),
        ("\\citet*{a} \\Citep{b} \\Parencite*{c} \\Textcite{d} \\citeauthor*{e}", &["a", "b", "c", "d", "e"]),
        ("\\autocite{a}\\footcite{b}\\smartcite{c}\\supercite{d}\\fullcite{e}\\citeyearpar{f}", &["a", "b", "c", "d", "e", "f"]),
        ("\\citep[see][p.~3]{key}", &["key"]),
        ("\\citep[{a]b}][{}]{key}", &["key"]),
        ("\\cite [p.~3] {key}", &["key"]),
        ("\\cites[see][1]{a}[2]{b,c}", &["a", "b", "c"]),
        ("\\autocite[see \\cite{b}]{a}", &["b", "a"]),
        ("\\cite[\\cite[]{k}", &["k"]),
        ("\\parencites(global)(post)[a]{x}{y}", &["x", "y"]),
        ("\\Textcites{x}\n  [p.~2]{y} and {z}", &["x", "y"]),
        ("\\cite{DBLP:conf/acl/X17, C:Abdalla23,bar-hillel-1952-present, müller2020}",
            &["DBLP:conf/acl/X17", "C:Abdalla23", "bar-hillel-1952-present", "müller2020"]),
        ("\\cite{\n  a,\n  b\n}", &["a", "b"]),
        ("\\cite{a, % b,\n c}", &["a", "c"]),
        ("% \\cite{commented}\n\\cite{real}", &["real"]),
        ("50\\% \\cite{notcomment}", &["notcomment"]),
        ("\\\\% \\cite{comment}", &[]),
        ("\\begin{verbatim}\n\\cite{v}\n\\end{verbatim}\\cite{after}", &["after"]),
        ("\\begin{lstlisting}[x]\\cite{v}\\end{lstlisting}\\begin{minted}{tex}\\cite{m}\\end{minted}", &[]),
        ("\\begin{comment}\\cite{c}\\end{comment}\\begin{Verbatim}\\cite{v}\\end{Verbatim}", &[]),
        ("\\verb|\\cite{x}| \\verb+\\cite{y}+ \\verb*!\\cite{z}! \\cite{w}", &["w"]),
        ("\\nocite{*} \\nocite{a}", &["a"]),
        ("\\newcommand{\\mycite}[1]{\\cite{#1}}", &[]),
        ("\\citetext{a} \\citex{b} \\cite", &[]),
        ("\\cite{unclosed", &[]),
        ("\\cite{a}{b}", &["a"]),
        ("\\cite{}", &[]),
    ];
    for (text, want) in cases {
        assert_eq!(keys(text), *want, "{text:?}");
    }
}

#[test]
fn exact_ranges_and_commands() {
    let text = "See \\citep[p.~3]{a, bb}.";
    let cits = citations(text);
    assert_eq!(cits[0].range, 17..18);
    assert_eq!(cits[1].range, 20..22);
    assert_eq!(&text[cits[0].whole.clone()], "\\citep[p.~3]{a, bb}");
    assert_eq!(cits[1].whole, cits[0].whole);
    assert_eq!(cits[0].form, CitationForm::Command("citep".into()));
    let text = "\\Parencites*(g)[a]{x}[b]{y} rest";
    let cits = citations(text);
    assert_eq!(&text[cits[1].whole.clone()], "\\Parencites*(g)[a]{x}[b]{y}");
    assert_eq!(cits[1].form, CitationForm::Command("Parencites*".into()));
}

/// `fixture` with `$0` at the cursor → (text without the marker, cursor).
fn cursor(fixture: &str) -> (String, usize) {
    let at = fixture.find("$0").expect("fixture has a $0 cursor");
    (fixture.replacen("$0", "", 1), at)
}

#[test]
fn key_contexts() {
    let cases: &[(&str, Option<(&str, &str)>)] = &[
        ("\\cite{$0", Some(("", ""))),
        ("\\cite{$0}", Some(("", ""))),
        ("\\cite{a, gr$0", Some(("gr", "gr"))),
        ("\\cite{a, gr$0}", Some(("gr", "gr"))),
        ("\\cite{a,gr$0oss}", Some(("gr", "gross"))),
        ("\\cite{a$0, b}", Some(("a", "a"))),
        ("\\citep[see][p.~3]{gr$0", Some(("gr", "gr"))),
        ("\\cites{a}{$0", Some(("", ""))),
        ("\\cites[x]{a}[y]{b, c$0}", Some(("c", "c"))),
        ("\\parencites(g)(h)[a]{x}{y$0}", Some(("y", "y"))),
        ("\\Textcite*{gr$0} more", Some(("gr", "gr"))),
        ("\\cite{\n  a,\n  gr$0\n}", Some(("gr", "gr"))),
        ("\\cite{gr$0\nnext line", Some(("gr", "gr"))),
        ("\\cite{münch$0", Some(("münch", "münch"))),
        ("\\cite{gr\nnext$0 line", None),
        ("\\cite{a, % gr$0\n}", None),
        ("\\cite$0{a}", None),
        ("\\citep[se$0e]{a}", None),
        ("\\cite{a}$0", None),
        ("% \\cite{gr$0", None),
        ("\\verb|\\cite{gr$0|", None),
        ("\\begin{verbatim}\\cite{gr$0", None),
        ("\\emph{gr$0}", None),
    ];
    for (fixture, want) in cases {
        let (text, offset) = cursor(fixture);
        let got = key_context_at(&text, offset);
        let got = got
            .as_ref()
            .map(|c| (c.typed.as_str(), &text[c.range.clone()]));
        assert_eq!(got, *want, "{fixture:?}");
    }
}

#[test]
fn never_panics_on_odd_text() {
    let samples = [
        "",
        "\\",
        "%",
        "\\cite",
        "\\cite{",
        "\\cite[",
        "\\cite[{",
        "\\cites(",
        "\\verb",
        "\\verb*",
        "\\verbé",
        "\\begin{",
        "\\begin{verbatim}",
        "\\é",
        "\\cite{é",
        "\\cite{a}{",
        "\\cites{a}[",
        "\\cite{\n\n}",
        "\\cite[\n\n]{a}",
        "\r\n\\cite{a}\r\n",
        "\\cite{👩‍🔬}",
    ];
    for text in samples {
        let _ = citations(text);
        for offset in 0..=text.len() {
            if text.is_char_boundary(offset) {
                let _ = key_context_at(text, offset);
            }
        }
    }
}
