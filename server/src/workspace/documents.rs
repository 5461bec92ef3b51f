//! Open documents: text kept in a rope and edited incrementally, and an
//! immutable snapshot (text, line index, citations) handed to requests.
//! The title mentions of successive snapshots are worked out with one
//! chunk cache per document (`index::title_mentions::MentionCache`), so
//! a new version reads only the paragraphs its edits touched.
//!
//! Edits are applied synchronously, in the order the client sent them (the
//! protocol layer hands text changes over as it reads them, before any later
//! message); a change whose version is not newer than the document's is
//! stale and dropped. Ranges past the end of
//! the document are clamped (and logged) rather than trusted.

use super::selection::{CorpusPolicy, CorpusSelection};
use super::unpoisoned;
use crate::index::title_matcher::TitleMatcher;
use crate::index::title_mentions::{title_mentions_cached, MentionCache, TitleMention};
use crate::notes::{self, Citation, Language};
use crate::text::{LineIndex, PositionEncoding};
use ropey::Rope;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// Title mentions found with one title matcher.
type MentionsFor = (Arc<TitleMatcher>, Arc<Vec<TitleMention>>);

/// What requests read: one version of one document, never changing.
pub struct DocumentSnapshot {
    pub path: Option<PathBuf>,
    pub language: Language,
    pub version: i32,
    pub text: Arc<str>,
    pub lines: LineIndex,
    /// Found on first use, off the thread that applies edits (a long note
    /// takes milliseconds to scan, and edits come one per keystroke).
    citations: OnceLock<Vec<Citation>>,
    /// Title mentions depend on the corpus too: computed on first use for a
    /// given title matcher and kept with this version of the text.
    /// The matcher is held, not just compared by address, so a new matcher
    /// can never be mistaken for a dropped one at the same address.
    mentions: Mutex<Option<MentionsFor>>,
    /// The document's chunk cache, shared with its other versions.
    mention_cache: Arc<Mutex<MentionCache>>,
    /// The corpus files this version sees, with the policy it was worked
    /// out for (finding a LaTeX chapter's main file reads the disk, so it is
    /// done once per version, not once per request).
    selection: Mutex<Option<(CorpusPolicy, DocumentCorpora)>>,
}

impl DocumentSnapshot {
    pub fn new(path: Option<PathBuf>, language: Language, version: i32, text: Arc<str>) -> Self {
        Self::with_cache(path, language, version, text, Arc::default())
    }

    fn with_cache(
        path: Option<PathBuf>,
        language: Language,
        version: i32,
        text: Arc<str>,
        mention_cache: Arc<Mutex<MentionCache>>,
    ) -> Self {
        let lines = LineIndex::new(&text);
        DocumentSnapshot {
            path,
            language,
            version,
            text,
            lines,
            citations: OnceLock::new(),
            mentions: Mutex::new(None),
            mention_cache,
            selection: Mutex::new(None),
        }
    }

    /// Every citation in this version of the text, in document order.
    pub fn citations(&self) -> &[Citation] {
        self.citations
            .get_or_init(|| notes::citations_in(&self.text, self.language))
    }

    /// The corpus files this version sees under `policy`, and its own
    /// bibliography among them (blocking: may read the disk the first time).
    pub fn corpora(&self, policy: &CorpusPolicy) -> DocumentCorpora {
        let mut cached = unpoisoned(&self.selection);
        if let Some(known) = known_under(&cached, policy) {
            return known;
        }
        let path = self.path.as_deref();
        let corpora = DocumentCorpora {
            selection: policy.document_selection(path, &self.text, self.language),
            bibliography: path.map_or_else(Vec::new, |p| {
                policy.document_bibliography(p, &self.text, self.language)
            }),
        };
        *cached = Some((policy.clone(), corpora.clone()));
        corpora
    }

    /// [`corpora`](Self::corpora) when this version has found them under
    /// `policy` already (without the disk).
    pub fn corpora_if_known(&self, policy: &CorpusPolicy) -> Option<DocumentCorpora> {
        known_under(&unpoisoned(&self.selection), policy)
    }

