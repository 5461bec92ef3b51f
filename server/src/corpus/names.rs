//! BibTeX name lists (`author`, `editor`) split into `Person`s the way BibTeX
//! itself reads them: names separated by the word `and` outside braces, each in
//! one of the forms "First von Last", "von Last, First" or
//! "von Last, Jr, First"; a fully braced name (`{Google DeepMind}`) is a
//! literal kept whole as the family name; `and others` is dropped.
//!
//! Splitting happens on the raw TeX, so that braces still protect `and` and
//! commas; each part is then turned into display text with `tex_to_unicode`.
//! The `von` particle stays in the family name ("van Beethoven"); a `Jr` part
//! is appended to it ("Ford Jr."), since `Person` has no suffix field.

use super::latex_text::tex_to_unicode;
use super::paper::Person;
use std::ops::Range;

/// People of a BibTeX name list, in order.
pub fn parse_names(raw_tex: &str) -> Vec<Person> {
    split_on_and(raw_tex)
        .into_iter()
        .map(str::trim)
        .filter(|name| !name.is_empty() && !name.eq_ignore_ascii_case("others"))
        .map(parse_name)
        .filter(|person| !(person.given.is_empty() && person.family.is_empty()))
        .collect()
}

/// Splits on `and` (any case) surrounded by whitespace, outside braces.
fn split_on_and(raw: &str) -> Vec<&str> {
    let bytes = raw.as_bytes();
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b if depth == 0 && is_name_space(b) && is_and_at(bytes, i + 1) => {
                // `is_and_at` checked bytes i+1..i+4 are ASCII, so these are
                // char boundaries.
                names.push(&raw[start..i]);
                start = i + 4;
                i += 4;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    names.push(&raw[start..]);
    names
}

fn is_and_at(bytes: &[u8], i: usize) -> bool {
    bytes.len() > i + 3
        && bytes[i..i + 3].eq_ignore_ascii_case(b"and")
        && is_name_space(bytes[i + 3])
}

fn is_name_space(b: u8) -> bool {
    b.is_ascii_whitespace()
}

fn parse_name(name: &str) -> Person {
    if is_fully_braced(name) {
        return Person {
            given: String::new(),
            family: tex_to_unicode(name),
        };
    }
    let mut parts = TopLevelSplit::new(name, |b| b == b',').map(|range| name[range].trim());
    match (parts.next(), parts.next(), parts.next()) {
        (Some(von_last), Some(jr), Some(first)) => Person {
            given: tex_to_unicode(first),
            family: tex_to_unicode(&format!("{von_last} {jr}")),
        },
        (Some(von_last), Some(first), None) => Person {
            given: tex_to_unicode(first),
            family: tex_to_unicode(von_last),
        },
        (Some(whole), _, _) => first_von_last(whole),
        (None, _, _) => Person::default(),
    }
}

/// "First von Last": the family name starts at the first lower-case word
/// (the `von` part) or, when there is none, is the last word.
fn first_von_last(name: &str) -> Person {
    let mut words = TopLevelSplit::new(name, |b| b.is_ascii_whitespace() || b == b'~')
        .filter(|range| !range.is_empty());
    let Some(mut last) = words.next() else {
        return Person::default();
    };
    let mut von_start = None;
    for word in words {
        // `last` is now known not to be the last word, so it may be `von`.
        if von_start.is_none() && starts_lower_case(&name[last.clone()]) {
            von_start = Some(last.start);
        }
        last = word;
    }
    let family_start = von_start.unwrap_or(last.start);
    // The words are contiguous in `name`, so each part is one slice of it;
    // `tex_to_unicode` collapses the spaces between words.
    Person {
        given: tex_to_unicode(&name[..family_start]),
        family: tex_to_unicode(&name[family_start..]),
    }
}

/// True when the whole name is one brace group: `{Barnes and Noble}`.
fn is_fully_braced(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.first() != Some(&b'{') {
        return false;
    }
    let mut depth = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i == bytes.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

/// Byte ranges between bytes matching `is_separator` outside braces; a
/// separator right after a backslash (`\~`) belongs to a command and does not
/// split. Lazy, so splitting a name allocates nothing.
struct TopLevelSplit<'a> {
    bytes: &'a [u8],
    is_separator: fn(u8) -> bool,
    /// Start of the next range; past the end once the last one was given.
    start: usize,
}

impl<'a> TopLevelSplit<'a> {
    fn new(text: &'a str, is_separator: fn(u8) -> bool) -> Self {
        TopLevelSplit {
            bytes: text.as_bytes(),
            is_separator,
            start: 0,
        }
    }
}

impl Iterator for TopLevelSplit<'_> {
    type Item = Range<usize>;

    fn next(&mut self) -> Option<Range<usize>> {
        let start = self.start;
        if start > self.bytes.len() {
            return None;
        }
        let mut depth = 0usize;
        for i in start..self.bytes.len() {
            match self.bytes[i] {
                b'{' => depth += 1,
                b'}' => depth = depth.saturating_sub(1),
                b if depth == 0
                    && (self.is_separator)(b)
                    && (i == 0 || self.bytes[i - 1] != b'\\') =>
                {
                    self.start = i + 1;
                    return Some(start..i);
                }
                _ => {}
            }
        }
        self.start = self.bytes.len() + 1;
        Some(start..self.bytes.len())
    }
}

