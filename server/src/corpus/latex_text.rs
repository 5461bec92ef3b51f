//! LaTeX in BibTeX field values turned into the plain Unicode text that cards,
//! completion labels and the search index show: accents composed (`{\"o}` → ö),
//! escapes and ligatures resolved (`\&` → &, `--` → –), formatting commands and
//! case-protecting braces dropped with their text kept, inline math flattened
//! to readable text (`$O(n^2)$` → `O(n^2)`).
//!
//! This is a display converter, not a TeX engine: it never fails, and what it
//! does not know it keeps as text (an unknown command's braced argument) or
//! drops (an unknown bare command). Text that is already Unicode passes
//! through untouched apart from whitespace, which is collapsed to single spaces.

mod symbols;

use symbols::{
    accent_mark, accent_mark_letter, is_math_operator, letter_command, spacing_accent,
    symbol_command,
};
use unicode_normalization::char::compose;

/// Display text of a BibTeX field's raw TeX.
pub fn tex_to_unicode(raw: &str) -> String {
    let mut converter = Converter {
        raw,
        bytes: raw.as_bytes(),
        pos: 0,
        out: String::with_capacity(raw.len()),
        pending: Vec::new(),
        math: false,
    };
    converter.run();
    let trimmed_len = converter.out.trim_end().len();
    converter.out.truncate(trimmed_len);
    converter.out
}

/// Text of an identifier-like field (DOI, URL, eprint) with TeX escapes and
/// braces removed but nothing else touched: `10.1007/x\_1` → `10.1007/x_1`,
/// `\url{https://a.org/~b}` → `https://a.org/~b`.
pub fn tex_to_verbatim(raw: &str) -> String {
    if !raw
        .bytes()
        .any(|b| matches!(b, b'\\' | b'{' | b'}') || b.is_ascii_whitespace())
    {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' | '}' => {}
            '\\' => match chars.peek() {
                // A command name such as `\url` or `\textasciitilde`: its
                // argument (if any) is the text we want.
                Some(n) if n.is_ascii_alphabetic() => {
                    let mut name = String::new();
                    while let Some(&n) = chars.peek().filter(|n| n.is_ascii_alphabetic()) {
                        name.push(n);
                        chars.next();
                    }
                    if name == "textasciitilde" {
                        out.push('~');
                    }
                }
                Some(&n) => {
                    if !n.is_whitespace() {
                        out.push(n);
                    }
                    chars.next();
                }
                None => {}
            },
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// `SPECIAL[b]` flags: bytes that mean something in text (`TEXT`) or in math
/// (`MATH`); `SOFT` ones (space, `-`, `'`) only when doubled. Everything
/// else is copied as it is.
const TEXT: u8 = 1;
const MATH: u8 = 2;
const SOFT: u8 = 4;
const SPECIAL: [u8; 256] = {
    let mut table = [0u8; 256];
    let both = [b'\\', b'{', b'}', b'$', b'~', b'\t', b'\n', b'\r'];
    let mut i = 0;
    while i < both.len() {
        table[both[i] as usize] = TEXT | MATH;
        i += 1;
    }
    table[b' ' as usize] = TEXT | MATH | SOFT;
    table[b'-' as usize] = TEXT | SOFT;
    table[b'\'' as usize] = TEXT | SOFT;
    table[b'`' as usize] = TEXT;
    table
};

/// True when the first 16 bytes of `window` (17 long) are text to copy as
/// is: nothing special, and no space, `-` or `'` doubled (the 17th byte
/// counts as the neighbour of the 16th). Branch-free, so long plain runs are
/// checked much faster than byte by byte.
fn plain_chunk(window: &[u8; 17]) -> bool {
    let mut flags = 0u8;
    for i in 0..16 {
        let class = SPECIAL[window[i] as usize];
        let doubled = u8::from(window[i] == window[i + 1]);
        flags |= if class & SOFT != 0 {
            doubled
        } else {
            class & TEXT
        };
    }
    flags == 0
}

struct Converter<'a> {
    raw: &'a str,
    bytes: &'a [u8],
    pos: usize,
    out: String,
    /// Combining marks of accent commands still waiting for their base
    /// letter, outermost first (`\'{\^e}` → [acute, circumflex]).
    pending: Vec<char>,
    math: bool,
}

