//! Paper titles written out in prose: which spans of a note's words are a
//! corpus title, or a title's coined short name ("Grokfast", "SlimFlow").
//!
//! Built once per corpus, read by every scan of a note. It works on words,
//! not characters: the notes layer turns a note into [`ProseWord`]s, each
//! normalised by [`normalize_word`](crate::text::words::normalize_word)
//! exactly as the titles are here, so case,
//! accents, punctuation, emphasis and line breaks never matter.
//!
//! Built for a million titles. Every distinct word gets a `u32` id; each
//! title is stored once as its id sequence in one arena, the titles sorted
//! by those sequences, so the titles that start with the same two words sit
//! side by side. A hash table keyed by a title's first two ids points at
//! the first of those titles; at each word of a note one lookup of the word
//! pair either fails (almost always) or gives a sorted run of candidates,
//! narrowed word by word with binary searches until the longest whole title
//! is left. Short names live in a separate sorted list keyed by word id.
//!
//! Which titles can match at all, and which short names exist, is decided
//! here (see [`TitleMatcher::build`]); the rules keep generic phrases such
//! as "Machine Translation" or a one-word title such as "Introduction" from
//! matching ordinary sentences. The titles those rules hold back (two words
//! or more) are kept in a second table and match only where the caller
//! says the writer marked them ([`TitleMatcher::find_marked`]: emphasis or
//! quotes around exactly that title, or the title's words in Title Case in
//! running text). It deliberately knows nothing of Markdown or LaTeX (the
//! notes layer's job) nor of what a match is used for.

mod build;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

use crate::corpus::entry_reload::Splice;
use crate::text::words::{NormalWord, ProseWord};

/// A run of prose words that is a title, or a title's short name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TitleMatch {
    /// The papers with this title (or short name), ascending.
    pub papers: Vec<usize>,
    /// Indices into the word slice given to [`TitleMatcher::find`].
    pub first_word: usize,
    pub last_word: usize,
    /// Matched by the short name alone, not the whole title.
    pub short_name: bool,
}

/// A word id for a note word that no title contains.
const UNKNOWN: u32 = u32::MAX;

/// A hasher for keys that are already well mixed (xxh3 word keys) or small
/// integers (mixed here with one multiplication).
#[derive(Clone, Copy, Default)]
struct MixHasher(u64);

impl Hasher for MixHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type MixMap<K, V> = HashMap<K, V, BuildHasherDefault<MixHasher>>;

/// The matchable titles, deduplicated: title `t` is the word ids
/// `tokens[token_starts[t]..token_starts[t + 1]]` and belongs to papers
/// `papers[paper_starts[t]..paper_starts[t + 1]]`. Sorted by word ids.
#[derive(Default)]
struct TitleTable {
    tokens: Vec<u32>,
    token_starts: Vec<u32>,
    papers: Vec<u32>,
    paper_starts: Vec<u32>,
}

impl TitleTable {
    fn len(&self) -> usize {
        self.token_starts.len().saturating_sub(1)
    }

    fn words(&self, t: usize) -> &[u32] {
        &self.tokens[self.token_starts[t] as usize..self.token_starts[t + 1] as usize]
    }

    fn papers(&self, t: usize) -> Vec<usize> {
        let range = self.paper_starts[t] as usize..self.paper_starts[t + 1] as usize;
        self.papers[range].iter().map(|&p| p as usize).collect()
    }
}

/// Open addressing from a title's first two word ids to the first title in
/// the table that starts with them: four bytes a slot, keys read back from
/// the titles themselves.
#[derive(Default)]
struct AnchorTable {
    slots: Vec<u32>,
}

impl AnchorTable {
    fn slot_of(&self, first: u32, second: u32) -> usize {
        let mut h = MixHasher::default();
        h.write_u64((u64::from(first) << 32) | u64::from(second));
        (h.finish() as usize) & (self.slots.len() - 1)
    }

    fn get(&self, titles: &TitleTable, first: u32, second: u32) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mut slot = self.slot_of(first, second);
        loop {
            let t = *self.slots.get(slot)?;
            if t == UNKNOWN {
                return None;
            }
            if titles.words(t as usize)[..2] == [first, second] {
                return Some(t as usize);
            }
            slot = (slot + 1) & (self.slots.len() - 1);
        }
    }
}

/// A title's short name: the coined word before its colon.
#[derive(Clone, Copy, Debug)]
struct ShortName {
    word: u32,
    /// The spelling in the title, case kept ([`NormalWord::cased`]).
    cased: u64,
    /// An ordinary word in coined casing ("ROUGE", "BERT"): it matches only
    /// when written exactly so.
    exact_only: bool,
    paper: u32,
}

