//! The corpora the open documents see, loaded once per distinct set of
//! source files, shared, and re-read when a source changes on disk.
//!
//! A corpus is parsed off the async executor. A small one is indexed in the
//! same step; a large one answers from the parsed papers at once (keys,
//! titles, abstracts) while its full-text index is built beside it. A
//! re-read (a source changed) happens entirely beside the corpus in use and
//! is swapped in only when parsed *and* indexed, so requests never wait and
//! never see half of a change.

use super::last_good::reason_to_keep;
use crate::corpus::{bundled, Corpus};
use crate::features::related::related_papers;
use crate::features::title_index::title_matcher_for;
use crate::features::PaperContext;
use crate::index::title_matcher::TitleMatcher;
use crate::index::{IndexOrigin, IndexWarning, PaperIndex, PaperSearch, PERSIST_MIN_PAPERS};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;
use tokio::sync::OnceCell;

pub use crate::features::discovery::CorpusSelection;

/// How many related papers are kept per paper (go to implementation lists them all).
pub const RELATED_KEPT: usize = 10;
/// Past this many papers' related lists, the cache starts again.
const RELATED_CACHE_LIMIT: usize = 50_000;

/// What a source file looked like: modification time and length, `None` when missing.
pub type Stamp = Option<(SystemTime, u64)>;

pub fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// A parsed corpus and, once built, its index and title matcher.
pub struct LoadedCorpus {
    pub corpus: Arc<Corpus>,
    index: RwLock<Option<Arc<PaperIndex>>>,
    titles: RwLock<Option<Arc<TitleMatcher>>>,
    /// Related papers found so far, by paper: computing them takes tens of
    /// milliseconds with abstracts, too slow for every hover.
    related: Mutex<HashMap<usize, Arc<Vec<usize>>>>,
    /// Papers whose related papers are to be found in the background, by
    /// one worker per corpus so that a burst of hovers never becomes a
    /// burst of threads competing with the requests.
    related_queue: Mutex<Option<std::sync::mpsc::Sender<usize>>>,
    /// The sources as they were when read.
    pub stamps: Vec<(PathBuf, Stamp)>,
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

    /// The papers most related to the one at `ordinal` (up to
    /// `RELATED_KEPT`, best first), computed once per paper. Nothing is kept
    /// while the index is still being built.
    pub fn related(&self, ordinal: usize) -> Arc<Vec<usize>> {
        if let Some(known) = self
            .related
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&ordinal)
        {
            return known.clone();
        }
        let found = Arc::new(self.with_context(|ctx| related_papers(ctx, ordinal, RELATED_KEPT)));
        if self.index().is_some() {
            let mut cache = self.related.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= RELATED_CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(ordinal, found.clone());
        }
        found
    }

    /// The related papers of `ordinal` if they were found already.
    pub fn cached_related(&self, ordinal: usize) -> Option<Arc<Vec<usize>>> {
        self.related
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&ordinal)
            .cloned()
    }

    /// Has the related papers of `ordinal` found in the background (once
    /// the index is there); asking again for a paper found or waiting
    /// costs next to nothing. The worker holds the corpus only while it
    /// works, and ends when the corpus is dropped.
    pub fn find_related_later(self: &Arc<Self>, ordinal: usize) {
        if self.index().is_none() || self.cached_related(ordinal).is_some() {
            return;
        }
        let mut queue = self.related_queue.lock().unwrap_or_else(|e| e.into_inner());
        if queue.is_none() {
            let (sender, papers) = std::sync::mpsc::channel::<usize>();
            let corpus = Arc::downgrade(self);
            let started = std::thread::Builder::new()
                .name("related-papers".into())
                .spawn(move || {
                    while let Ok(paper) = papers.recv() {
                        let Some(loaded) = corpus.upgrade() else {
                            break;
                        };
                        loaded.related(paper);
                    }
                });
            if started.is_err() {
                return;
            }
            *queue = Some(sender);
        }
        if let Some(sender) = queue.as_ref() {
            let _ = sender.send(ordinal);
        }
    }

    fn set_search(&self, index: PaperIndex, titles: TitleMatcher) {
        if let Ok(mut slot) = self.titles.write() {
            *slot = Some(Arc::new(titles));
        }
        if let Ok(mut slot) = self.index.write() {
            *slot = Some(Arc::new(index));
        }
    }
}

/// Progress of indexing a large corpus, for the client's progress UI.
#[derive(Clone, Debug)]
pub enum LoadEvent {
    Begin { label: String },
    Indexing { label: String, percent: u32 },
    End { label: String },
}

/// Called with each freshly read corpus and its label.
pub type LoadReport = Box<dyn Fn(&Corpus, &str) + Send + Sync>;
/// Called with a re-read corpus that was refused, and why.
pub type KeptReport = Box<dyn Fn(&Corpus, &str) + Send + Sync>;

/// What the LSP layer wants to hear about loads: each freshly loaded corpus
/// (to log it and publish its problems), a re-read refused to keep the last
/// good corpus (with the reason), trouble with the persisted index, and
/// indexing progress.
pub struct LoadHooks {
    pub report: LoadReport,
    pub kept: KeptReport,
    pub index_warning: Box<dyn Fn(IndexWarning) + Send + Sync>,
    pub progress: Box<dyn Fn(LoadEvent) + Send + Sync>,
}

type Slot = Arc<OnceCell<Arc<LoadedCorpus>>>;

#[derive(Default)]
pub struct CorpusCache {
    slots: Mutex<HashMap<CorpusSelection, Slot>>,
}

