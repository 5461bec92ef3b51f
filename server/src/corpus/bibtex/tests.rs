//! Fixtures for the BibTeX reader, and (when `../shared/corpora` is present)
//! the real CryptoBib and ACL Anthology files.

use super::super::paper::Person;
use super::*;
use std::path::PathBuf;
use std::time::Instant;

fn load(files: &[(&str, &str)]) -> (Vec<Paper>, Vec<Problem>) {
    let paths: Vec<PathBuf> = files.iter().map(|(name, _)| PathBuf::from(name)).collect();
    load_bibtex(&test_sources(files, &paths))
}

fn load_one(text: &str) -> (Vec<Paper>, Vec<Problem>) {
    load(&[("refs.bib", text)])
}

fn paper<'a>(papers: &'a [Paper], key: &str) -> &'a Paper {
    papers
        .iter()
        .find(|p| p.key == key)
        .unwrap_or_else(|| panic!("no paper `{key}` in {:?}", keys(papers)))
}

fn keys(papers: &[Paper]) -> Vec<&str> {
    papers.iter().map(|p| p.key.as_str()).collect()
}

fn messages(problems: &[Problem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| format!("{}:{}: {}", p.file.display(), p.line, p.message))
        .collect()
}

#[test]
fn a_plain_entry_becomes_a_paper() {
    let text = "% comment\n@Article{Knuth84,\n  Author = {Knuth, Donald E.},\n  TITLE = {Literate Programming},\n  journal = {The Computer Journal},\n  year = 1984,\n  doi = {https://doi.org/10.1093/comjnl/27.2.97},\n  abstract = {A   long\n   abstract.},\n}\n";
    let (papers, problems) = load_one(text);
    assert!(problems.is_empty(), "{:?}", messages(&problems));
    let p = paper(&papers, "Knuth84");
    assert_eq!(p.key_origin, KeyOrigin::Source);
    assert_eq!(p.entry_type, "article");
    assert_eq!(p.title, "Literate Programming");
    assert_eq!(
        p.authors,
        vec![Person {
            given: "Donald E.".into(),
            family: "Knuth".into()
        }]
    );
    assert_eq!(p.year, Some(1984));
    assert_eq!(p.venue.as_deref(), Some("The Computer Journal"));
    assert_eq!(p.abstract_text.as_deref(), Some("A long abstract."));
    assert_eq!(p.ids.doi.as_deref(), Some("10.1093/comjnl/27.2.97"));
    assert_eq!(p.origin.line, 2);
    assert_eq!(&text[p.origin.span.clone()], text[10..].trim_end());
    assert_eq!(&text[p.origin.key_span.clone().unwrap()], "Knuth84");
}

#[test]
fn macros_across_files_and_before_definition() {
    let abbrev = "@string{lncs = \"Lecture Notes in Computer Science\"}\n";
    let crypto = "@inproceedings{A, title = {T}, booktitle = crypto # \" 2020\", series = lncs, year = 2020}\n@STRING{Crypto = \"CRYPTO\"}\n";
    let (papers, problems) = load(&[("abbrev.bib", abbrev), ("crypto.bib", crypto)]);
    assert!(problems.is_empty(), "{:?}", messages(&problems));
    assert_eq!(paper(&papers, "A").venue.as_deref(), Some("CRYPTO 2020"));
}

