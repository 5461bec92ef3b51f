//! Papers' embeddings, kept compactly and persisted.
//!
//! Each vector is stored as 8-bit integers with one scale (`v ≈ code ·
//! scale`, the scale making the largest component ±127): 384 bytes and 4 for
//! the scale per paper for a 384-dimensional model, a quarter of f32, and
//! cosines within ~0.002 of the f32 ones (tests) — far below the gaps
//! between neighbours that decide a ranking. Similarity is an exact scan:
//! integer dot products, which the compiler vectorises; at 100,000 papers a
//! scan reads 39 MB and takes a few milliseconds on one core, so an
//! approximate index would only pay from about a million papers up.
//!
//! On disk a store is keyed by the model (a hash of its files) and by the
//! corpus's sources (their paths, not their contents), and each vector by a
//! hash of the exact text it was computed from: an edited entry's text
//! changes and only that paper is embedded again; a paper the same in two
//! corpora is found in either file's vectors only if it is the same corpus.

use anyhow::{bail, Context};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"PLSEMB01";

/// The text a paper is embedded from: its title and abstract.
pub fn paper_text(title: &str, abstract_text: Option<&str>) -> String {
    let title = title.trim();
    match abstract_text.map(str::trim).filter(|a| !a.is_empty()) {
        Some(abstract_text) if title.ends_with(['.', '?', '!']) => {
            format!("{title} {abstract_text}")
        }
        Some(abstract_text) => format!("{title}. {abstract_text}"),
        None => title.to_string(),
    }
}

/// What a vector was computed from, for finding it again: the text and the
/// sequence length it was cut to.
pub fn text_hash(text: &str, max_tokens: usize) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(text.as_bytes(), max_tokens as u64)
}

/// One corpus's vectors, by paper ordinal; a paper without one has scale 0.
#[derive(Clone, Debug, Default)]
pub struct PaperVectors {
    dims: usize,
    codes: Vec<i8>,
    scales: Vec<f32>,
    hashes: Vec<u64>,
}

/// A vector as codes and a scale.
pub fn quantize(vector: &[f32], codes: &mut [i8]) -> f32 {
    let largest = vector.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if largest == 0.0 || !largest.is_finite() {
        codes.fill(0);
        return 0.0;
    }
    let scale = largest / 127.0;
    for (code, v) in codes.iter_mut().zip(vector) {
        *code = (v / scale).round().clamp(-127.0, 127.0) as i8;
    }
    scale
}

with_widest_vectors!(scan_dots, scan_dots_generic, (query: &[i8], codes: &[i8], dots: &mut [i32]));

/// The dot product of `query` with each row of `codes` (rows as long as it).
#[inline(always)]
fn scan_dots_generic(query: &[i8], codes: &[i8], dots: &mut [i32]) {
    for (row, dot_out) in codes.chunks_exact(query.len()).zip(dots.iter_mut()) {
        *dot_out = dot(query, row);
    }
}

#[inline(always)]
fn dot(a: &[i8], b: &[i8]) -> i32 {
    // Sixteen lanes of i16 products summed into i32: the shape SSE2's
    // `pmaddwd` and AVX2's `vpmaddwd` compute.
    let mut lanes = [0i32; 16];
    let (a_chunks, b_chunks) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: i32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(&x, &y)| x as i32 * y as i32)
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for i in 0..16 {
            lanes[i] += (x[i] as i16 * y[i] as i16) as i32;
        }
    }
    lanes.iter().sum::<i32>() + tail
}

