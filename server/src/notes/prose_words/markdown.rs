//! Prose words of a Markdown note.
//!
//! The block structure comes from the citation scanner's block pass (runs
//! of paragraph and heading lines, without front matter, code blocks or
//! comment blocks); citation keys from the citation scanner itself. Within
//! a run, this pass skips what a reader does not see as words: code spans,
//! HTML comments and tags, autolinks, bare URLs, link destinations, `$math$`
//! and citation keys. List items and setext underlines start a block.
//!
//! Each run is read on its own: every search stops at the run's end, the
//! run's first word starts a block and its last one ends with it, so a run
//! gives the same words wherever it stands (what lets title detection keep
//! a run's titles until the run is edited).

use super::{blank_line_after, char_at, ProseWord, WordSink};
use crate::notes::markdown::prose_runs;
use std::ops::Range;

/// The farthest a tag or a link destination is looked for, in bytes.
const MAX_INLINE_SPAN: usize = 2048;

/// The words of a whole note; `keys` are the citation keys' ranges, sorted
/// by start.
pub(super) fn words(text: &str, keys: &[Range<usize>]) -> Vec<ProseWord> {
    let mut sink = WordSink::new();
    for run in prose_runs(text) {
        sink.boundary();
        let from = keys.partition_point(|k| k.start < run.start);
        let to = keys.partition_point(|k| k.start < run.end);
        run_words(text, run, &keys[from..to], &mut sink);
    }
    sink.finish()
}

/// The words of the prose run `run` of `text`, added to `sink`; `keys` are
/// the run's citation keys, by start. Nothing outside the run's bytes is
/// read, so the run's text alone (`run` then its whole length, keys
/// shifted) gives the same words.
pub(super) fn run_words(text: &str, run: Range<usize>, keys: &[Range<usize>], sink: &mut WordSink) {
    let mut scan = Scan {
        text,
        sink,
        keys,
        next_key: 0,
        end: 0,
        no_closing_run: Vec::new(),
        no_comment_end_from: None,
        no_dollar_from: None,
    };
    scan.run(run);
}

/// The state of a scan over one run: nothing of it outlives the run, so a
/// run's words never depend on the runs before it.
struct Scan<'t, 's> {
    text: &'t str,
    sink: &'s mut WordSink,
    /// The run's citation keys, by start; `next_key` is the first not yet
    /// passed.
    keys: &'t [Range<usize>],
    next_key: usize,
    /// The end of the run.
    end: usize,
    /// Failed searches remembered, so that many unclosed delimiters stay
    /// linear: no run of n backticks closes after `from`; no `-->` or
    /// closing `$` after the offset. Every search stops at the run's end,
    /// so these hold for the run only.
    no_closing_run: Vec<(usize, usize)>,
    no_comment_end_from: Option<usize>,
    no_dollar_from: Option<usize>,
}

impl Scan<'_, '_> {
    fn run(&mut self, run: Range<usize>) {
        self.end = run.end.min(self.text.len());
        let mut i = self.line_start(run.start);
        while i < self.end {
            i = self.step(i);
        }
        self.sink.flush();
    }

    /// Consumes what starts at `i` and returns where the next thing starts.
    fn step(&mut self, i: usize) -> usize {
        let bytes = self.text.as_bytes();
        match bytes[i] {
            b'\n' => {
                if blank_line_after(self.text, i) {
                    self.sink.boundary();
                }
                self.sink.flush();
                self.line_start(i + 1)
            }
            b'`' => self.code_span(i),
            b'<' => self.angle(i),
            b'\\' => {
                self.sink.flush();
                match bytes.get(i + 1) {
                    Some(b) if b.is_ascii_punctuation() => i + 2,
                    _ => i + 1,
                }
            }
            b']' if bytes.get(i + 1) == Some(&b'(') => {
                self.sink.flush();
                self.link_destination(i + 1)
            }
            b'$' => self.math(i),
            b'@' => self.citation_key(i),
            _ => {
                let Some(c) = char_at(self.text, i) else {
                    return i + 1;
                };
                if c.is_ascii_alphabetic() && !self.sink.is_open() {
                    if let Some(end) = bare_url_end(&self.text[..self.end], i) {
                        self.sink.boundary();
                        return end;
                    }
                }
                self.sink.char(i, c);
                i + c.len_utf8()
            }
        }
    }

    /// At the start of a line of the run: block quote markers and
    /// indentation are skipped; a list item or a setext underline starts a
    /// block. Returns where the line's content starts.
    fn line_start(&mut self, i: usize) -> usize {
        let line_end = self.text[i.min(self.end)..self.end]
            .find('\n')
            .map_or(self.end, |p| i + p);
        let line = &self.text[i.min(line_end)..line_end];
        let content = line.trim_start_matches([' ', '\t', '>']);
        let at = i + (line.len() - content.len());
        let trimmed = content.trim_end();
        let underline = !trimmed.is_empty()
            && (trimmed.bytes().all(|b| b == b'=')
                || trimmed
                    .bytes()
                    .all(|b| matches!(b, b'-' | b'*' | b'_' | b' ')));
        if underline {
            self.sink.boundary();
            return line_end;
        }
        if let Some(marker) = list_marker_len(content) {
            self.sink.boundary();
            return at + marker;
        }
        at
    }

