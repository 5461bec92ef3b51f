use super::*;

/// The keys found in `text`, each checked to sit exactly on its range.
fn keys(text: &str) -> Vec<String> {
    let cits = citations(text);
    let mut last = None;
    for c in &cits {
        assert_eq!(
            &text[c.range.clone()],
            c.key,
            "range of {:?} in {text:?}",
            c.key
        );
        assert!(c.whole.start <= c.range.start && c.range.end <= c.whole.end);
        assert!(last < Some(c.range.start), "document order in {text:?}");
        last = Some(c.range.start);
    }
    cits.into_iter().map(|c| c.key).collect()
}

#[test]
fn citation_keys() {
    let cases: &[(&str, &[&str])] = &[
        ("[@doe99]", &["doe99"]),
        ("Blah [@a; @b].", &["a", "b"]),
        ("[-@key]", &["key"]),
        (
            "Blah [see @doe99, pp. 33-35 and *passim*; @smith04, chap. 1].",
            &["doe99", "smith04"],
        ),
        ("@key says blah.", &["key"]),
        ("@key [p. 33] says blah.", &["key"]),
        (
            "Cf. @{https://x.org/a?y=1&z=2} now",
            &["https://x.org/a?y=1&z=2"],
        ),
        ("@{a{b}c}", &["a{b}c"]),
        ("@Foo_bar.baz.", &["Foo_bar.baz"]),
        ("@Foo_bar--baz", &["Foo_bar"]),
        ("@_under_score_", &["_under_score_"]),
        ("@DBLP:conf/acl/X17,", &["DBLP:conf/acl/X17"]),
        (
            "@müller2020 and @李2021 and @Ωmega",
            &["müller2020", "李2021", "Ωmega"],
        ),
        ("(@paren) and *@emph*", &["paren", "emph"]),
        ("a-@key", &["key"]),
        ("write me@example.com or x.@key", &[]),
        ("see https://x.org/@user and www.x.org/@u.", &[]),
        ("autolink <https://x.org/@user> <me@x.org>", &[]),
        ("[text](https://a/@b) and ![i](<c @d>) then @e", &["e"]),
        // An unmatched run of two backticks is literal text.
        (
            "`@a` and ``x ` @b`` and ```@c``` but `` @d ` @e",
            &["d", "e"],
        ),
        ("\\@escaped and \\\\@real", &["real"]),
        ("<!-- @hidden --> @shown", &["shown"]),
        (
            "@fig-one and [@tbl-x] and @sec-intro and @eq-1 and @figure",
            &["figure"],
        ),
        (
            "[@thm-a; @lem-b; @cor-c; @def-d; @exm-e; @exr-f; @lst-g]",
            &[],
        ),
        ("@ alone and @; and @.x", &[]),
        ("[@a](https://x/@y)", &["a"]),
        ("[see\n@a, p. 3;\n@b]", &["a", "b"]),
        ("[@a `;` @b]", &["a", "b"]),
        ("^[a note citing @n]", &["n"]),
        ("@http://x.org/y", &["http://x.org/y"]),
        ("\u{301}@mark é@word", &["mark"]),
    ];
    for (text, want) in cases {
        assert_eq!(keys(text), *want, "{text:?}");
    }
}

#[test]
fn blocks_hide_citations() {
    let text = "---\nbibliography: a.bib\nnote: \"@fm\"\n---\n\
                Text @one.\n\n```\n@fenced\n```\n\n~~~~\n@tilde\n~~~\n@still\n~~~~\n\n    @indented\n\n\
                <!--\n@comment\n-->\n\nLast @two";
    assert_eq!(keys(text), ["one", "two"]);
}

