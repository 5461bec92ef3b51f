//! Parsed corpora kept on disk, so that a restart does not parse again.
//!
//! Parsing CryptoBib's 72k entries costs ~0.6 s of two cores, a million
//! JSON Lines papers ~45 s; reading back the papers already parsed costs a
//! small fraction of that. A cache file is named after the corpus's content
//! fingerprint (each source's path and the hash of its raw bytes, the same
//! number that names the persisted index), so any change to any source —
//! or a different set of sources — simply misses it, and the corpus is
//! parsed and a new cache file written.
//!
//! The file is a header (magic, format version, fingerprint, body length,
//! body hash, abstracts length), a body holding the sources, the problems
//! and the paper table's rows, key order and short-string text as they
//! are in memory, and then the abstracts, which a reader maps instead of
//! reading (see `table`). Reading checks the header, the body's hash and
//! every length and offset, so a truncated, corrupted or foreign file is
//! refused (and later replaced), never trusted and never a panic; an
//! abstract damaged on disk reads as absent. Writes go to a temporary file
//! renamed into
//! place, so a reader never sees half a cache file.

use super::paper::{Problem, Severity};
use super::source::SourceKind;
use super::table::{Abstracts, PaperTable, Row, Settling, FIELDS};
use super::zotero::{Annotation, LibraryLinks};
use super::{Cache, Corpus, SourceFile};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const MAGIC: &[u8; 8] = b"PLSNAP\0\0";
/// Bump whenever the encoding or the meaning of a field changes.
// 3: problems include entries that are the same paper twice.
// 4: Zotero libraries' links (PDFs, notes, annotations) are kept; a row's
//    flags say when its persons are editors.
const FORMAT_VERSION: u32 = 4;
const HEADER_LEN: usize = 8 + 4 + 8 + 8 + 8 + 8;
/// Only corpora this large are worth a file in the cache.
pub const CACHE_FILE_MIN_PAPERS: usize = 5_000;
/// A corpus with a Zotero library is worth one from this size: reading a
/// library costs ~40 µs an item, several times parsing a BibTeX entry.
pub const CACHE_FILE_MIN_LIBRARY_PAPERS: usize = 1_000;
/// Cache files nobody has read for this long are removed when a new one is written.
const UNUSED_FOR: Duration = Duration::from_secs(14 * 24 * 3600);

/// Which cache file a corpus lives in, and what its content must be.
///
/// Files' corpora are named by their content: a change makes a new file and
/// the old one ages out. A corpus with a Zotero library is named by its
/// sources alone and holds the library's state in `fingerprint`: Zotero
/// writes many times a day, and each state would otherwise leave a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheKey {
    pub name: u64,
    pub fingerprint: u64,
}

impl CacheKey {
    /// The key of a corpus named by its content.
    pub fn of_content(fingerprint: u64) -> CacheKey {
        CacheKey {
            name: fingerprint,
            fingerprint,
        }
    }

    /// Whether a file under this name holding another corpus is to be
    /// expected (it is replaced), rather than a sign of damage.
    fn is_replaced_in_place(&self) -> bool {
        self.name != self.fingerprint
    }
}

/// Where the cache file named `name` lives.
pub fn cache_file_path(cache_dir: &Path, name: u64) -> PathBuf {
    cache_dir
        .join("corpus")
        .join(format!("v{FORMAT_VERSION}-{name:016x}.bin"))
}

/// The corpus stored under `key`, if a sound cache file is there.
pub fn read(cache_dir: &Path, key: CacheKey) -> Option<Corpus> {
    let path = cache_file_path(cache_dir, key.name);
    let corpus = read_file(&path, key.fingerprint);
    match &corpus {
        Some(_) => {
            // Marks the cache file as in use, for the clean-up of old ones.
            if let Ok(file) = std::fs::File::options().append(true).open(&path) {
                let _ = file.set_modified(SystemTime::now());
            }
        }
        None if key.is_replaced_in_place() => {}
        None if path.exists() => {
            tracing::warn!("ignoring a damaged parsed-corpus file {}", path.display());
            let _ = std::fs::remove_file(&path);
        }
        None => {}
    }
    corpus
}

