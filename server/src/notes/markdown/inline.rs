//! The inline pass over one run of Markdown prose: the tokens that pandoc's
//! citation grammar looks at.
//!
//! It yields `[`, `]`, `;` and every `@` (or `-@`) where a citation may start,
//! with the key after it, and skips what cannot hold a citation: code spans
//! (any backtick run, closed by a run of the same length), inline HTML
//! comments, autolinks (`<https://…>`, `<me@x.org>`), bare URLs
//! (`https://…`, `www.…`, `mailto:…`), link destinations (`](…)`) and
//! backslash escapes (`\@`). It does not decide what the brackets mean; that
//! is the grammar's job in `markdown`.

use std::collections::HashMap;
use std::ops::Range;

/// Punctuation a simple key may contain between two key characters.
pub(super) const KEY_PUNCT: &str = ":.#$%&-+?<>~/";

pub(super) fn is_regchar(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

pub(super) fn char_at(text: &str, i: usize) -> Option<char> {
    text.get(i..)?.chars().next()
}

pub(super) fn char_before(text: &str, i: usize) -> Option<char> {
    text.get(..i)?.chars().next_back()
}

/// A lexical unit of a prose run that the citation grammar looks at.
#[derive(Clone, Debug)]
pub(super) enum Tok {
    /// `[`; `after_caret` for `^[`, an inline footnote rather than a citation.
    Open {
        at: usize,
        after_caret: bool,
    },
    Close(usize),
    Semi(usize),
    Key(KeyTok),
}

/// An `@` (or `-@`) where a citation may start, with the key after it.
#[derive(Clone, Debug)]
pub(super) struct KeyTok {
    /// The `-` or `@`.
    pub(super) start: usize,
    /// The key's bytes; empty for a bare `@`.
    pub(super) key: Range<usize>,
    /// After the key, its closing brace included.
    pub(super) end: usize,
    pub(super) suppress_author: bool,
    /// `Some(closed)` for `@{...}`, `None` for a simple key.
    pub(super) braced: Option<bool>,
}

impl KeyTok {
    /// Whether this is a real key, as opposed to `@` followed by nothing
    /// usable or an unclosed `@{`.
    pub(super) fn is_complete(&self) -> bool {
        !self.key.is_empty() && self.braced != Some(false)
    }
}

/// The inline tokenizer's state over one prose run.
struct Inline<'a> {
    text: &'a str,
    start: usize,
    end: usize,
    toks: Vec<Tok>,
    /// `(n, from)`: no backtick run of length n closes a code span after
    /// `from`. Remembered so that many unmatched backticks stay linear.
    no_closing_run: Vec<(usize, usize)>,
    /// No `-->` at or after this offset.
    no_comment_end_from: Option<usize>,
    /// Brace and parenthesis partners, computed once when first needed, so
    /// that thousands of unclosed `@{` or `](` stay linear.
    braces: Option<HashMap<usize, Delimited>>,
    parens: Option<HashMap<usize, Delimited>>,
}

/// Where a delimited stretch opened at some offset ends: at its closer
/// (`closed`), or, unclosed, where the search for one stopped.
#[derive(Clone, Copy, Debug)]
struct Delimited {
    end: usize,
    closed: bool,
}

/// For each opener in `run`, its partner found with a stack (which is the
/// same as counting depth from the opener). With `stop_at_space`, whitespace
/// ends every open stretch, as pandoc's braced keys hold none.
fn partners(
    text: &str,
    run: Range<usize>,
    (opener, closer): (char, char),
    stop_at_space: bool,
) -> HashMap<usize, Delimited> {
    let delimited = |end, closed| Delimited { end, closed };
    let mut ends = HashMap::new();
    let mut open = Vec::new();
    for (off, c) in text[run.clone()].char_indices() {
        let i = run.start + off;
        if c == opener {
            open.push(i);
        } else if c == closer {
            if let Some(o) = open.pop() {
                ends.insert(o, delimited(i, true));
            }
        } else if stop_at_space && c.is_whitespace() {
            ends.extend(open.drain(..).map(|o| (o, delimited(i, false))));
        }
    }
    ends.extend(open.into_iter().map(|o| (o, delimited(run.end, false))));
    ends
}

