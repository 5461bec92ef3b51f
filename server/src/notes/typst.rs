//! Typst notes: citations, the labels a document defines, the bibliography
//! it names, and what of it is prose — by the compiler's own lexical rules.
//!
//! Typst has three modes. In **markup** (the default, and inside content
//! blocks `[…]`), `@key` is a reference: the key is every character valid
//! in a label (letters, digits, `_`, `-`, `:`, `.`) with trailing `.` and
//! `:` given back to the text; `@key[p. 7]` adds a supplement. There is no
//! word boundary before `@` (`x@key.org` is `x` and a reference to
//! `key.org`); `\@` is an escaped `@`. `<name>` defines a label, and a
//! reference to a label the document defines is a cross-reference, not a
//! citation. Comments (`//`, nestable `/* */`), raw text (backticks) and
//! URLs hold none. `#` enters **code** for one expression (`#cite(<key>)`,
//! `#emph[…]`, `#let …` to the end of its line): there strings, comments and
//! label literals are read, content blocks switch back to markup, and the
//! calls `cite(…)` and `ref(…)` cite their first label argument (`<key>` or
//! `label("key")`). **Math** (`$…$`) holds no references.
//!
//! One pass gives everything ([`scan`]); nesting deeper than
//! [`MAX_DEPTH`] is read as text, so no input can exhaust the stack.

use super::{Citation, CitationForm, KeyContext};
use std::collections::HashSet;
use std::ops::Range;

/// Content blocks and code groups nested deeper than this are not entered.
const MAX_DEPTH: usize = 64;

/// A place where a citation key is or is being written.
#[derive(Clone, Debug, PartialEq, Eq)]
struct KeySite {
    /// The key's bytes (possibly empty: `@` or `<` just typed).
    key: Range<usize>,
    /// Where a key can be typed on to: the label characters after the
    /// marker, untrimmed (`@key.` may still become `@key.org`).
    typing: Range<usize>,
    /// The whole citation: `@key[…]`, `#cite(<key>, …)`.
    whole: Range<usize>,
    /// Closed as the compiler needs it (`<key>`, `label("key")`); a
    /// reference always is.
    complete: bool,
    form: CitationForm,
}

/// What one pass over a Typst note finds.
#[derive(Debug, Default)]
pub(crate) struct TypstScan {
    sites: Vec<KeySite>,
    /// Labels the document defines (`<intro>` after a heading, a figure).
    labels: HashSet<String>,
    /// What is not prose: code, comments, raw text, math, URLs, labels,
    /// citations. Sorted, not overlapping.
    pub(crate) skipped: Vec<Range<usize>>,
    /// Where a block starts that no title runs into: headings, list items,
    /// the line after a blank line.
    pub(crate) block_starts: Vec<usize>,
    /// The files `#bibliography(…)` names, as written.
    pub(crate) bibliographies: Vec<String>,
    /// Its `style:` argument, as written.
    pub(crate) bibliography_style: Option<String>,
    /// The files `#include "…"` names, as written.
    pub(crate) includes: Vec<String>,
}