impl CorpusCache {
    /// The corpus for `selection`, loading it on first use.
    pub async fn get(
        &self,
        selection: &CorpusSelection,
        hooks: &Arc<LoadHooks>,
    ) -> Arc<LoadedCorpus> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.entry(selection.clone()).or_default().clone()
        };
        slot.get_or_init(|| first_load(selection.clone(), hooks.clone()))
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

    /// Puts a re-read corpus in place of the old one; requests already
    /// running keep the old one until they finish.
    pub fn replace(&self, selection: &CorpusSelection, loaded: Arc<LoadedCorpus>) {
        let slot = Arc::new(OnceCell::new_with(Some(loaded)));
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.insert(selection.clone(), slot);
    }

    /// Forgets corpora no selection uses any more.
    pub fn retain(&self, in_use: &[CorpusSelection]) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.retain(|k, _| in_use.contains(k));
    }
}

fn label_of(selection: &CorpusSelection) -> String {
    if selection.is_empty() {
        "the bundled corpus".to_string()
    } else {
        selection
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Parses the sources and notes how they looked (blocking).
pub(super) fn parse(selection: &CorpusSelection) -> LoadedCorpus {
    let stamps = selection.iter().map(|p| (p.clone(), stamp(p))).collect();
    let corpus = if selection.is_empty() {
        bundled::load_bundled()
    } else {
        Corpus::load_cached(selection, &bundled::cache_dir())
    };
    LoadedCorpus {
        corpus: Arc::new(corpus),
        index: RwLock::new(None),
        titles: RwLock::new(None),
        related: Mutex::default(),
        related_queue: Mutex::default(),
        stamps,
    }
}

/// Builds the index (reporting progress for large corpora) and title matcher (blocking).
fn build_search(corpus: &Corpus, label: &str, hooks: &LoadHooks) -> (PaperIndex, TitleMatcher) {
    let large = corpus.papers.len() >= PERSIST_MIN_PAPERS;
    if large {
        (hooks.progress)(LoadEvent::Begin {
            label: label.to_string(),
        });
    }
    let titles = title_matcher_for(corpus);
    let mut last = 0;
    let (index, warning) =
        PaperIndex::for_corpus(corpus, &bundled::cache_dir(), &mut |done, total| {
            let percent = (done * 100 / total.max(1)) as u32;
            if large && percent >= last + 5 {
                last = percent;
                (hooks.progress)(LoadEvent::Indexing {
                    label: label.to_string(),
                    percent,
                });
            }
        });
    if let Some(w) = warning {
        tracing::warn!("{w}");
        (hooks.index_warning)(w);
    }
    if large {
        (hooks.progress)(LoadEvent::End {
            label: label.to_string(),
        });
    }
    tracing::info!(
        "index ready for {label}: {} papers ({:?})",
        index.num_docs(),
        index.origin
    );
    crate::corpus::release_freed_memory();
    (index, titles)
}

/// The first load of a selection: a small corpus comes back indexed; a large
/// one comes back parsed and is indexed beside.
async fn first_load(selection: CorpusSelection, hooks: Arc<LoadHooks>) -> Arc<LoadedCorpus> {
    let label = label_of(&selection);
    let (for_parse, parse_hooks, parse_label) = (selection.clone(), hooks.clone(), label.clone());
    let loaded = tokio::task::spawn_blocking(move || {
        let loaded = Arc::new(parse(&for_parse));
        (parse_hooks.report)(&loaded.corpus, &parse_label);
        if loaded.corpus.papers.len() < PERSIST_MIN_PAPERS {
            let (index, titles) = build_search(&loaded.corpus, &parse_label, &parse_hooks);
            loaded.set_search(index, titles);
        }
        loaded
    })
    .await
    .unwrap_or_else(|_| Arc::new(parse(&Vec::new())));
    if loaded.index().is_none() {
        let target = loaded.clone();
        tokio::task::spawn_blocking(move || {
            let (index, titles) = build_search(&target.corpus, &label, &hooks);
            target.set_search(index, titles);
        });
    }
    loaded
}

/// What reading a selection again gave.
pub enum Reread {
    /// Parsed, indexed and ready to be swapped in.
    Fresh(Arc<LoadedCorpus>),
    /// Refused: a source of the last good corpus is damaged (see `last_good`).
    Kept,
}

/// Reads a selection again, completely (parsed, indexed, titles), for a
/// swap — unless, compared with `last_good`, a source turns out damaged.
pub async fn reload(
    selection: CorpusSelection,
    last_good: Option<Arc<LoadedCorpus>>,
    hooks: Arc<LoadHooks>,
) -> Option<Reread> {
    tokio::task::spawn_blocking(move || {
        let label = label_of(&selection);
        let loaded = parse(&selection);
        let damage = last_good
            .as_ref()
            .and_then(|old| reason_to_keep(old, &loaded));
        if let Some(why) = damage {
            (hooks.kept)(&loaded.corpus, &why);
            return Reread::Kept;
        }
        (hooks.report)(&loaded.corpus, &label);
        let (index, titles) = build_search(&loaded.corpus, &label, &hooks);
        loaded.set_search(index, titles);
        Reread::Fresh(Arc::new(loaded))
    })
    .await
    .ok()
}

/// Removes the persisted index a replaced corpus used, unless the new one
/// is the same (nothing changed that the index sees).
pub fn discard_old_index(old: &LoadedCorpus, new: &LoadedCorpus) {
    let dir_of = |l: &LoadedCorpus| match l.index().map(|i| i.origin.clone()) {
        Some(IndexOrigin::Built(dir) | IndexOrigin::Reopened(dir)) => Some(dir),
        _ => None,
    };
    if let (Some(old_dir), new_dir) = (dir_of(old), dir_of(new)) {
        if Some(&old_dir) != new_dir.as_ref() {
            let _ = std::fs::remove_dir_all(old_dir);
        }
    }
}