/// The tokens of one prose run, in order.
pub(super) fn tokens(text: &str, run: Range<usize>) -> Vec<Tok> {
    let mut scan = Inline {
        text,
        start: run.start,
        end: run.end.min(text.len()),
        toks: Vec::new(),
        no_closing_run: Vec::new(),
        no_comment_end_from: None,
        braces: None,
        parens: None,
    };
    let mut i = run.start;
    while i < scan.end {
        i = scan.step(i);
    }
    scan.toks
}

impl Inline<'_> {
    /// Consumes what starts at `i` (a char boundary) and returns where the
    /// next thing starts.
    fn step(&mut self, i: usize) -> usize {
        let bytes = self.text.as_bytes();
        match bytes[i] {
            b'\\' => match bytes.get(i + 1) {
                Some(b) if b.is_ascii_punctuation() && i + 1 < self.end => i + 2,
                _ => i + 1,
            },
            b'`' => self.code_span(i),
            b'<' => self.angle(i),
            b'[' => {
                let after_caret = i > 0 && bytes[i - 1] == b'^';
                self.toks.push(Tok::Open { at: i, after_caret });
                i + 1
            }
            b']' => {
                self.toks.push(Tok::Close(i));
                self.link_destination(i + 1)
            }
            b';' => {
                self.toks.push(Tok::Semi(i));
                i + 1
            }
            b'@' => self.at_sign(i),
            b if b.is_ascii_alphanumeric() => self.word(i),
            _ => i + char_at(self.text, i).map_or(1, char::len_utf8),
        }
    }

    /// A code span: a backtick run closed by a run of the same length; an
    /// unclosed run is literal backticks.
    fn code_span(&mut self, i: usize) -> usize {
        let n = run_length(self.text.as_bytes(), i, b'`');
        self.closing_run(i + n, n).unwrap_or(i + n)
    }

    fn closing_run(&mut self, from: usize, n: usize) -> Option<usize> {
        if self
            .no_closing_run
            .iter()
            .any(|&(len, at)| len == n && at <= from)
        {
            return None;
        }
        let bytes = self.text.as_bytes();
        let mut j = from;
        while j < self.end {
            if bytes[j] == b'`' {
                let m = run_length(bytes, j, b'`').min(self.end - j);
                if m == n {
                    return Some(j + m);
                }
                j += m;
            } else {
                j += 1;
            }
        }
        self.no_closing_run.push((n, from));
        None
    }

    /// `<!-- comments -->`, `<scheme:autolinks>` and `<e-mail@autolinks>`.
    fn angle(&mut self, i: usize) -> usize {
        let rest = &self.text[i..self.end];
        if rest.starts_with("<!--") {
            return self.comment_end(i + 4).unwrap_or(i + 1);
        }
        let body_len = rest[1..]
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>')
            .unwrap_or(rest.len() - 1);
        let body = &rest[1..1 + body_len];
        let closed = rest[1 + body_len..].starts_with('>');
        if closed && (has_scheme(body).is_some() || body.contains('@')) {
            return i + body_len + 2;
        }
        i + 1
    }

    fn comment_end(&mut self, from: usize) -> Option<usize> {
        if self.no_comment_end_from.is_some_and(|at| at <= from) {
            return None;
        }
        match self.text[from..self.end].find("-->") {
            Some(p) => Some(from + p + 3),
            None => {
                self.no_comment_end_from = Some(from);
                None
            }
        }
    }

    /// After a `]`: a `(destination "title")` is skipped, parentheses
    /// balanced, so `[text](https://a/@b)` holds no citation.
    fn link_destination(&mut self, i: usize) -> usize {
        if self.text.as_bytes().get(i) != Some(&b'(') || i >= self.end {
            return i;
        }
        let (text, run) = (self.text, self.start..self.end);
        let parens = self
            .parens
            .get_or_insert_with(|| partners(text, run, ('(', ')'), false));
        match parens.get(&i) {
            Some(d) if d.closed => d.end + 1,
            _ => i,
        }
    }

    /// `{...}` after an `@` at `open`: the inner range and whether the
    /// closing brace was found; an unclosed key stops at the first space.
    fn braced_key(&mut self, open: usize) -> (Range<usize>, bool) {
        let (text, run) = (self.text, self.start..self.end);
        let braces = self
            .braces
            .get_or_insert_with(|| partners(text, run, ('{', '}'), true));
        let d = braces.get(&open).copied().unwrap_or(Delimited {
            end: open + 1,
            closed: false,
        });
        (open + 1..d.end, d.closed)
    }

    /// An ASCII word: a bare URL when it starts one, skipped whole so that
    /// an `@` inside it is not a citation; otherwise just the word.
    fn word(&mut self, i: usize) -> usize {
        let starts_word = !char_before(self.text, i).is_some_and(char::is_alphanumeric);
        if starts_word {
            if let Some(end) = bare_url_end(&self.text[..self.end], i) {
                return end;
            }
        }
        i + run_while(self.text.as_bytes(), i, self.end, |b| {
            b.is_ascii_alphanumeric()
        })
    }

    /// An `@`: a key token when a citation may start here.
    fn at_sign(&mut self, i: usize) -> usize {
        let bytes = self.text.as_bytes();
        let dash = i > 0 && bytes[i - 1] == b'-' && self.not_after_word(i - 1);
        if !dash && !self.not_after_word(i) {
            return i + 1;
        }
        let start = if dash { i - 1 } else { i };
        let (key, end, braced, next) = if bytes.get(i + 1) == Some(&b'{') && i + 1 < self.end {
            let (inner, closed) = self.braced_key(i + 1);
            let next = if closed { inner.end + 1 } else { i + 2 };
            (
                inner.clone(),
                inner.end + usize::from(closed),
                Some(closed),
                next,
            )
        } else {
            let k = simple_key_end(&self.text[..self.end], i + 1).unwrap_or(i + 1);
            (i + 1..k, k, None, k.max(i + 1))
        };
        self.toks.push(Tok::Key(KeyTok {
            start,
            key,
            end,
            suppress_author: dash,
            braced,
        }));
        next
    }

    /// Pandoc's `notAfterString`: a citation may not start right after a
    /// word, which pandoc reads as alphanumerics with single dots (so
    /// `me@example.com` and `x.@key` are text, `_@key` and `(@key)` are not).
    fn not_after_word(&self, at: usize) -> bool {
        match char_before(self.text, at) {
            Some(c) if c.is_alphanumeric() => false,
            Some('.') => !char_before(self.text, at - 1).is_some_and(char::is_alphanumeric),
            _ => true,
        }
    }
}

