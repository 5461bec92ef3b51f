//! Building a [`TitleMatcher`]: which titles may match in full, which have
//! a short name, and the compact tables the matcher reads.
//!
//! The rules, for a title's words after normalisation. A word is a *term
//! of the field* when more than 10 titles contain it ("LiDAR", "CLIP",
//! "SLAM" in a computer-vision corpus): common coin, not a paper's name.
//! - A whole title matches only when it has at least two words and is long
//!   enough to be specific: 8 characters when one of its words is coined
//!   (neither an ordinary word nor a term of the field), else at least 4
//!   words and 16 characters. So "Attention Is All You Need" and "Grokfast
//!   Revisited" match, and the generic "Machine Translation", "LiDAR
//!   Odometry", "Author Index" or "Is It Worth It" do not; "Translation" or
//!   "Introduction" never match in full.
//! - A short name is the text before a title's first colon (or a one-word
//!   title itself) when that is a single word of at least 4 characters, two
//!   of them letters, that is coined: it has a capital after its first
//!   letter or a digit ("SlimFlow", "MeshCNN", "GPT4"), or it is not an
//!   ordinary word ("Grokfast"). Plural acronyms ("LLMs", "GANs") name a kind
//!   of thing, not a paper, and are left out; so are terms of the field
//!   ("CLIP", "ResNet", and "BERT" in a corpus full of BERT papers) and a
//!   short name more than three papers share, which name no paper in
//!   particular.
//! - In prose, a short name that is not an ordinary word matches when
//!   written with any capital letter ("Grokfast", "GROKFAST") or exactly as
//!   in the title; one that is an ordinary word only in coined casing
//!   ("ROUGE", "BERT") matches only exactly so, never as "rouge" or "Rouge".
//!   Lower-case "grokfast" does not match, since running text in lower case
//!   is where an accidental coincidence would be.

use super::{AnchorTable, MixMap, ShortName, TitleMatcher, TitleTable, UNKNOWN};
use crate::text::words::{
    fold_into, fold_lower, key_of_folded, normal_word_of_folded, title_words,
};

/// Characters a title with a coined word needs to match in full.
const MIN_TITLE_CHARS: u32 = 8;
/// Words and characters a title of ordinary words needs to match in full.
const MIN_ORDINARY_TITLE_WORDS: usize = 4;
const MIN_ORDINARY_TITLE_CHARS: u32 = 16;
/// The shortest short name, in characters.
const MIN_SHORT_NAME_CHARS: usize = 4;
/// A short name shared by more papers than this names none of them.
const MAX_SHORT_NAME_PAPERS: usize = 3;
/// A word in more titles than this is a term of the field, not a name.
const MAX_NAME_TITLES: u32 = 10;

impl TitleMatcher {
    /// A matcher over `titles`, where title `i` is the title of paper `i`.
    /// `is_ordinary_word` is given a word's lower-cased folded spelling (as
    /// [`super::folded`] returns it) and says whether it is an ordinary word
    /// rather than a coined one: [`super::is_english_word`], plus whatever
    /// the caller adds (such as words frequent in the corpus). It is called
    /// once per distinct word.
    pub fn build<'a>(
        titles: impl IntoIterator<Item = &'a str>,
        is_ordinary_word: &dyn Fn(&str) -> bool,
    ) -> TitleMatcher {
        let mut builder = Builder {
            is_ordinary_word,
            vocabulary: MixMap::default(),
            ordinary: Vec::new(),
            titles_with: Vec::new(),
            raw: RawTitles::default(),
            short_names: Vec::new(),
            spelling: String::new(),
            ids: Vec::new(),
        };
        for (paper, title) in titles.into_iter().enumerate() {
            builder.add(paper as u32, title);
        }
        builder.finish()
    }
}

/// Titles of two words or more as they are added: word ids in one arena,
/// one paper each, and their length in characters.
#[derive(Default)]
struct RawTitles {
    tokens: Vec<u32>,
    starts: Vec<u32>,
    papers: Vec<u32>,
    chars: Vec<u32>,
}

impl RawTitles {
    fn words(&self, t: u32) -> &[u32] {
        let t = t as usize;
        &self.tokens[self.starts[t] as usize..self.starts[t + 1] as usize]
    }
}

