//! The corpora the open documents see, loaded once per distinct set of
//! source files and shared.
//!
//! A corpus is parsed off the async executor; requests that need it wait for
//! the parse only (keys, titles and abstracts are answerable at once), while
//! the full-text index is built beside it and swapped in when ready. Until
//! then features fall back to scanning the parsed papers.

use crate::corpus::{bundled, Corpus};
use crate::features::title_index::title_matcher_for;
use crate::features::PaperContext;
use crate::index::title_matcher::TitleMatcher;
use crate::index::{PaperIndex, PaperSearch, PERSIST_MIN_PAPERS};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::OnceCell;

/// Which files make up a corpus; empty means the bundled corpus.
pub type CorpusSelection = Vec<PathBuf>;

/// A parsed corpus and, once built, its index.
pub struct LoadedCorpus {
    pub corpus: Arc<Corpus>,
    index: RwLock<Option<Arc<PaperIndex>>>,
    titles: RwLock<Option<Arc<TitleMatcher>>>,
}

impl LoadedCorpus {
    pub fn index(&self) -> Option<Arc<PaperIndex>> {
        self.index.read().ok().and_then(|i| i.clone())
    }

    /// The title matcher, once built.
    pub fn titles(&self) -> Option<Arc<TitleMatcher>> {
        self.titles.read().ok().and_then(|t| t.clone())
    }

    /// Runs a feature over this corpus and whatever index it has right now.
    pub fn with_context<R>(&self, feature: impl FnOnce(PaperContext<'_>) -> R) -> R {
        let index = self.index();
        let search = index.as_deref().map(|i| i as &dyn PaperSearch);
        feature(PaperContext {
            corpus: &self.corpus,
            search,
        })
    }
}

type Slot = Arc<OnceCell<Arc<LoadedCorpus>>>;

/// Reports a freshly loaded corpus (for the client's log and messages).
pub type LoadReport = Box<dyn Fn(&Corpus, &str) + Send + Sync>;

#[derive(Default)]
pub struct CorpusCache {
    slots: Mutex<HashMap<CorpusSelection, Slot>>,
}

impl CorpusCache {
    /// The corpus for `selection`, loading it on first use.
    pub async fn get(&self, selection: &CorpusSelection, report: &LoadReport) -> Arc<LoadedCorpus> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.entry(selection.clone()).or_default().clone()
        };
        slot.get_or_init(|| load(selection.clone(), report))
            .await
            .clone()
    }

    /// Every corpus loaded so far, with the files it came from.
    pub fn loaded(&self) -> Vec<(CorpusSelection, Arc<LoadedCorpus>)> {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots
            .iter()
            .filter_map(|(selection, slot)| Some((selection.clone(), slot.get()?.clone())))
            .collect()
    }

    /// Forgets corpora no selection uses any more.
    pub fn retain(&self, in_use: &[CorpusSelection]) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.retain(|k, _| in_use.contains(k));
    }
}

async fn load(selection: CorpusSelection, report: &LoadReport) -> Arc<LoadedCorpus> {
    let label = if selection.is_empty() {
        "the bundled corpus".to_string()
    } else {
        selection
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let parse = selection.clone();
    // A small corpus is indexed right away (milliseconds), so its first
    // request already has full-text search and titles; a large one is
    // indexed beside, and answers from the parsed papers meanwhile.
    let (corpus, small) = tokio::task::spawn_blocking(move || {
        let corpus = if parse.is_empty() {
            bundled::load_bundled()
        } else {
            Corpus::load(&parse)
        };
        let small = (corpus.papers.len() < PERSIST_MIN_PAPERS)
            .then(|| {
                Some((
                    PaperIndex::in_memory(&corpus, &mut |_, _| {}).ok()?,
                    title_matcher_for(&corpus),
                ))
            })
            .flatten();
        (corpus, small)
    })
    .await
    .unwrap_or_default();
    let corpus = Arc::new(corpus);
    report(&corpus, &label);
    let (index, titles) = small.map_or((None, None), |(i, t)| {
        (Some(Arc::new(i)), Some(Arc::new(t)))
    });
    let ready = index.is_some();
    let loaded = Arc::new(LoadedCorpus {
        corpus: corpus.clone(),
        index: RwLock::new(index),
        titles: RwLock::new(titles),
    });
    if ready {
        return loaded;
    }
    let target = loaded.clone();
    tokio::task::spawn_blocking(move || {
        let titles = title_matcher_for(&corpus);
        if let Ok(mut slot) = target.titles.write() {
            *slot = Some(Arc::new(titles));
        }
        let (index, warning) =
            PaperIndex::for_corpus(&corpus, &bundled::cache_dir(), &mut |_, _| {});
        if let Some(w) = warning {
            tracing::warn!("{w}");
        }
        tracing::info!(
            "index ready for {label}: {} papers ({:?})",
            index.num_docs(),
            index.origin
        );
        if let Ok(mut slot) = target.index.write() {
            *slot = Some(Arc::new(index));
        }
    });
    loaded
}
