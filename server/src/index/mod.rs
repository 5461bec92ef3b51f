//! The search index over a corpus: tantivy, behind the narrow `PaperSearch`
//! interface (search now; related papers later), so that a lab's corpus too
//! large for one machine could be served by another engine instead.
//!
//! Small corpora are indexed in memory. Large ones are persisted in the cache
//! directory under a name derived from the sources' content and the schema
//! version, reopened without re-indexing when nothing changed, and rebuilt
//! when the stored copy is stale, from an older paper-ls, or corrupt.
//! Building is separate from reading, as in tantivy itself: `build` writes,
//! `PaperIndex` only reads and is cheap to share.

pub mod doc_numbers;
pub mod embeddings;
pub mod query;
pub mod related;
pub mod schema;
pub mod stem_memo;
pub mod title_matcher;
pub mod title_mentions;
pub mod word_columns;

use crate::corpus::entry_reload::Splice;
use crate::corpus::Corpus;
use doc_numbers::{DocNumbers, Renumbering};
use schema::{build_schema, register_analyzers, split_key_words, Fields, SCHEMA_VERSION};
use std::path::{Path, PathBuf};
use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument};

/// Corpora at least this large are persisted; smaller ones index in well under a second.
pub const PERSIST_MIN_PAPERS: usize = 5_000;

/// One search result: a paper by its position in `Corpus::papers`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    pub paper: usize,
    pub score: f32,
    /// 0 when the paper matched every word of the query, 1 when only some
    /// (such hits rank below all of the first kind).
    pub tier: u8,
}

/// What a caller asks of the search engine.
#[derive(Clone, Debug)]
pub struct SearchRequest<'a> {
    pub text: &'a str,
    pub limit: usize,
    /// The last word is still being typed: match it as a prefix too.
    pub as_you_type: bool,
}

/// The narrow interface features use to search a corpus: search by words,
/// and papers related to one paper. (Lookup by key is the corpus's own.)
pub trait PaperSearch: Send + Sync {
    fn search(&self, request: &SearchRequest<'_>) -> Vec<Hit>;
    /// Papers most like the one at `ordinal` in `corpus`, best first, never itself.
    fn related(&self, corpus: &Corpus, ordinal: usize, limit: usize) -> Vec<Hit>;
}

/// What every feature reads: one immutable corpus and, once it is built, its
/// search index (features degrade to a scan of the papers without one), and
/// once computed, its papers' embeddings.
#[derive(Clone, Copy)]
pub struct PaperContext<'a> {
    pub corpus: &'a Corpus,
    pub search: Option<&'a dyn PaperSearch>,
    /// Every paper's sentence embedding (`index::embeddings`); related
    /// papers are ranked by meaning with them, by shared words without.
    pub meaning: Option<&'a embeddings::store::PaperVectors>,
}

impl PaperContext<'_> {
    /// Up to `limit` papers most like the one at `ordinal`, best first, never
    /// itself; none while the index is still being built.
    pub fn related_papers(&self, ordinal: usize, limit: usize) -> Vec<usize> {
        use embeddings::related::{rank, FUSION_CANDIDATES, RANKING};
        let hits = match (self.search, self.meaning) {
            (search, Some(meaning)) if meaning.has(ordinal) => {
                let by_words = match search {
                    Some(search) if RANKING.uses_words() => {
                        search.related(self.corpus, ordinal, FUSION_CANDIDATES)
                    }
                    _ => Vec::new(),
                };
                rank(meaning, ordinal, &by_words, RANKING, limit)
            }
            (Some(search), _) => search.related(self.corpus, ordinal, limit),
            (None, _) => Vec::new(),
        };
        hits.into_iter().map(|h| h.paper).collect()
    }
}

/// Where an index lives and whether it had to be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexOrigin {
    InMemory,
    Built(PathBuf),
    Reopened(PathBuf),
}

pub struct PaperIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    pub origin: IndexOrigin,
    /// Which paper each document is (see `doc_numbers`).
    numbers: DocNumbers,
}

/// Something about the persisted index the user should hear of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexWarning {
    /// The cache directory could not be used: the index was built in memory.
    CacheUnusable(String),
    /// A persisted index was corrupt (or not this corpus's) and was rebuilt.
    Rebuilt(String),
}

impl std::fmt::Display for IndexWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexWarning::CacheUnusable(why) | IndexWarning::Rebuilt(why) => f.write_str(why),
        }
    }
}

