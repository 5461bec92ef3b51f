//! The corpus: every paper the user pointed us at, loaded from BibTeX,
//! CSL-JSON, JSON Lines and paper digests (plain or gzipped), with generated
//! keys where a source has none, and every problem met on the way.
//!
//! Loading never fails as a whole: an unreadable file or a broken entry is a
//! `Problem`, and everything else still loads. A `Corpus` is immutable once
//! built; the index and the features read it through `Arc`.

pub mod bibtex;
pub mod bundled;
mod cache;
pub mod csl_json;
pub mod digest;
pub mod entry_copy;
pub mod entry_reload;
pub mod export;
mod hash_memo;
pub mod hayagriva_yaml;
pub mod jsonl;
pub mod keys;
pub mod latex_text;
pub mod names;
pub mod paper;
pub mod parsed_cache;
pub mod same_paper;
pub mod selection;
pub mod short_hash;
pub mod source;
pub mod table;
pub mod zotero;

pub use cache::Cache;
pub use paper::{
    Identifiers, KeyColumns, KeyOrigin, LineStarts, Origin, Paper, Person, Problem, Severity,
};
pub use source::SourceKind;
pub use table::{Authors, Categories, Ids, PaperRef, PaperTable, PersonRef};

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A corpus file as loaded: enough to jump into it and to tell whether it changed.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub kind: SourceKind,
    pub gzipped: bool,
    pub content_hash: u64,
    pub papers: usize,
}

impl SourceFile {
    /// Whether a person would open this file to read or edit an entry: a plain
    /// `.bib` is; a gzipped dump or a JSON export is not (features show a card).
    pub fn is_readable_in_editor(&self) -> bool {
        self.kind.is_bibtex() && !self.gzipped
    }
}

#[derive(Debug, Default)]
pub struct Corpus {
    pub papers: PaperTable,
    pub sources: Vec<SourceFile>,
    pub problems: Vec<Problem>,
    /// Where Zotero items lead (their PDFs, the item in Zotero), by paper.
    pub library_links: HashMap<u32, zotero::LibraryLinks>,
    /// Papers by key, case-folded, then by position: lookups by key and by
    /// key prefix without an index. Ordinals only, not copies of the keys:
    /// at a million papers, three maps of owned keys cost ~200 MB.
    sorted_keys: Vec<u32>,
    /// What reading a changed `.bib` by entry needs to know of this load;
    /// filled in beside the load, never for a corpus read back from the
    /// parsed-corpus cache (its first change is read whole).
    reload_facts: entry_reload::FactsSlot,
}

impl Corpus {
    /// Loads every file in `paths` (folders are searched for corpus files).
    /// A Zotero library that is locked is copied into a temporary folder.
    pub fn load(paths: &[PathBuf]) -> Corpus {
        Corpus::load_copying_into(paths, &std::env::temp_dir().join("paper-ls-zotero"))
    }

    /// [`Corpus::load`], copying locked Zotero libraries into `copies`.
    pub fn load_copying_into(paths: &[PathBuf], copies: &Path) -> Corpus {
        Corpus::load_with_library_states(&expand_paths(paths), copies).0
    }

    /// Loads `files`, and says of each Zotero library the state it was read
    /// in (see [`zotero::ZoteroLoad::state`]).
    fn load_with_library_states(
        files: &[PathBuf],
        copies: &Path,
    ) -> (Corpus, HashMap<PathBuf, Option<u64>>) {
        let mut problems = Vec::new();
        let mut read = Vec::new();
        let mut libraries = Vec::new();
        for path in files {
            if let Some(library) = zotero::ZoteroSource::from_path(path) {
                libraries.push((path.clone(), library));
                continue;
            }
            match source::read_source(path) {
                Ok((src, mut warnings)) => {
                    problems.append(&mut warnings);
                    read.push(src);
                }
                Err(problem) => problems.push(problem),
            }
        }
        let first_library = read.len();
        let mut loaded = Vec::new();
        let mut states = HashMap::new();
        for (path, library) in libraries {
            match zotero::load_zotero(first_library + loaded.len(), &library, copies) {
                Ok(mut load) => {
                    problems.append(&mut load.problems);
                    states.insert(path.clone(), load.state);
                    loaded.push((path, load));
                }
                Err(problem) => {
                    states.insert(path, None);
                    problems.push(problem);
                }
            }
        }
        (Corpus::from_all_sources(read, loaded, problems), states)
    }