struct Builder<'f> {
    is_ordinary_word: &'f dyn Fn(&str) -> bool,
    vocabulary: MixMap<u64, u32>,
    /// By word id: whether the word is ordinary, and how many titles
    /// contain it.
    ordinary: Vec<bool>,
    titles_with: Vec<u32>,
    raw: RawTitles,
    short_names: Vec<ShortName>,
    /// Scratch: one word's spelling, one title's word ids.
    spelling: String,
    ids: Vec<u32>,
}

impl Builder<'_> {
    fn add(&mut self, paper: u32, title: &str) {
        self.ids.clear();
        let mut chars = 0;
        for word in title_words(title) {
            fold_lower(word, &mut self.spelling);
            if self.spelling.is_empty() {
                continue;
            }
            let id = self.intern();
            chars += self.spelling.chars().count() as u32;
            if !self.ids.contains(&id) {
                self.titles_with[id as usize] += 1;
            }
            self.ids.push(id);
        }
        if self.ids.len() >= 2 {
            if self.raw.starts.is_empty() {
                self.raw.starts.push(0);
            }
            self.raw.tokens.extend_from_slice(&self.ids);
            self.raw.starts.push(self.raw.tokens.len() as u32);
            self.raw.papers.push(paper);
            self.raw.chars.push(chars);
        }
        if let Some(short) = self.short_name(paper, title) {
            self.short_names.push(short);
        }
    }

    /// Whether word `id` is coined: neither ordinary nor a term of the field.
    fn is_coined(&self, id: u32) -> bool {
        !self.ordinary[id as usize] && self.titles_with[id as usize] <= MAX_NAME_TITLES
    }

    /// The id of the word in `spelling` (lower-cased and folded), new or not.
    fn intern(&mut self) -> u32 {
        let next = self.ordinary.len() as u32;
        let id = *self
            .vocabulary
            .entry(key_of_folded(&self.spelling))
            .or_insert(next);
        if id == next {
            self.ordinary.push((self.is_ordinary_word)(&self.spelling));
            self.titles_with.push(0);
        }
        id
    }

    /// The title's short name, by the rules in the module documentation.
    fn short_name(&self, paper: u32, title: &str) -> Option<ShortName> {
        let head = colon_head(title).unwrap_or(title);
        let mut words = title_words(head);
        let word = words.next()?;
        let letters = word.chars().filter(|c| c.is_alphabetic()).count();
        if words.next().is_some()
            || word.chars().count() < MIN_SHORT_NAME_CHARS
            || letters < 2
            || is_plural_acronym(word)
        {
            return None;
        }
        let mut spelling = String::new();
        fold_into(word, &mut spelling);
        let norm = normal_word_of_folded(&mut spelling)?;
        let id = *self.vocabulary.get(&norm.key)?;
        let ordinary = self.ordinary[id as usize];
        let coined_shape =
            word.chars().skip(1).any(char::is_uppercase) || word.chars().any(char::is_numeric);
        (!ordinary || coined_shape).then_some(ShortName {
            word: id,
            cased: norm.cased,
            exact_only: ordinary,
            paper,
        })
    }

    fn finish(mut self) -> TitleMatcher {
        let (eligible, marked_only): (Vec<u32>, Vec<u32>) = (0..self.raw.papers.len() as u32)
            .partition(|&t| {
                let coined = self.raw.words(t).iter().any(|&w| self.is_coined(w));
                may_match_whole(self.raw.words(t).len(), self.raw.chars[t as usize], coined)
            });
        let titles = sorted_titles(&self.raw, eligible);
        let marked_titles = sorted_titles(&self.raw, marked_only);
        drop(std::mem::take(&mut self.raw));
        let anchors = anchor_table(&titles);
        let marked_anchors = anchor_table(&marked_titles);
        let names = std::mem::take(&mut self.short_names);
        let short_names = distinctive(
            names
                .into_iter()
                .filter(|s| self.titles_with[s.word as usize] <= MAX_NAME_TITLES)
                .collect(),
        );
        let mut short_name_words = vec![0u64; self.ordinary.len() / 64 + 1];
        for s in &short_names {
            short_name_words[s.word as usize / 64] |= 1 << (s.word % 64);
        }
        self.vocabulary.shrink_to_fit();
        TitleMatcher {
            id: super::next_id(),
            vocabulary: self.vocabulary,
            titles,
            anchors,
            marked_titles,
            marked_anchors,
            short_names,
            short_name_words,
            moved_from: None,
        }
    }
}