fn run_length(bytes: &[u8], i: usize, b: u8) -> usize {
    bytes[i..].iter().take_while(|&&x| x == b).count()
}

fn run_while(bytes: &[u8], i: usize, end: usize, f: impl Fn(u8) -> bool) -> usize {
    bytes[i..end].iter().take_while(|&&b| f(b)).count().max(1)
}

/// The length of a URI scheme and its colon at the start of `s`
/// (`https:`, `mailto:`), as CommonMark's autolinks define a scheme.
fn has_scheme(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    if !bytes.first()?.is_ascii_alphabetic() {
        return None;
    }
    let n = 1 + bytes[1..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
        .count();
    ((2..=32).contains(&n) && bytes.get(n) == Some(&b':')).then_some(n + 1)
}

/// Where a bare URL starting at `i` ends (`https://…`, `www.…`, `mailto:…`),
/// trailing punctuation left out as GitHub's autolinker does.
fn bare_url_end(text: &str, i: usize) -> Option<usize> {
    let rest = &text[i..];
    let is_url = rest.starts_with("www.")
        || rest.starts_with("mailto:")
        || has_scheme(rest).is_some_and(|n| rest[n..].starts_with("//"));
    if !is_url {
        return None;
    }
    let len = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '[' | ']' | '`'))
        .unwrap_or(rest.len());
    let url =
        rest[..len].trim_end_matches(['.', ',', ';', ':', '!', '?', '\'', '"', '*', '_', '~']);
    let url = if url.ends_with(')') && url.matches('(').count() < url.matches(')').count() {
        &url[..url.len() - 1]
    } else {
        url
    };
    Some(i + url.len())
}

/// The end of pandoc's `simpleCiteIdentifier` starting at `start`, or `None`
/// when no key starts there.
pub(super) fn simple_key_end(text: &str, start: usize) -> Option<usize> {
    let first = char_at(text, start)?;
    if !is_regchar(first) && first != '*' {
        return None;
    }
    let mut end = start + first.len_utf8();
    while let Some(c) = char_at(text, end) {
        if is_regchar(c) {
            end += c.len_utf8();
            continue;
        }
        // Punctuation is ASCII, so the character after it is at end + 1.
        let next = char_at(text, end + 1);
        let internal = KEY_PUNCT.contains(c) && next.is_some_and(is_regchar);
        let before_slash = matches!(c, ':' | '/') && next == Some('/');
        if !(internal || before_slash) {
            break;
        }
        end += 1;
    }
    Some(end)
}