/// Finds corpus titles and short names in a note's words; see the module
/// documentation. Immutable once built, and cheap to share.
#[derive(Default)]
pub struct TitleMatcher {
    /// Unique among the matchers this process built (0: an empty default):
    /// what results computed with it are remembered under.
    id: u64,
    vocabulary: MixMap<u64, u32>,
    titles: TitleTable,
    anchors: AnchorTable,
    /// Titles too short or too ordinary to match in running text, which
    /// match where the writer marked them.
    marked_titles: TitleTable,
    marked_anchors: AnchorTable,
    /// Sorted by word, then paper.
    short_names: Vec<ShortName>,
    /// Bit `w` is set when word `w` is some title's short name.
    short_name_words: Vec<u64>,
    /// Set for a matcher that stands in for another whose papers moved (a
    /// `.bib` reloaded by entry) until its own is built: the other's
    /// matches, papers at their new ordinals, replaced papers left out.
    moved_from: Option<(std::sync::Arc<TitleMatcher>, Splice)>,
}

/// A number no other matcher of this process has.
fn next_id() -> u64 {
    static BUILT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    BUILT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl TitleMatcher {
    /// The matcher of a corpus's titles. Which words count as ordinary (never
    /// a coined short name) is English (the embedded word list); the matcher
    /// itself adds the terms of the field (words in many of the corpus's
    /// titles), so "Transformers: …" in an ML corpus names no paper.
    pub fn for_corpus(corpus: &crate::corpus::Corpus) -> TitleMatcher {
        TitleMatcher::build(
            corpus.papers.iter().map(|p| p.title),
            &crate::text::words::is_english_word,
        )
    }

    /// `matcher` with its papers moved as `splice` moved them: it finds
    /// what `matcher` finds, but for the papers `splice` replaced (their
    /// new titles are found once a matcher of the new corpus is built,
    /// which takes a fifth of a second at 72k papers).
    pub fn moved(matcher: std::sync::Arc<TitleMatcher>, splice: Splice) -> TitleMatcher {
        TitleMatcher {
            id: next_id(),
            moved_from: Some((matcher, splice)),
            ..TitleMatcher::default()
        }
    }

    /// Which matcher this is, for remembering what it found.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Every title and short name in `words`, in order, none overlapping.
    /// At each word the longest whole title starting there is a candidate;
    /// where candidates overlap the longer one wins (so a title is not lost
    /// to a shorter one that happens to end with its first word); a word no
    /// title covers may be a short name.
    pub fn find(&self, words: &[ProseWord]) -> Vec<TitleMatch> {
        self.find_marked(words, &|_, _| false)
    }

    /// [`TitleMatcher::find`], and also the titles held back from running
    /// text wherever `marked(first, last)` says the words `first..=last`
    /// (indices into `words`) are marked by the writer as exactly a title.
    pub fn find_marked(
        &self,
        words: &[ProseWord],
        marked: &dyn Fn(usize, usize) -> bool,
    ) -> Vec<TitleMatch> {
        if let Some((matcher, splice)) = &self.moved_from {
            let mut found = matcher.find_marked(words, marked);
            for m in &mut found {
                m.papers = m
                    .papers
                    .iter()
                    .filter_map(|&p| splice.new_ordinal(p))
                    .collect();
            }
            found.retain(|m| !m.papers.is_empty());
            return found;
        }
        let ids: Vec<u32> = words
            .iter()
            .map(|w| self.vocabulary.get(&w.norm.key).copied().unwrap_or(UNKNOWN))
            .collect();
        // (first word, length, title, from the marked table)
        let mut candidates: Vec<(usize, usize, usize, bool)> = Vec::new();
        for i in 0..words.len() {
            if let Some((title, len)) =
                self.longest_title_at(&self.titles, &self.anchors, &ids, words, i, &|_| true)
            {
                candidates.push((i, len, title, false));
            }
            let is_marked = |len: usize| marked(i, i + len - 1);
            if let Some((title, len)) = self.longest_title_at(
                &self.marked_titles,
                &self.marked_anchors,
                &ids,
                words,
                i,
                &is_marked,
            ) {
                candidates.push((i, len, title, true));
            }
        }
        candidates.sort_by_key(|&(i, len, _, _)| (std::cmp::Reverse(len), i));
        let mut taken = vec![false; words.len()];
        let mut out = Vec::new();
        for (i, len, title, marked_only) in candidates {
            if taken[i..i + len].iter().any(|&t| t) {
                continue;
            }
            taken[i..i + len].iter_mut().for_each(|t| *t = true);
            let table = if marked_only {
                &self.marked_titles
            } else {
                &self.titles
            };
            out.push(TitleMatch {
                papers: table.papers(title),
                first_word: i,
                last_word: i + len - 1,
                short_name: false,
            });
        }
        for (i, word) in words.iter().enumerate().filter(|&(i, _)| !taken[i]) {
            let papers = self.short_name_papers(ids[i], &word.norm);
            if !papers.is_empty() {
                out.push(TitleMatch {
                    papers,
                    first_word: i,
                    last_word: i,
                    short_name: true,
                });
            }
        }
        out.sort_by_key(|m| m.first_word);
        out
    }

    /// The longest title of `titles` whose words start at word `i` and
    /// that `accept` takes (given its length in words): its index in the
    /// table and its length.
    fn longest_title_at(
        &self,
        titles: &TitleTable,
        anchors: &AnchorTable,
        ids: &[u32],
        words: &[ProseWord],
        i: usize,
        accept: &dyn Fn(usize) -> bool,
    ) -> Option<(usize, usize)> {
        let (&first, &second) = (ids.get(i)?, ids.get(i + 1)?);
        if first == UNKNOWN || second == UNKNOWN || words[i + 1].starts_block {
            return None;
        }
        let start = anchors.get(titles, first, second)?;
        let mut range = start..anchor_run_end(titles, start, [first, second]);
        let mut best = None;
        for depth in 2.. {
            // Titles sharing the first `depth` words sort shortest first, so
            // a title that ends here is at the front of the range (an empty
            // range still points into the table, at a title that differs).
            if !range.is_empty() && titles.words(range.start).len() == depth {
                if accept(depth) {
                    best = Some((range.start, depth));
                }
                range.start += 1;
            }
            let next = i + depth;
            if range.is_empty() || next >= words.len() || words[next].starts_block {
                break;
            }
            range = narrow(titles, range, depth, ids[next]);
        }
        best
    }

    /// The papers whose short name `word` is, written as `norm` allows.
    fn short_name_papers(&self, word: u32, norm: &NormalWord) -> Vec<usize> {
        let bit = self
            .short_name_words
            .get(word as usize / 64)
            .is_some_and(|bits| bits & (1 << (word % 64)) != 0);
        if word == UNKNOWN || !bit {
            return Vec::new();
        }
        let from = self.short_names.partition_point(|s| s.word < word);
        let mut papers: Vec<usize> = self.short_names[from..]
            .iter()
            .take_while(|s| s.word == word)
            .filter(|s| s.cased == norm.cased || (!s.exact_only && norm.has_upper))
            .map(|s| s.paper as usize)
            .collect();
        papers.dedup();
        papers
    }

    /// Titles that can match in full (deduplicated), short names, and the
    /// distinct words among all titles.
    pub fn stats(&self) -> MatcherStats {
        if let Some((matcher, _)) = &self.moved_from {
            return matcher.stats();
        }
        MatcherStats {
            titles: self.titles.len(),
            short_names: self.short_names.len(),
            words: self.vocabulary.len(),
        }
    }

    /// The bytes this matcher holds on the heap (hash tables estimated from
    /// their capacity).
    pub fn heap_bytes(&self) -> usize {
        fn vec<T>(v: &Vec<T>) -> usize {
            v.capacity() * std::mem::size_of::<T>()
        }
        // hashbrown: one control byte per bucket, buckets = capacity / 7 * 8.
        let buckets = self.vocabulary.capacity() / 7 * 8;
        buckets * (std::mem::size_of::<(u64, u32)>() + 1)
            + vec(&self.titles.tokens)
            + vec(&self.titles.token_starts)
            + vec(&self.titles.papers)
            + vec(&self.titles.paper_starts)
            + vec(&self.anchors.slots)
            + vec(&self.marked_titles.tokens)
            + vec(&self.marked_titles.token_starts)
            + vec(&self.marked_titles.papers)
            + vec(&self.marked_titles.paper_starts)
            + vec(&self.marked_anchors.slots)
            + vec(&self.short_names)
            + vec(&self.short_name_words)
    }
}

/// The end of the run of titles from `start` that begin with `pair`,
/// found by galloping then bisecting.
fn anchor_run_end(titles: &TitleTable, start: usize, pair: [u32; 2]) -> usize {
    let in_run = |t: usize| t < titles.len() && titles.words(t)[..2] == pair;
    let mut step = 1;
    let mut last_in = start;
    while in_run(start + step) {
        last_in = start + step;
        step *= 2;
    }
    let upper = (start + step).min(titles.len());
    last_in + 1 + partition(last_in + 1..upper, in_run)
}

/// The part of `range` (titles sharing their first `depth` words, all
/// longer than that) whose next word is `id`.
fn narrow(titles: &TitleTable, range: Range<usize>, depth: usize, id: u32) -> Range<usize> {
    if id == UNKNOWN {
        return range.start..range.start;
    }
    let word_at = |t: usize| titles.words(t)[depth];
    let lo = range.start + partition(range.clone(), |t| word_at(t) < id);
    let hi = lo + partition(lo..range.end, |t| word_at(t) <= id);
    lo..hi
}

/// How many titles, short names and words a matcher holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatcherStats {
    pub titles: usize,
    pub short_names: usize,
    pub words: usize,
}

/// How many of the leading indices in `range` satisfy `pred` (which holds
/// for a prefix of the range): a binary search over plain indices.
pub(super) fn partition(range: Range<usize>, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (range.start, range.end);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo - range.start
}
