//! The note scanners (citations, key completion contexts, prose words,
//! named bibliographies) and the title matcher on arbitrary text, taken as
//! an editor would send it: the bytes as UTF-8, invalid sequences replaced.

use super::{assert_slices, assert_within, probe_offsets};
use crate::index::title_matcher::TitleMatcher;
use crate::index::title_mentions::title_mentions;
use crate::notes::prose_words::{prose_words, ProseWord};
use crate::notes::{self, citation_at, citations_in, key_context_at, Language};
use crate::text::words::{is_english_word, normalize_word, title_words};

pub fn markdown(data: &[u8]) {
    check_note(&String::from_utf8_lossy(data), Language::Markdown);
}

pub fn latex(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_note(&text, Language::Latex);
    notes::latex_structure(&text);
}

/// Titles and a note from one input: the lines before the first blank line
/// are titles (at most eight), the rest is the note. The note, and the
/// titles written out as paragraphs, are scanned in both languages.
pub fn title_matcher(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (head, note) = text.split_once("\n\n").unwrap_or((&text, ""));
    let titles: Vec<&str> = head.lines().take(8).collect();
    let matcher = TitleMatcher::build(titles.iter().copied(), &is_english_word);
    let written_out = titles.join("\n\n");
    for text in [note, written_out.as_str()] {
        for lang in [Language::Markdown, Language::Latex] {
            check_title_matches(&matcher, &titles, text, lang);
        }
    }
}

fn check_note(text: &str, lang: Language) {
    let cits = citations_in(text, lang);
    for c in &cits {
        assert_slices(text, &c.range, "citation key");
        assert_slices(text, &c.whole, "citation");
        assert_within(&c.range, &c.whole, "citation key");
        assert!(!c.key.is_empty(), "empty citation key at {:?}", c.range);
        assert_eq!(text[c.range.clone()], c.key, "citation key");
    }
    for pair in cits.windows(2) {
        assert!(
            pair[0].range.end < pair[1].range.start,
            "citation keys out of order or touching: {:?} then {:?}",
            pair[0].range,
            pair[1].range
        );
    }
    for offset in probe_offsets(text, 16, b"@{},;[]\\") {
        let expected = cits
            .iter()
            .find(|c| c.range.start <= offset && offset <= c.range.end);
        assert_eq!(citation_at(&cits, offset), expected, "citation at {offset}");
        if let Some(cx) = key_context_at(text, lang, offset) {
            assert_slices(text, &cx.range, "key context");
            assert!(
                cx.range.start <= offset && offset <= cx.range.end,
                "key context {:?} does not hold the cursor {offset}",
                cx.range
            );
            assert_eq!(cx.typed, text[cx.range.start..offset], "typed key");
        }
    }
    assert_eq!(key_context_at(text, lang, text.len() + 1), None);
    check_words(text, &prose_words(text, lang));
    notes::bibliographies_named(text, lang);
}

/// Prose words are non-empty, in order, and never overlap.
fn check_words(text: &str, words: &[ProseWord]) {
    for w in words {
        assert_slices(text, &w.range, "prose word");
        assert!(!w.range.is_empty(), "empty prose word at {:?}", w.range);
    }
    for pair in words.windows(2) {
        assert!(
            pair[0].range.end <= pair[1].range.start,
            "prose words out of order or overlapping: {:?} then {:?}",
            pair[0].range,
            pair[1].range
        );
    }
}

/// Matches name real papers, in order and apart; a whole-title match is
/// word for word the title of each paper it names; every mention's range
/// slices the text.
fn check_title_matches(matcher: &TitleMatcher, titles: &[&str], text: &str, lang: Language) {
    let words = prose_words(text, lang);
    check_words(text, &words);
    let found = matcher.find(&words);
    for m in &found {
        assert!(m.first_word <= m.last_word && m.last_word < words.len());
        assert!(!m.papers.is_empty(), "a match without papers");
        assert!(m.papers.windows(2).all(|p| p[0] < p[1]), "papers unsorted");
        assert!(m.papers.iter().all(|&p| p < titles.len()), "no such paper");
        let matched: Vec<u64> = words[m.first_word..=m.last_word]
            .iter()
            .map(|w| w.norm.key)
            .collect();
        if m.short_name {
            assert_eq!(m.first_word, m.last_word, "a short name of several words");
            continue;
        }
        for &p in &m.papers {
            let title: Vec<u64> = title_words(titles[p])
                .filter_map(normalize_word)
                .map(|n| n.key)
                .collect();
            assert_eq!(matched, title, "match is not the title {:?}", titles[p]);
        }
    }
    for pair in found.windows(2) {
        assert!(pair[0].last_word < pair[1].first_word, "matches overlap");
    }
    let mentions = title_mentions(matcher, text, lang);
    assert_eq!(mentions.len(), found.len());
    for mention in &mentions {
        assert_slices(text, &mention.range, "title mention");
        assert!(!mention.range.is_empty(), "empty title mention");
    }
}
