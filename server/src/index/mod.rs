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

pub mod query;
pub mod related;
pub mod schema;
pub mod stem_memo;
pub mod title_matcher;
pub mod title_mentions;

use crate::corpus::Corpus;
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
/// search index (features degrade to a scan of the papers without one).
#[derive(Clone, Copy)]
pub struct PaperContext<'a> {
    pub corpus: &'a Corpus,
    pub search: Option<&'a dyn PaperSearch>,
}

impl PaperContext<'_> {
    /// Up to `limit` papers most like the one at `ordinal`, best first, never
    /// itself; none while the index is still being built.
    pub fn related_papers(&self, ordinal: usize, limit: usize) -> Vec<usize> {
        match self.search {
            Some(search) => search
                .related(self.corpus, ordinal, limit)
                .into_iter()
                .map(|h| h.paper)
                .collect(),
            None => Vec::new(),
        }
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
        let opened =
            PaperIndex::from_index(index, fields, IndexOrigin::Reopened(dir.to_path_buf()))?;
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
    for (ordinal, paper) in corpus.papers.iter().enumerate() {
        let mut doc = TantivyDocument::new();
        doc.add_u64(f.ordinal, ordinal as u64);
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
        writer.add_document(doc)?;
        if ordinal % 1024 == 0 {
            progress(ordinal, total);
        }
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    progress(total, total);
    Ok(())
}