#[test]
fn concatenation_months_and_nested_macros() {
    let text = r#"@string{conf = "Proc. of " # short}
@string{short = {{ACL}}}
@string{when = jul}
@misc{m, title = "A" # { and } # "B", month = when, booktitle = conf, howpublished = "x"}
@misc{n, title = {Month}, month = sep, note = dec # "~1"}
"#;
    let (papers, problems) = load_one(text);
    assert!(problems.is_empty(), "{:?}", messages(&problems));
    let m = paper(&papers, "m");
    assert_eq!(m.title, "A and B");
    assert_eq!(m.venue.as_deref(), Some("Proc. of ACL"));
    let parsed = parse_file(text);
    assert_eq!(parsed.strings.len(), 3);
    assert_eq!(parsed.strings[0].name, "conf");
}

#[test]
fn later_macro_definition_wins_and_same_file_redefinition_warns() {
    let a = "@string{v = \"First\"}\n@string{v = \"Second\"}\n";
    let b = "@string{V = \"Third\"}\n@misc{k, journal = v}\n";
    let (papers, problems) = load(&[("a.bib", a), ("b.bib", b)]);
    assert_eq!(paper(&papers, "k").venue.as_deref(), Some("Third"));
    let msgs = messages(&problems);
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(
        msgs[0].starts_with("a.bib:2: macro `v` is redefined (first defined on line 1)"),
        "{msgs:?}"
    );
}

#[test]
fn macro_cycle_and_undefined_macro_are_problems() {
    let text =
        "@string{a = b # \"x\"}\n@string{b = a}\n@misc{k, journal = a, publisher = nowhere}\n";
    let (papers, problems) = load_one(text);
    assert_eq!(papers.len(), 1);
    let msgs = messages(&problems);
    assert!(
        msgs.iter()
            .any(|m| m.contains("defined in terms of itself")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m == "refs.bib:3: undefined macro `nowhere` in field `publisher` of entry `k`"),
        "{msgs:?}"
    );
    assert!(problems.iter().any(|p| p.severity == Severity::Warning));
}

#[test]
fn undefined_macro_keeps_its_name() {
    let (papers, problems) = load_one("@article{k, journal = jacm, title = {T}}");
    assert_eq!(paper(&papers, "k").venue.as_deref(), Some("jacm"));
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].severity, Severity::Warning);
    assert!(problems[0].message.contains("undefined macro `jacm`"));
}

#[test]
fn crossref_inherits_fields_and_title_becomes_booktitle() {
    let child =
        "@inproceedings{child, title = {Child Paper}, author = {A. Author}, crossref = {Conf20}}\n";
    let parent = "@proceedings{conf20, title = {Proceedings of Conf}, year = 2020, publisher = {Pub}, editor = {E. Editor}, url = {https://conf.org}}\n";
    let (papers, problems) = load(&[("a.bib", child), ("b.bib", parent)]);
    assert!(problems.is_empty(), "{:?}", messages(&problems));
    let c = paper(&papers, "child");
    assert_eq!(c.title, "Child Paper");
    assert_eq!(c.year, Some(2020));
    assert_eq!(c.venue.as_deref(), Some("Proceedings of Conf"));
    assert_eq!(c.authors[0].family, "Author");
    assert_eq!(c.ids.url.as_deref(), Some("https://conf.org"));
    let p = paper(&papers, "conf20");
    assert_eq!(p.title, "Proceedings of Conf");
    assert_eq!(p.venue.as_deref(), Some("Pub"));
}

#[test]
fn crossref_prefers_own_and_parent_booktitle_and_warns_on_missing_parent() {
    let text = "@proceedings{P, title = {Long Title}, booktitle = {Book Title}, year = 1999}\n@inproceedings{c1, title = {One}, crossref = {P}}\n@inproceedings{c2, title = {Two}, booktitle = {Own}, crossref = {p}}\n@inproceedings{c3, title = {Three}, crossref = {missing}}\n";
    let (papers, problems) = load_one(text);
    assert_eq!(paper(&papers, "c1").venue.as_deref(), Some("Book Title"));
    assert_eq!(paper(&papers, "c2").venue.as_deref(), Some("Own"));
    assert_eq!(paper(&papers, "c2").year, Some(1999));
    assert_eq!(paper(&papers, "c3").year, None);
    let msgs = messages(&problems);
    assert_eq!(
        msgs,
        vec!["refs.bib:4: entry `c3` has crossref `missing`, but no entry has that key"]
    );
}

#[test]
fn xdata_fields_are_inherited_and_xdata_entries_are_not_papers() {
    let text = "@xdata{pubinfo, publisher = {Springer}, year = 2001}\n@book{b, title = {B}, xdata = {pubinfo, nothere}}\n";
    let (papers, problems) = load_one(text);
    assert_eq!(
        messages(&problems),
        vec!["refs.bib:2: entry `b` has xdata `nothere`, but no entry has that key"]
    );
    assert_eq!(keys(&papers), vec!["b"]);
    assert_eq!(papers[0].venue.as_deref(), Some("Springer"));
    assert_eq!(papers[0].year, Some(2001));
}