#[test]
fn forms_and_whole_ranges() {
    let text = "[see -@a, p. 1; @b] and @c [p. 33] and -@d.";
    let cits = citations(text);
    let whole = |i: usize| &text[cits[i].whole.clone()];
    assert_eq!(whole(0), "[see -@a, p. 1; @b]");
    assert_eq!(
        cits[0].form,
        CitationForm::Bracketed {
            suppress_author: true
        }
    );
    assert_eq!(whole(1), "[see -@a, p. 1; @b]");
    assert_eq!(
        cits[1].form,
        CitationForm::Bracketed {
            suppress_author: false
        }
    );
    assert_eq!(whole(2), "@c [p. 33]");
    assert_eq!(
        cits[2].form,
        CitationForm::InText {
            suppress_author: false
        }
    );
    assert_eq!(whole(3), "-@d");
    assert_eq!(
        cits[3].form,
        CitationForm::InText {
            suppress_author: true
        }
    );
    assert_eq!(cits[0].range, 7..8);
}

#[test]
fn brackets_that_are_not_citations() {
    let cases: &[(&str, &str, bool)] = &[
        // A `;` item without a key spoils the list: the key is in-text.
        ("[@a; see]", "@a", false),
        ("[see x; @b]", "@b", false),
        ("[see; also @c]", "[see; also @c]", true),
        ("[@d](url)", "[@d]", true),
        ("@e [p. 3](url)", "@e", false),
        ("@f [^note]", "@f", false),
        ("@g\n[p. 3]", "@g\n[p. 3]", false),
        ("@h\n\n[p. 3]", "@h", false),
    ];
    for (text, whole, bracketed) in cases {
        let cits = citations(text);
        assert_eq!(cits.len(), 1, "{text:?}");
        assert_eq!(&text[cits[0].whole.clone()], *whole, "{text:?}");
        let is_bracketed = matches!(cits[0].form, CitationForm::Bracketed { .. });
        assert_eq!(is_bracketed, *bracketed, "{text:?}");
    }
}

/// `fixture` with `$0` at the cursor → (text without the marker, cursor).
fn cursor(fixture: &str) -> (String, usize) {
    let at = fixture.find("$0").expect("fixture has a $0 cursor");
    (fixture.replacen("$0", "", 1), at)
}

#[test]
fn key_contexts() {
    // (fixture, expected (typed, text of range)) or None.
    let cases: &[(&str, Option<(&str, &str)>)] = &[
        ("[@$0", Some(("", ""))),
        ("[@gro$0", Some(("gro", "gro"))),
        ("[@gro$0\nnext line", Some(("gro", "gro"))),
        ("[see @$0]", Some(("", ""))),
        ("[@a; @sm$0]", Some(("sm", "sm"))),
        ("[@a;@sm$0ith04]", Some(("sm", "smith04"))),
        ("As @do$0e99 says", Some(("do", "doe99"))),
        ("As @doe99$0 says", Some(("doe99", "doe99"))),
        ("@Foo.$0", Some(("Foo.", "Foo."))),
        ("@Foo.$0bar", Some(("Foo.", "Foo.bar"))),
        ("[-@gr$0", Some(("gr", "gr"))),
        ("@{https://x?y$0=1}", Some(("https://x?y", "https://x?y=1"))),
        ("@{unclosed$0", Some(("unclosed", "unclosed"))),
        ("@fig$0", Some(("fig", "fig"))),
        ("ünï ✨ @Grö$0", Some(("Grö", "Grö"))),
        ("@fig-$0", None),
        ("@fig-one$0", None),
        ("me@exa$0", None),
        ("https://x.org/@us$0", None),
        ("`@co$0`", None),
        ("```\n@co$0\n```", None),
        ("---\nx: @fm$0\n---\n", None),
        ("\\@esc$0", None),
        ("<!-- @c$0 -->", None),
        ("@key and more$0", None),
        ("@key $0", None),
        ("$0@key", None),
        ("@.x$0", None),
        ("[text](https://a/@b$0)", None),
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
        "@",
        "-@",
        "[",
        "]",
        "[@",
        "@{",
        "@{{",
        "@{}",
        "`",
        "``",
        "<",
        "<!--",
        "\\",
        "é@",
        "@é",
        "[@a](",
        "](",
        "@a [",
        "@a [p",
        "👩‍🔬@x",
        "@\u{301}",
        "[@a;",
        ";@",
        "<a@",
        "\r\n@a\r\n",
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
