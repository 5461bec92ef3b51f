//! Parsed corpora kept on disk, so that a restart does not parse again.
//!
//! Parsing CryptoBib's 72k entries costs ~0.6 s of two cores, a million
//! JSON Lines papers ~45 s; reading back the papers already parsed costs a
//! small fraction of that. A snapshot is named after the corpus's content
//! fingerprint (each source's path and the hash of its raw bytes, the same
//! number that names the persisted index), so any change to any source —
//! or a different set of sources — simply misses it, and the corpus is
//! parsed and a new snapshot written.
//!
//! The file is a header (magic, format version, fingerprint, body length
//! and body hash) and a body of plain length-prefixed fields. Reading
//! checks all of it and every length against what is left, so a truncated,
//! corrupted or foreign file is refused (and later replaced), never
//! trusted and never a panic. Writes go to a temporary file renamed into
//! place, so a reader never sees half a snapshot.

use super::paper::{Identifiers, KeyColumns, KeyOrigin, Origin, Paper, Person, Problem, Severity};
use super::source::SourceKind;
use super::{Corpus, SourceFile};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const MAGIC: &[u8; 8] = b"PLSNAP\0\0";
/// Bump whenever the encoding or the meaning of a field changes.
const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 8 + 8 + 8;
/// Only corpora this large are worth a file in the cache.
pub const SNAPSHOT_MIN_PAPERS: usize = 5_000;
/// Snapshots nobody has read for this long are removed when a new one is written.
const UNUSED_FOR: Duration = Duration::from_secs(14 * 24 * 3600);

/// Where the snapshot of the corpus with this fingerprint lives.
pub fn snapshot_path(cache_dir: &Path, fingerprint: u64) -> PathBuf {
    cache_dir
        .join("corpus")
        .join(format!("v{FORMAT_VERSION}-{fingerprint:016x}.bin"))
}

/// The corpus stored under `fingerprint`, if a sound snapshot is there.
pub fn read(cache_dir: &Path, fingerprint: u64) -> Option<Corpus> {
    let path = snapshot_path(cache_dir, fingerprint);
    let bytes = std::fs::read(&path).ok()?;
    let corpus = decode(&bytes, fingerprint);
    match &corpus {
        Some(_) => {
            // Marks the snapshot as in use, for the clean-up of old ones.
            if let Ok(file) = std::fs::File::options().append(true).open(&path) {
                let _ = file.set_modified(SystemTime::now());
            }
        }
        None => {
            tracing::warn!("ignoring a damaged corpus snapshot {}", path.display());
            let _ = std::fs::remove_file(&path);
        }
    }
    corpus
}

/// Writes the corpus's snapshot; failures (a read-only cache) are logged
/// and otherwise harmless: the next start parses again.
pub fn write(cache_dir: &Path, corpus: &Corpus) {
    let fingerprint = corpus.content_fingerprint();
    let path = snapshot_path(cache_dir, fingerprint);
    let written = (|| -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(cache_dir);
        std::fs::create_dir_all(dir)?;
        remove_unused(dir);
        let temporary = dir.join(format!(".{fingerprint:016x}.{}.tmp", std::process::id()));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&temporary)?);
        file.write_all(&encode(corpus, fingerprint))?;
        file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&temporary, &path)
    })();
    if let Err(e) = written {
        tracing::warn!("cannot write the corpus snapshot {}: {e}", path.display());
    }
}