#[test]
fn accents_and_case_protection_in_titles_and_names() {
    let text = r#"@article{a, title = {{GAN}s for {\"O}sterreich: Erd{\H{o}}s--R\'enyi}, author = {{\"O}zg{\"u}r, A. and Fran{\c{c}}ois M\"uller and {Google DeepMind}}}"#;
    let (papers, _) = load_one(text);
    let p = paper(&papers, "a");
    assert_eq!(p.title, "GANs for Österreich: Erdős–Rényi");
    let names: Vec<String> = p.authors.iter().map(Person::display).collect();
    assert_eq!(
        names,
        vec!["A. Özgür", "François Müller", "Google DeepMind"]
    );
}

#[test]
fn parenthesised_entries_and_strings() {
    let text = "@string(pub = {ACM})\n@Book(key:1,\n  title = \"A (parenthesised) title\",\n  publisher = pub)\n";
    let (papers, problems) = load_one(text);
    assert!(problems.is_empty(), "{:?}", messages(&problems));
    let p = paper(&papers, "key:1");
    assert_eq!(p.title, "A (parenthesised) title");
    assert_eq!(p.venue.as_deref(), Some("ACM"));
    assert_eq!(&text[p.origin.span.clone()], text[21..].trim_end());
}

#[test]
fn line_breaks_between_at_type_and_delimiter() {
    // btxdoc.bib's example of "syntactically legal things": BibTeX skips
    // white space, line breaks included, after the `@` and after the type.
    let text = "@FAKE-ENTRY\n        {fake-database-key,\n        never-to-be-used-field = \"x\"\n        }\n\nthose with the inclination may use.@\n\nMaNuAl  (scribe,\n        TITLE=\"Scribe Document Production System\",\n                                                MONTH\n=aPR\n        ,YEAR=1984,\n)                               May the inclination not be with you.\n@misc{after, title = {After}}\n";
    let (papers, problems) = load_one(text);
    assert!(problems.is_empty(), "{:?}", messages(&problems));
    assert_eq!(keys(&papers), vec!["fake-database-key", "scribe", "after"]);
    let scribe = paper(&papers, "scribe");
    assert_eq!(scribe.entry_type, "manual");
    assert_eq!(scribe.title, "Scribe Document Production System");
    assert_eq!(scribe.year, Some(1984));
    assert_eq!(scribe.origin.line, 6);
}

#[test]
fn comments_and_preambles_are_ignored() {
    let text = "@comment{ @article{hidden, title = {No}} }\n@Comment jabref-meta: databaseType:bibtex;\n@preamble{ \"\\newcommand{\\noop}[1]{}\" }\n% @article{commented, title={No}}\nSome free text with an email@example.org address.\n@misc{shown, title = {Yes}}\n";
    let (papers, problems) = load_one(text);
    assert!(problems.is_empty(), "{:?}", messages(&problems));
    assert_eq!(keys(&papers), vec!["shown"]);
}

#[test]
fn broken_entry_between_good_ones() {
    let text = "@article{good1, title = {One}}\n\n@article{broken,\n  title = {Two},\n  author  {Missing Equals},\n  year = 2000\n}\n@article{good2, title = {Three}}\n";
    let (papers, problems) = load_one(text);
    assert_eq!(paper(&papers, "good1").title, "One");
    assert_eq!(paper(&papers, "good2").title, "Three");
    // The broken entry keeps what was read before the error, so its key
    // still resolves.
    assert_eq!(paper(&papers, "broken").title, "Two");
    let msgs = messages(&problems);
    assert_eq!(
        msgs,
        vec!["refs.bib:5: missing `=` after field `author` of entry `broken`"]
    );
    assert_eq!(problems[0].severity, Severity::Error);
}

#[test]
fn unbalanced_brace_does_not_swallow_the_next_entries() {
    let text = "@article{a, title = {Fine}}\n@article{b,\n  title = {Unclosed {brace},\n  year = 2001,\n}\n\n@inproceedings{c, title = {Still here}}\n@misc{d, title = \"Quoted\"}\n";
    let (papers, problems) = load_one(text);
    assert_eq!(keys(&papers), vec!["a", "b", "c", "d"]);
    assert_eq!(paper(&papers, "c").title, "Still here");
    let msgs = messages(&problems);
    assert_eq!(
        msgs,
        vec!["refs.bib:3: unterminated `{` in field `title` of entry `b` (opened on line 3)"]
    );
}