    /// The paper titles written in this version of the text.
    pub fn title_mentions(&self, matcher: &Arc<TitleMatcher>) -> Arc<Vec<TitleMention>> {
        let mut cached = unpoisoned(&self.mentions);
        if let Some((for_matcher, mentions)) = cached.as_ref() {
            if Arc::ptr_eq(for_matcher, matcher) {
                return mentions.clone();
            }
        }
        let mut chunks = unpoisoned(&self.mention_cache);
        let (mentions, _) = title_mentions_cached(
            matcher,
            &self.text,
            self.language,
            self.citations(),
            &mut chunks,
        );
        drop(chunks);
        let mentions = Arc::new(mentions);
        *cached = Some((matcher.clone(), mentions.clone()));
        mentions
    }

    /// Byte offset of an LSP position, `None` when the line is past the end.
    pub fn offset(&self, line: u32, character: u32, encoding: PositionEncoding) -> Option<usize> {
        self.lines.offset(&self.text, line, character, encoding)
    }

    pub fn position(&self, offset: usize, encoding: PositionEncoding) -> (u32, u32) {
        self.lines.position(&self.text, offset, encoding)
    }
}

/// The corpora found under `policy`, if those cached were.
fn known_under(
    cached: &Option<(CorpusPolicy, DocumentCorpora)>,
    policy: &CorpusPolicy,
) -> Option<DocumentCorpora> {
    let (for_policy, corpora) = cached.as_ref()?;
    (for_policy == policy).then(|| corpora.clone())
}

/// The files a document's corpus is read from, and which of them are its
/// own bibliography (empty when it names none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocumentCorpora {
    pub selection: CorpusSelection,
    pub bibliography: CorpusSelection,
}

impl DocumentCorpora {
    /// The document's own bibliography when it is not the corpus it sees
    /// (a library configured beside it).
    pub fn with_own_bibliography(&self) -> Option<&CorpusSelection> {
        let own = !self.bibliography.is_empty() && self.bibliography != self.selection;
        own.then_some(&self.bibliography)
    }
}

/// One edit as the protocol sends it: a replaced range (LSP line/character
/// pairs), or the whole text when `range` is `None`.
pub struct Edit<'a> {
    pub range: Option<((u32, u32), (u32, u32))>,
    pub text: &'a str,
}

pub struct OpenDocument {
    rope: Rope,
    pub snapshot: Arc<DocumentSnapshot>,
    /// Title mentions by chunk, handed to every snapshot of the document.
    mention_cache: Arc<Mutex<MentionCache>>,
}

/// Why an edit was not applied as sent.
#[derive(Debug, PartialEq, Eq)]
pub enum EditOutcome {
    Applied,
    /// Applied, but a range reached past the end and was clamped.
    Clamped,
    Stale,
    /// The document is not open.
    NotOpen,
}

impl OpenDocument {
    pub fn open(path: Option<PathBuf>, language: Language, version: i32, text: &str) -> Self {
        let rope = Rope::from_str(text);
        let mention_cache = Arc::default();
        let snapshot = Arc::new(DocumentSnapshot::with_cache(
            path,
            language,
            version,
            Arc::from(text),
            Arc::clone(&mention_cache),
        ));
        OpenDocument {
            rope,
            snapshot,
            mention_cache,
        }
    }