impl PaperVectors {
    pub fn new(dims: usize, papers: usize) -> PaperVectors {
        PaperVectors {
            dims,
            codes: vec![0; dims * papers],
            scales: vec![0.0; papers],
            hashes: vec![0; papers],
        }
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    pub fn len(&self) -> usize {
        self.scales.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }

    /// How many papers have a vector.
    pub fn embedded(&self) -> usize {
        self.scales.iter().filter(|&&s| s > 0.0).count()
    }

    pub fn has(&self, ordinal: usize) -> bool {
        self.scales.get(ordinal).is_some_and(|&s| s > 0.0)
    }

    /// The text hash the paper's vector was computed from, if it has one.
    pub fn hash_of(&self, ordinal: usize) -> Option<u64> {
        self.has(ordinal).then(|| self.hashes[ordinal])
    }

    pub fn set(&mut self, ordinal: usize, vector: &[f32], hash: u64) {
        let d = self.dims;
        self.scales[ordinal] = quantize(vector, &mut self.codes[ordinal * d..(ordinal + 1) * d]);
        self.hashes[ordinal] = hash;
    }

    fn codes_of(&self, ordinal: usize) -> &[i8] {
        &self.codes[ordinal * self.dims..(ordinal + 1) * self.dims]
    }

    /// The cosine of two papers' vectors (0 when either has none).
    pub fn cosine(&self, a: usize, b: usize) -> f32 {
        if !self.has(a) || !self.has(b) {
            return 0.0;
        }
        dot(self.codes_of(a), self.codes_of(b)) as f32 * self.scales[a] * self.scales[b]
    }

    /// Up to `limit` papers most like the paper at `ordinal`, best first,
    /// never itself; none when it has no vector.
    pub fn nearest_to_paper(&self, ordinal: usize, limit: usize) -> Vec<(usize, f32)> {
        if !self.has(ordinal) {
            return Vec::new();
        }
        self.nearest(
            self.codes_of(ordinal),
            self.scales[ordinal],
            limit,
            Some(ordinal),
        )
    }

    /// Up to `limit` papers most like a vector (a query's), best first.
    pub fn nearest_to_vector(&self, vector: &[f32], limit: usize) -> Vec<(usize, f32)> {
        let mut codes = vec![0i8; self.dims];
        let scale = quantize(vector, &mut codes);
        if scale == 0.0 {
            return Vec::new();
        }
        self.nearest(&codes, scale, limit, None)
    }

    fn nearest(
        &self,
        codes: &[i8],
        scale: f32,
        limit: usize,
        skip: Option<usize>,
    ) -> Vec<(usize, f32)> {
        if limit == 0 || codes.len() != self.dims {
            return Vec::new();
        }
        // A bounded min-heap of the best so far, by raw scaled dot product.
        let mut best: std::collections::BinaryHeap<std::cmp::Reverse<(OrderedScore, usize)>> =
            std::collections::BinaryHeap::with_capacity(limit + 1);
        // Dot products a block of papers at a time (the vectorised scan),
        // then the bounded heap over the block.
        const BLOCK: usize = 1024;
        let mut dots = vec![0i32; BLOCK];
        for (block, block_codes) in self.codes.chunks(BLOCK * self.dims).enumerate() {
            let rows = block_codes.len() / self.dims;
            scan_dots(codes, block_codes, &mut dots[..rows]);
            for (row, &dot) in dots[..rows].iter().enumerate() {
                let ordinal = block * BLOCK + row;
                let other_scale = self.scales[ordinal];
                if other_scale == 0.0 || Some(ordinal) == skip {
                    continue;
                }
                let score = dot as f32 * other_scale;
                if best.len() == limit {
                    if let Some(std::cmp::Reverse((worst, _))) = best.peek() {
                        if score <= worst.0 {
                            continue;
                        }
                    }
                    best.pop();
                }
                best.push(std::cmp::Reverse((OrderedScore(score), ordinal)));
            }
        }
        let mut found: Vec<(usize, f32)> = best
            .into_iter()
            .map(|std::cmp::Reverse((s, o))| (o, s.0 * scale))
            .collect();
        found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        found
    }

    /// Writes the vectors with their text hashes (atomically: a temporary
    /// file renamed over the old one).
    pub fn save(&self, path: &Path, model: u64) -> anyhow::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let kept: Vec<usize> = (0..self.len()).filter(|&i| self.has(i)).collect();
        let temporary = path.with_extension(format!("tmp{}", std::process::id()));
        let file = std::fs::File::create(&temporary)
            .with_context(|| format!("creating {}", temporary.display()))?;
        // Written as it goes: a whole file's bytes in one buffer (28 MB at
        // 72k papers) would stay resident in a thread's allocator arena
        // once freed.
        let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
        out.write_all(MAGIC)?;
        out.write_all(&model.to_le_bytes())?;
        out.write_all(&(self.dims as u32).to_le_bytes())?;
        out.write_all(&(kept.len() as u64).to_le_bytes())?;
        for &i in &kept {
            out.write_all(&self.hashes[i].to_le_bytes())?;
            out.write_all(&self.scales[i].to_le_bytes())?;
        }
        let mut bytes = vec![0u8; self.dims];
        for &i in &kept {
            for (byte, &code) in bytes.iter_mut().zip(self.codes_of(i)) {
                *byte = code as u8;
            }
            out.write_all(&bytes)?;
        }
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_data().ok();
        drop(file);
        std::fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }
}