#[test]
fn unterminated_quote_and_missing_close() {
    let text = "@article{q, title = \"Open quote,\n  year = 2001\n}\n@article{r, title = {R}\n@article{s, title = {S}}\n";
    let (papers, problems) = load_one(text);
    assert_eq!(keys(&papers), vec!["q", "r", "s"]);
    let msgs = messages(&problems);
    assert_eq!(
        msgs,
        vec![
            "refs.bib:1: unterminated `\"` in field `title` of entry `q` (opened on line 1)",
            "refs.bib:4: entry `r` is not closed: missing `}`",
        ]
    );
}

#[test]
fn unterminated_brace_at_end_of_file() {
    let text = "@article{ok, title = {Ok}}\n@article{end, title = {Never closed";
    let (papers, problems) = load_one(text);
    assert_eq!(keys(&papers), vec!["ok", "end"]);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, 2);
    assert!(problems[0]
        .message
        .contains("unterminated `{` in field `title` of entry `end`"));
}

#[test]
fn missing_comma_is_forgiven() {
    let text = "@article{k,\n  title = {T}\n  year = 2020\n}\n";
    let (papers, problems) = load_one(text);
    assert_eq!(paper(&papers, "k").year, Some(2020));
    assert_eq!(
        messages(&problems),
        vec!["refs.bib:3: missing `,` after field `title` of entry `k`"]
    );
}

#[test]
fn entries_without_key_or_fields() {
    let text = "@misc{lonely}\n@misc{,title = {No key}}\n@misc{ title = {Also no key} }\n";
    let (papers, problems) = load_one(text);
    assert_eq!(keys(&papers), vec!["lonely", "", ""]);
    assert_eq!(papers[1].title, "No key");
    assert_eq!(papers[1].key_origin, KeyOrigin::Generated);
    assert_eq!(papers[1].origin.key_span, None);
    assert_eq!(papers[2].title, "Also no key");
    assert_eq!(problems.len(), 2);
    assert!(problems
        .iter()
        .all(|p| p.message.contains("has no citation key")));
}

#[test]
fn crlf_file() {
    let text = "@string{j = {Journal}}\r\n\r\n@article{a,\r\n  title = {Line\r\n  Two},\r\n  journal = j,\r\n  year = {2019}\r\n}\r\n@article{b, title = {Broken}\r\n@article{c, title = {C}}\r\n";
    let (papers, problems) = load_one(text);
    assert_eq!(keys(&papers), vec!["a", "b", "c"]);
    let a = paper(&papers, "a");
    assert_eq!(a.title, "Line Two");
    assert_eq!(a.venue.as_deref(), Some("Journal"));
    assert_eq!(a.origin.line, 3);
    assert_eq!(paper(&papers, "c").origin.line, 10);
    assert_eq!(
        messages(&problems),
        vec!["refs.bib:9: entry `b` is not closed: missing `}`"]
    );
}

#[test]
fn duplicate_keys_keep_the_first() {
    let a = "@misc{dup, title = {First}}\n@misc{dup, title = {Second}}\n";
    let b = "@misc{dup, title = {Third}}\n@misc{Dup, title = {Other case}}\n";
    let (papers, problems) = load(&[("a.bib", a), ("b.bib", b)]);
    assert_eq!(keys(&papers), vec!["dup", "Dup"]);
    assert_eq!(papers[0].title, "First");
    let msgs = messages(&problems);
    assert_eq!(
        msgs,
        vec![
            "a.bib:2: duplicate key `dup`: the entry on line 1 is used and this one ignored",
            "b.bib:1: duplicate key `dup`: the entry on a.bib line 1 is used and this one ignored",
        ]
    );
    assert!(problems.iter().all(|p| p.severity == Severity::Warning));
}

