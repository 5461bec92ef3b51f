//! Which bibliographies a note names for itself, and how a LaTeX project's
//! files hang together.
//!
//! LaTeX: `\bibliography{a,b}` (and bibentry's `\nobibliography`),
//! `\addbibresource[options]{x.bib}` (and `\addglobalbib`, `\addsectionbib`),
//! outside comments and verbatim text; plus the `\input`, `\include`,
//! `\subfile`, `\import` targets and `\documentclass` that let the server
//! find the main file of a multi-file project. Markdown: the `bibliography`
//! and `references` keys of YAML front matter at the very start of the file.
//!
//! Paths are returned as written; resolving them (relative to the note's
//! folder, or the main file's) and reading them is the caller's business.
//! The YAML reading is deliberately not a YAML parser: it reads exactly the
//! two top-level keys above, as a plain or quoted scalar, a flow list, or a
//! block list, and ignores everything else.

use super::latex::{
    closed_group_after, control_words, delimited_argument, skip_arguments, skip_space,
};
use super::markdown::front_matter;
use super::Language;

/// The bibliography files a note names itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamedBibliographies {
    /// As written, in order; `\bibliography{a}` gives `a.bib`.
    pub paths: Vec<String>,
    /// Markdown front matter holds a `references:` list of its own.
    pub inline_references: bool,
}

/// The bibliographies `text` names, in the syntax of `lang`.
pub fn bibliographies_named(text: &str, lang: Language) -> NamedBibliographies {
    match lang {
        Language::Latex => NamedBibliographies {
            paths: latex_bibliographies(text),
            inline_references: false,
        },
        Language::Markdown => front_matter_bibliographies(text),
        Language::Typst => NamedBibliographies {
            paths: super::typst::scan(text).bibliographies,
            inline_references: false,
        },
    }
}

/// What a LaTeX file says about the project it belongs to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LatexStructure {
    /// `\input{x}`, `\include{x}`, `\subfile{x}` targets as written, and
    /// `\import{dir/}{x}` joined as `dir/x`; no extension is added.
    pub included: Vec<String>,
    /// The file has a `\documentclass`, so it can be a main file.
    pub has_documentclass: bool,
    /// The main file this file names itself: a `% !TEX root = main.tex`
    /// magic comment, or the option of `\documentclass[main.tex]{subfiles}`.
    pub root_hint: Option<String>,
}

/// The inputs, document class and root hint of a LaTeX file.
pub fn latex_structure(text: &str) -> LatexStructure {
    let mut out = LatexStructure {
        root_hint: magic_root(text),
        ..LatexStructure::default()
    };
    for cw in control_words(text) {
        let after = cw.name.end;
        match &text[cw.name.clone()] {
            "input" | "include" | "subfile" => out.included.extend(group_text(text, after)),
            "import" | "subimport" | "inputfrom" | "subinputfrom" | "includefrom"
            | "subincludefrom" => {
                let Some(dir_group) = closed_group_after(text, after) else {
                    continue;
                };
                let dir = group_text(text, after).unwrap_or_default();
                if let Some(file) = group_text(text, dir_group.end) {
                    out.included.push(join(&dir, &file));
                }
            }
            "documentclass" => {
                out.has_documentclass = true;
                if out.root_hint.is_none() {
                    out.root_hint = subfiles_main(text, after);
                }
            }
            _ => {}
        }
    }
    out
}

fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() || dir.ends_with('/') {
        format!("{dir}{file}")
    } else {
        format!("{dir}/{file}")
    }
}

fn latex_bibliographies(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for cw in control_words(text) {
        let after = cw.name.end;
        match &text[cw.name.clone()] {
            "bibliography" | "nobibliography" => {
                if let Some(group) = closed_group_after(text, after) {
                    paths.extend(
                        group
                            .items
                            .iter()
                            .map(|r| with_bib_extension(&text[r.clone()])),
                    );
                }
            }
            "addbibresource" | "addglobalbib" | "addsectionbib" => {
                let pos = skip_arguments(text, after, b'[', b']');
                paths.extend(group_text(text, pos));
            }
            _ => {}
        }
    }
    paths
}