/// Reads the header and the body, and leaves the abstracts that follow
/// them on disk, to be read one by one when shown (see `table`). The file
/// stays open: cache files are only ever replaced by renaming, never written
/// in place, so what it holds does not change under us.
fn read_file(path: &Path, fingerprint: u64) -> Option<Corpus> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut head = [0u8; HEADER_LEN];
    file.read_exact(&mut head).ok()?;
    let header = Header::parse(&head, fingerprint)?;
    let file_len = file.metadata().ok()?.len();
    if file_len != header.file_len()? {
        return None;
    }
    let mut body = vec![0u8; usize::try_from(header.body_len).ok()?];
    file.read_exact(&mut body).ok()?;
    if xxhash_rust::xxh3::xxh3_64(&body) != header.body_hash {
        return None;
    }
    let abstracts = Abstracts::OnDisk {
        file,
        offset: HEADER_LEN as u64 + header.body_len,
        len: header.abstracts_len,
    };
    decode_body(body, abstracts)
}

/// A freshly parsed corpus with at least this many bytes of abstracts
/// reads them from its cache file once that is written
/// (`Corpus::load_cached`, [`write_in_background_then`]).
pub const ABSTRACTS_TO_DISK_BYTES: u64 = 16 << 20;

/// [`write`] on another thread, so that a load does not wait for it: the
/// thread shares the corpus, encodes the cache file's body and writes it.
/// [`Cache::finish_writes`] waits for such writes.
pub fn write_in_background(cache: &Cache, corpus: std::sync::Arc<Corpus>, key: CacheKey) {
    write_in_background_then(cache, corpus, key, None);
}

/// [`write_in_background`], and then the corpus's abstracts, made
/// [`Settling`] in memory, are read from the file written.
pub(super) fn write_in_background_then(
    cache: &Cache,
    corpus: std::sync::Arc<Corpus>,
    key: CacheKey,
    settling: Option<std::sync::Arc<Settling>>,
) {
    let cache_dir = cache.dir().to_path_buf();
    let CacheKey { name, fingerprint } = key;
    let path = cache_file_path(&cache_dir, name);
    let writing = crate::background::spawn("parsed-corpus-cache", move || {
        let parts = encode_parts(&corpus, fingerprint);
        let written = write_file(&cache_dir, &path, name, &parts, |out| {
            corpus.papers.abstracts.copy_to(out)
        });
        if let (true, Some(settling)) = (written, settling) {
            // Replaced only by renaming, never in place: what was just
            // written stays what this handle reads.
            if let Ok(file) = std::fs::File::open(&path) {
                settling.settle(Abstracts::OnDisk {
                    file,
                    offset: (HEADER_LEN + parts.1.len()) as u64,
                    len: corpus.papers.abstracts.len(),
                });
            }
        }
    });
    match writing {
        Ok(handle) => cache.write_started(handle),
        Err(e) => tracing::warn!("cannot start a thread to write the parsed-corpus file: {e}"),
    }
}

/// Writes the corpus's cache file; failures (a read-only cache) are logged
/// and otherwise harmless: the next start parses again. (Loads write
/// theirs beside, see [`write_in_background`].)
#[cfg(test)]
pub fn write(cache_dir: &Path, corpus: &Corpus, key: CacheKey) {
    let CacheKey { name, fingerprint } = key;
    let path = cache_file_path(cache_dir, name);
    let parts = encode_parts(corpus, fingerprint);
    write_file(cache_dir, &path, name, &parts, |out| {
        corpus.papers.abstracts.copy_to(out)
    });
}

fn write_file(
    cache_dir: &Path,
    path: &Path,
    name: u64,
    (head, body): &(Vec<u8>, Vec<u8>),
    write_abstracts: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> bool {
    let written = (|| -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(cache_dir);
        std::fs::create_dir_all(dir)?;
        remove_unused(dir);
        super::hash_memo::remove_memos_of_missing_files(cache_dir);
        // Unique per write: two writes of one corpus may overlap (a reload).
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temporary = dir.join(format!(".{name:016x}.{}.{write}.tmp", std::process::id()));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&temporary)?);
        file.write_all(head)?;
        file.write_all(body)?;
        write_abstracts(&mut file)?;
        file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if let Err(e) = &written {
        tracing::warn!(
            "cannot write the parsed-corpus file {}: {e}",
            path.display()
        );
    }
    written.is_ok()
}

fn remove_unused(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    let current = format!("v{FORMAT_VERSION}-");
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Written by another version of paper-ls, which this one cannot read.
        let other_format =
            name.starts_with('v') && name.ends_with(".bin") && !name.starts_with(&current);
        let stale = other_format
            || entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|modified| now.duration_since(modified).ok())
                .is_some_and(|age| age > UNUSED_FOR);
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