/// Vectors read back from a file, found by the hash of their text.
pub struct SavedVectors {
    dims: usize,
    /// (text hash, index into `scales`/`codes`), sorted by hash.
    by_hash: Vec<(u64, u32)>,
    scales: Vec<f32>,
    codes: SavedCodes,
}

/// The codes read back from a file, in an anonymous mapping of their own
/// (a heap buffer if mapping fails): freed after a restore, all of it goes
/// back to the system, where a heap buffer of this size (28 MB at 72k
/// papers) could stay resident in the reading thread's allocator arena.
enum SavedCodes {
    Mapped(memmap2::MmapMut),
    Heap(Vec<u8>),
}

impl SavedCodes {
    fn zeroed(len: usize) -> SavedCodes {
        match memmap2::MmapMut::map_anon(len) {
            Ok(map) if len > 0 => SavedCodes::Mapped(map),
            _ => SavedCodes::Heap(vec![0; len]),
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            SavedCodes::Mapped(map) => map,
            SavedCodes::Heap(bytes) => bytes,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        match self {
            SavedCodes::Mapped(map) => map,
            SavedCodes::Heap(bytes) => bytes,
        }
    }
}

impl SavedVectors {
    /// The vectors in `path` if it holds vectors of `model` with `dims`
    /// components; `Ok(None)` when there is no such file or it is another
    /// model's, an error when it is damaged.
    pub fn load(path: &Path, model: u64, dims: usize) -> anyhow::Result<Option<SavedVectors>> {
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let length = file.metadata()?.len();
        let mut input = std::io::BufReader::with_capacity(1 << 16, file);
        let mut header = [0u8; 28];
        if input.read_exact(&mut header).is_err() || &header[..8] != MAGIC {
            bail!("{} is not a paper-ls embeddings file", path.display());
        }
        let u64_at = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().expect("8"));
        if u64_at(8) != model
            || u32::from_le_bytes(header[16..20].try_into().expect("4")) as usize != dims
        {
            return Ok(None);
        }
        let count = usize::try_from(u64_at(20)).unwrap_or(usize::MAX);
        let expected = count
            .checked_mul(12 + dims)
            .and_then(|n| n.checked_add(28))
            .filter(|&n| n as u64 == length);
        if expected.is_none() {
            bail!("{} is cut short or damaged", path.display());
        }
        let mut by_hash = Vec::with_capacity(count);
        let mut scales = Vec::with_capacity(count);
        let mut entry = [0u8; 12];
        for i in 0..count {
            input.read_exact(&mut entry)?;
            by_hash.push((
                u64::from_le_bytes(entry[..8].try_into().expect("8")),
                i as u32,
            ));
            scales.push(f32::from_le_bytes(entry[8..].try_into().expect("4")));
        }
        by_hash.sort_unstable();
        let mut codes = SavedCodes::zeroed(count * dims);
        input.read_exact(codes.as_mut_slice())?;
        Ok(Some(SavedVectors {
            dims,
            by_hash,
            scales,
            codes,
        }))
    }