    /// Like [`Corpus::load`], but a corpus parsed before with the same
    /// content is read back from the cache (see `parsed_cache`), and a
    /// large corpus parsed now leaves one there.
    ///
    /// A file counts as the same by the hash of its bytes (remembered by the
    /// file's stamp, see `hash_memo`); a Zotero library
    /// by its [`zotero::state_fingerprint`] (hashing a database of hundreds
    /// of megabytes would cost more than reading it), so a corpus with one
    /// is kept under a name of its own that each new state replaces.
    pub fn load_cached(paths: &[PathBuf], cache: &Cache) -> std::sync::Arc<Corpus> {
        let cache_dir = cache.dir();
        let files = expand_paths(paths);
        let has_library = files
            .iter()
            .any(|f| zotero::ZoteroSource::from_path(f).is_some());
        let key_of = |parts: Option<Vec<u64>>| -> Option<parsed_cache::CacheKey> {
            let parts = parts?;
            let fingerprint = fingerprint_of(
                files
                    .iter()
                    .map(PathBuf::as_path)
                    .zip(parts.iter().copied()),
            );
            Some(if has_library {
                parsed_cache::CacheKey {
                    name: fingerprint_of(files.iter().map(|f| (f.as_path(), LIBRARY_CORPUS))),
                    fingerprint,
                }
            } else {
                parsed_cache::CacheKey::of_content(fingerprint)
            })
        };
        // Snapshots name files by their UTF-8 paths; an unreadable file is
        // reported afresh each time rather than remembered.
        let parts_before: Option<Vec<u64>> = files
            .iter()
            .map(|f| {
                f.to_str()?;
                match zotero::ZoteroSource::from_path(f) {
                    Some(library) => zotero::state_fingerprint(&library),
                    None => hash_memo::content_hash(f, cache_dir).ok(),
                }
            })
            .collect();
        let key = key_of(parts_before);
        if let Some(corpus) = key.and_then(|k| parsed_cache::read(cache_dir, k)) {
            tracing::info!(
                "read {} papers from the parsed-corpus cache (sources unchanged)",
                corpus.papers.len()
            );
            return std::sync::Arc::new(corpus);
        }
        let (corpus, library_states) =
            Corpus::load_with_library_states(&files, &cache_dir.join("zotero"));
        // Written only when what was parsed is what was fingerprinted (no
        // source changed or failed in between).
        let parts_read: Option<Vec<u64>> = files
            .iter()
            .map(|f| match library_states.get(f) {
                Some(state) => *state,
                None => corpus
                    .sources
                    .iter()
                    .find(|s| &s.path == f)
                    .map(|s| s.content_hash),
            })
            .collect();
        let min_papers = if has_library {
            parsed_cache::CACHE_FILE_MIN_LIBRARY_PAPERS
        } else {
            parsed_cache::CACHE_FILE_MIN_PAPERS
        };
        let Some(key) = key.filter(|&k| Some(k) == key_of(parts_read)) else {
            return std::sync::Arc::new(corpus);
        };
        if corpus.sources.len() == files.len() && corpus.papers.len() >= min_papers {
            // Written beside, encoded there too (~30 ms at 72k papers,
            // before the first answer otherwise). Many abstracts (two
            // thirds of a large corpus's bytes) are then read from the file
            // instead of held for as long as the server runs.
            let mut corpus = corpus;
            let settling = (corpus.papers.abstracts.len() >= parsed_cache::ABSTRACTS_TO_DISK_BYTES)
                .then(|| corpus.papers.abstracts.settling())
                .flatten();
            let corpus = std::sync::Arc::new(corpus);
            parsed_cache::write_in_background_then(cache, corpus.clone(), key, settling);
            return corpus;
        }
        std::sync::Arc::new(corpus)
    }

    /// Builds a corpus from files already read into memory.
    pub fn from_sources(read: Vec<source::ReadSource>, problems: Vec<Problem>) -> Corpus {
        Corpus::from_all_sources(read, Vec::new(), problems)
    }