struct Header {
    body_len: u64,
    body_hash: u64,
    abstracts_len: u64,
}

impl Header {
    fn parse(bytes: &[u8], fingerprint: u64) -> Option<Header> {
        let mut d = Decoder { rest: bytes };
        if d.take(8)? != MAGIC || d.u32()? != FORMAT_VERSION || d.u64()? != fingerprint {
            return None;
        }
        Some(Header {
            body_len: d.u64()?,
            body_hash: d.u64()?,
            abstracts_len: d.u64()?,
        })
    }

    fn file_len(&self) -> Option<u64> {
        (HEADER_LEN as u64)
            .checked_add(self.body_len)?
            .checked_add(self.abstracts_len)
    }
}

/// The header and the body; the abstracts follow them as they are.
fn encode_parts(corpus: &Corpus, fingerprint: u64) -> (Vec<u8>, Vec<u8>) {
    let mut body = Encoder::default();
    body.len(corpus.sources.len());
    for s in &corpus.sources {
        body.path(&s.path);
        body.u8(kind_code(s.kind));
        body.bool(s.gzipped);
        body.u64(s.content_hash);
        body.len(s.papers);
    }
    body.len(corpus.problems.len());
    for p in &corpus.problems {
        body.path(&p.file);
        body.u32(p.line);
        body.u8(match p.severity {
            Severity::Error => 0,
            Severity::Warning => 1,
        });
        body.str(&p.message);
    }
    let table = &corpus.papers;
    body.len(table.len());
    body.0
        .reserve(table.len() * (ROW_BYTES + 4 + 8) + table.text.len() + 8);
    for row in &table.rows {
        body.row(row);
    }
    for &ordinal in corpus.sorted_keys() {
        body.u32(ordinal);
    }
    for &end in &table.abstract_ends {
        body.u64(end);
    }
    let mut linked: Vec<_> = corpus.library_links.iter().collect();
    linked.sort_unstable_by_key(|(&ordinal, _)| ordinal);
    body.len(linked.len());
    for (&ordinal, links) in linked {
        body.u32(ordinal);
        body.len(links.pdfs.len());
        for pdf in &links.pdfs {
            body.path(pdf);
        }
        body.str(&links.select);
        body.len(links.notes.len());
        for note in &links.notes {
            body.str(note);
        }
        body.len(links.annotations.len());
        for a in &links.annotations {
            body.str(&a.text);
            body.str(&a.comment);
            body.str(&a.page);
        }
    }
    body.str(&table.text);
    let body = body.0;
    let mut head = Vec::with_capacity(HEADER_LEN);
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    head.extend_from_slice(&fingerprint.to_le_bytes());
    head.extend_from_slice(&(body.len() as u64).to_le_bytes());
    head.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&body).to_le_bytes());
    head.extend_from_slice(&table.abstracts.len().to_le_bytes());
    (head, body)
}

#[cfg(test)]
fn encode(corpus: &Corpus, fingerprint: u64) -> Vec<u8> {
    let (mut out, body) = encode_parts(corpus, fingerprint);
    out.extend_from_slice(&body);
    corpus.papers.abstracts.copy_to(&mut out).unwrap();
    out
}

/// A whole cache file held in memory (the abstracts are copied).
#[cfg(test)]
fn decode(bytes: &[u8], fingerprint: u64) -> Option<Corpus> {
    let header = Header::parse(bytes.get(..HEADER_LEN)?, fingerprint)?;
    if bytes.len() as u64 != header.file_len()? {
        return None;
    }
    let body = &bytes[HEADER_LEN..HEADER_LEN + header.body_len as usize];
    if xxhash_rust::xxh3::xxh3_64(body) != header.body_hash {
        return None;
    }
    let abstracts = bytes[HEADER_LEN + body.len()..].to_vec();
    decode_body(
        body.to_vec(),
        Abstracts::InMemory(std::sync::Arc::new(abstracts)),
    )
}

