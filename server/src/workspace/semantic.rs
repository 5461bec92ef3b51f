//! Related papers by meaning for the loaded corpora: each corpus's sentence
//! embeddings are restored from the cache or computed in the background, at
//! a lower priority and on one core, and handed to the corpus once every
//! paper has one; until then related papers are ranked by shared words.
//!
//! One corpus is embedded at a time (two corpora at once would only share
//! the same core). Vectors are saved every few hundred papers, so a server
//! stopped halfway resumes where it was; a corpus read again (an edited
//! `.bib`) restores the vectors of every unchanged paper and embeds only
//! the changed ones, because vectors are found by the hash of their text.

use super::corpora::{label_of, LoadEvent, LoadedCorpus, Loader, Task};
use super::selection::CorpusSelection;
use super::settings::SemanticSettings;
use super::unpoisoned;
use crate::index::embeddings::{
    fetch, model_identity, CorpusVectors, Encoder, LazyEncoder, Meaning,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// The default model's folder name in the cache.
pub const DEFAULT_MODEL: &str = "all-MiniLM-L6-v2";
/// How often vectors computed so far are saved.
const SAVE_EVERY: Duration = Duration::from_secs(20);
/// Papers embedded between checks that the corpus is still wanted.
const PART: usize = 32;

/// Where embeddings come from, as the settings and the workspace say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SemanticConfig {
    pub model: PathBuf,
    pub max_papers: usize,
}

impl SemanticConfig {
    /// The configuration the settings ask for; `None` when semantic ranking
    /// is turned off.
    pub fn resolve(
        settings: &SemanticSettings,
        root: Option<&Path>,
        cache_dir: &Path,
    ) -> Option<SemanticConfig> {
        if !settings.enabled || settings.max_papers == 0 {
            return None;
        }
        let model = match &settings.model {
            Some(folder) => {
                let folder = PathBuf::from(crate::corpus::selection::expand_home(folder));
                match root {
                    Some(root) if folder.is_relative() => root.join(folder),
                    _ => folder,
                }
            }
            None => default_model_dir(cache_dir),
        };
        Some(SemanticConfig {
            model,
            max_papers: settings.max_papers,
        })
    }
}

/// The default model's folder: `models/all-MiniLM-L6-v2` in the cache.
pub fn default_model_dir(cache_dir: &Path) -> PathBuf {
    cache_dir.join("models").join(DEFAULT_MODEL)
}

/// A model's identity, remembered while its weights file is unchanged
/// (hashing 90 MB on every load would cost a tenth of a second).
type IdentityMemo = Option<(PathBuf, u64, Option<SystemTime>, u64)>;

/// Starts and serialises the embedding work of the loaded corpora.
#[derive(Default)]
pub struct Embedder {
    config: Mutex<Option<SemanticConfig>>,
    /// Held by the corpus being embedded.
    running: Mutex<()>,
    identity: Mutex<IdentityMemo>,
}

impl Embedder {
    pub fn configure(&self, config: Option<SemanticConfig>) -> bool {
        let mut current = unpoisoned(&self.config);
        let changed = *current != config;
        *current = config;
        changed
    }

    pub fn config(&self) -> Option<SemanticConfig> {
        unpoisoned(&self.config).clone()
    }

    /// Has `loaded`'s embeddings restored or computed in the background,
    /// once per corpus and model; nothing when turned off, when the corpus
    /// is too large or empty, or when it has them.
    pub fn embed_later(
        &self,
        loaded: &Arc<LoadedCorpus>,
        selection: &CorpusSelection,
        loader: &Arc<Loader>,
    ) {
        let Some(config) = self.config() else { return };
        let papers = loaded.corpus.papers.len();
        if papers == 0 || papers > config.max_papers || !loaded.start_embedding(&config.model) {
            return;
        }
        let (loader, corpus, label) = (loader.clone(), Arc::downgrade(loaded), label_of(selection));
        let work = move || loader.embedder.run(corpus, &config, &label, &loader);
        if let Err(e) = crate::background::spawn("embeddings", work) {
            tracing::error!("cannot start the thread that embeds papers: {e}");
        }
    }

    fn model_identity(&self, model: &Path) -> anyhow::Result<u64> {
        let weights = std::fs::metadata(model.join("model.safetensors"))?;
        let stamp = (weights.len(), weights.modified().ok());
        let mut memo = unpoisoned(&self.identity);
        if let Some((path, len, modified, identity)) = &*memo {
            if path == model && (*len, *modified) == stamp {
                return Ok(*identity);
            }
        }
        let identity = model_identity(model)?;
        *memo = Some((model.to_path_buf(), stamp.0, stamp.1, identity));
        Ok(identity)
    }