    /// Builds a corpus from files read into memory and Zotero libraries
    /// read (numbered after the files, in order).
    fn from_all_sources(
        mut read: Vec<source::ReadSource>,
        libraries: Vec<(PathBuf, zotero::ZoteroLoad)>,
        mut problems: Vec<Problem>,
    ) -> Corpus {
        let mut papers = Vec::new();
        let mut bib_links = None;
        let bib: Vec<bibtex::BibSource> = read
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == SourceKind::Bibtex)
            .map(|(file, s)| bibtex::BibSource {
                file,
                path: &s.path,
                text: &s.text,
            })
            .collect();
        if !bib.is_empty() {
            let mut load = bibtex::load_bibtex_keeping_links(&bib);
            papers.append(&mut load.papers);
            problems.append(&mut load.problems);
            bib_links = Some((load.macros, load.links));
        }
        for (file, src) in read.iter().enumerate() {
            let (mut found, mut trouble) = match src.kind {
                SourceKind::Bibtex => continue,
                SourceKind::CslJson => csl_json::load_csl_json(file, &src.path, &src.text),
                SourceKind::JsonLines => jsonl::load_json_lines(file, &src.path, &src.text),
                SourceKind::Digest => digest::load_digest(file, &src.path, &src.text),
                SourceKind::HayagrivaYaml => {
                    hayagriva_yaml::load_hayagriva_yaml(file, &src.path, &src.text)
                }
                SourceKind::Zotero => continue,
            };
            papers.append(&mut found);
            problems.append(&mut trouble);
        }
        let mut library_sources = Vec::new();
        let mut links_by_file: HashMap<usize, Vec<zotero::LibraryLinks>> = HashMap::new();
        for (path, load) in libraries {
            if let Some(first) = load.papers.first() {
                links_by_file.insert(first.origin.file, load.links);
            }
            papers.extend(load.papers);
            library_sources.push(SourceFile {
                path,
                kind: SourceKind::Zotero,
                gzipped: false,
                content_hash: load.content_hash,
                papers: 0,
            });
        }
        papers.sort_by_key(|p| (p.origin.file, p.origin.span.start));
        locate_keys(&mut papers, &read);
        let paths: Vec<PathBuf> = read
            .iter()
            .map(|s| s.path.clone())
            .chain(library_sources.iter().map(|s| s.path.clone()))
            .collect();
        keys::assign_keys(&mut papers, &paths, &mut problems);
        let is_bibtex: Vec<bool> = read.iter().map(|s| s.kind.is_bibtex()).collect();
        same_paper::warn_same_paper_twice(&papers, &is_bibtex, &paths, &mut problems);
        // What an edit of a plain `.bib` is compared with later, and how
        // long each plain JSON Lines file was.
        let appendable: Vec<Option<u64>> = read
            .iter()
            .map(|s| (s.kind == SourceKind::JsonLines && !s.gzipped).then_some(s.text.len() as u64))
            .chain(library_sources.iter().map(|_| None))
            .collect();
        let bib_texts: Vec<Option<String>> = read
            .iter_mut()
            .map(|s| (s.kind.is_bibtex() && !s.gzipped).then(|| std::mem::take(&mut s.text)))
            .chain(library_sources.iter().map(|_| None))
            .collect();
        let mut sources: Vec<SourceFile> = read
            .into_iter()
            .map(|s| SourceFile {
                path: s.path,
                kind: s.kind,
                gzipped: s.gzipped,
                content_hash: s.content_hash,
                papers: 0,
            })
            .chain(library_sources)
            .collect();
        for p in &papers {
            sources[p.origin.file].papers += 1;
        }
        let table = PaperTable::from_papers(&papers);
        let mut library_links = HashMap::new();
        for (ordinal, paper) in papers.iter().enumerate() {
            let links = links_by_file
                .get(&paper.origin.file)
                .and_then(|links| links.get(paper.origin.span.start));
            if let Some(links) = links {
                library_links.insert(ordinal as u32, links.clone());
            }
        }
        let mut corpus = Corpus::assemble(table, sources, problems);
        corpus.library_links = library_links;
        let bib_links = match bib_links {
            None if appendable.iter().any(Option::is_some) => {
                Some((bibtex::MacroTable::default(), bibtex::Links::default()))
            }
            links => links,
        };
        match bib_links {
            Some((macros, links)) => {
                let slot = corpus.reload_facts.clone();
                let gather = move || {
                    let texts: Vec<Option<&str>> = bib_texts.iter().map(Option::as_deref).collect();
                    let ids = entry_reload::count_ids(
                        papers
                            .iter()
                            .map(|p| (p.origin.file, p.ids.doi.as_deref(), p.ids.arxiv.as_deref())),
                        &is_bibtex,
                    );
                    let facts =
                        entry_reload::ReloadFacts::gather(macros, links, &texts, ids, appendable);
                    let _ = slot.set(std::sync::Arc::new(facts));
                    drop(texts);
                    drop(bib_texts);
                    drop(papers);
                    release_freed_memory();
                };
                // Millions of small strings: freed beside, not before the
                // first answer (and the texts cut into pieces meanwhile).
                let spawned = crate::background::spawn("reload-facts", gather);
                if let Err(e) = spawned {
                    tracing::debug!("cannot start a thread to keep a load's facts ({e}); edits of its files are read whole");
                }
            }
            None => release_in_background(papers),
        }
        corpus
    }

    /// Builds a corpus from packed papers (or the papers of a test).
    pub fn from_papers(papers: Vec<Paper>, sources: Vec<SourceFile>) -> Corpus {
        Corpus::assemble(PaperTable::from_papers(&papers), sources, Vec::new())
    }

    pub(crate) fn assemble(
        papers: PaperTable,
        sources: Vec<SourceFile>,
        problems: Vec<Problem>,
    ) -> Corpus {
        let mut sorted_keys: Vec<u32> = (0..papers.len() as u32).collect();
        sort_by_key_text(&papers, &mut sorted_keys);
        Corpus::with_sorted_keys(papers, sources, problems, sorted_keys)
    }

    /// A corpus whose key order is already known (read back from the parsed-corpus cache).
    pub(crate) fn with_sorted_keys(
        papers: PaperTable,
        sources: Vec<SourceFile>,
        problems: Vec<Problem>,
        sorted_keys: Vec<u32>,
    ) -> Corpus {
        Corpus {
            papers,
            sources,
            problems,
            library_links: HashMap::new(),
            sorted_keys,
            reload_facts: Default::default(),
        }
    }

    /// Papers whose key starts with `prefix` (case-insensitive), in key order.
    pub fn keys_starting_with(&self, prefix: &str) -> impl Iterator<Item = usize> + '_ {
        let start = self.sorted_keys.partition_point(|&i| {
            folded_cmp(self.papers.key(i as usize), prefix) == std::cmp::Ordering::Less
        });
        let prefix = prefix.to_string();
        self.sorted_keys[start..]
            .iter()
            .map(|&i| i as usize)
            .take_while(move |&i| folded_starts_with(self.papers.key(i), &prefix))
    }

    /// The paper with this key; BibTeX keys are case-insensitive, so an exact
    /// match wins and a case-folded one is the fallback.
    pub fn index_of(&self, key: &str) -> Option<usize> {
        let key_of = |i: u32| self.papers.key(i as usize);
        let start = self
            .sorted_keys
            .partition_point(|&i| folded_cmp(key_of(i), key) == std::cmp::Ordering::Less);
        let same = self.sorted_keys[start..]
            .iter()
            .take_while(|&&i| folded_cmp(key_of(i), key) == std::cmp::Ordering::Equal);
        // Within equal folded keys ordinals ascend: the first exact spelling
        // is the first such entry, and the first entry is the fallback.
        let first = *same.clone().next()?;
        Some(same.copied().find(|&i| key_of(i) == key).unwrap_or(first) as usize)
    }

    pub fn get(&self, key: &str) -> Option<PaperRef<'_>> {
        self.index_of(key).map(|i| self.papers.paper(i))
    }

    /// The paper at `ordinal`, which must be below `papers.len()`.
    pub fn paper(&self, ordinal: usize) -> PaperRef<'_> {
        self.papers.paper(ordinal)
    }

    pub fn source_of(&self, paper: &PaperRef<'_>) -> &SourceFile {
        &self.sources[paper.origin.file]
    }

    pub fn with_abstract(&self) -> usize {
        self.papers.with_abstract()
    }

    /// What a reload by entry needs, once gathered beside the load.
    pub fn reload_facts(&self) -> Option<&std::sync::Arc<entry_reload::ReloadFacts>> {
        self.reload_facts.get()
    }

    /// Ordinals in key order, for the parsed-corpus cache.
    pub(crate) fn sorted_keys(&self) -> &[u32] {
        &self.sorted_keys
    }

    /// One number for the whole corpus's content, for keying persisted indexes.
    pub fn content_fingerprint(&self) -> u64 {
        fingerprint_of(
            self.sources
                .iter()
                .map(|s| (s.path.as_path(), s.content_hash)),
        )
    }
}