fn remove_unused(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let stale = entry
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

fn encode(corpus: &Corpus, fingerprint: u64) -> Vec<u8> {
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
    body.len(corpus.papers.len());
    for paper in &corpus.papers {
        body.paper(paper);
    }
    let body = body.0;
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&fingerprint.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

fn decode(bytes: &[u8], fingerprint: u64) -> Option<Corpus> {
    let mut header = Decoder { rest: bytes };
    if header.take(8)? != MAGIC || header.u32()? != FORMAT_VERSION || header.u64()? != fingerprint {
        return None;
    }
    let body_len = header.u64()?;
    let body_hash = header.u64()?;
    let body = header.rest;
    if body.len() as u64 != body_len || xxhash_rust::xxh3::xxh3_64(body) != body_hash {
        return None;
    }
    let mut d = Decoder { rest: body };
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
    let papers = d.list(Decoder::paper)?;
    let sound = d.rest.is_empty()
        && papers.iter().all(|p| p.origin.file < sources.len())
        && sources.iter().map(|s| s.papers).sum::<usize>() == papers.len();
    sound.then(|| Corpus::assemble(papers, sources, problems))
}

fn kind_code(kind: SourceKind) -> u8 {
    match kind {
        SourceKind::Bibtex => 0,
        SourceKind::CslJson => 1,
        SourceKind::JsonLines => 2,
        SourceKind::Digest => 3,
    }
}

fn kind_of(code: u8) -> Option<SourceKind> {
    Some(match code {
        0 => SourceKind::Bibtex,
        1 => SourceKind::CslJson,
        2 => SourceKind::JsonLines,
        3 => SourceKind::Digest,
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
    fn opt_str(&mut self, s: &Option<String>) {
        self.bool(s.is_some());
        if let Some(s) = s {
            self.str(s);
        }
    }
    fn path(&mut self, p: &Path) {
        // Paths that are not UTF-8 would not round-trip: `Corpus::load_cached`
        // keeps no snapshot for sources with such paths.
        self.str(&p.to_string_lossy());
    }
    fn range(&mut self, r: &std::ops::Range<usize>) {
        self.len(r.start);
        self.len(r.end);
    }

    fn paper(&mut self, p: &Paper) {
        self.str(&p.key);
        self.bool(p.key_origin == KeyOrigin::Generated);
        self.str(&p.entry_type);
        self.str(&p.title);
        self.len(p.authors.len());
        for a in &p.authors {
            self.str(&a.given);
            self.str(&a.family);
        }
        self.bool(p.year.is_some());
        if let Some(y) = p.year {
            self.u32(y as u32);
        }
        self.opt_str(&p.venue);
        self.opt_str(&p.abstract_text);
        self.opt_str(&p.ids.doi);
        self.opt_str(&p.ids.arxiv);
        self.opt_str(&p.ids.url);
        self.len(p.categories.len());
        for c in &p.categories {
            self.str(c);
        }
        let o = &p.origin;
        self.len(o.file);
        self.u32(o.line);
        self.range(&o.span);
        self.bool(o.key_span.is_some());
        if let Some(span) = &o.key_span {
            self.range(span);
        }
        self.bool(o.key_columns.is_some());
        if let Some(c) = &o.key_columns {
            self.u32(c.line);
            self.u32(c.utf8.start);
            self.u32(c.utf8.end);
            self.u32(c.utf16.start);
            self.u32(c.utf16.end);
        }
    }
}

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
    fn opt_string(&mut self) -> Option<Option<String>> {
        if self.bool()? {
            Some(Some(self.string()?))
        } else {
            Some(None)
        }
    }
    fn path(&mut self) -> Option<PathBuf> {
        self.string().map(PathBuf::from)
    }
    fn range(&mut self) -> Option<std::ops::Range<usize>> {
        let start = self.len()?;
        let end = self.len()?;
        (start <= end).then_some(start..end)
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

    fn paper(&mut self) -> Option<Paper> {
        let key = self.string()?;
        let key_origin = if self.bool()? {
            KeyOrigin::Generated
        } else {
            KeyOrigin::Source
        };
        let entry_type = self.string()?;
        let title = self.string()?;
        let authors = self.list(|d| {
            Some(Person {
                given: d.string()?,
                family: d.string()?,
            })
        })?;
        let year = if self.bool()? {
            Some(self.u32()? as i32)
        } else {
            None
        };
        let venue = self.opt_string()?;
        let abstract_text = self.opt_string()?;
        let ids = Identifiers {
            doi: self.opt_string()?,
            arxiv: self.opt_string()?,
            url: self.opt_string()?,
        };
        let categories = self.list(Decoder::string)?;
        let file = self.len()?;
        let line = self.u32()?;
        let span = self.range()?;
        let key_span = if self.bool()? {
            Some(self.range()?)
        } else {
            None
        };
        let key_columns = if self.bool()? {
            let line = self.u32()?;
            let (a, b, c, d) = (self.u32()?, self.u32()?, self.u32()?, self.u32()?);
            Some(KeyColumns {
                line,
                utf8: a..b,
                utf16: c..d,
            })
        } else {
            None
        };
        Some(Paper {
            key,
            key_origin,
            entry_type,
            title,
            authors,
            year,
            venue,
            abstract_text,
            ids,
            categories,
            origin: Origin {
                file,
                line,
                span,
                key_span,
                key_columns,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_snapshot_reads_back_the_same_corpus() {
        let corpus = sample_corpus();
        assert!(corpus.papers.len() >= 3 && !corpus.problems.is_empty());
        let fingerprint = corpus.content_fingerprint();
        let back = decode(&encode(&corpus, fingerprint), fingerprint).expect("decodes");
        assert_eq!(back.papers, corpus.papers);
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
    fn damaged_or_foreign_snapshots_are_refused() {
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
        for at in (HEADER_LEN..good.len()).step_by(7) {
            let mut bad = good.clone();
            bad[at] ^= 0x5a;
            assert!(decode(&bad, fingerprint).is_none(), "flipped byte {at}");
        }
        let mut old = good.clone();
        old[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        assert!(decode(&old, fingerprint).is_none(), "other format version");
    }

    #[test]
    fn written_snapshots_are_found_by_fingerprint() {
        let cache = tempfile::tempdir().unwrap();
        let corpus = sample_corpus();
        assert!(read(cache.path(), corpus.content_fingerprint()).is_none());
        write(cache.path(), &corpus);
        let back = read(cache.path(), corpus.content_fingerprint()).expect("found");
        assert_eq!(back.papers, corpus.papers);
        let path = snapshot_path(cache.path(), corpus.content_fingerprint());
        std::fs::write(&path, b"not a snapshot").unwrap();
        assert!(read(cache.path(), corpus.content_fingerprint()).is_none());
        assert!(!path.exists(), "a damaged snapshot is removed");
    }
}