/// BibTeX appends `.bib` to every `\bibliography` name that does not
/// already end in it (`refs.v2` is read as `refs.v2.bib`).
fn with_bib_extension(name: &str) -> String {
    if name.to_ascii_lowercase().ends_with(".bib") {
        name.to_string()
    } else {
        format!("{name}.bib")
    }
}

/// The text of the closed `{...}` argument after `pos`, comments removed and
/// trimmed; `None` when there is none or it is empty.
fn group_text(text: &str, pos: usize) -> Option<String> {
    let group = closed_group_after(text, pos)?;
    let mut s = String::new();
    let mut from = group.inner.start;
    for c in &group.comments {
        s.push_str(&text[from..c.start]);
        from = c.end;
    }
    s.push_str(&text[from..group.inner.end]);
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// `\documentclass[main.tex]{subfiles}` → `main.tex`.
fn subfiles_main(text: &str, after: usize) -> Option<String> {
    let start = skip_space(text, after);
    let option = delimited_argument(text, start, b'[', b']')?;
    let class = closed_group_after(text, option.end + 1)?;
    let is_subfiles = text[class.inner].trim() == "subfiles";
    let main = text[option].trim();
    (is_subfiles && !main.is_empty()).then(|| main.to_string())
}

/// `% !TEX root = main.tex` (any case, any spacing) on a line of its own.
fn magic_root(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix('%')?.trim_start();
        let rest = rest.strip_prefix('!')?.trim_start();
        let (word, rest) = rest.split_at(rest.find(char::is_whitespace)?);
        if !word.eq_ignore_ascii_case("tex") {
            return None;
        }
        let rest = rest.trim_start();
        let key = rest.get(..4)?;
        if !key.eq_ignore_ascii_case("root") {
            return None;
        }
        let value = rest[4..].trim_start().strip_prefix('=')?.trim();
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// `bibliography:` and `references:` in the front matter of a Markdown file.
fn front_matter_bibliographies(text: &str) -> NamedBibliographies {
    let mut out = NamedBibliographies::default();
    let Some(fm) = front_matter(text) else {
        return out;
    };
    let lines: Vec<&str> = text[fm.body].lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let Some((key, value)) = top_level_entry(line) else {
            continue;
        };
        match key {
            "bibliography" => out.paths.extend(yaml_strings(value, &lines[i + 1..])),
            "references" => out.inline_references = true,
            _ => {}
        }
    }
    out
}

/// The strings under a key path of a whole YAML file: `["bibliography"]` in
/// Quarto's `_quarto.yml`, `["project", "bibliography"]` in MyST's
/// `myst.yml`, `["bibtex_bibfiles"]` in Jupyter Book's `_config.yml` — a
/// scalar, a flow list or a block list, read the way front matter is.
pub fn yaml_strings_at(text: &str, path: &[&str]) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    strings_at(&lines, path)
}

fn strings_at(lines: &[&str], path: &[&str]) -> Vec<String> {
    let Some((first, rest)) = path.split_first() else {
        return Vec::new();
    };
    for (i, line) in lines.iter().enumerate() {
        let Some((key, value)) = top_level_entry(line) else {
            continue;
        };
        if key != *first {
            continue;
        }
        if rest.is_empty() {
            return yaml_strings(value, &lines[i + 1..]);
        }
        // The mapping under the key: the indented lines after it.
        let block: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| l.trim().is_empty() || l.starts_with([' ', '\t']))
            .copied()
            .collect();
        let indent = block
            .iter()
            .find(|l| !l.trim().is_empty())
            .map_or(0, |l| l.len() - l.trim_start().len());
        let dedented: Vec<&str> = block
            .iter()
            .map(|l| match l.get(..indent) {
                Some(lead) if lead.trim().is_empty() => &l[indent..],
                _ => l.trim_start(),
            })
            .collect();
        return strings_at(&dedented, rest);
    }
    Vec::new()
}

/// `key: value` on an unindented line, the key plain or quoted.
fn top_level_entry(line: &str) -> Option<(&str, &str)> {
    if line.starts_with([' ', '\t', '#', '-']) {
        return None;
    }
    let colon = line.find(':')?;
    let key = line[..colon].trim().trim_matches(['"', '\'']);
    let value = &line[colon + 1..];
    (value.is_empty() || value.starts_with([' ', '\t'])).then_some((key, value.trim()))
}