    /// Copies the saved vector of the text with `hash` into `vectors` at
    /// `ordinal`; false when there is none.
    pub fn restore(&self, hash: u64, vectors: &mut PaperVectors, ordinal: usize) -> bool {
        let Ok(found) = self.by_hash.binary_search_by_key(&hash, |&(h, _)| h) else {
            return false;
        };
        let i = self.by_hash[found].1 as usize;
        let d = self.dims;
        let saved = &self.codes.as_slice()[i * d..(i + 1) * d];
        for (code, &byte) in vectors.codes[ordinal * d..(ordinal + 1) * d]
            .iter_mut()
            .zip(saved)
        {
            *code = byte as i8;
        }
        vectors.scales[ordinal] = self.scales[i];
        vectors.hashes[ordinal] = hash;
        vectors.scales[ordinal] > 0.0
    }
}

/// Where a corpus's vectors of one model live in the cache. The sources are
/// named by their canonical paths, so that the server (absolute paths) and
/// a shell command run beside the files (`-c refs.bib`) share one file.
pub fn store_path(cache_dir: &Path, model: u64, source_paths: &[PathBuf]) -> PathBuf {
    let mut names: Vec<String> = source_paths
        .iter()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    names.sort();
    let corpus = xxhash_rust::xxh3::xxh3_64(names.join("\n").as_bytes());
    cache_dir
        .join("embeddings")
        .join(format!("{model:016x}-{corpus:016x}.vectors"))
}