#[test]
fn key_spans_are_exact() {
    let text = "@inproceedings{DBLP:conf/acl/X17,title={A}}\n  @misc( C:Abdalla23 , title = {B})\n@article{bar-hillel-1952-present,}\n@misc{key}\n";
    let (papers, _) = load_one(text);
    assert_eq!(
        keys(&papers),
        vec![
            "DBLP:conf/acl/X17",
            "C:Abdalla23",
            "bar-hillel-1952-present",
            "key"
        ]
    );
    for p in &papers {
        let span = p.origin.key_span.clone().unwrap();
        assert_eq!(&text[span], p.key);
        assert!(text[p.origin.span.clone()].starts_with('@'));
        assert!(text[p.origin.span.clone()].ends_with(['}', ')']));
    }
    let parsed = parse_file(text);
    assert_eq!(parsed.entries[1].key(text), Some("C:Abdalla23"));
    let (papers, problems) = load_one("@options{a=b,\n c = d}\n@misc{title={T}}");
    assert_eq!(keys(&papers), vec!["a=b", ""]);
    assert_eq!(papers[1].title, "T");
    assert_eq!(problems.len(), 2, "{:?}", messages(&problems));
    let title = text.find("title = {B}").unwrap();
    assert_eq!(
        parsed.entries[1].field("title").unwrap().name_span,
        title..title + 5
    );
}

#[test]
fn years_ids_and_venues() {
    let text = r"@online{o, title = {O}, date = {2021-03-04}, eprint = {2103.01234}, eprinttype = {arXiv}, howpublished = {Online}}
@article{p, title = {P}, year = {{2019a}}, url = {https://arxiv.org/abs/1901.00001v2}, doi = {doi:10.1/x\_y}}
@misc{q, title = {Q}, doi = {10.48550/arXiv.2201.00002}, school = {MIT}, year = {n.d.}}
@article{r, title = {R}, eprint = {hep-th/9901001}, archivePrefix = {ArXiv}, journaltitle = {JT}}
";
    let (papers, problems) = load_one(text);
    assert!(problems.is_empty(), "{:?}", messages(&problems));
    let o = paper(&papers, "o");
    assert_eq!(
        (o.year, o.ids.arxiv.as_deref()),
        (Some(2021), Some("2103.01234"))
    );
    assert_eq!(o.venue.as_deref(), Some("Online"));
    let p = paper(&papers, "p");
    assert_eq!(p.year, Some(2019));
    assert_eq!(p.ids.arxiv.as_deref(), Some("1901.00001v2"));
    assert_eq!(p.ids.doi.as_deref(), Some("10.1/x_y"));
    let q = paper(&papers, "q");
    assert_eq!((q.year, q.ids.arxiv.as_deref()), (None, Some("2201.00002")));
    assert_eq!(q.venue.as_deref(), Some("MIT"));
    let r = paper(&papers, "r");
    assert_eq!(r.ids.arxiv.as_deref(), Some("hep-th/9901001"));
    assert_eq!(r.venue.as_deref(), Some("JT"));
}

#[test]
fn percent_comments_inside_entries() {
    let text = "@article{k,\n  title = {50\\% of {100%}}, % a comment, with = signs\n  % year = 1900,\n  year = 2000\n}\n";
    let (papers, problems) = load_one(text);
    assert!(problems.is_empty(), "{:?}", messages(&problems));
    assert_eq!(paper(&papers, "k").title, "50% of 100%");
    assert_eq!(paper(&papers, "k").year, Some(2000));
}

#[test]
fn parsing_in_pieces_gives_the_same_result() {
    let text = "@string{s = {S}}\n@article{a, title = {T}}\n@article{b,\n  title = {Unclosed,\n  year = 2001\n}\n@misc{c, title = \"Open,\n}\n  @comment{x\n@misc(d, title = s # {x})\n% @misc{e}\n@misc{f,\n@misc{g, note = {\n@misc{h}\n";
    let whole = parse_in_pieces(text, 1);
    assert_eq!(whole.entries.len(), 7);
    for pieces in 2..=12 {
        assert_eq!(parse_in_pieces(text, pieces), whole, "{pieces} pieces");
    }
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "",
        "@",
        "@@@@",
        "@misc",
        "@misc{",
        "@misc(",
        "@misc{k",
        "@misc{k,",
        "@misc{k, t",
        "@misc{k, t =",
        "@misc{k, t = {",
        "@misc{k, t = \"",
        "@misc{k, t = a #",
        "@misc{k, t = a # }",
        "@string{",
        "@string{x",
        "@string{x =",
        "@string{x = \"",
        "@comment{",
        "@preamble(",
        "}}}{{{",
        "@misc{k, = {x}}",
        "@misc{k, t = {x}}}}",
        "@misc{k, t = \"}\"}",
        "\u{feff}@misc{é, tïtle = {ü}}",
        "@misc{k, t = {a}\n@",
        "\n\n@\n@x\n@x{\n",
        "@misc{k, t = 12ab}",
        "@string{a = a}@misc{k, t = a}",
        "@misc{k,t={\\}",
        "%@misc{k}\n@misc{j}",
    ];
    for input in inputs {
        let (_papers, _problems) = load_one(input);
    }
    let (papers, _) = load_one("this is not a bib file at all { } \" = , #");
    assert!(papers.is_empty());
}

#[test]
fn many_items_on_one_line_parse_in_linear_time() {
    // Each `@` used to look back to its line's start for a `%`: a megabyte
    // of items on one line took minutes; linear, it takes milliseconds.
    for (unit, entries) in [("@", 0), ("x@y ", 0), ("@a{k,}", (1 << 20) / 6)] {
        let text = unit.repeat((1 << 20) / unit.len());
        let started = Instant::now();
        let parsed = parse_file(&text);
        let took = started.elapsed();
        assert_eq!(parsed.entries.len(), entries, "{unit:?}");
        assert!(took.as_secs() < 30, "1 MB of {unit:?} took {took:?}");
    }
    let commented = format!("% {}\n@misc{{k}}", "@".repeat(1 << 20));
    assert_eq!(parse_file(&commented).entries.len(), 1);
}

#[test]
fn every_prefix_of_a_file_loads() {
    let text = "@string{s = {S}}\n@article{a, title = {T {x}}, author = \"A and B\", journal = s # {1},}\n@misc(b, title = {Ü})\n";
    for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
        let _ = load_one(&text[..end]);
    }
}