/// The strings of a YAML value: a scalar, a flow list `[a, "b"]` (possibly
/// over several lines), or a block list in the lines that follow.
fn yaml_strings(value: &str, following: &[&str]) -> Vec<String> {
    let value = strip_comment(value);
    if value.starts_with('[') {
        let mut flow = value.to_string();
        for line in following {
            if closes_flow(&flow) {
                break;
            }
            flow.push(' ');
            flow.push_str(strip_comment(line));
        }
        return flow_items(&flow);
    }
    if !value.is_empty() {
        return scalar(value).into_iter().collect();
    }
    following
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map_while(|l| {
            l.strip_prefix('-')
                .filter(|r| r.is_empty() || r.starts_with([' ', '\t']))
        })
        .filter_map(|item| scalar(strip_comment(item)))
        .collect()
}

fn closes_flow(flow: &str) -> bool {
    let mut quote = None;
    for c in flow.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, ']') => return true,
            _ => {}
        }
    }
    false
}

/// The items of `[a.bib, "b, c.json"]`, quotes respected.
fn flow_items(flow: &str) -> Vec<String> {
    let inner = flow.trim().strip_prefix('[').unwrap_or(flow);
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    for c in inner.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                current.push(c);
            }
            (Some(q), _) if c == q => {
                quote = None;
                current.push(c);
            }
            (None, ',' | ']') => {
                items.extend(scalar(&current));
                current.clear();
                if c == ']' {
                    break;
                }
            }
            _ => current.push(c),
        }
    }
    items
}

/// A YAML scalar: `'single'` (with `''` for a quote), `"double"` (with
/// backslash escapes), or plain; `None` when empty.
fn scalar(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let value = if let Some(body) = raw.strip_prefix('\'') {
        body.strip_suffix('\'').unwrap_or(body).replace("''", "'")
    } else if let Some(body) = raw.strip_prefix('"') {
        unescape_double_quoted(body.strip_suffix('"').unwrap_or(body))
    } else {
        raw.to_string()
    };
    (!value.is_empty()).then_some(value)
}