/// Decodes the body, which ends with the table's text: that is moved to
/// the front of the body's own buffer and kept, rather than copied (at a
/// million papers it is a quarter of a gigabyte).
fn decode_body(mut body: Vec<u8>, abstracts: Abstracts) -> Option<Corpus> {
    let mut d = Decoder { rest: &body };
    let sources = d.list(|d| {
        Some(SourceFile {
            path: d.path()?,
            kind: kind_of(d.u8()?)?,
            gzipped: d.bool()?,
            content_hash: d.u64()?,
            papers: d.len()?,
        })
    })?;
    let problems = d.list(|d| {
        Some(Problem {
            file: d.path()?,
            line: d.u32()?,
            severity: match d.u8()? {
                0 => Severity::Error,
                1 => Severity::Warning,
                _ => return None,
            },
            message: d.string()?,
        })
    })?;
    let papers = d.len()?;
    // Refused before anything is allocated for a count the bytes cannot hold.
    if papers.checked_mul(ROW_BYTES + 4 + 8)? > d.rest.len() {
        return None;
    }
    let rows: Vec<Row> = d
        .take(papers * ROW_BYTES)?
        .chunks_exact(ROW_BYTES)
        .map(|bytes| Decoder { rest: bytes }.row())
        .collect::<Option<_>>()?;
    let sorted_keys: Vec<u32> = d
        .take(papers * 4)?
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let abstract_ends: Vec<u64> = (0..papers).map(|_| d.u64()).collect::<Option<_>>()?;
    let linked = d.list(|d| {
        let ordinal = d.u32()?;
        let links = LibraryLinks {
            pdfs: d.list(Decoder::path)?,
            select: d.string()?,
            notes: d.list(Decoder::string)?,
            annotations: d.list(|d| {
                Some(Annotation {
                    text: d.string()?,
                    comment: d.string()?,
                    page: d.string()?,
                })
            })?,
        };
        ((ordinal as usize) < papers).then_some((ordinal, links))
    })?;
    let text_len = d.len()?;
    if d.rest.len() != text_len {
        return None;
    }
    let text_start = body.len() - text_len;
    body.copy_within(text_start.., 0);
    body.truncate(text_len);
    body.shrink_to_fit();
    let text = String::from_utf8(body).ok()?;
    let table = PaperTable {
        rows,
        text,
        abstract_ends,
        abstracts,
    };
    let sound = table.is_sound(sources.len())
        && sources.iter().map(|s| s.papers).sum::<usize>() == papers
        && sorted_keys.iter().all(|&i| (i as usize) < papers);
    sound.then(|| {
        let mut corpus = Corpus::with_sorted_keys(table, sources, problems, sorted_keys);
        corpus.library_links = linked.into_iter().collect();
        corpus
    })
}

fn kind_code(kind: SourceKind) -> u8 {
    match kind {
        SourceKind::Bibtex => 0,
        SourceKind::CslJson => 1,
        SourceKind::JsonLines => 2,
        SourceKind::Digest => 3,
        SourceKind::Zotero => 4,
        SourceKind::HayagrivaYaml => 5,
    }
}

fn kind_of(code: u8) -> Option<SourceKind> {
    Some(match code {
        0 => SourceKind::Bibtex,
        1 => SourceKind::CslJson,
        2 => SourceKind::JsonLines,
        3 => SourceKind::Digest,
        4 => SourceKind::Zotero,
        5 => SourceKind::HayagrivaYaml,
        _ => return None,
    })
}

#[derive(Default)]
struct Encoder(Vec<u8>);

impl Encoder {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, v: usize) {
        self.u64(v as u64);
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn path(&mut self, p: &Path) {
        // Paths that are not UTF-8 would not round-trip: `Corpus::load_cached`
        // keeps no cache file for sources with such paths.
        self.str(&p.to_string_lossy());
    }
    fn row(&mut self, row: &Row) {
        self.u64(row.start);
        for end in row.ends {
            self.u32(end);
        }
        self.0.extend_from_slice(&row.flags.to_le_bytes());
        self.u32(row.year as u32);
        self.u32(row.file);
        self.u32(row.line);
        for v in [row.span.0, row.span.1, row.key_span.0, row.key_span.1] {
            self.u64(v);
        }
        for v in row.key_columns {
            self.u32(v);
        }
    }
}

/// Bytes per row in the cache file (see `Encoder::row`).
const ROW_BYTES: usize = 8 + 4 * FIELDS + 2 + 4 * 3 + 8 * 4 + 4 * 5;

struct Decoder<'b> {
    rest: &'b [u8],
}