    /// Applies a batch of changes for `version`, in order.
    pub fn apply(
        &mut self,
        version: i32,
        edits: &[Edit<'_>],
        encoding: PositionEncoding,
    ) -> EditOutcome {
        if version <= self.snapshot.version {
            return EditOutcome::Stale;
        }
        let mut clamped = false;
        for edit in edits {
            match edit.range {
                None => self.rope = Rope::from_str(edit.text),
                Some((start, end)) => {
                    let (a, ca) = self.char_index(start, encoding);
                    let (b, cb) = self.char_index(end, encoding);
                    clamped |= ca || cb;
                    let (a, b) = if a <= b { (a, b) } else { (b, a) };
                    self.rope.remove(a..b);
                    self.rope.insert(a, edit.text);
                }
            }
        }
        let text: Arc<str> = Arc::from(self.rope.to_string());
        let old = &self.snapshot;
        self.snapshot = Arc::new(DocumentSnapshot::with_cache(
            old.path.clone(),
            old.language,
            version,
            text,
            Arc::clone(&self.mention_cache),
        ));
        if clamped {
            EditOutcome::Clamped
        } else {
            EditOutcome::Applied
        }
    }

    /// The rope's char index for an LSP position, clamped into the document;
    /// the flag says whether clamping was needed.
    fn char_index(
        &self,
        (line, character): (u32, u32),
        encoding: PositionEncoding,
    ) -> (usize, bool) {
        let rope = &self.rope;
        let line = line as usize;
        if line >= rope.len_lines() {
            return (rope.len_chars(), line > rope.len_lines() || character > 0);
        }
        let start = rope.line_to_char(line);
        let line_slice = rope.line(line);
        let content_chars = line_content_chars(&line_slice);
        let wanted = character as usize;
        let (chars, past) = match encoding {
            PositionEncoding::Utf16 => {
                let units = line_slice.slice(..content_chars).len_utf16_cu();
                let unit = wanted.min(units);
                (line_slice.utf16_cu_to_char(unit), wanted > units)
            }
            PositionEncoding::Utf8 => {
                let bytes = line_slice.slice(..content_chars).len_bytes();
                let byte = wanted.min(bytes);
                (line_slice.byte_to_char(byte), wanted > bytes)
            }
        };
        (start + chars, past)
    }
}

/// Characters of a line without its line break.
fn line_content_chars(line: &ropey::RopeSlice<'_>) -> usize {
    let mut n = line.len_chars();
    if n > 0 && line.char(n - 1) == '\n' {
        n -= 1;
    }
    if n > 0 && line.char(n - 1) == '\r' {
        n -= 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> OpenDocument {
        OpenDocument::open(None, Language::Markdown, 1, text)
    }

    fn edit(range: ((u32, u32), (u32, u32)), text: &str) -> Edit<'_> {
        Edit {
            range: Some(range),
            text,
        }
    }

    #[test]
    fn incremental_edits_in_utf16_and_utf8() {
        let mut d = doc("φ 😀 [@a]\nsecond");
        // UTF-16: φ=1, space=1, 😀=2, space=1 → '[' at 5.
        assert_eq!(
            d.apply(2, &[edit(((0, 7), (0, 8)), "bb")], PositionEncoding::Utf16),
            EditOutcome::Applied
        );
        assert_eq!(&*d.snapshot.text, "φ 😀 [@bb]\nsecond");
        // UTF-8: φ=2, space, 😀=4, space → '[' at 8, '@' 9, 'b' 10.
        assert_eq!(
            d.apply(3, &[edit(((0, 10), (0, 12)), "c")], PositionEncoding::Utf8),
            EditOutcome::Applied
        );
        assert_eq!(&*d.snapshot.text, "φ 😀 [@c]\nsecond");
        assert_eq!(d.snapshot.version, 3);
    }

    /// Each version's mentions are the whole text's, worked out with the
    /// chunk cache the document hands from version to version.
    #[test]
    fn title_mentions_follow_the_edits() {
        use crate::index::title_mentions::title_mentions;
        use crate::text::words::is_english_word;
        let title = "Grokfast: Accelerated Grokking by Amplifying Slow Gradients";
        let matcher = Arc::new(TitleMatcher::build([title], &is_english_word));
        let mut d = doc(&format!("One.\n\nWe read {title}.\n\nThree."));
        let spans = |d: &OpenDocument| -> Vec<String> {
            let snap = &d.snapshot;
            let found = snap.title_mentions(&matcher);
            assert_eq!(*found, title_mentions(&matcher, &snap.text, snap.language));
            found
                .iter()
                .map(|m| snap.text[m.range.clone()].to_string())
                .collect()
        };
        assert_eq!(spans(&d), [title]);
        d.apply(
            2,
            &[edit(((2, 8), (2, 16)), "`Grokfast`")],
            PositionEncoding::Utf8,
        );
        assert_eq!(spans(&d), Vec::<String>::new());
        d.apply(
            3,
            &[edit(((4, 0), (4, 0)), "Grokfast ")],
            PositionEncoding::Utf8,
        );
        assert_eq!(spans(&d), ["Grokfast"]);
    }

    #[test]
    fn stale_versions_are_dropped_and_past_the_end_is_clamped() {
        let mut d = doc("abc\r\ndef");
        assert_eq!(
            d.apply(1, &[edit(((0, 0), (0, 1)), "X")], PositionEncoding::Utf16),
            EditOutcome::Stale
        );
        assert_eq!(
            d.apply(2, &[edit(((0, 99), (9, 0)), "!")], PositionEncoding::Utf16),
            EditOutcome::Clamped
        );
        assert_eq!(&*d.snapshot.text, "abc!");
        assert_eq!(
            d.apply(
                3,
                &[Edit {
                    range: None,
                    text: "new"
                }],
                PositionEncoding::Utf16
            ),
            EditOutcome::Applied
        );
        assert_eq!(&*d.snapshot.text, "new");
    }
}