/// Reports `(papers indexed, total)` while an index is built.
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize);

impl PaperIndex {
    /// Indexes a corpus in memory.
    pub fn in_memory(corpus: &Corpus, progress: Progress<'_>) -> tantivy::Result<PaperIndex> {
        let (schema, fields) = build_schema();
        let index = Index::create_in_ram(schema);
        register_analyzers(&index);
        fill(&index, fields, corpus, progress)?;
        PaperIndex::from_index(index, fields, IndexOrigin::InMemory)
    }

    /// In memory for small corpora; otherwise the persisted copy under
    /// `cache_dir`, reopened if valid and (re)built if not. A cache that
    /// cannot be written falls back to memory; that, or a persisted index
    /// found unusable and rebuilt, comes back as a warning for the user.
    pub fn for_corpus(
        corpus: &Corpus,
        cache_dir: &Path,
        progress: Progress<'_>,
    ) -> (PaperIndex, Option<IndexWarning>) {
        if corpus.papers.len() < PERSIST_MIN_PAPERS {
            return (PaperIndex::in_memory_or_empty(corpus, progress), None);
        }
        let mut rebuilt = None;
        match PaperIndex::persisted_noting(corpus, cache_dir, progress, &mut rebuilt) {
            Ok(index) => (index, rebuilt.map(IndexWarning::Rebuilt)),
            Err(e) => {
                let why = format!(
                    "cannot use the index cache in {}: {e}; indexing in memory",
                    cache_dir.display()
                );
                (
                    PaperIndex::in_memory_or_empty(corpus, &mut |_, _| {}),
                    Some(IndexWarning::CacheUnusable(why)),
                )
            }
        }
    }

    fn in_memory_or_empty(corpus: &Corpus, progress: Progress<'_>) -> PaperIndex {
        PaperIndex::in_memory(corpus, progress)
            .or_else(|_| PaperIndex::in_memory(&Corpus::default(), &mut |_, _| {}))
            .expect("an empty in-memory index can always be built")
    }

    /// The persisted index for this corpus: reopened when valid, else rebuilt.
    pub fn persisted(
        corpus: &Corpus,
        cache_dir: &Path,
        progress: Progress<'_>,
    ) -> tantivy::Result<PaperIndex> {
        PaperIndex::persisted_noting(corpus, cache_dir, progress, &mut None)
    }

