//! Paper titles mentioned in a note's prose: the spans a reader would take
//! for a corpus paper ("Grokfast: Accelerated Grokking by Amplifying Slow
//! Gradients", or its short name "Grokfast"), with the papers they name.
//!
//! The glue between the notes layer (the note's prose words, markup and
//! line breaks already out of the way) and the corpus's title matcher;
//! hover and the features after it use the exact byte ranges. Byte offsets
//! in, plain data out, no LSP.
//!
//! An open note is scanned again after every edit, so [`MentionCache`]
//! keeps the mentions of each chunk of it (a paragraph, as
//! `notes::prose_words::prose_chunks` cuts the note), keyed by a hash of the
//! language, the chunk's text and the citations inside it, with ranges
//! relative to the chunk. A new version looks every chunk up and reads only
//! those it has not seen, typically the one paragraph the edit touched. It
//! is exact: a chunk's words are those the whole note gives over its bytes
//! (the notes layer's guarantee, checked there for LaTeX constructs that
//! reach past a chunk), and titles never cross a chunk's start, which
//! always starts a block; so [`title_mentions_cached`] answers what
//! [`title_mentions`] does. The cache keeps one matcher's results (a new
//! matcher empties it) and only the chunks of the last note it computed.

use crate::index::title_matcher::TitleMatcher;
use crate::notes::prose_words::{
    chunk_words, prose_chunks, prose_words, writer_marked, ChunkEnd, ProseWord,
};
use crate::notes::{Citation, Language};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use xxhash_rust::xxh3::Xxh3;

/// A title (or short name) written in a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TitleMention {
    /// The papers with that title, by their position in `Corpus::papers`.
    pub papers: Vec<usize>,
    /// From the first byte of the first title word to the last byte of the
    /// last one; markup before or after the title is not included, markup
    /// inside it is.
    pub range: Range<usize>,
    /// Only the title's short name is written.
    pub short_name: bool,
}

/// Every title mention in `text`, in document order, none overlapping.
pub fn title_mentions(matcher: &TitleMatcher, text: &str, lang: Language) -> Vec<TitleMention> {
    mentions_in(matcher, text, lang, &prose_words(text, lang))
}

/// The mentions among `words` of `text` (a note or a chunk of one).
fn mentions_in(
    matcher: &TitleMatcher,
    text: &str,
    lang: Language,
    words: &[ProseWord],
) -> Vec<TitleMention> {
    let marked = |first, last| writer_marked(text, lang, words, first, last);
    matcher
        .find_marked(words, &marked)
        .into_iter()
        .map(|m| TitleMention {
            papers: m.papers,
            range: words[m.first_word].range.start..words[m.last_word].range.end,
            short_name: m.short_name,
        })
        .collect()
}

/// The mentions of a note's chunks, kept from one version of the note to
/// the next; see the module documentation.
#[derive(Default)]
pub struct MentionCache {
    matcher: Option<Arc<TitleMatcher>>,
    chunks: HashMap<u128, CachedChunk>,
}

struct CachedChunk {
    /// Ranges relative to the chunk.
    mentions: Vec<TitleMention>,
    end: ChunkEnd,
}

/// What one call of [`title_mentions_cached`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Pieces the note was read in (chunks read together count once).
    pub chunks: usize,
    /// Chunks read because the cache did not have them, and their bytes.
    pub scanned: usize,
    pub scanned_bytes: usize,
}

/// [`title_mentions`] of `text`, reading only the chunks `cache` does not
/// hold. `citations` are the note's, as `notes::citations_in` gives them.
pub fn title_mentions_cached(
    matcher: &Arc<TitleMatcher>,
    text: &str,
    lang: Language,
    citations: &[Citation],
    cache: &mut MentionCache,
) -> (Vec<TitleMention>, ScanStats) {
    if !cache
        .matcher
        .as_ref()
        .is_some_and(|m| Arc::ptr_eq(m, matcher))
    {
        cache.matcher = Some(matcher.clone());
        cache.chunks.clear();
    }
    let mut kept: HashMap<u128, CachedChunk> = HashMap::new();
    let mut stats = ScanStats::default();
    let pieces = prose_chunks(text, lang, citations).read_exact(text, |chunk, cites| {
        let key = chunk_key(lang, chunk, cites);
        let cached = kept.entry(key).or_insert_with(|| {
            cache.chunks.remove(&key).unwrap_or_else(|| {
                stats.scanned += 1;
                stats.scanned_bytes += chunk.len();
                let read = chunk_words(chunk, lang, cites);
                CachedChunk {
                    mentions: mentions_in(matcher, chunk, lang, &read.words),
                    end: read.end,
                }
            })
        });
        (key, cached.end)
    });
    stats.chunks = pieces.len();
    let mut out = Vec::new();
    for (bytes, key) in pieces {
        out.extend(kept[&key].mentions.iter().map(|m| TitleMention {
            papers: m.papers.clone(),
            range: m.range.start + bytes.start..m.range.end + bytes.start,
            short_name: m.short_name,
        }));
    }
    cache.chunks = kept;
    (out, stats)
}

/// The cache key of a chunk: its language, text and citations (128 bits of
/// xxh3, so that two different chunks never meet in practice).
fn chunk_key(lang: Language, chunk: &str, cites: &[Range<usize>]) -> u128 {
    let mut h = Xxh3::new();
    h.update(&[lang as u8]);
    h.update(&(chunk.len() as u64).to_le_bytes());
    h.update(chunk.as_bytes());
    for c in cites {
        h.update(&(c.start as u64).to_le_bytes());
        h.update(&(c.end as u64).to_le_bytes());
    }
    h.digest128()
}

/// The mention whose range contains `offset`, its end included (a cursor
/// right after a title still counts). `mentions` must be in document order,
/// as [`title_mentions`] returns them.
pub fn mention_at(mentions: &[TitleMention], offset: usize) -> Option<&TitleMention> {
    let after = mentions.partition_point(|m| m.range.start <= offset);
    let candidate = mentions.get(after.checked_sub(1)?)?;
    (offset <= candidate.range.end).then_some(candidate)
}

#[cfg(test)]
pub(crate) mod bench;
#[cfg(test)]
mod tests;