/// What stands for a Zotero library's content in the name of the cache
/// file of a corpus that holds one: the name must not change with it.
const LIBRARY_CORPUS: u64 = 0x5a07_e20c_0000_0001;

/// The content fingerprint of sources given as (path, hash of the raw bytes).
fn fingerprint_of<'p>(sources: impl Iterator<Item = (&'p Path, u64)>) -> u64 {
    let mut bytes = Vec::new();
    for (path, hash) in sources {
        bytes.extend_from_slice(path.to_string_lossy().as_bytes());
        bytes.extend_from_slice(&hash.to_le_bytes());
    }
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

/// Sorts ordinals by case-folded key, then by ordinal.
///
/// Each key's first eight folded bytes, as a number, settle most
/// comparisons without reading the keys again (sorting a million keys by
/// `folded_cmp` alone took about a second).
fn sort_by_key_text(papers: &PaperTable, ordinals: &mut [u32]) {
    let mut keyed: Vec<(u64, u32)> = ordinals
        .iter()
        .map(|&i| (folded_prefix(papers.key(i as usize)), i))
        .collect();
    keyed.sort_unstable_by(|&(pa, a), &(pb, b)| {
        pa.cmp(&pb)
            .then_with(|| folded_cmp(papers.key(a as usize), papers.key(b as usize)))
            .then(a.cmp(&b))
    });
    for (slot, (_, i)) in ordinals.iter_mut().zip(keyed) {
        *slot = i;
    }
}

/// The first eight bytes of the key's folded UTF-8 form, big-endian, padded
/// with zeros: ordered as `folded_cmp` orders keys, up to ties.
fn folded_prefix(key: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let mut n = 0;
    let mut utf8 = [0u8; 4];
    'chars: for c in folded_chars(key) {
        for &b in c.encode_utf8(&mut utf8).as_bytes() {
            if n == 8 {
                break 'chars;
            }
            bytes[n] = b;
            n += 1;
        }
    }
    u64::from_be_bytes(bytes)
}