    /// `persisted`, saying in `rebuilt` why an existing index was rebuilt.
    fn persisted_noting(
        corpus: &Corpus,
        cache_dir: &Path,
        progress: Progress<'_>,
        rebuilt: &mut Option<String>,
    ) -> tantivy::Result<PaperIndex> {
        let dir = index_dir(corpus, cache_dir);
        if dir.exists() {
            match PaperIndex::reopen(&dir, corpus) {
                Ok(index) => return Ok(index),
                Err(e) => {
                    tracing::warn!(
                        "persisted index {} is unusable ({e}); rebuilding",
                        dir.display()
                    );
                    *rebuilt = Some(format!(
                        "the persisted index {} was unusable ({e}); rebuilt it",
                        dir.display()
                    ));
                    std::fs::remove_dir_all(&dir)?;
                }
            }
        }
        let tmp = dir.with_extension(format!("building-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        remove_abandoned_builds(dir.parent().unwrap_or(cache_dir));
        std::fs::create_dir_all(&tmp)?;
        let (schema, fields) = build_schema();
        let index = Index::create(MmapDirectory::open(&tmp)?, schema, Default::default())?;
        register_analyzers(&index);
        fill(&index, fields, corpus, progress)?;
        drop(index);
        std::fs::write(tmp.join(META_FILE), meta_text(corpus))?;
        if let Err(e) = std::fs::rename(&tmp, &dir) {
            // Another process finished the same index first: use theirs.
            let _ = std::fs::remove_dir_all(&tmp);
            if !dir.exists() {
                return Err(e.into());
            }
        }
        let mut index = PaperIndex::reopen(&dir, corpus)?;
        index.origin = IndexOrigin::Built(dir);
        Ok(index)
    }

    /// The persisted index of `corpus`, read again after a change, made
    /// from `previous` (the persisted index of `previous_corpus`) by
    /// re-indexing only the papers that changed: a paper added in Zotero is
    /// searchable in milliseconds rather than after a rebuild of the whole
    /// library. The old index's files are linked, never changed (the
    /// snapshots still answering from it keep doing so). `None` when too
    /// much changed, or the index is not persisted: build it then.
    pub fn updated_from(
        previous: &PaperIndex,
        previous_corpus: &Corpus,
        corpus: &Corpus,
        cache_dir: &Path,
    ) -> Option<PaperIndex> {
        let (old_dir, dir) = previous.update_target(corpus, cache_dir)?;
        let at_most = (corpus.papers.len() / UPDATE_AT_MOST_ONE_IN).max(100);
        let changes = changes_between(previous_corpus, corpus, at_most)?;
        let renumbering = previous.numbers.renumbered(
            previous_corpus.papers.len(),
            corpus.papers.len(),
            &changes.removed,
            |o| {
                (o < corpus.papers.len() && changes.removed.binary_search(&o).is_err()).then_some(o)
            },
            &changes.added,
        )?;
        PaperIndex::renumbered_into(old_dir, &dir, corpus, &renumbering)
    }

    /// The persisted index of `corpus`, made from `previous` (the persisted
    /// index of the corpus `corpus` was reloaded by entry from) by deleting
    /// the replaced papers' documents and adding the new papers': the papers
    /// that only moved keep their documents under new ordinals (see
    /// `doc_numbers`). `None` when the index is not persisted.
    pub fn updated_by_splice(
        previous: &PaperIndex,
        previous_corpus: &Corpus,
        corpus: &Corpus,
        splice: Splice,
        cache_dir: &Path,
    ) -> Option<PaperIndex> {
        let (old_dir, dir) = previous.update_target(corpus, cache_dir)?;
        let removed: Vec<usize> = (splice.at..splice.at + splice.removed).collect();
        let added: Vec<usize> = splice.added_ordinals().collect();
        let renumbering = previous.numbers.renumbered(
            previous_corpus.papers.len(),
            corpus.papers.len(),
            &removed,
            |o| splice.new_ordinal(o),
            &added,
        )?;
        PaperIndex::renumbered_into(old_dir, &dir, corpus, &renumbering)
    }

    /// This persisted index's folder and the folder of `corpus`'s index to
    /// make from it; `None` when this one is in memory, or `corpus` is too
    /// small to persist or has its index already.
    fn update_target(&self, corpus: &Corpus, cache_dir: &Path) -> Option<(&Path, PathBuf)> {
        let (IndexOrigin::Built(old_dir) | IndexOrigin::Reopened(old_dir)) = &self.origin else {
            return None;
        };
        let dir = index_dir(corpus, cache_dir);
        (corpus.papers.len() >= PERSIST_MIN_PAPERS && !dir.exists()).then_some((old_dir, dir))
    }

    /// [`update_into`], logged; `None` when it failed (rebuild then).
    fn renumbered_into(
        old_dir: &Path,
        dir: &Path,
        corpus: &Corpus,
        renumbering: &Renumbering,
    ) -> Option<PaperIndex> {
        match update_into(old_dir, dir, corpus, renumbering) {
            Ok(index) => {
                tracing::info!(
                    "index updated in place of a rebuild: {} papers removed, {} added",
                    renumbering.deletes.len(),
                    renumbering.adds.len()
                );
                Some(index)
            }
            Err(e) => {
                tracing::warn!(
                    "cannot update the index {}: {e}; rebuilding it",
                    old_dir.display()
                );
                None
            }
        }
    }

    fn reopen(dir: &Path, corpus: &Corpus) -> tantivy::Result<PaperIndex> {
        let meta = std::fs::read_to_string(dir.join(META_FILE))?;
        if meta != meta_text(corpus) {
            return Err(tantivy::TantivyError::InvalidArgument(
                "index metadata does not match the corpus".into(),
            ));
        }
        let index = Index::open_in_dir(dir)?;
        let (expected_schema, fields) = build_schema();
        if index.schema() != expected_schema {
            return Err(tantivy::TantivyError::SchemaError(
                "index schema is from another version".into(),
            ));
        }
        register_analyzers(&index);
        let mut opened =
            PaperIndex::from_index(index, fields, IndexOrigin::Reopened(dir.to_path_buf()))?;
        opened.numbers = DocNumbers::load(dir, corpus.papers.len())?;
        opened.verify_against(corpus)?;
        Ok(opened)
    }

    fn from_index(
        index: Index,
        fields: Fields,
        origin: IndexOrigin,
    ) -> tantivy::Result<PaperIndex> {
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(PaperIndex {
            index,
            reader,
            fields,
            origin,
            numbers: DocNumbers::default(),
        })
    }

    /// Cheap checks that the stored index really describes this corpus: the
    /// document count, and a few papers found by their own keys.
    fn verify_against(&self, corpus: &Corpus) -> tantivy::Result<()> {
        let searcher = self.reader.searcher();
        if searcher.num_docs() as usize != corpus.papers.len() {
            return Err(tantivy::TantivyError::InvalidArgument(
                "document count differs from the corpus".into(),
            ));
        }
        let n = corpus.papers.len();
        for i in [0, n / 3, n / 2, n.saturating_sub(1)]
            .into_iter()
            .filter(|&i| i < n)
        {
            if !query::key_finds_ordinal(self, corpus.paper(i).key, i) {
                return Err(tantivy::TantivyError::InvalidArgument(
                    "stored papers do not match the corpus".into(),
                ));
            }
        }
        Ok(())
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

const META_FILE: &str = "paper-ls-index.json";

/// A corpus read again has its persisted index updated rather than rebuilt
/// when at most one paper in this many changed (or 100, for small ones).
const UPDATE_AT_MOST_ONE_IN: usize = 5;

/// Builds the index of `corpus` in `dir` from the index in `old_dir`:
/// its segment files linked (tantivy never changes one once written), its
/// metadata copied, then `changes` applied and committed.
fn update_into(
    old_dir: &Path,
    dir: &Path,
    corpus: &Corpus,
    changes: &Renumbering,
) -> tantivy::Result<PaperIndex> {
    let tmp = dir.with_extension(format!("building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    let built = (|| -> tantivy::Result<()> {
        for entry in std::fs::read_dir(old_dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let text = name.to_string_lossy();
            if text == META_FILE || text.starts_with(".tantivy-") || !entry.file_type()?.is_file() {
                continue;
            }
            let to = tmp.join(&name);
            // Written in place by tantivy (by renaming over): copied.
            let rewritten = text.ends_with(".json");
            if rewritten || std::fs::hard_link(entry.path(), &to).is_err() {
                std::fs::copy(entry.path(), &to)?;
            }
        }
        let index = Index::open(MmapDirectory::open(&tmp)?)?;
        let (expected_schema, f) = build_schema();
        if index.schema() != expected_schema {
            return Err(tantivy::TantivyError::SchemaError(
                "index schema is from another version".into(),
            ));
        }
        register_analyzers(&index);
        let mut writer: IndexWriter<TantivyDocument> =
            index.writer_with_num_threads(1, 20_000_000)?;
        for &number in &changes.deletes {
            writer.delete_term(tantivy::Term::from_field_u64(f.ordinal, number));
        }
        for &(ordinal, number) in &changes.adds {
            writer.add_document(document(f, corpus, ordinal, number))?;
        }
        writer.commit()?;
        writer.wait_merging_threads()?;
        let _ = std::fs::remove_file(tmp.join(doc_numbers::FILE));
        changes.numbers.save(&tmp)?;
        std::fs::write(tmp.join(META_FILE), meta_text(corpus))?;
        Ok(())
    })();
    if let Err(e) = built {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if let Err(e) = std::fs::rename(&tmp, dir) {
        let _ = std::fs::remove_dir_all(&tmp);
        if !dir.exists() {
            return Err(e.into());
        }
    }
    let mut index = PaperIndex::reopen(dir, corpus)?;
    index.origin = IndexOrigin::Built(dir.to_path_buf());
    Ok(index)
}

/// Removes half-built indexes left by servers that were killed while
/// building (at a million papers each is a gigabyte): `*.building-<pid>`
/// folders whose process is gone. Only where `/proc` tells which are.
fn remove_abandoned_builds(index_root: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(index_root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.rsplit_once(".building-"))
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            tracing::info!(
                "removing an abandoned index build {}",
                entry.path().display()
            );
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn meta_text(corpus: &Corpus) -> String {
    serde_json::json!({
        "schema": SCHEMA_VERSION,
        "papers": corpus.papers.len(),
        "fingerprint": format!("{:016x}", corpus.content_fingerprint()),
    })
    .to_string()
}

/// The persisted index of a corpus: its name changes whenever a source's
/// content, the set of sources, or the schema changes.
pub fn index_dir(corpus: &Corpus, cache_dir: &Path) -> PathBuf {
    cache_dir.join("index").join(format!(
        "v{SCHEMA_VERSION}-{:016x}",
        corpus.content_fingerprint()
    ))
}

fn fill(index: &Index, f: Fields, corpus: &Corpus, progress: Progress<'_>) -> tantivy::Result<()> {
    let large = corpus.papers.len() >= PERSIST_MIN_PAPERS;
    let (threads, heap) = if large {
        (2, 120_000_000)
    } else {
        (1, 20_000_000)
    };
    let mut writer: IndexWriter<TantivyDocument> = index.writer_with_num_threads(threads, heap)?;
    let total = corpus.papers.len();
    for ordinal in 0..total {
        writer.add_document(document(f, corpus, ordinal, ordinal as u64))?;
        if ordinal % 1024 == 0 {
            progress(ordinal, total);
        }
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    progress(total, total);
    Ok(())
}

/// The document of paper `ordinal`, numbered `number`: everything search
/// and related papers read (what [`indexed_hash`] hashes).
fn document(f: Fields, corpus: &Corpus, ordinal: usize, number: u64) -> TantivyDocument {
    let paper = corpus.paper(ordinal);
    let mut doc = TantivyDocument::new();
    doc.add_u64(f.ordinal, number);
    doc.add_text(f.key, paper.key);
    doc.add_text(f.key_words, split_key_words(paper.key));
    doc.add_text(f.title, paper.title);
    doc.add_text(f.title_words, paper.title);
    for person in paper.authors.iter() {
        doc.add_text(f.authors, person.display());
    }
    if let Some(text) = paper.abstract_text() {
        doc.add_text(f.abstract_text, text);
    }
    if let Some(year) = paper.year {
        doc.add_i64(f.year, year as i64);
    }
    doc
}

/// A hash of what [`document`] puts in the index for paper `ordinal`.
fn indexed_hash(corpus: &Corpus, ordinal: usize) -> u64 {
    let paper = corpus.paper(ordinal);
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for part in [paper.key, paper.title] {
        hasher.update(part.as_bytes());
        hasher.update(&[0]);
    }
    for person in paper.authors.iter() {
        hasher.update(person.display().as_bytes());
        hasher.update(&[1]);
    }
    if let Some(text) = paper.abstract_text() {
        hasher.update(text.as_bytes());
    }
    hasher.update(&paper.year.map_or(i64::MIN, i64::from).to_le_bytes());
    hasher.digest()
}

/// What re-indexing a corpus read again takes: the old documents to
/// delete and the new papers to add, by ordinal.
#[derive(Debug, PartialEq)]
struct Changes {
    removed: Vec<usize>,
    added: Vec<usize>,
}

/// The papers of `new` whose documents differ from those of `old` at the
/// same ordinal, and those past the end of either; `None` when that is more
/// than `at_most` (a paper removed early shifts every later one).
fn changes_between(old: &Corpus, new: &Corpus, at_most: usize) -> Option<Changes> {
    let (old_len, new_len) = (old.papers.len(), new.papers.len());
    let common = old_len.min(new_len);
    if old_len.max(new_len) - common > at_most {
        return None;
    }
    let mut differing = Vec::new();
    for ordinal in 0..common {
        if indexed_hash(old, ordinal) != indexed_hash(new, ordinal) {
            differing.push(ordinal);
            if differing.len() > at_most {
                return None;
            }
        }
    }
    let removed: Vec<usize> = differing.iter().copied().chain(common..old_len).collect();
    let added: Vec<usize> = differing.into_iter().chain(common..new_len).collect();
    (removed.len().max(added.len()) <= at_most).then_some(Changes { removed, added })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JSON Lines corpus of `n` papers, paper `i` titled by `title(i)`.
    fn corpus_of(dir: &Path, n: usize, title: impl Fn(usize) -> String) -> Corpus {
        let path = dir.join("papers.jsonl");
        let lines: String = (0..n)
            .map(|i| {
                format!(
                    "{{\"id\": \"2401.{i:05}\", \"title\": \"{}\", \"authors\": \"Author{} Person\", \"abstract\": \"On topic{}.\"}}\n",
                    title(i),
                    i % 50,
                    i % 13
                )
            })
            .collect();
        std::fs::write(&path, lines).unwrap();
        Corpus::load(&[path])
    }

    fn found(index: &PaperIndex, words: &str) -> Vec<usize> {
        index
            .search(&SearchRequest {
                text: words,
                limit: 5,
                as_you_type: false,
            })
            .iter()
            .map(|h| h.paper)
            .collect()
    }

    /// `eschewing` finds "eschews" by its stem, but the paper that says
    /// "eschewing" comes first, where without the exact form it would not
    /// (same length, same score: the earlier paper first).
    #[test]
    fn a_word_written_as_typed_ranks_above_its_other_forms() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("papers.jsonl");
        std::fs::write(
            &path,
            "{\"id\": \"2401.00001\", \"title\": \"Sparse models one\", \"abstract\": \"This method eschews dense layers.\"}\n\
             {\"id\": \"2401.00002\", \"title\": \"Sparse models two\", \"abstract\": \"This method eschewing dense layers.\"}\n\
             {\"id\": \"2401.00003\", \"title\": \"Unrelated work\", \"abstract\": \"Nothing here at all.\"}\n",
        )
        .unwrap();
        let corpus = Corpus::load(&[path]);
        let index = PaperIndex::in_memory(&corpus, &mut |_, _| {}).unwrap();
        for as_you_type in [false, true] {
            let mut hits = index.search(&SearchRequest {
                text: "eschewing",
                limit: 5,
                as_you_type,
            });
            let plain: Vec<usize> = hits.iter().map(|h| h.paper).collect();
            assert_eq!(
                plain,
                [0, 1],
                "both forms found by the stem, in corpus order"
            );
            query::favour_exact_forms(&corpus, "eschewing", &mut hits);
            let ranked: Vec<usize> = hits.iter().map(|h| h.paper).collect();
            assert_eq!(ranked, [1, 0]);
        }
        // A paper matching every word stays above one matching some.
        let mut hits = index.search(&SearchRequest {
            text: "eschews sparse two",
            limit: 5,
            as_you_type: false,
        });
        query::favour_exact_forms(&corpus, "eschews sparse two", &mut hits);
        assert_eq!(hits[0].paper, 1, "{hits:?}");
        assert!(hits.windows(2).all(|w| w[0].tier <= w[1].tier), "{hits:?}");
    }

    #[test]
    fn a_persisted_index_is_updated_with_the_papers_that_changed() {
        let n = PERSIST_MIN_PAPERS + 200;
        let sources = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        // Distinct first words: generated keys do not collide (a changed
        // title would otherwise renumber the suffixes of every later key).
        let plain = |i: usize| format!("Subject{i} studied");
        let old = corpus_of(sources.path(), n, plain);
        let old_index = PaperIndex::persisted(&old, cache.path(), &mut |_, _| {}).unwrap();
        let renamed = |i: usize| match i {
            10 => "Zyzzyva retitled".to_string(),
            _ => plain(i),
        };
        let new = corpus_of(sources.path(), n + 1, |i| match i {
            i if i == n => "Quokka appended".to_string(),
            i => renamed(i),
        });
        assert_eq!(
            changes_between(&old, &new, 100),
            Some(Changes {
                removed: vec![10],
                added: vec![10, n]
            })
        );
        let updated = PaperIndex::updated_from(&old_index, &old, &new, cache.path())
            .expect("updated, not rebuilt");
        assert!(
            matches!(updated.origin, IndexOrigin::Built(ref d) if *d == index_dir(&new, cache.path()))
        );
        assert_eq!(updated.num_docs() as usize, n + 1);
        assert_eq!(found(&updated, "Zyzzyva"), [10]);
        assert_eq!(found(&updated, "Quokka"), [n]);
        assert!(!found(&updated, "Subject10").contains(&10));
        assert!(found(&old_index, "Subject10").contains(&10));
        // The old index, which snapshots may still answer from, is as it was.
        assert_eq!(found(&old_index, "Zyzzyva"), Vec::<usize>::new());
        assert!(PaperIndex::reopen(&index_dir(&old, cache.path()), &old).is_ok());
        // Reopened by a later start, the updated index is valid as it is.
        assert!(PaperIndex::reopen(&index_dir(&new, cache.path()), &new).is_ok());
    }

    #[test]
    fn a_paper_removed_early_shifts_too_many_to_update() {
        let sources = tempfile::tempdir().unwrap();
        let old = corpus_of(sources.path(), 300, |i| format!("Paper {i}"));
        let new = corpus_of(sources.path(), 299, |i| {
            format!("Paper {}", i + usize::from(i >= 3))
        });
        assert_eq!(changes_between(&old, &new, 100), None);
        assert!(changes_between(&old, &new, 300).is_some());
    }
}