    fn run(
        &self,
        corpus: std::sync::Weak<LoadedCorpus>,
        config: &SemanticConfig,
        label: &str,
        loader: &Loader,
    ) {
        let (hooks, cache_dir) = (&loader.hooks, loader.cache.dir());
        let _turn = unpoisoned(&self.running);
        let Some(loaded) = corpus.upgrade() else {
            return;
        };
        let default_model = default_model_dir(cache_dir);
        if config.model == default_model && !fetch::is_complete(&default_model) {
            let from = fetch::source();
            tracing::info!(
                "fetching the model {DEFAULT_MODEL} from {from} into {}",
                default_model.display()
            );
            match fetch::fetch_default_model(&default_model, &from) {
                Ok(()) => tracing::info!("fetched {DEFAULT_MODEL}"),
                Err(e) => tracing::warn!(
                    "related papers by meaning are off: cannot fetch {DEFAULT_MODEL}: {e:#}"
                ),
            }
        }
        if !config.model.join("model.safetensors").is_file() {
            tracing::info!(
                "related papers by meaning are off for {label}: no model in {} (set `semantic.model`, or put all-MiniLM-L6-v2 there)",
                config.model.display()
            );
            return;
        }
        let loaded_model =
            Encoder::load(&config.model).and_then(|e| Ok((self.model_identity(&config.model)?, e)));
        let (identity, encoder) = match loaded_model {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!("cannot use the model in {}: {e:#}", config.model.display());
                return;
            }
        };
        let started = Instant::now();
        let mut vectors = CorpusVectors::restore(&loaded.corpus, &encoder, identity, cache_dir);
        let total = vectors.missing.len();
        let papers = loaded.corpus.papers.len();
        let restored = papers - total;
        drop(loaded);
        // What the progress says: "3 of 1200 papers of refs.bib".
        let what = format!("{total} of {papers} papers of {label}");
        if total > 0 {
            tracing::info!("embedding {what} ({restored} restored from the cache)");
            (hooks.progress)(LoadEvent::Begin {
                label: what.clone(),
                task: Task::Embedding,
            });
            let mut last_save = Instant::now();
            let mut last_percent = 0;
            while !vectors.missing.is_empty() {
                // The corpus is held only for one part at a time, so that a
                // corpus replaced or closed meanwhile is let go.
                let Some(loaded) = corpus.upgrade() else {
                    break;
                };
                let finished = vectors.embed_missing(&loaded.corpus, &encoder, 1, PART, &|_| true);
                drop(loaded);
                if !finished {
                    break;
                }
                let percent = ((total - vectors.missing.len()) * 100)
                    .checked_div(total)
                    .unwrap_or(100) as u32;
                if percent >= last_percent + 2 {
                    last_percent = percent;
                    (hooks.progress)(LoadEvent::Progress {
                        label: what.clone(),
                        task: Task::Embedding,
                        percent,
                    });
                }
                if last_save.elapsed() >= SAVE_EVERY {
                    save(&vectors);
                    last_save = Instant::now();
                }
            }
            (hooks.progress)(LoadEvent::End {
                label: what.clone(),
                task: Task::Embedding,
            });
        }
        if vectors.missing.is_empty() {
            if total > 0 || !vectors.path.exists() {
                save(&vectors);
            }
            if let Some(loaded) = corpus.upgrade() {
                tracing::info!(
                    "related papers by meaning for {label}: {} papers ({restored} restored, {total} embedded in {:.1} s)",
                    loaded.corpus.papers.len(),
                    started.elapsed().as_secs_f64()
                );
                // The model is let go with `encoder` here; a sentence query
                // maps it again.
                loaded.set_meaning(Meaning::new(
                    vectors.vectors,
                    LazyEncoder::new(&config.model, encoder.max_tokens()),
                ));
            }
        } else {
            save(&vectors);
        }
        // The model's mapping goes with `encoder`; the tokenizer's tables and
        // the forward pass's buffers were freed, and go back to the system.
        drop(encoder);
        crate::corpus::release_freed_memory();
    }
}

fn save(vectors: &CorpusVectors) {
    if let Err(e) = vectors.save() {
        tracing::warn!("cannot save embeddings: {e:#}");
    }
}