fn unescape_double_quoted(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// A plain value without its ` # comment`; quoted text is kept whole.
fn strip_comment(value: &str) -> &str {
    let mut quote = None;
    let mut prev_space = true;
    for (i, c) in value.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '#') if prev_space => return value[..i].trim_end(),
            _ => {}
        }
        prev_space = c.is_whitespace();
    }
    value.trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(text: &str) -> NamedBibliographies {
        bibliographies_named(text, Language::Markdown)
    }

    fn paths(text: &str) -> Vec<String> {
        md(text).paths
    }

    #[test]
    fn latex_bibliographies() {
        let text = "\\bibliography{refs, ../shared/more,x.bib}\n\
                    % \\bibliography{commented}\n\
                    \\addbibresource{biblatex.bib}\n\
                    \\addbibresource[location=remote]{https://x.org/a.bib}\n\
                    \\addbibresource{My Refs.bib}\n\
                    \\begin{verbatim}\\addbibresource{v.bib}\\end{verbatim}\n\
                    \\nobibliography{refs.v2}\\bibliography{unclosed";
        let named = bibliographies_named(text, Language::Latex);
        let want = [
            "refs.bib",
            "../shared/more.bib",
            "x.bib",
            "biblatex.bib",
            "https://x.org/a.bib",
            "My Refs.bib",
            "refs.v2.bib",
        ];
        assert_eq!(named.paths, want);
        assert!(!named.inline_references);
    }

    #[test]
    fn latex_project_structure() {
        let text = "% !TeX root = ../main.tex\n\\documentclass[a4paper]{article}\n\
                    \\input{chapters/intro}\\include{b.tex}\\subfile{c}\n\
                    % \\input{commented}\n\\import{dir}{file}\\subimport{sub/}{f}";
        let inputs = latex_structure(text);
        assert_eq!(
            inputs.included,
            ["chapters/intro", "b.tex", "c", "dir/file", "sub/f"]
        );
        assert!(inputs.has_documentclass);
        assert_eq!(inputs.root_hint.as_deref(), Some("../main.tex"));

        let sub = latex_structure("\\documentclass[../thesis.tex]{subfiles}\n\\begin{document}");
        assert_eq!(sub.root_hint.as_deref(), Some("../thesis.tex"));
        assert!(sub.has_documentclass);
        let part = latex_structure("\\section{x} \\input{y}");
        assert!(!part.has_documentclass);
        assert_eq!(part.root_hint, None);
    }

    #[test]
    fn front_matter_forms() {
        let cases: &[(&str, &[&str])] = &[
            ("---\nbibliography: refs.bib\n---\n", &["refs.bib"]),
            (
                "---\nbibliography: \"my refs.bib\" # main\n---\n",
                &["my refs.bib"],
            ),
            ("---\nbibliography: 'it''s.bib'\n---\n", &["it's.bib"]),
            (
                "---\nbibliography: [a.bib, \"b, c.json\", 'd.yaml']\n---\n",
                &["a.bib", "b, c.json", "d.yaml"],
            ),
            (
                "---\nbibliography: [a.bib,\n  b.bib]\ntitle: x\n---\n",
                &["a.bib", "b.bib"],
            ),
            (
                "---\nbibliography:\n  - a.bib\n  # note\n  - \"b.bib\"\ntitle: x\n---\n",
                &["a.bib", "b.bib"],
            ),
            (
                "---\nbibliography:\n- a.bib\n- b.bib\n...\n",
                &["a.bib", "b.bib"],
            ),
            ("---\ntitle: \"x: y\"\nauthor: Me\n---\n", &[]),
            ("---\nnested:\n  bibliography: no.bib\n---\n", &[]),
            ("text\n---\nbibliography: late.bib\n---\n", &[]),
            ("---\nbibliography: unclosed.bib\n", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(paths(text), *want, "{text:?}");
        }
    }

    #[test]
    fn inline_references() {
        assert!(md("---\nreferences:\n- id: doe99\n  title: X\n---\n").inline_references);
        assert!(!md("---\ntitle: references: none\n---\n").inline_references);
        assert!(!md("No front matter. references: x").inline_references);
    }

    #[test]
    fn keys_of_project_files() {
        let quarto = "project:\n  type: book\nbibliography: refs.bib # main\n";
        assert_eq!(yaml_strings_at(quarto, &["bibliography"]), ["refs.bib"]);
        let myst = "version: 1\nproject:\n  title: T\n  bibliography:\n    - a.bib\n    - 'b c.bib'\nsite:\n  bibliography: no.bib\n";
        assert_eq!(
            yaml_strings_at(myst, &["project", "bibliography"]),
            ["a.bib", "b c.bib"]
        );
        let jupyter_book = "title: Book\nbibtex_bibfiles:\n- refs.bib\n- more.bib\n";
        assert_eq!(
            yaml_strings_at(jupyter_book, &["bibtex_bibfiles"]),
            ["refs.bib", "more.bib"]
        );
        let flow = "project:\n  bibliography: [x.bib, \"y.bib\"]\n";
        assert_eq!(
            yaml_strings_at(flow, &["project", "bibliography"]),
            ["x.bib", "y.bib"]
        );
        assert!(yaml_strings_at("bibliography:\n", &["bibliography"]).is_empty());
        assert!(yaml_strings_at("other: 1\n", &["project", "bibliography"]).is_empty());
        assert!(yaml_strings_at("  bibliography: nested.bib\n", &["bibliography"]).is_empty());
        for odd in [
            "project:\n\u{e9}bibliography: x",
            "project:\n \u{e9}\n  bibliography: a",
            ":\n:",
            "project:",
        ] {
            let _ = yaml_strings_at(odd, &["project", "bibliography"]);
        }
    }

    #[test]
    fn never_panics_on_odd_text() {
        for text in [
            "",
            "---\nbibliography: [\n---\n",
            "---\nbibliography: \"\n---\n",
            "---\nbibliography:\n---\n",
            "---\n: x\n---\n",
            "---\nbibliography: 'é\n---\n",
            "\\bibliography",
            "\\documentclass[",
            "%!TEX",
            "% !TEX root =",
            "\\import{a}",
            "\\addbibresource[{]",
        ] {
            let _ = bibliographies_named(text, Language::Markdown);
            let _ = bibliographies_named(text, Language::Latex);
            let _ = latex_structure(text);
        }
    }
}