impl<'b> Decoder<'b> {
    fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        if n > self.rest.len() {
            return None;
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn bool(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.u64()?).ok()
    }
    fn string(&mut self) -> Option<String> {
        let n = self.len()?;
        Some(std::str::from_utf8(self.take(n)?).ok()?.to_string())
    }
    fn path(&mut self) -> Option<PathBuf> {
        self.string().map(PathBuf::from)
    }
    /// A count followed by that many items; a count larger than the bytes
    /// left could hold is refused before anything is allocated for it.
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let n = self.len()?;
        if n > self.rest.len() {
            return None;
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(item(self)?);
        }
        Some(out)
    }

    fn row(&mut self) -> Option<Row> {
        let start = self.u64()?;
        let mut ends = [0u32; FIELDS];
        for end in &mut ends {
            *end = self.u32()?;
        }
        let flags = u16::from_le_bytes(self.take(2)?.try_into().ok()?);
        let year = self.u32()? as i32;
        let (file, line) = (self.u32()?, self.u32()?);
        let span = (self.u64()?, self.u64()?);
        let key_span = (self.u64()?, self.u64()?);
        let mut key_columns = [0u32; 5];
        for v in &mut key_columns {
            *v = self.u32()?;
        }
        Some(Row {
            start,
            ends,
            flags,
            year,
            file,
            line,
            span,
            key_span,
            key_columns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn papers_of(corpus: &Corpus) -> Vec<crate::corpus::Paper> {
        corpus.papers.iter().map(|p| p.to_paper()).collect()
    }

    fn sample_corpus() -> Corpus {
        let dir = tempfile::tempdir().unwrap();
        let bib = dir.path().join("refs.bib");
        std::fs::write(
            &bib,
            "@string{j = {Journal of Tests}}\n\
             @article{knuth84, author = {Donald E. Knuth and Gr{\\\"o}bner, W.}, title = {Literate {P}rogramming}, journal = j, year = 1984, doi = {10.1/x}, abstract = {About φ.}}\n\
             @misc{broken, title = {Unclosed\n\
             @book{noyear, title = {A Book}, url = {https://x.org}}\n",
        )
        .unwrap();
        let jsonl = dir.path().join("a.jsonl");
        std::fs::write(
            &jsonl,
            r#"{"id": "2401.00001", "title": "Grokking Fast", "authors": "A. B and C. D", "abstract": "We grok.", "categories": "cs.LG cs.AI"}"#,
        )
        .unwrap();
        Corpus::load(&[bib, jsonl])
    }

    #[test]
    fn a_cache_file_reads_back_the_same_corpus() {
        let mut corpus = sample_corpus();
        corpus.library_links.insert(
            1,
            LibraryLinks {
                pdfs: vec![PathBuf::from("/z/storage/ABCD1234/Grokking Fast.pdf")],
                select: "zotero://select/library/items/ABCD1234".into(),
                notes: vec!["Read twice.\nSecond line".into()],
                annotations: vec![Annotation {
                    text: "we grok".into(),
                    comment: "φ!".into(),
                    page: "iv".into(),
                }],
            },
        );
        assert!(corpus.papers.len() >= 3 && !corpus.problems.is_empty());
        let fingerprint = corpus.content_fingerprint();
        let back = decode(&encode(&corpus, fingerprint), fingerprint).expect("decodes");
        assert_eq!(back.library_links, corpus.library_links);
        assert_eq!(back.library_links.len(), 1);
        assert_eq!(papers_of(&back), papers_of(&corpus));
        assert_eq!(back.problems, corpus.problems);
        assert_eq!(back.sources.len(), corpus.sources.len());
        for (a, b) in back.sources.iter().zip(&corpus.sources) {
            assert_eq!(
                (&a.path, a.kind, a.gzipped, a.content_hash, a.papers),
                (&b.path, b.kind, b.gzipped, b.content_hash, b.papers)
            );
        }
        assert_eq!(back.index_of("KNUTH84"), corpus.index_of("KNUTH84"));
        assert_eq!(
            back.keys_starting_with("kn").collect::<Vec<_>>(),
            corpus.keys_starting_with("kn").collect::<Vec<_>>()
        );
    }

    #[test]
    fn damaged_or_foreign_cache_files_are_refused() {
        let corpus = sample_corpus();
        let fingerprint = corpus.content_fingerprint();
        let good = encode(&corpus, fingerprint);
        assert!(
            decode(&good, fingerprint ^ 1).is_none(),
            "other fingerprint"
        );
        for cut in [0, 7, HEADER_LEN, HEADER_LEN + 9, good.len() - 1] {
            assert!(decode(&good[..cut], fingerprint).is_none(), "cut at {cut}");
        }
        let abstracts_start = good.len() - corpus.papers.abstracts.len() as usize;
        for at in (HEADER_LEN..abstracts_start).step_by(7) {
            let mut bad = good.clone();
            bad[at] ^= 0x5a;
            assert!(decode(&bad, fingerprint).is_none(), "flipped byte {at}");
        }
        // The abstracts are not hashed (a warm start does not read them): a
        // damaged one reads as absent, the others as they were.
        let mut bad = good.clone();
        bad[abstracts_start] = 0xff;
        let back = decode(&bad, fingerprint).expect("decodes");
        let with_abstracts: Vec<_> = (0..corpus.papers.len())
            .filter(|&i| corpus.paper(i).abstract_text().is_some())
            .collect();
        assert!(with_abstracts.len() >= 2);
        assert_eq!(back.paper(with_abstracts[0]).abstract_text(), None);
        assert!(corpus.paper(with_abstracts[0]).abstract_text().is_some());
        assert_eq!(
            back.paper(with_abstracts[1]).abstract_text(),
            corpus.paper(with_abstracts[1]).abstract_text()
        );
        let mut old = good.clone();
        old[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        assert!(decode(&old, fingerprint).is_none(), "other format version");
    }

    /// A corpus handed over before its cache file is written reads its
    /// abstracts from memory, then — once the file holds them — from the
    /// file, with the bytes in memory let go; every abstract the same
    /// throughout, and the file the one a plain write makes.
    #[test]
    fn abstracts_settle_into_the_cache_file_written_beside() {
        let cache_dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(cache_dir.path());
        let mut corpus = sample_corpus();
        let expected = papers_of(&corpus);
        assert!(
            expected
                .iter()
                .filter(|p| p.abstract_text.is_some())
                .count()
                >= 2
        );
        let key = CacheKey::of_content(corpus.content_fingerprint());
        let settling = corpus.papers.abstracts.settling().expect("in memory");
        assert!(corpus.papers.abstracts.settling().is_none(), "once");
        assert_eq!(papers_of(&corpus), expected, "read from memory");
        let corpus = std::sync::Arc::new(corpus);
        write_in_background_then(&cache, corpus.clone(), key, Some(settling.clone()));
        cache.finish_writes();
        assert!(settling.on_disk.get().is_some(), "settled");
        assert!(
            crate::workspace::unpoisoned(&settling.in_memory).is_none(),
            "the bytes in memory are let go"
        );
        assert_eq!(papers_of(&corpus), expected, "read from the file");
        let plain = tempfile::tempdir().unwrap();
        write(plain.path(), &corpus, key);
        assert_eq!(
            std::fs::read(cache_file_path(plain.path(), key.name)).unwrap(),
            std::fs::read(cache_file_path(cache_dir.path(), key.name)).unwrap()
        );
        // Settling on bytes of another length is refused.
        let mut other = sample_corpus();
        let refused = other.papers.abstracts.settling().unwrap();
        refused.settle(Abstracts::in_memory(b"short".to_vec()));
        assert!(refused.on_disk.get().is_none());
        assert_eq!(papers_of(&other), expected);
    }

    #[test]
    fn written_cache_files_are_found_by_fingerprint() {
        let cache = tempfile::tempdir().unwrap();
        let corpus = sample_corpus();
        let key = CacheKey::of_content(corpus.content_fingerprint());
        assert!(read(cache.path(), key).is_none());
        let older_format = cache.path().join("corpus").join("v1-00000000000000ab.bin");
        std::fs::create_dir_all(older_format.parent().unwrap()).unwrap();
        std::fs::write(&older_format, b"an older paper-ls's cache file").unwrap();
        write(cache.path(), &corpus, key);
        assert!(
            !older_format.exists(),
            "cache files of other formats are removed"
        );
        let back = read(cache.path(), key).expect("found");
        assert_eq!(papers_of(&back), papers_of(&corpus));
        assert!(matches!(back.papers.abstracts, Abstracts::OnDisk { .. }));
        // What was read back writes the same cache file again.
        let again = tempfile::tempdir().unwrap();
        write(again.path(), &back, key);
        let path_again = cache_file_path(again.path(), corpus.content_fingerprint());
        let path_first = cache_file_path(cache.path(), corpus.content_fingerprint());
        assert_eq!(
            std::fs::read(path_again).unwrap(),
            std::fs::read(&path_first).unwrap()
        );
        let path = cache_file_path(cache.path(), corpus.content_fingerprint());
        std::fs::write(&path, b"not a cache file").unwrap();
        assert!(read(cache.path(), key).is_none());
        assert!(!path.exists(), "a damaged cache file is removed");
    }
}