/// `../shared/corpora` beside the project, where the real corpora live.
pub(crate) fn corpora() -> Option<PathBuf> {
    let beside_project = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora");
    let found = [beside_project, PathBuf::from("/work/shared/corpora")]
        .into_iter()
        .find(|dir| dir.is_dir());
    if found.is_none() {
        eprintln!("skipping: the shared corpora folder (../shared/corpora) is not present");
    }
    found
}

#[test]
fn cryptobib_loads_with_every_macro_resolved() {
    let Some(dir) = corpora() else { return };
    let dir = dir.join("cryptobib");
    let abbrev_path = dir.join("abbrev3.bib");
    let crypto_path = dir.join("crypto.bib");
    let (Ok(abbrev), Ok(crypto)) = (
        std::fs::read_to_string(&abbrev_path),
        std::fs::read_to_string(&crypto_path),
    ) else {
        eprintln!("skipping: CryptoBib files are not readable");
        return;
    };
    let sources = [
        BibSource {
            file: 0,
            path: &abbrev_path,
            text: &abbrev,
        },
        BibSource {
            file: 1,
            path: &crypto_path,
            text: &crypto,
        },
    ];
    let started = Instant::now();
    let (papers, problems) = load_bibtex(&sources);
    eprintln!(
        "CryptoBib: {} papers, {} problems in {:?}",
        papers.len(),
        problems.len(),
        started.elapsed()
    );
    assert_eq!(papers.len(), 72_084);
    let undefined: Vec<&Problem> = problems
        .iter()
        .filter(|p| p.message.contains("undefined macro"))
        .collect();
    assert!(
        undefined.is_empty(),
        "{:?}",
        &undefined[..undefined.len().min(5)]
    );
    let first = paper(&papers, "ACISP:FLWYLS23");
    assert_eq!(
        first.title,
        "Improved Differential Cryptanalysis on SPECK Using Plaintext Structures"
    );
    let venue = first.venue.as_deref().unwrap_or_default();
    assert!(venue.starts_with("ACISP 23"), "{venue}");
    assert!(!venue.contains("acisp"), "{venue}");
    assert_eq!(first.authors.len(), 6);
    assert_eq!(first.year, Some(2023));
    for p in &papers {
        let key = p.origin.key_span.clone().map(|span| &crypto[span]);
        assert_eq!(key, Some(p.key.as_str()));
    }
}