/// Scans `text` once.
pub(crate) fn scan(text: &str) -> TypstScan {
    let mut scanner = Scanner {
        text,
        bytes: text.as_bytes(),
        out: TypstScan::default(),
        depth: 0,
    };
    scanner.markup(0, false);
    let mut out = scanner.out;
    out.skipped.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(out.skipped.len());
    for r in out.skipped.drain(..) {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    out.skipped = merged;
    out.sites.sort_by_key(|s| s.key.start);
    out
}

/// The citations of a Typst note, in order: references to labels the
/// document does not define, and `cite`/`ref` calls.
pub(crate) fn citations(text: &str) -> Vec<Citation> {
    let scan = scan(text);
    scan.sites
        .iter()
        .filter(|s| s.complete && !s.key.is_empty())
        .filter(|s| {
            !(matches!(s.form, CitationForm::TypstReference)
                && scan.labels.contains(&text[s.key.clone()]))
        })
        .map(|s| Citation {
            key: text[s.key.clone()].to_string(),
            range: s.key.clone(),
            whole: s.whole.clone(),
            form: s.form.clone(),
        })
        .collect()
}

/// Where a key can be completed at `offset`: after `@` in markup, after
/// `<` or inside `label("` in a `cite`/`ref` call.
pub(crate) fn key_context_at(text: &str, offset: usize) -> Option<KeyContext> {
    let scan = scan(text);
    let site = scan
        .sites
        .iter()
        .find(|s| s.typing.start <= offset && offset <= s.typing.end)?;
    let range = site.typing.start..site.typing.end.max(offset);
    Some(KeyContext {
        typed: text.get(range.start..offset)?.to_string(),
        range,
    })
}

/// Whether `c` may stand in a label (`<…>`, `@…`): Typst's identifier
/// characters (letters, digits, `_`, `-`) and `:` and `.`.
pub(crate) fn is_label_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | ':' | '.')
}

/// Whether `key` can be cited as `@key` (else only as `#cite(label("key"))`).
pub(crate) fn is_reference_key(key: &str) -> bool {
    key.chars().all(is_label_char) && !key.ends_with(['.', ':']) && !key.is_empty()
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Keywords that start a statement running to the end of its line.
const STATEMENTS: &[&str] = &[
    "let", "set", "show", "import", "include", "if", "for", "while", "return", "context",
];

struct Scanner<'t> {
    text: &'t str,
    bytes: &'t [u8],
    out: TypstScan,
    depth: usize,
}