/// Drops `value` on another thread, then hands the freed memory back to
/// the system (see [`release_freed_memory`]). What a load leaves behind
/// (every parsed paper as separate small strings) takes ~0.1 s to free at
/// 72k papers, time the first answer need not wait for.
pub(crate) fn release_in_background<T: Send + 'static>(value: T) {
    let spawned = crate::background::spawn("release", move || {
        drop(value);
        release_freed_memory();
    });
    if let Err(e) = spawned {
        tracing::debug!("cannot start a thread to free memory ({e}); it is freed here");
    }
}

/// Hands memory freed after a load back to the system: glibc keeps the
/// millions of small allocations a parse frees in its arenas, where they
/// would stay counted in the server's resident memory for good.
pub(crate) fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the system; it
    // touches no live allocation and is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Orders keys as their lower-case forms would order, without allocating.
fn folded_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() {
        let a = a.bytes().map(|c| c.to_ascii_lowercase());
        return a.cmp(b.bytes().map(|c| c.to_ascii_lowercase()));
    }
    folded_chars(a).cmp(folded_chars(b))
}

/// Whether two keys are the same when case is ignored, as
/// [`Corpus::index_of`] compares them.
pub fn keys_equal_folded(a: &str, b: &str) -> bool {
    folded_cmp(a, b) == std::cmp::Ordering::Equal
}

/// A hash of `key` with case folded as [`keys_equal_folded`] folds it: two
/// keys equal but for case hash alike, so a set of these hashes tells which
/// keys cannot be among a set of keys without comparing them.
pub fn folded_key_hash(key: &str) -> u64 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    if key.is_ascii() {
        let mut buf = [0u8; 64];
        for chunk in key.as_bytes().chunks(buf.len()) {
            let folded = &mut buf[..chunk.len()];
            folded.copy_from_slice(chunk);
            folded.make_ascii_lowercase();
            hasher.update(folded);
        }
    } else {
        let mut utf8 = [0u8; 4];
        for c in folded_chars(key) {
            hasher.update(c.encode_utf8(&mut utf8).as_bytes());
        }
    }
    hasher.digest()
}

fn folded_starts_with(key: &str, prefix: &str) -> bool {
    let mut key = folded_chars(key);
    folded_chars(prefix).all(|c| key.next() == Some(c))
}