    /// A code span, skipped whole; an unclosed backtick run is literal.
    fn code_span(&mut self, i: usize) -> usize {
        self.sink.flush();
        let bytes = self.text.as_bytes();
        let n = bytes[i..self.end]
            .iter()
            .take_while(|&&b| b == b'`')
            .count();
        let from = i + n;
        if self
            .no_closing_run
            .iter()
            .any(|&(len, at)| len == n && at <= from)
        {
            return from;
        }
        let mut j = from;
        while j < self.end {
            let m = bytes[j..self.end]
                .iter()
                .take_while(|&&b| b == b'`')
                .count();
            if m == n {
                self.sink.boundary();
                return j + m;
            }
            j += m.max(1);
        }
        self.no_closing_run.push((n, from));
        from
    }

    /// `<!-- comments -->`, `<tags …>` and `<autolinks>`: skipped.
    fn angle(&mut self, i: usize) -> usize {
        self.sink.flush();
        let rest = &self.text[i..self.end];
        if let Some(body) = rest.strip_prefix("<!--") {
            if self.no_comment_end_from.is_some_and(|at| at <= i) {
                return i + 1;
            }
            return match body.find("-->") {
                Some(p) => i + 4 + p + 3,
                None => {
                    self.no_comment_end_from = Some(i);
                    i + 1
                }
            };
        }
        let opens_tag = rest[1..]
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'/');
        let close = rest[1..]
            .bytes()
            .take(MAX_INLINE_SPAN)
            .position(|b| b == b'>' || b == b'<');
        match close {
            Some(p) if opens_tag && rest.as_bytes()[1 + p] == b'>' => {
                let body = &rest[1..1 + p];
                if body.contains(':') || body.contains('@') {
                    self.sink.boundary();
                }
                i + p + 2
            }
            _ => i + 1,
        }
    }

    /// After `](`: the link destination, parentheses balanced, skipped.
    fn link_destination(&mut self, open: usize) -> usize {
        let mut depth = 0usize;
        for (p, b) in self.text.as_bytes()[open..self.end]
            .iter()
            .enumerate()
            .take(MAX_INLINE_SPAN)
        {
            match b {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return open + p + 1;
                    }
                }
                _ => {}
            }
        }
        open
    }

    /// Pandoc's `$math$` (no space after the opening `$`, none before the
    /// closing one, no digit after it) and `$$display math$$`: skipped.
    fn math(&mut self, i: usize) -> usize {
        self.sink.flush();
        let bytes = self.text.as_bytes();
        if bytes.get(i + 1) == Some(&b'$') {
            return match self.text[i + 2..self.end].find("$$") {
                Some(p) => {
                    self.sink.boundary();
                    i + 2 + p + 2
                }
                None => i + 2,
            };
        }
        let opens = bytes
            .get(i + 1)
            .is_some_and(|b| !b.is_ascii_whitespace() && i + 1 < self.end);
        if !opens || self.no_dollar_from.is_some_and(|at| at <= i) {
            return i + 1;
        }
        let closing = (i + 2..self.end).find(|&j| {
            bytes[j] == b'$'
                && !bytes[j - 1].is_ascii_whitespace()
                && bytes[j - 1] != b'\\'
                && !bytes.get(j + 1).is_some_and(u8::is_ascii_digit)
        });
        match closing {
            Some(j) => {
                self.sink.boundary();
                j + 1
            }
            None => {
                self.no_dollar_from = Some(i);
                i + 1
            }
        }
    }

    /// An `@`: the citation key after it, if the citation scanner found
    /// one there, is skipped.
    fn citation_key(&mut self, i: usize) -> usize {
        self.sink.flush();
        while self.keys.get(self.next_key).is_some_and(|k| k.start <= i) {
            self.next_key += 1;
        }
        match self.keys.get(self.next_key) {
            Some(k)
                if k.start == i + 1
                    || (k.start == i + 2 && self.text.as_bytes()[i + 1] == b'{') =>
            {
                self.sink.boundary();
                let braced = self.text.as_bytes().get(k.end) == Some(&b'}') && k.start == i + 2;
                k.end + usize::from(braced)
            }
            _ => i + 1,
        }
    }
}

/// The length of a list marker and the space after it (`- `, `12. `).
fn list_marker_len(content: &str) -> Option<usize> {
    let bytes = content.as_bytes();
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let len = match bytes.first()? {
        b'-' | b'*' | b'+' => 1,
        _ if (1..=9).contains(&digits) && matches!(bytes.get(digits), Some(b'.' | b')')) => {
            digits + 1
        }
        _ => return None,
    };
    match bytes.get(len) {
        None => Some(len),
        Some(b' ' | b'\t') => Some(len + 1),
        _ => None,
    }
}

/// Where a bare URL starting at `i` ends (`https://…`, `www.…`,
/// `mailto:…`), trailing punctuation left to the prose.
fn bare_url_end(text: &str, i: usize) -> Option<usize> {
    let rest = &text[i..];
    let scheme = rest
        .bytes()
        .take(33)
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-')));
    let is_url = rest.starts_with("www.")
        || rest.starts_with("mailto:")
        || scheme.is_some_and(|n| n >= 2 && rest[n..].starts_with("://"));
    if !is_url {
        return None;
    }
    let len = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '[' | ']' | '`'))
        .unwrap_or(rest.len());
    let url =
        rest[..len].trim_end_matches(['.', ',', ';', ':', '!', '?', '\'', '"', '*', '_', ')']);
    Some(i + url.len().max(1))
}