#[test]
fn acl_anthology_loads_with_abstracts() {
    use std::io::Read;
    let Some(dir) = corpora() else { return };
    let path = dir.join("acl-anthology/anthology+abstracts.bib.gz");
    let Ok(file) = std::fs::File::open(&path) else {
        eprintln!("skipping: {} is not readable", path.display());
        return;
    };
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .expect("the ACL Anthology dump is gzip'd UTF-8");
    let sources = [BibSource {
        file: 0,
        path: &path,
        text: &text,
    }];
    let started = Instant::now();
    let (papers, problems) = load_bibtex(&sources);
    eprintln!(
        "ACL Anthology: {} papers, {} problems in {:?}",
        papers.len(),
        problems.len(),
        started.elapsed()
    );
    assert_eq!(papers.len(), 104_188);
    // 60,617 entries have an `abstract` field; 165 of them are `abstract = ""`,
    // which is no abstract.
    let parsed = parse_file(&text);
    assert_eq!(
        parsed
            .entries
            .iter()
            .filter(|e| e.field("abstract").is_some())
            .count(),
        60_617
    );
    assert_eq!(
        papers.iter().filter(|p| p.abstract_text.is_some()).count(),
        60_452
    );
    let p = paper(&papers, "bar-hillel-1952-present");
    assert_eq!(
        p.title,
        "The present state of research on mechanical translation"
    );
    assert_eq!(
        p.venue.as_deref(),
        Some("Proceedings of the Conference on Mechanical Translation")
    );
    assert!(
        problems.is_empty(),
        "{:?}",
        &problems[..problems.len().min(5)]
    );
}

#[test]
fn editors_stand_for_authors_only_when_there_are_none() {
    let (papers, _) = load_one(
        "@book{vol, editor = {Lovelace, Ada and Turing, Alan}, title = {Edited}}\n\
         @incollection{ch, author = {Hopper, Grace}, editor = {Lovelace, Ada}, title = {Chapter}}\n",
    );
    let volume = paper(&papers, "vol");
    assert!(volume.authors_are_editors);
    assert_eq!(volume.authors.len(), 2);
    let chapter = paper(&papers, "ch");
    assert!(!chapter.authors_are_editors);
    assert_eq!(chapter.authors[0].family, "Hopper");
}

#[test]
fn links_learnt_a_run_at_a_time_are_those_of_the_load() {
    let files = [
        (
            "abbrev.bib",
            "@string{ac = {Advances}}\n@string{lncs = {LNCS}}\n@string{ac = {Advances in Cryptology}}\n",
        ),
        (
            "refs.bib",
            "@string{proc = ac # { -- Proceedings}}\n\
             @proceedings{C:2020, title = proc, year = 2020}\n\
             @inproceedings{a, crossref = {C:2020}, title = {A}}\n\
             @inproceedings{b, crossref = \"c:2020\", title = {B}}\n\
             @misc{a, title = {A again}}\n\
             @xdata{shared, publisher = lncs}\n\
             @book{c, xdata = {shared, other}, title = {C}}\n\
             @misc{A, title = {Case differs}}\n",
        ),
    ];
    let paths: Vec<PathBuf> = files.iter().map(|(name, _)| PathBuf::from(name)).collect();
    let sources = test_sources(&files, &paths);
    let load = load_bibtex_keeping_links(&sources);
    for run_bytes in [1, 40, 1 << 20] {
        let (macros, links) = super::load_links_in_runs(&sources, run_bytes);
        assert_eq!(macros, load.macros, "runs of {run_bytes}");
        assert_eq!(links, load.links, "runs of {run_bytes}");
    }
    assert_eq!(
        load.links.duplicated_keys,
        ["a".to_string()].into_iter().collect()
    );
    let mut parents: Vec<&String> = load.links.parent_keys.iter().collect();
    parents.sort();
    assert_eq!(parents, ["c:2020", "other", "shared"]);
}