/// Whether a title of `words` words and `chars` characters may match in full.
fn may_match_whole(words: usize, chars: u32, coined: bool) -> bool {
    words >= 2
        && if coined {
            chars >= MIN_TITLE_CHARS
        } else {
            words >= MIN_ORDINARY_TITLE_WORDS && chars >= MIN_ORDINARY_TITLE_CHARS
        }
}

/// The text before the first colon that is followed by a space or ends the
/// title: "Grokfast" in "Grokfast: Accelerated …".
fn colon_head(title: &str) -> Option<&str> {
    title.char_indices().find_map(|(at, c)| {
        let rest = &title[at + c.len_utf8()..];
        let ends = rest.chars().next().is_none_or(char::is_whitespace);
        (matches!(c, ':' | '：') && ends).then_some(&title[..at])
    })
}

/// "LLMs", "GANs", "CNNs": capitals (and digits) and a final plural s.
fn is_plural_acronym(word: &str) -> bool {
    word.strip_suffix('s').is_some_and(|stem| {
        stem.chars().count() >= 2 && stem.chars().all(|c| c.is_uppercase() || c.is_ascii_digit())
    })
}

/// The `eligible` titles, sorted by their word ids and deduplicated, each
/// with all the papers that have it.
fn sorted_titles(raw: &RawTitles, mut order: Vec<u32>) -> TitleTable {
    order.sort_unstable_by(|&a, &b| {
        raw.words(a)
            .cmp(raw.words(b))
            .then(raw.papers[a as usize].cmp(&raw.papers[b as usize]))
    });
    let mut table = TitleTable {
        tokens: Vec::with_capacity(raw.tokens.len()),
        token_starts: vec![0],
        papers: Vec::with_capacity(raw.papers.len()),
        paper_starts: vec![0],
    };
    let mut previous: Option<u32> = None;
    for t in order {
        let words = raw.words(t);
        if previous.is_some_and(|p| raw.words(p) != words) {
            table.token_starts.push(table.tokens.len() as u32);
            table.paper_starts.push(table.papers.len() as u32);
        }
        if previous.is_none_or(|p| raw.words(p) != words) {
            table.tokens.extend_from_slice(words);
        }
        table.papers.push(raw.papers[t as usize]);
        previous = Some(t);
    }
    if previous.is_some() {
        table.token_starts.push(table.tokens.len() as u32);
        table.paper_starts.push(table.papers.len() as u32);
    }
    table
}

/// The anchor table over sorted titles: one entry per distinct first pair.
fn anchor_table(titles: &TitleTable) -> AnchorTable {
    let starts: Vec<usize> = (0..titles.len())
        .filter(|&t| t == 0 || titles.words(t)[..2] != titles.words(t - 1)[..2])
        .collect();
    let mut table = AnchorTable {
        slots: vec![UNKNOWN; (starts.len() * 2).next_power_of_two().max(2)],
    };
    for t in starts {
        let words = titles.words(t);
        let mut slot = table.slot_of(words[0], words[1]);
        while table.slots[slot] != UNKNOWN {
            slot = (slot + 1) & (table.slots.len() - 1);
        }
        table.slots[slot] = t as u32;
    }
    table
}

/// Short names sorted by word and paper, without those too many share.
fn distinctive(mut names: Vec<ShortName>) -> Vec<ShortName> {
    names.sort_unstable_by_key(|s| (s.word, s.paper));
    names.dedup_by_key(|s| (s.word, s.paper));
    let mut kept = Vec::with_capacity(names.len());
    for group in names.chunk_by(|a, b| a.word == b.word) {
        if group.len() <= MAX_SHORT_NAME_PAPERS {
            kept.extend_from_slice(group);
        }
    }
    kept.shrink_to_fit();
    kept
}