impl Converter<'_> {
    fn run(&mut self) {
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            match b {
                b'\\' => self.command(),
                b'{' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    // `\~{}` and `\^{}` are how TeX writes a bare tilde or caret.
                    self.flush_pending_as_spacing();
                }
                b'$' => {
                    self.pos += 1;
                    self.math = !self.math;
                }
                b'~' => {
                    self.pos += 1;
                    self.space();
                }
                b' ' | b'\t' | b'\n' | b'\r' => {
                    self.pos += 1;
                    if self.pending.is_empty() {
                        self.space();
                    }
                }
                b'-' if !self.math => self.dashes(),
                b'`' if !self.math => self.quote(b'`', '‘', '“'),
                b'\'' if !self.math => self.quote(b'\'', '\'', '”'),
                _ => self.plain_run(),
            }
        }
    }

    /// Copies ordinary text up to the next byte that means something.
    fn plain_run(&mut self) {
        let start = self.pos;
        if !self.pending.is_empty() {
            // The next character is an accent's base: take exactly one.
            let c = self.raw[start..].chars().next().unwrap_or(' ');
            self.pos += c.len_utf8();
            self.emit(c);
            return;
        }
        let mask = if self.math { MATH } else { TEXT };
        let bytes = self.bytes;
        let mut end = start + 1;
        if !self.math {
            while let Some(window) = bytes.get(end..end + 17) {
                match window.try_into() {
                    Ok(window) if plain_chunk(window) => end += 16,
                    _ => break,
                }
            }
        }
        while end < bytes.len() {
            let b = bytes[end];
            if SPECIAL[b as usize] & mask != 0 {
                // A single space between words needs no collapsing: copying
                // it with the words is what makes long plain text fast.
                let single_space = b == b' '
                    && bytes
                        .get(end + 1)
                        .is_some_and(|&next| !next.is_ascii_whitespace());
                if !single_space {
                    break;
                }
            }
            end += 1;
        }
        // Specials are ASCII, so `end` is always on a char boundary.
        self.out.push_str(&self.raw[start..end]);
        self.pos = end;
    }

    fn dashes(&mut self) {
        let run = self.bytes[self.pos..]
            .iter()
            .take(3)
            .take_while(|&&b| b == b'-')
            .count();
        self.pos += run;
        self.emit(match run {
            1 => '-',
            2 => '–',
            _ => '—',
        });
    }

    fn quote(&mut self, byte: u8, single: char, double: char) {
        if self.bytes.get(self.pos + 1) == Some(&byte) {
            self.pos += 2;
            self.emit(double);
        } else {
            self.pos += 1;
            self.emit(single);
        }
    }

    /// Pushes one character, composing any pending accents onto it.
    fn emit(&mut self, c: char) {
        if self.pending.is_empty() {
            self.out.push(c);
            return;
        }
        // Dotless i and j only exist as bases for accents.
        let mut base = match c {
            'ı' => 'i',
            'ȷ' => 'j',
            c => c,
        };
        let mut leftover = Vec::new();
        for mark in self.pending.drain(..).rev() {
            match compose(base, mark) {
                Some(composed) if leftover.is_empty() => base = composed,
                _ => leftover.push(mark),
            }
        }
        self.out.push(base);
        self.out.extend(leftover);
    }

    fn emit_str(&mut self, s: &str) {
        let mut chars = s.chars();
        if let Some(first) = chars.next() {
            self.emit(first);
        }
        self.out.push_str(chars.as_str());
    }

    fn space(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with(' ') {
            self.out.push(' ');
        }
    }

    fn flush_pending_as_spacing(&mut self) {
        for mark in std::mem::take(&mut self.pending) {
            if let Some(c) = spacing_accent(mark) {
                self.out.push(c);
            }
        }
    }

    fn skip_whitespace(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    /// Handles a backslash: a control symbol (`\&`, `\"`) or a control word.
    fn command(&mut self) {
        self.pos += 1;
        let Some(&next) = self.bytes.get(self.pos) else {
            return;
        };
        if !next.is_ascii_alphabetic() {
            let c = self.raw[self.pos..].chars().next().unwrap_or(' ');
            self.pos += c.len_utf8();
            self.control_symbol(c);
            return;
        }
        let start = self.pos;
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_alphabetic() {
            self.pos += 1;
        }
        let name = &self.raw[start..self.pos];
        // TeX swallows the spaces after a control word; in math we keep them
        // because the display text has no other way to separate symbols.
        if !self.math {
            self.skip_whitespace();
        }
        self.control_word(name);
    }

    fn control_symbol(&mut self, c: char) {
        if let Some(mark) = accent_mark(c) {
            self.pending.push(mark);
            self.skip_whitespace();
            return;
        }
        match c {
            ' ' | '\n' | '\t' | '\r' | '\\' | ',' | ';' | ':' => self.space(),
            '-' | '/' | '@' | '!' => {}
            '(' | '[' => self.math = true,
            ')' | ']' => self.math = false,
            c => self.emit(c),
        }
    }

    fn control_word(&mut self, name: &str) {
        if name.len() == 1 {
            if let Some(mark) = accent_mark_letter(name.as_bytes()[0]) {
                self.pending.push(mark);
                return;
            }
        }
        if let Some(text) = letter_command(name).or_else(|| symbol_command(name)) {
            self.emit_str(text);
            return;
        }
        match name {
            "url" => self.verbatim_argument(),
            // The first argument is the link target; the second, read on as
            // ordinary text, is what the reader sees.
            "href" => self.skip_group(),
            _ if self.math && is_math_operator(name) => self.emit_str(name),
            // Anything else (`\emph`, `\textbf`, `\mathrm`, unknown macros)
            // is dropped; a braced argument that follows is read as text.
            _ => {}
        }
    }

    /// `\url{...}`: the argument is shown as written (`~`, `--` and `%` kept).
    fn verbatim_argument(&mut self) {
        if self.bytes.get(self.pos) != Some(&b'{') {
            return;
        }
        let start = self.pos + 1;
        let end = self.group_end(self.pos);
        let closed = self.bytes.get(end.wrapping_sub(1)) == Some(&b'}') && end > start;
        let inner = &self.raw[start..if closed { end - 1 } else { end }];
        self.emit_str(&tex_to_verbatim(inner));
        self.pos = end;
    }

    fn skip_group(&mut self) {
        if self.bytes.get(self.pos) == Some(&b'{') {
            self.pos = self.group_end(self.pos);
        }
    }

    /// Offset just past the `}` matching the `{` at `open` (or the end).
    fn group_end(&self, open: usize) -> usize {
        let mut depth = 0usize;
        for (i, &b) in self.bytes.iter().enumerate().skip(open) {
            match b {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
        }
        self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, expected: &str) {
        assert_eq!(tex_to_unicode(raw), expected, "input: {raw:?}");
    }

    #[test]
    fn accents_in_every_spelling() {
        check(r#"{\"o}"#, "ö");
        check(r#"\"{o}"#, "ö");
        check(r#"\"o"#, "ö");
        check(r#"G\"odel"#, "Gödel");
        check(r"\'e", "é");
        check(r"\^a", "â");
        check(r"\`a", "à");
        check(r"\~n", "ñ");
        check(r"\=a", "ā");
        check(r"\.z", "ż");
        check(r"\u{g}", "ğ");
        check(r"\u g", "ğ");
        check(r"\v{c}", "č");
        check(r"\v c", "č");
        check(r"\H{o}", "ő");
        check(r"\c{c}", "ç");
        check(r"\c c", "ç");
        check(r"\k{a}", "ą");
        check(r"\r{a}", "å");
        check(r"\d{s}", "ṣ");
        check(r"\b{k}", "ḵ");
        check(r"Erd{\H{o}}s", "Erdős");
        check(r"{\v{S}}koda", "Škoda");
    }

    #[test]
    fn dotless_bases_and_stacked_accents() {
        check(r"\'{\i}", "í");
        check(r"\'\i", "í");
        check(r"{\'\i}", "í");
        check(r"\v{\j}", "ǰ");
        check(r"\'{\^e}", "ế");
    }

    #[test]
    fn special_letters() {
        check(r"Stra\ss e", "Straße");
        check(r"{\o}", "ø");
        check(r"\O", "Ø");
        check(r"\ae{}", "æ");
        check(r"\AE", "Æ");
        check(r"{\oe}uvre", "œuvre");
        check(r"\OE", "Œ");
        check(r"{\aa}", "å");
        check(r"\AA", "Å");
        check(r"{\l}ukasz", "łukasz");
        check(r"\L{}ód\'z", "Łódź");
    }

    #[test]
    fn tex_logos() {
        check(
            r"The Not So Short Introduction to \LaTeXe{}",
            "The Not So Short Introduction to LaTeX2ε",
        );
        check(r"\BibTeX\ and \LaTeX", "BibTeX and LaTeX");
    }

    #[test]
    fn escapes() {
        check(r"R\&D", "R&D");
        check(r"90\%", "90%");
        check(r"\$5", "$5");
        check(r"\#1", "#1");
        check(r"a\_b", "a_b");
        check(r"\{x\}", "{x}");
    }

    #[test]
    fn ligatures_and_quotes() {
        check("a~b", "a b");
        check("3--24", "3–24");
        check("yes---no", "yes—no");
        check("``quoted''", "“quoted”");
        check("`single'", "‘single'");
        check("it's", "it's");
        check("well-known", "well-known");
    }

    #[test]
    fn formatting_commands_keep_their_text() {
        check(r"\textit{Deep} learning", "Deep learning");
        check(r"\emph{x}", "x");
        check(r"\textbf{bold} and \textsc{Caps}", "bold and Caps");
        check(r"$\mathrm{d}x$", "dx");
        check(r"\url{https://a.org/~b_c--d}", "https://a.org/~b_c--d");
        check(r"see \href{https://x.org}{the site}", "see the site");
        check(r"\unknown{kept} text", "kept text");
        check(r"a \relax b", "a b");
    }

    #[test]
    fn case_protection_removed() {
        check("{GAN}s", "GANs");
        check("The {{BERT}} model", "The BERT model");
        check("{Barnes and Noble}", "Barnes and Noble");
    }

    #[test]
    fn inline_math() {
        check("$O(n^2)$", "O(n^2)");
        check(r"$\alpha$-helix", "α-helix");
        check(r"$\Omega(n \log n)$", "Ω(n log n)");
        check(r"$n \times m$", "n × m");
        check(r"$a \leq b \geq c$", "a ≤ b ≥ c");
        check(r"$\infty$, $\rightarrow$, $\cdot$", "∞, →, ·");
        check(r"$\pm 1$ $\approx$ $\sim$", "± 1 ≈ ∼");
        check(r"$\mathbb {{F}}_p$-Based", "F_p-Based");
        check(r"\(x_1\)", "x_1");
        check("$a--b$", "a--b");
    }

    #[test]
    fn whitespace_collapsed_and_trimmed() {
        check("  a \n\t b\r\n c  ", "a b c");
        check("one\n\ntwo", "one two");
        check("", "");
        check("   ", "");
    }

    #[test]
    fn unicode_passes_through() {
        check("Özgür Çelik — naïve", "Özgür Çelik — naïve");
        check("日本語 テキスト", "日本語 テキスト");
        let decomposed = "e\u{301}";
        check(decomposed, decomposed);
    }

    #[test]
    fn odd_input_never_panics() {
        for raw in [
            "\\", "{", "}", "$", "\\\"", "\\'{", "\\u", "{\\", "\\url{", "\\href{", "\\~{}", "a\\",
            "\\é", "\\\"é", "}}}{{{", "$$$", "\\'{}", "---- --",
        ] {
            let _ = tex_to_unicode(raw);
            let _ = tex_to_verbatim(raw);
        }
        check(r"\~{}", "~");
        check(r"\'{}", "'");
    }

    #[test]
    fn verbatim_identifiers() {
        assert_eq!(tex_to_verbatim(r"10.1007/978-3\_2"), "10.1007/978-3_2");
        assert_eq!(
            tex_to_verbatim(r"\url{https://x.org/a\%20b}"),
            "https://x.org/a%20b"
        );
        assert_eq!(tex_to_verbatim(r" {10.1/ABC} "), "10.1/ABC");
        assert_eq!(
            tex_to_verbatim(r"http://a.org/\textasciitilde b"),
            "http://a.org/~b"
        );
    }
}