impl Scanner<'_> {
    fn char_at(&self, i: usize) -> Option<char> {
        self.text.get(i..)?.chars().next()
    }

    fn starts(&self, i: usize, s: &str) -> bool {
        self.bytes.get(i..i + s.len()) == Some(s.as_bytes())
    }

    /// The end of the run of characters from `i` that satisfy `pred`.
    fn run_end(&self, mut i: usize, pred: impl Fn(char) -> bool) -> usize {
        while let Some(c) = self.char_at(i).filter(|&c| pred(c)) {
            i += c.len_utf8();
        }
        i
    }

    fn line_end(&self, i: usize) -> usize {
        memchr::memchr(b'\n', &self.bytes[i.min(self.bytes.len())..])
            .map_or(self.bytes.len(), |p| i + p)
    }

    /// Markup from `i` until the `]` closing its content block (`closes`)
    /// or the end; returns the offset after it.
    fn markup(&mut self, mut i: usize, closes: bool) -> usize {
        let mut brackets = 0usize;
        self.line_start(i);
        while i < self.bytes.len() {
            let b = self.bytes[i];
            match b {
                b'\n' => {
                    i += 1;
                    self.line_start(i);
                }
                b'\\' => i = self.escape(i),
                b'/' if self.starts(i, "//") => {
                    let end = self.line_end(i);
                    self.out.skipped.push(i..end);
                    i = end;
                }
                b'/' if self.starts(i, "/*") => i = self.block_comment(i),
                b'`' => i = self.raw(i),
                b'$' => i = self.math(i),
                b'h' if self.starts(i, "http://") || self.starts(i, "https://") => {
                    let end = self.run_end(i, |c| {
                        !c.is_whitespace() && !matches!(c, '<' | '>' | '[' | ']' | '"')
                    });
                    self.out.skipped.push(i..end);
                    i = end;
                }
                b'@' => i = self.reference(i),
                b'<' => i = self.label_definition(i),
                b'#' => i = self.embedded_code(i),
                b'[' => {
                    brackets += 1;
                    i += 1;
                }
                b']' if brackets > 0 => {
                    brackets -= 1;
                    i += 1;
                }
                b']' if closes => return i + 1,
                _ => i += self.char_at(i).map_or(1, char::len_utf8),
            }
        }
        i
    }

    /// At the start of a line: a heading, a list item or the line after a
    /// blank one starts a block.
    fn line_start(&mut self, i: usize) {
        let rest = &self.text[i.min(self.text.len())..];
        let line = rest.split('\n').next().unwrap_or("");
        let trimmed = line.trim_start();
        let marker = trimmed.starts_with('=')
            || trimmed.starts_with("- ")
            || trimmed.starts_with("+ ")
            || trimmed.starts_with("/ ")
            || trimmed
                .split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        let after_blank = i >= 2 && self.text[..i - 1].trim_end_matches('\r').ends_with('\n')
            || trimmed.is_empty();
        if marker || after_blank {
            self.out.block_starts.push(i);
        }
    }

    fn escape(&mut self, i: usize) -> usize {
        let next = self.char_at(i + 1).map_or(0, char::len_utf8);
        self.out.skipped.push(i..i + 1 + next);
        i + 1 + next
    }

    /// `/* … */`, nested as Typst nests them.
    fn block_comment(&mut self, start: usize) -> usize {
        let mut depth = 0usize;
        let mut i = start;
        while i < self.bytes.len() {
            if self.starts(i, "/*") {
                depth += 1;
                i += 2;
            } else if self.starts(i, "*/") {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    break;
                }
            } else {
                i += 1;
            }
        }
        let end = i.min(self.bytes.len());
        self.out.skipped.push(start..end);
        end
    }

    /// Raw text: one backtick to the next, or a fence of three or more to
    /// the same fence; two backticks are empty raw text.
    fn raw(&mut self, start: usize) -> usize {
        let fence = self.run_end(start, |c| c == '`') - start;
        let end = if fence == 2 {
            start + 2
        } else {
            let closing = "`".repeat(fence);
            self.text[start + fence..]
                .find(&closing)
                .map_or(self.bytes.len(), |p| start + fence + p + fence)
        };
        self.out.skipped.push(start..end);
        end
    }

    fn math(&mut self, start: usize) -> usize {
        let mut i = start + 1;
        while i < self.bytes.len() {
            match self.bytes[i] {
                b'\\' => i += 2,
                b'$' => {
                    i += 1;
                    break;
                }
                _ => i += 1,
            }
        }
        let end = i.min(self.bytes.len());
        self.out.skipped.push(start..end);
        end
    }

    /// `@key`, `@key[supplement]`; a lone `@` is a place to type a key.
    fn reference(&mut self, at: usize) -> usize {
        let typing_end = self.run_end(at + 1, is_label_char);
        let mut end = typing_end;
        while end > at + 1 && matches!(self.bytes[end - 1], b'.' | b':') {
            end -= 1;
        }
        let mut whole_end = end;
        if end > at + 1 && self.bytes.get(end) == Some(&b'[') && self.depth < MAX_DEPTH {
            self.depth += 1;
            whole_end = self.markup(end + 1, true);
            self.depth -= 1;
        }
        self.out.sites.push(KeySite {
            key: at + 1..end,
            typing: at + 1..typing_end,
            whole: at..whole_end,
            complete: true,
            form: CitationForm::TypstReference,
        });
        self.out.skipped.push(at..end.max(at + 1));
        end.max(at + 1)
    }

    /// `<name>` in markup: a label the document defines.
    fn label_definition(&mut self, at: usize) -> usize {
        let end = self.run_end(at + 1, is_label_char);
        if end > at + 1 && self.bytes.get(end) == Some(&b'>') {
            self.out.labels.insert(self.text[at + 1..end].to_string());
            self.out.skipped.push(at..end + 1);
            return end + 1;
        }
        at + 1
    }

    /// `#` and the one expression it embeds.
    fn embedded_code(&mut self, hash: usize) -> usize {
        let Some(c) = self.char_at(hash + 1) else {
            return hash + 1;
        };
        if !(is_ident_start(c) || matches!(c, '(' | '{' | '[')) || self.depth >= MAX_DEPTH {
            return hash + 1;
        }
        self.depth += 1;
        let end = self.expression(hash + 1, hash, false);
        self.depth -= 1;
        end
    }

    /// One code expression from `i` (an identifier with its calls, fields
    /// and trailing content blocks, or a group); `hash` is where a `#`
    /// before it stands. A statement keyword reads on to the end of the
    /// line (`in_code`: or to the end of the group it stands in).
    fn expression(&mut self, i: usize, hash: usize, in_code: bool) -> usize {
        let Some(c) = self.char_at(i) else {
            return i;
        };
        let end = match c {
            '(' => self.group(i, b')'),
            '{' => self.group(i, b'}'),
            '[' => self.content_block(i),
            c if is_ident_start(c) => {
                let name_end = self.run_end(i, is_ident_char);
                let name = &self.text[i..name_end];
                if STATEMENTS.contains(&name) && !in_code {
                    self.out.skipped.push(hash..name_end);
                    if name == "include" {
                        let quote = self.run_end(name_end, |c| c == ' ' || c == '\t');
                        if self.bytes.get(quote) == Some(&b'"') {
                            let end = self.string_end(quote);
                            if end > quote + 1 && self.bytes[end - 1] == b'"' {
                                self.out
                                    .includes
                                    .push(self.text[quote + 1..end - 1].to_string());
                            }
                        }
                    }
                    return self.statement(name_end);
                }
                self.postfix(i, name_end, hash)
            }
            _ => return i,
        };
        self.out.skipped.push(hash..i.min(end));
        end
    }

    /// After an identifier: calls, field accesses and content blocks.
    fn postfix(&mut self, name_start: usize, name_end: usize, hash: usize) -> usize {
        let name = &self.text[name_start..name_end];
        let mut i = name_end;
        self.out.skipped.push(hash..name_end);
        loop {
            match self.bytes.get(i) {
                Some(b'(') => {
                    i = match name {
                        "cite" | "ref" => self.cite_call(i, hash),
                        "bibliography" => self.bibliography_call(i),
                        _ => self.group(i, b')'),
                    }
                }
                Some(b'[') => i = self.content_block(i),
                Some(b'.') if self.char_at(i + 1).is_some_and(is_ident_start) => {
                    let end = self.run_end(i + 1, is_ident_char);
                    self.out.skipped.push(i..end);
                    i = end;
                }
                _ => return i,
            }
        }
    }

    /// `[…]` inside code: markup again.
    fn content_block(&mut self, open: usize) -> usize {
        self.out.skipped.push(open..open + 1);
        if self.depth >= MAX_DEPTH {
            return open + 1;
        }
        self.depth += 1;
        let end = self.markup(open + 1, true);
        self.depth -= 1;
        if end > open + 1 && self.bytes.get(end - 1) == Some(&b']') {
            self.out.skipped.push(end - 1..end);
        }
        end
    }

    /// A statement (`let`, `set`, `show`, `if`, …) to the end of its line,
    /// groups and content blocks on it read whole (they may span lines).
    fn statement(&mut self, mut i: usize) -> usize {
        while i < self.bytes.len() && self.bytes[i] != b'\n' {
            if self.bytes[i] == b';' {
                self.out.skipped.push(i..i + 1);
                return i + 1;
            }
            i = self.code_token(i, None);
        }
        i
    }

    /// Code from the opening `open` to its closing `closer`.
    fn group(&mut self, open: usize, closer: u8) -> usize {
        self.out.skipped.push(open..open + 1);
        if self.depth >= MAX_DEPTH {
            return open + 1;
        }
        self.depth += 1;
        let mut i = open + 1;
        while i < self.bytes.len() {
            if self.bytes[i] == closer {
                self.out.skipped.push(i..i + 1);
                i += 1;
                break;
            }
            i = self.code_token(i, Some(closer));
        }
        self.depth -= 1;
        i
    }

    /// One token of code at `i` (a string, a comment, a group, a content
    /// block, an identifier and what follows it, a label literal, any other
    /// character); returns the offset after it.
    fn code_token(&mut self, i: usize, closer: Option<u8>) -> usize {
        let b = self.bytes[i];
        let end = match b {
            b'"' => self.string_end(i),
            b'/' if self.starts(i, "//") => self.line_end(i),
            b'/' if self.starts(i, "/*") => return self.block_comment(i),
            b'(' => return self.group(i, b')'),
            b'{' => return self.group(i, b'}'),
            b'[' => return self.content_block(i),
            b'<' => self.label_literal_end(i).unwrap_or(i + 1),
            _ if self.char_at(i).is_some_and(is_ident_start) => {
                let end = self.run_end(i, is_ident_char);
                return match &self.text[i..end] {
                    "cite" | "ref" | "bibliography" => self.postfix(i, end, i),
                    _ => {
                        self.out.skipped.push(i..end);
                        end
                    }
                };
            }
            _ if Some(b) == closer => return i,
            _ => i + self.char_at(i).map_or(1, char::len_utf8),
        };
        self.out.skipped.push(i..end);
        end
    }

    /// After the `"` at `i`: the offset after the closing quote.
    fn string_end(&self, i: usize) -> usize {
        let mut j = i + 1;
        while j < self.bytes.len() {
            match self.bytes[j] {
                b'\\' => j += 2,
                b'"' => return j + 1,
                b'\n' => return j,
                _ => j += 1,
            }
        }
        self.bytes.len()
    }

    /// `<name>` at `i` in code: the offset after the `>`.
    fn label_literal_end(&self, i: usize) -> Option<usize> {
        let end = self.run_end(i + 1, is_label_char);
        (end > i + 1 && self.bytes.get(end) == Some(&b'>')).then_some(end + 1)
    }

    /// `cite(…)` / `ref(…)` from its `(`: the first label argument is the
    /// cited key (`<key>`, `label("key")`, or one being typed).
    fn cite_call(&mut self, open: usize, start: usize) -> usize {
        let mut site = None;
        let first = self.run_end(open + 1, char::is_whitespace);
        if self.bytes.get(first) == Some(&b'<') {
            let typing_end = self.run_end(first + 1, is_label_char);
            let complete = self.bytes.get(typing_end) == Some(&b'>');
            site = Some((first + 1..typing_end, complete));
        } else if self.starts(first, "label(") {
            let quote = self.run_end(first + 6, char::is_whitespace);
            if self.bytes.get(quote) == Some(&b'"') {
                let string_end = self.string_end(quote);
                let closed = string_end > quote + 1 && self.bytes[string_end - 1] == b'"';
                let key_end = if closed { string_end - 1 } else { string_end };
                site = Some((quote + 1..key_end, closed));
            }
        }
        let end = self.group(open, b')');
        if let Some((key, complete)) = site {
            let key_text = &self.text[key.clone()];
            let complete = complete && !key_text.contains('\\');
            self.out.sites.push(KeySite {
                typing: key.clone(),
                key,
                whole: start..end,
                complete,
                form: CitationForm::TypstCite,
            });
        }
        self.out.skipped.push(start..end);
        end
    }

    /// `bibliography(…)` from its `(`: the path or array of paths, not the
    /// named arguments.
    fn bibliography_call(&mut self, open: usize) -> usize {
        let end = self.group(open, b')');
        let args = &self.text[open + 1..end.saturating_sub(1).max(open + 1)];
        let mut depth = 0usize;
        let mut named = false;
        let mut name_start = 0;
        let mut j = 0;
        let bytes = args.as_bytes();
        while j < bytes.len() {
            match bytes[j] {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                b',' if depth == 0 => {
                    named = false;
                    name_start = j + 1;
                }
                b':' if depth == 0 => named = true,
                b'"' => {
                    let close = args[j + 1..].find('"').map_or(args.len(), |p| j + 1 + p);
                    let value = args[j + 1..close].to_string();
                    let name = args[name_start..j].split(':').next().unwrap_or("").trim();
                    if !named && depth <= 1 {
                        self.out.bibliographies.push(value);
                    } else if named && depth == 0 && name == "style" {
                        self.out.bibliography_style = Some(value);
                    }
                    j = close;
                }
                _ => {}
            }
            j += 1;
        }
        end
    }
}