fn folded_chars(s: &str) -> impl Iterator<Item = char> + Clone + '_ {
    s.chars().flat_map(char::to_lowercase)
}

/// Fills in `key_columns` while the source texts are still at hand.
fn locate_keys(papers: &mut [Paper], read: &[source::ReadSource]) {
    for paper in papers.iter_mut() {
        if let Some(src) = read.get(paper.origin.file).filter(|s| s.kind.is_bibtex()) {
            paper.origin.key_columns = key_columns_in(&src.text, &paper.origin);
        }
    }
}

/// Where the key of the entry at `origin` sits in `text`, its source. The
/// key's line is counted from its entry's (the key is almost always on the
/// entry's first line), so no line table of a whole file is built.
pub(crate) fn key_columns_in(text: &str, origin: &Origin) -> Option<KeyColumns> {
    let span = origin.key_span.as_ref()?;
    let from_entry = text.get(origin.span.start..span.start)?;
    let line = origin.line + memchr::memchr_iter(b'\n', from_entry.as_bytes()).count() as u32;
    let line_start = memchr::memrchr(b'\n', &text.as_bytes()[..span.start]).map_or(0, |nl| nl + 1);
    KeyColumns::of(text, line, line_start, span)
}

/// Files named directly are kept as they are; folders contribute every file
/// with a corpus extension (digests only when named), in sorted order so loads
/// are deterministic. Hidden entries are skipped. A path named like a corpus
/// file (`refs.bib`) stays a file even if a folder stands there now: it is
/// reported as unreadable rather than read as whatever the folder holds.
pub fn expand_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() && SourceKind::from_path(path).is_none() {
            let mut found = Vec::new();
            collect_corpus_files(path, &mut found, 0);
            found.sort();
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    out
}

fn collect_corpus_files(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    // Deep or cyclic trees (symlink loops) are cut off rather than followed forever.
    if depth > 16 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_corpus_files(&path, out, depth + 1);
        } else if matches!(
            SourceKind::from_path(&path),
            Some(SourceKind::Bibtex | SourceKind::CslJson | SourceKind::JsonLines)
        ) {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_equal_but_for_case_hash_alike_and_others_apart() {
        let long = "Smith2020".repeat(20);
        let keys = [
            "Power2022Grokking",
            "power2022grokking",
            "POWER2022GROKKING",
            "Ärger2020",
            "ärger2020",
            "ÄRGER2020",
            "Ωmega",
            "ωmega",
            "power2022grokkin",
            "straße",
            "STRASSE",
            &long,
        ];
        let long_lower = long.to_lowercase();
        for a in keys.iter().chain([&long_lower.as_str()]) {
            for b in keys.iter().chain([&long_lower.as_str()]) {
                assert_eq!(
                    folded_key_hash(a) == folded_key_hash(b),
                    keys_equal_folded(a, b),
                    "{a} / {b}"
                );
            }
        }
    }

    #[test]
    fn keys_sorted_by_prefix_then_key_are_in_folded_order() {
        let keys = [
            "b",
            "B",
            "a",
            "ab",
            "ab\u{0}",
            "abcdefghZ",
            "ABCDEFGHa",
            "abcdefgh",
            "Ärger2020",
            "ärger2019",
            "zeta",
            "Ωmega",
            "ωmega1",
            "C:AbdBen23",
            "c:abdben22",
            "",
            "İstanbul",
            "i̇stanbul",
            "Éclair",
            "eclair",
            "abcdefgh\u{e9}",
            "abcdefgh\u{c9}z",
        ];
        let papers = keys
            .iter()
            .map(|k| {
                let mut p = Paper::titled(String::new(), "misc");
                p.key = k.to_string();
                p
            })
            .collect();
        let corpus = Corpus::from_papers(papers, Vec::new());
        let mut expected: Vec<u32> = (0..keys.len() as u32).collect();
        expected.sort_by(|&a, &b| folded_cmp(keys[a as usize], keys[b as usize]).then(a.cmp(&b)));
        assert_eq!(corpus.sorted_keys(), &expected[..]);
        assert_eq!(corpus.index_of("AB"), Some(3));
        assert_eq!(corpus.index_of("ärger2020"), Some(8));
        let with_abc: Vec<usize> = corpus.keys_starting_with("ABCDEFGH").collect();
        assert_eq!(with_abc.len(), 5, "{with_abc:?}");
    }
}
