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

use super::mapped::MappedBuffer;
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
    /// In a mapping of its own (28 MB at 72k papers): a corpus reloaded or
    /// closed hands it back to the system whole.
    codes: MappedBuffer<i8>,
    scales: Vec<f32>,
    hashes: Vec<u64>,
    /// The corpus's mean, for cosines between centred vectors; computed by
    /// `centre` once the vectors are complete, dropped by any change.
    centre: Option<Centre>,
}

/// Fewer papers than this are not centred: the mean of a handful of papers
/// is mostly each paper itself, and there are no hubs to speak of.
pub const CENTRED_FROM: usize = 100;

/// What the cosine of two centred vectors (each paper's vector minus the
/// corpus's mean) needs besides their dot product: per paper, its dot with
/// the mean and the inverse length of its centred vector; and the mean's
/// squared length. `(a − μ)·(b − μ) = a·b − a·μ − b·μ + |μ|²`.
#[derive(Clone, Debug, Default)]
struct Centre {
    mean_length2: f32,
    mean_dots: MappedBuffer<f32>,
    inverse_lengths: MappedBuffer<f32>,
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

/// The dot product of `query` with each row of `codes` (rows as long as it):
/// the whole cost of finding related papers by meaning.
fn scan_dots(query: &[i8], codes: &[i8], dots: &mut [i32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && query.len().is_multiple_of(16) {
        // SAFETY: the CPU has AVX2.
        return unsafe { scan_dots_avx2(query, codes, dots) };
    }
    scan_dots_generic(query, codes, dots)
}

/// `scan_dots` by `vpmaddwd`: sixteen codes widened to i16, multiplied in
/// pairs and summed into eight i32 lanes per instruction. Written out, as
/// the compiler vectorises the plain loop with 32-bit multiplies (`vpmulld`),
/// three times slower (10 ms at 100,000 papers against 3.5).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn scan_dots_avx2(query: &[i8], codes: &[i8], dots: &mut [i32]) {
    use std::arch::x86_64::*;
    let dims = query.len();
    let widened: Vec<__m256i> = query
        .chunks_exact(16)
        .map(|c| _mm256_cvtepi8_epi16(_mm_loadu_si128(c.as_ptr().cast())))
        .collect();
    let products = |row: &[i8], at: usize| {
        let codes = _mm256_cvtepi8_epi16(_mm_loadu_si128(row.as_ptr().add(16 * at).cast()));
        _mm256_madd_epi16(codes, widened[at])
    };
    for (row, dot_out) in codes.chunks_exact(dims).zip(dots.iter_mut()) {
        // Two sums in registers, so that one addition need not wait for
        // the other.
        let (mut even, mut odd) = (_mm256_setzero_si256(), _mm256_setzero_si256());
        let mut at = 0;
        while at + 1 < widened.len() {
            even = _mm256_add_epi32(even, products(row, at));
            odd = _mm256_add_epi32(odd, products(row, at + 1));
            at += 2;
        }
        if at < widened.len() {
            even = _mm256_add_epi32(even, products(row, at));
        }
        let sum = _mm256_add_epi32(even, odd);
        let half = _mm_add_epi32(
            _mm256_castsi256_si128(sum),
            _mm256_extracti128_si256(sum, 1),
        );
        let quarter = _mm_add_epi32(half, _mm_shuffle_epi32(half, 0b01_00_11_10));
        let one = _mm_add_epi32(quarter, _mm_shuffle_epi32(quarter, 0b10_11_00_01));
        *dot_out = _mm_cvtsi128_si32(one);
    }
}

/// [`scan_dots`] without vector instructions of our own.
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
            codes: MappedBuffer::zeroed(dims * papers),
            scales: vec![0.0; papers],
            hashes: vec![0; papers],
            centre: None,
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
        self.centre = None;
    }

    /// Computes the corpus's mean, so that `nearest_to_paper_centred` ranks
    /// by the cosine of centred vectors (nothing for fewer than
    /// `CENTRED_FROM` papers). Linear in the corpus: ~56 ms at 100,000 papers.
    pub fn centre(&mut self) {
        let with_vectors = self.embedded();
        if with_vectors < CENTRED_FROM {
            self.centre = None;
            return;
        }
        let d = self.dims;
        let mut sum = vec![0.0f64; d];
        for ordinal in (0..self.len()).filter(|&o| self.has(o)) {
            let scale = self.scales[ordinal] as f64;
            for (s, &c) in sum.iter_mut().zip(self.codes_of(ordinal)) {
                *s += c as f64 * scale;
            }
        }
        let mean: Vec<f32> = sum
            .iter()
            .map(|s| (s / with_vectors as f64) as f32)
            .collect();
        let mean_length2: f32 = mean.iter().map(|m| m * m).sum();
        let mut mean_dots = MappedBuffer::zeroed(self.len());
        let mut inverse_lengths = MappedBuffer::zeroed(self.len());
        for ordinal in (0..self.len()).filter(|&o| self.has(o)) {
            let scale = self.scales[ordinal];
            let (mut dot_mean, mut length2) = (0.0f32, 0.0f32);
            for (&c, m) in self.codes_of(ordinal).iter().zip(&mean) {
                let v = c as f32 * scale;
                dot_mean += v * m;
                length2 += v * v;
            }
            mean_dots[ordinal] = dot_mean;
            // A paper at the mean itself has no direction once centred.
            let centred2 = length2 - 2.0 * dot_mean + mean_length2;
            inverse_lengths[ordinal] = if centred2 > 1e-6 {
                centred2.sqrt().recip()
            } else {
                0.0
            };
        }
        self.centre = Some(Centre {
            mean_length2,
            mean_dots,
            inverse_lengths,
        });
    }

    /// Whether `centre` has been computed since the last change.
    pub fn is_centred(&self) -> bool {
        self.centre.is_some()
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
        let scale = self.scales[ordinal];
        self.nearest(
            self.codes_of(ordinal),
            limit,
            Some(ordinal),
            |other, dot| dot as f32 * scale * self.scales[other],
        )
    }

    /// As `nearest_to_paper`, by the cosine of the papers' vectors once the
    /// corpus's mean is taken off them (when `centre` has been computed;
    /// plain cosine otherwise). Centring lowers the "hubs" of the corpus,
    /// papers near its mean that come up as related to everything, and on
    /// arXiv 2025 cs raises the share of related papers with the query's
    /// own category most for the small categories (see `related::RANKING`).
    pub fn nearest_to_paper_centred(&self, ordinal: usize, limit: usize) -> Vec<(usize, f32)> {
        let Some(centre) = &self.centre else {
            return self.nearest_to_paper(ordinal, limit);
        };
        if !self.has(ordinal) {
            return Vec::new();
        }
        let scale = self.scales[ordinal];
        let shift = centre.mean_length2 - centre.mean_dots[ordinal];
        let inverse_length = centre.inverse_lengths[ordinal];
        self.nearest(
            self.codes_of(ordinal),
            limit,
            Some(ordinal),
            |other, dot| {
                let centred_dot =
                    dot as f32 * scale * self.scales[other] - centre.mean_dots[other] + shift;
                centred_dot * centre.inverse_lengths[other] * inverse_length
            },
        )
    }

    /// Up to `limit` papers most like a vector (a query's), best first.
    pub fn nearest_to_vector(&self, vector: &[f32], limit: usize) -> Vec<(usize, f32)> {
        let mut codes = vec![0i8; self.dims];
        let scale = quantize(vector, &mut codes);
        if scale == 0.0 {
            return Vec::new();
        }
        self.nearest(&codes, limit, None, |other, dot| {
            dot as f32 * scale * self.scales[other]
        })
    }

    /// The `limit` best papers by `score(paper, integer dot product with
    /// codes)`, never `skip` nor a paper without a vector.
    fn nearest(
        &self,
        codes: &[i8],
        limit: usize,
        skip: Option<usize>,
        score: impl Fn(usize, i32) -> f32,
    ) -> Vec<(usize, f32)> {
        if limit == 0 || codes.len() != self.dims {
            return Vec::new();
        }
        // A bounded min-heap of the best so far.
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
                if self.scales[ordinal] == 0.0 || Some(ordinal) == skip {
                    continue;
                }
                let score = score(ordinal, dot);
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
            .map(|std::cmp::Reverse((s, o))| (o, s.0))
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

/// The codes read back from a file: freed after a restore, all of it goes
/// back to the system (see `mapped`).
type SavedCodes = MappedBuffer<u8>;

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
        input.read_exact(&mut codes)?;
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
        let saved = &self.codes[i * d..(i + 1) * d];
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
    fn the_vector_scan_equals_plain_dot_products() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut code = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as i8
        };
        for dims in [16, 384, 768] {
            let rows = 37;
            let mut query: Vec<i8> = (0..dims).map(|_| code()).collect();
            let mut codes: Vec<i8> = (0..dims * rows).map(|_| code()).collect();
            // The extremes, where a 16-bit sum of two products would overflow.
            query[..16].fill(-128);
            codes[..16].fill(-128);
            codes[dims..dims + 16].fill(127);
            let mut fast = vec![0; rows];
            let mut plain = vec![0; rows];
            scan_dots(&query, &codes, &mut fast);
            scan_dots_generic(&query, &codes, &mut plain);
            let exact: Vec<i32> = codes
                .chunks_exact(dims)
                .map(|row| {
                    row.iter()
                        .zip(&query)
                        .map(|(&a, &b)| a as i32 * b as i32)
                        .sum()
                })
                .collect();
            assert_eq!(fast, exact, "{dims}");
            assert_eq!(plain, exact, "{dims}");
        }
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

    fn normalised(v: Vec<f32>) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / n).collect()
    }

    /// Four topics of 40 papers sharing one direction (as a model's vectors
    /// of one field do), and one paper on that shared direction: a hub.
    fn topics_and_a_hub(dims: usize) -> Vec<Vec<f32>> {
        let common = unit(1000, dims);
        let topics: Vec<Vec<f32>> = (0..4).map(|t| unit(2000 + t, dims)).collect();
        let mut papers: Vec<Vec<f32>> = (0..160)
            .map(|i| {
                let topic = &topics[i % 4];
                let noise = unit(3000 + i as u64, dims);
                normalised(
                    (0..dims)
                        .map(|d| 1.5 * common[d] + topic[d] + 1.3 * noise[d])
                        .collect(),
                )
            })
            .collect();
        let hub: Vec<f32> = (0..dims)
            .map(|d| 1.5 * common[d] + 0.3 * topics.iter().map(|t| t[d]).sum::<f32>())
            .collect();
        papers.push(normalised(hub));
        papers
    }

    #[test]
    fn centred_cosines_are_those_of_the_vectors_less_their_mean() {
        let dims = 128;
        let exact = topics_and_a_hub(dims);
        let n = exact.len();
        let mut vectors = PaperVectors::new(dims, n);
        for (i, v) in exact.iter().enumerate() {
            vectors.set(i, v, i as u64);
        }
        vectors.centre();
        assert!(vectors.is_centred());
        let mean: Vec<f32> = (0..dims)
            .map(|d| exact.iter().map(|v| v[d]).sum::<f32>() / n as f32)
            .collect();
        let centred: Vec<Vec<f32>> = exact
            .iter()
            .map(|v| normalised(v.iter().zip(&mean).map(|(x, m)| x - m).collect()))
            .collect();
        let truth = |a: usize, b: usize| -> f32 {
            centred[a].iter().zip(&centred[b]).map(|(x, y)| x * y).sum()
        };
        for query in [0, 17, 77, 160] {
            let found = vectors.nearest_to_paper_centred(query, 10);
            assert_eq!(found.len(), 10);
            for &(other, score) in &found {
                assert_ne!(other, query);
                assert!(
                    (score - truth(query, other)).abs() < 0.01,
                    "{query} {other}"
                );
            }
            // Nothing left out scores better than the last one found.
            let last = found.last().unwrap().1;
            for other in (0..n).filter(|&o| o != query && !found.iter().any(|f| f.0 == o)) {
                assert!(truth(query, other) <= last + 0.01, "{query} {other}");
            }
        }
        // Any change drops the centre until it is computed again.
        vectors.set(3, &exact[4], 99);
        assert!(!vectors.is_centred());
    }

    #[test]
    fn centring_keeps_a_hub_out_of_other_papers_related_lists() {
        let dims = 128;
        let exact = topics_and_a_hub(dims);
        let hub = exact.len() - 1;
        let mut vectors = PaperVectors::new(dims, exact.len());
        for (i, v) in exact.iter().enumerate() {
            vectors.set(i, v, i as u64);
        }
        // Centred ranking falls back to plain cosine before `centre`.
        let lists_with_hub = |vectors: &PaperVectors| {
            (0..hub)
                .filter(|&q| {
                    let found = vectors.nearest_to_paper_centred(q, 5);
                    found.iter().any(|&(o, _)| o == hub)
                })
                .count()
        };
        let plain = lists_with_hub(&vectors);
        vectors.centre();
        let centred = lists_with_hub(&vectors);
        assert!(
            plain > 100,
            "the hub is in {plain} of 160 lists by plain cosine"
        );
        assert!(centred < plain / 4, "{centred} against {plain}");
        // And each paper's list stays within its topic.
        for q in [0, 1, 2, 3, 50] {
            let found = vectors.nearest_to_paper_centred(q, 5);
            assert!(found.iter().all(|&(o, _)| o % 4 == q % 4), "{q}: {found:?}");
        }
    }

    #[test]
    fn a_handful_of_papers_is_not_centred() {
        let dims = 16;
        let mut vectors = PaperVectors::new(dims, CENTRED_FROM - 1);
        for i in 0..CENTRED_FROM - 1 {
            vectors.set(i, &unit(i as u64 + 1, dims), i as u64);
        }
        vectors.centre();
        assert!(!vectors.is_centred());
        assert_eq!(
            vectors.nearest_to_paper_centred(5, 7),
            vectors.nearest_to_paper(5, 7)
        );
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