#[derive(Clone, Copy)]
struct OrderedScore(f32);
impl PartialEq for OrderedScore {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for OrderedScore {}
impl PartialOrd for OrderedScore {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrderedScore {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(seed: u64, dims: usize) -> Vec<f32> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut v: Vec<f32> = (0..dims)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 2001) as f32 / 1000.0 - 1.0
            })
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        v
    }

    #[test]
    fn quantized_cosines_are_close_to_the_exact_ones() {
        let dims = 384;
        let mut vectors = PaperVectors::new(dims, 50);
        let exact: Vec<Vec<f32>> = (0..50).map(|i| unit(i + 1, dims)).collect();
        // Pairs that are similar, too: mix each vector with its neighbour.
        let exact: Vec<Vec<f32>> = exact
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let w = &exact[(i + 1) % 50];
                let mixed: Vec<f32> = v.iter().zip(w).map(|(a, b)| a + 0.8 * b).collect();
                let n = mixed.iter().map(|x| x * x).sum::<f32>().sqrt();
                mixed.iter().map(|x| x / n).collect()
            })
            .collect();
        for (i, v) in exact.iter().enumerate() {
            vectors.set(i, v, i as u64);
        }
        for a in 0..50 {
            for b in 0..50 {
                let truth: f32 = exact[a].iter().zip(&exact[b]).map(|(x, y)| x * y).sum();
                assert!((vectors.cosine(a, b) - truth).abs() < 0.002, "{a} {b}");
            }
        }
        let near = vectors.nearest_to_paper(7, 3);
        assert_eq!(near.len(), 3);
        assert!(near.iter().all(|&(o, _)| o != 7));
        assert!(near.windows(2).all(|w| w[0].1 >= w[1].1));
        // The mixes of neighbours are each other's nearest.
        assert!(
            near.iter().take(2).any(|&(o, _)| o == 6 || o == 8),
            "{near:?}"
        );
        let by_vector = vectors.nearest_to_vector(&exact[7], 1);
        assert_eq!(by_vector[0].0, 7);
        assert!((by_vector[0].1 - 1.0).abs() < 0.002);
    }

    #[test]
    fn papers_without_vectors_are_never_found() {
        let mut vectors = PaperVectors::new(4, 3);
        vectors.set(0, &[1.0, 0.0, 0.0, 0.0], 1);
        vectors.set(2, &[0.0, 1.0, 0.0, 0.0], 3);
        assert_eq!(vectors.embedded(), 2);
        assert!(vectors.nearest_to_paper(1, 5).is_empty());
        assert_eq!(
            vectors
                .nearest_to_paper(0, 5)
                .iter()
                .map(|h| h.0)
                .collect::<Vec<_>>(),
            vec![2]
        );
        assert!(vectors.nearest_to_vector(&[0.0; 4], 5).is_empty());
    }

    #[test]
    fn saved_vectors_come_back_by_the_hash_of_their_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e").join("x.vectors");
        let mut vectors = PaperVectors::new(8, 3);
        for i in 0..3 {
            vectors.set(i, &unit(i as u64 + 10, 8), 100 + i as u64);
        }
        vectors.save(&path, 42).unwrap();
        assert!(
            SavedVectors::load(&path, 43, 8).unwrap().is_none(),
            "another model's"
        );
        assert!(SavedVectors::load(&path, 42, 16).unwrap().is_none());
        let saved = SavedVectors::load(&path, 42, 8).unwrap().unwrap();
        // The same texts in another order, and one new text.
        let mut again = PaperVectors::new(8, 3);
        assert!(saved.restore(102, &mut again, 0));
        assert!(saved.restore(100, &mut again, 1));
        assert!(!saved.restore(999, &mut again, 2));
        assert_eq!(again.codes_of(0), vectors.codes_of(2));
        assert_eq!(again.codes_of(1), vectors.codes_of(0));
        assert!(!again.has(2));
        let whole = std::fs::read(&path).unwrap();
        for cut in [40, 10, whole.len() - 1] {
            std::fs::write(&path, &whole[..cut]).unwrap();
            assert!(SavedVectors::load(&path, 42, 8).is_err(), "cut at {cut}");
        }
        std::fs::write(&path, [whole.as_slice(), b"x"].concat()).unwrap();
        assert!(SavedVectors::load(&path, 42, 8).is_err(), "trailing bytes");
        assert!(SavedVectors::load(&dir.path().join("none"), 42, 8)
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_corpus_named_relative_or_absolute_has_one_store() {
        let dir = tempfile::tempdir().unwrap();
        let bib = dir.path().join("refs.bib");
        std::fs::write(&bib, "").unwrap();
        let relative =
            PathBuf::from(".").join(pathdiff_from_cwd(&bib).unwrap_or_else(|| bib.clone()));
        assert_eq!(
            store_path(dir.path(), 1, std::slice::from_ref(&bib)),
            store_path(dir.path(), 1, &[relative])
        );
        assert_ne!(
            store_path(dir.path(), 1, std::slice::from_ref(&bib)),
            store_path(dir.path(), 2, std::slice::from_ref(&bib))
        );
    }

    /// `path` relative to the working directory, through `..` as needed.
    fn pathdiff_from_cwd(path: &Path) -> Option<PathBuf> {
        let cwd = std::env::current_dir().ok()?.canonicalize().ok()?;
        let path = path.canonicalize().ok()?;
        let common = cwd.ancestors().find(|a| path.starts_with(a))?;
        let ups = cwd.strip_prefix(common).ok()?.components().count();
        let mut relative: PathBuf = std::iter::repeat_n("..", ups).collect();
        relative.push(path.strip_prefix(common).ok()?);
        Some(relative)
    }

    #[test]
    fn the_embedded_text_is_title_then_abstract() {
        assert_eq!(paper_text("Flows", Some("We mix.")), "Flows. We mix.");
        assert_eq!(
            paper_text("Why flows?", Some(" We mix. ")),
            "Why flows? We mix."
        );
        assert_eq!(paper_text("Flows", Some("  ")), "Flows");
        assert_ne!(text_hash("a", 256), text_hash("a", 128));
    }
}