/// The `style:` of the text's `#bibliography(…)`, as written.
pub(crate) fn bibliography_style(text: &str) -> Option<String> {
    scan(text).bibliography_style
}

/// The `#include "file"` targets of a Typst text (for finding the main
/// file of a multi-file document); not those in comments or raw text.
pub(crate) fn includes(text: &str) -> Vec<String> {
    scan(text).includes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Vec<String> {
        citations(text).into_iter().map(|c| c.key).collect()
    }

    /// Each case checked against the Typst compiler (0.14, `typst` on
    /// PyPI) with a bibliography holding the keys cited.
    #[test]
    fn references_follow_the_compiler() {
        let cases: &[(&str, &[&str])] = &[
            ("See @knuth84.", &["knuth84"]),
            ("Mail x@key.org now", &["key.org"]),
            ("See @a:b.", &["a:b"]),
            ("See @DBLP:conf/x.", &["DBLP:conf"]),
            ("@knuth84_ and @a-b", &["knuth84_", "a-b"]),
            ("math $x @knuth84$ end", &[]),
            ("escaped \\@nope", &[]),
            (
                "// @nope\n/* @nope /* nested */ still */ `@nope` ```\n@nope\n``` \"@knuth84\"",
                &["knuth84"],
            ),
            ("#let x = \"@nope\"\n@knuth84", &["knuth84"]),
            ("see https://example.org/@nope here", &[]),
            ("= Intro <intro>\nSee @intro and @knuth84", &["knuth84"]),
            (
                "#figure(image(\"a.png\"), caption: [About @knuth84]) <fig>\nAs @fig shows.",
                &["knuth84"],
            ),
            ("#emph[Read @knuth84] and *@b2*", &["knuth84", "b2"]),
            ("@", &[]),
            ("a @. b", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(keys(text), *want, "{text:?}");
        }
    }

    #[test]
    fn includes_are_read_where_typst_reads_them() {
        let text =
            "#include \"intro.typ\"\n// #include \"old.typ\"\n/* #include \"older.typ\" */\n\
                    `#include \"raw.typ\"`\n#include  \"chapters/two.typ\" \n#include\n";
        assert_eq!(includes(text), ["intro.typ", "chapters/two.typ"]);
    }

    #[test]
    fn cite_and_ref_calls_cite_their_label() {
        let text = "See @knuth84[p. 7] and #cite(<knuth84>, supplement: [p. 9]), \
                    #cite(label(\"DBLP:conf/x\")) and #ref(<k2>). #cite(<k3>, form: \"prose\")";
        let cits = citations(text);
        let got: Vec<(&str, &str, CitationForm)> = cits
            .iter()
            .map(|c| (c.key.as_str(), &text[c.whole.clone()], c.form.clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("knuth84", "@knuth84[p. 7]", CitationForm::TypstReference),
                (
                    "knuth84",
                    "#cite(<knuth84>, supplement: [p. 9])",
                    CitationForm::TypstCite
                ),
                (
                    "DBLP:conf/x",
                    "#cite(label(\"DBLP:conf/x\"))",
                    CitationForm::TypstCite
                ),
                ("k2", "#ref(<k2>)", CitationForm::TypstCite),
                (
                    "k3",
                    "#cite(<k3>, form: \"prose\")",
                    CitationForm::TypstCite
                ),
            ]
        );
        for c in &cits {
            assert_eq!(&text[c.range.clone()], c.key);
        }
    }

    #[test]
    fn keys_are_completed_where_typst_reads_them() {
        let at = |text: &str| {
            let offset = text.find('|').unwrap();
            let text = text.replace('|', "");
            key_context_at(&text, offset).map(|k| k.typed)
        };
        assert_eq!(at("See @knu|").as_deref(), Some("knu"));
        assert_eq!(at("See @|").as_deref(), Some(""));
        assert_eq!(at("See @knuth84.|").as_deref(), Some("knuth84."));
        assert_eq!(at("#cite(<kn|").as_deref(), Some("kn"));
        assert_eq!(at("#cite(<kn|>)").as_deref(), Some("kn"));
        assert_eq!(at("#cite(label(\"DBLP:co|").as_deref(), Some("DBLP:co"));
        assert_eq!(at("#emph[see @kn|]").as_deref(), Some("kn"));
        assert_eq!(at("`@kn|`"), None);
        assert_eq!(at("$@kn|$"), None);
        assert_eq!(at("// @kn|"), None);
        assert_eq!(at("#let s = \"@kn|\""), None);
        assert_eq!(at("plain text|"), None);
    }

    #[test]
    fn bibliographies_are_the_paths_not_the_style() {
        let named = |text: &str| scan(text).bibliographies;
        assert_eq!(named("#bibliography(\"refs.bib\")"), ["refs.bib"]);
        assert_eq!(
            named("#bibliography((\"a.bib\", \"b.yml\"), style: \"apa\", title: none)"),
            ["a.bib", "b.yml"]
        );
        assert_eq!(
            named("// #bibliography(\"no.bib\")\n"),
            Vec::<String>::new()
        );
        assert_eq!(
            bibliography_style("#bibliography(\"a.bib\", title: \"Refs\", style: \"ieee\")")
                .as_deref(),
            Some("ieee")
        );
        assert_eq!(bibliography_style("#bibliography(\"a.bib\")"), None);
        assert_eq!(
            includes("#include \"chapters/one.typ\"\n#include \"two.typ\""),
            ["chapters/one.typ", "two.typ"]
        );
    }

    #[test]
    fn keys_are_written_as_typst_reads_them() {
        assert_eq!(super::super::typst_citation("smith2020"), "@smith2020");
        assert_eq!(super::super::typst_citation("a:b.c"), "@a:b.c");
        assert_eq!(
            super::super::typst_citation("DBLP:conf/x"),
            "#cite(label(\"DBLP:conf/x\"))"
        );
        assert_eq!(
            super::super::typst_citation("ends."),
            "#cite(label(\"ends.\"))"
        );
    }

    #[test]
    fn prose_is_what_a_reader_sees() {
        use crate::notes::prose_words::prose_words;
        use crate::notes::Language;
        let text = "= Related work <rel>\nWe read _Attention Is All You Need_ and #emph[Grok Fast] \
                    @vaswani2017 // not this\n#let x = \"nor this\"\n$a b$ `code` <lbl>\n\n- next item";
        let words: Vec<(String, bool)> = prose_words(text, Language::Typst)
            .into_iter()
            .map(|w| (text[w.range].to_lowercase(), w.starts_block))
            .collect();
        let plain: Vec<&str> = words.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(
            plain,
            [
                "related",
                "work",
                "we",
                "read",
                "attention",
                "is",
                "all",
                "you",
                "need",
                "and",
                "grok",
                "fast",
                "next",
                "item"
            ]
        );
        let starts: Vec<&str> = words
            .iter()
            .filter(|(_, b)| *b)
            .map(|(w, _)| w.as_str())
            .collect();
        assert_eq!(starts, ["related", "we", "grok", "next"]);
    }

    #[test]
    fn deep_nesting_is_read_without_exhausting_the_stack() {
        let text = "#f(".repeat(100_000) + "@k";
        let _ = citations(&text);
        let text = "#emph[".repeat(100_000);
        let _ = citations(&text);
    }
}