/// BibTeX's test for a `von` word: its first letter outside braces is lower
/// case. A word starting with a plain brace group is caseless (not `von`);
/// a special character such as `{\"o}` counts by the letter it makes.
fn starts_lower_case(word: &str) -> bool {
    let bytes = word.as_bytes();
    if bytes.first() == Some(&b'{') {
        if bytes.get(1) != Some(&b'\\') {
            return false;
        }
        return first_letter_is_lower(&tex_to_unicode(word));
    }
    if bytes.first() == Some(&b'\\') {
        return first_letter_is_lower(&tex_to_unicode(word));
    }
    first_letter_is_lower(word)
}

fn first_letter_is_lower(text: &str) -> bool {
    text.chars()
        .find(|c| c.is_alphabetic())
        .is_some_and(char::is_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(given: &str, family: &str) -> Person {
        Person {
            given: given.to_string(),
            family: family.to_string(),
        }
    }

    #[test]
    fn last_comma_first() {
        assert_eq!(
            parse_names("Knuth, Donald E."),
            vec![person("Donald E.", "Knuth")]
        );
    }

    #[test]
    fn first_last() {
        assert_eq!(
            parse_names("Donald E. Knuth"),
            vec![person("Donald E.", "Knuth")]
        );
        assert_eq!(
            parse_names("Donald~E.~Knuth"),
            vec![person("Donald E.", "Knuth")]
        );
        assert_eq!(parse_names("Aristotle"), vec![person("", "Aristotle")]);
    }

    #[test]
    fn von_particles() {
        assert_eq!(
            parse_names("Ludwig van Beethoven"),
            vec![person("Ludwig", "van Beethoven")]
        );
        assert_eq!(
            parse_names("van Beethoven, Ludwig"),
            vec![person("Ludwig", "van Beethoven")]
        );
        assert_eq!(
            parse_names("Charles Louis Xavier Joseph de la Vall{\\'e}e Poussin"),
            vec![person(
                "Charles Louis Xavier Joseph",
                "de la Vallée Poussin"
            )]
        );
    }

    #[test]
    fn junior_part() {
        assert_eq!(
            parse_names("Ford, Jr., Henry"),
            vec![person("Henry", "Ford Jr.")]
        );
    }

    #[test]
    fn accents_converted_after_splitting() {
        assert_eq!(
            parse_names(r#"{\"O}zg{\"u}r, A."#),
            vec![person("A.", "Özgür")]
        );
        assert_eq!(
            parse_names(r#"A. {\"O}zg{\"u}r"#),
            vec![person("A.", "Özgür")]
        );
        assert_eq!(
            parse_names(r"Jos{\'e} and Fran\c{c}ois"),
            vec![person("", "José"), person("", "François")]
        );
    }

    #[test]
    fn braced_names_are_literal() {
        assert_eq!(
            parse_names("{Barnes and Noble}"),
            vec![person("", "Barnes and Noble")]
        );
        assert_eq!(
            parse_names("{Google DeepMind} and Jane Doe"),
            vec![person("", "Google DeepMind"), person("Jane", "Doe")]
        );
    }

    #[test]
    fn and_splitting() {
        assert_eq!(
            parse_names("A and B and others"),
            vec![person("", "A"), person("", "B")]
        );
        assert_eq!(
            parse_names("Zhuohui Feng and\n                  Ye Luo AND Ling Song"),
            vec![
                person("Zhuohui", "Feng"),
                person("Ye", "Luo"),
                person("Ling", "Song")
            ]
        );
        assert_eq!(
            parse_names("Alexander Andersen"),
            vec![person("Alexander", "Andersen")]
        );
        assert_eq!(parse_names("Sandy Band"), vec![person("Sandy", "Band")]);
    }

    #[test]
    fn empty_and_odd_input() {
        assert!(parse_names("").is_empty());
        assert!(parse_names("   \n ").is_empty());
        assert!(parse_names(" and and ").is_empty());
        for raw in [
            "{",
            "}",
            ",",
            ",,,",
            "{a,",
            "\\",
            "and",
            "x and",
            "a, b, c, d",
        ] {
            let _ = parse_names(raw);
        }
    }
}
