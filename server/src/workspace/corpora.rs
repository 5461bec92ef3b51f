//! The corpora the open documents see, loaded once per distinct set of
//! source files, shared, and re-read when a source changes on disk.
//!
//! A corpus is parsed off the async executor. A small one is indexed in the
//! same step; a large one answers from the parsed papers at once (keys,
//! titles, abstracts) while its full-text index is built beside it. A
//! re-read (a source changed) happens entirely beside the corpus in use and
//! is swapped in only when parsed *and* indexed, so requests never wait and
//! never see half of a change. A corpus whose reading failed outright (a
//! panic in a reader) is an empty corpus whose one problem says so — never
//! silently another corpus.

use super::files::FileSystem;
use super::last_good::{reason_to_keep, Reading};
use super::selection::CorpusSelection;
use super::semantic::Embedder;
use super::stamps::SourceStamps;
use super::unpoisoned;
use crate::corpus::bibtex::MacroTable;
use crate::corpus::entry_copy::corpus_macros;
use crate::corpus::{bundled, Cache, Corpus, Problem, Severity};
use crate::index::embeddings::Meaning;
use crate::index::title_matcher::TitleMatcher;
use crate::index::word_columns::WordColumns;
use crate::index::{
    index_dir, IndexOrigin, IndexWarning, PaperContext, PaperIndex, PaperSearch, PERSIST_MIN_PAPERS,
};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::OnceCell;

/// A paper's reference in one style: its reference-list entry and its
/// citation in the text; `None` when it could not be formatted.
pub type FormattedReference = Option<Arc<(String, String)>>;

/// How many related papers are kept per paper (go to implementation lists them all).
pub const RELATED_KEPT: usize = 10;
/// Past this many papers' related lists, the cache starts again.
const RELATED_CACHE_LIMIT: usize = 50_000;

/// A parsed corpus and, once built, its index (set once: a corpus read
/// again is a new `LoadedCorpus`) and title matcher (set again when one
/// that stood in for it, from the corpus it was reloaded from, is replaced).
pub struct LoadedCorpus {
    pub corpus: Arc<Corpus>,
    index: OnceLock<Arc<PaperIndex>>,
    titles: Mutex<Option<Arc<TitleMatcher>>>,
    /// Title, name and key words to search by until the index is ready
    /// (a large corpus whose index is being built), then dropped.
    words: Mutex<Option<Arc<WordColumns>>>,
    /// The `@string` macros of its `.bib` sources, for copying entries out;
    /// read again from the sources the first time an entry is copied.
    bib_macros: OnceLock<Arc<MacroTable>>,
    /// Related papers found so far, by paper: computing them takes tens of
    /// milliseconds with abstracts, too slow for every hover.
    related: Mutex<HashMap<usize, Arc<Vec<usize>>>>,
    /// References formatted so far, by style and paper: (entry, citation).
    references: Mutex<HashMap<(String, usize), FormattedReference>>,
    /// Papers whose related papers are to be found in the background, by
    /// one worker per corpus so that a burst of hovers never becomes a
    /// burst of threads competing with the requests.
    related_queue: Mutex<Option<std::sync::mpsc::Sender<usize>>>,
    /// The sources as they were when read.
    pub stamps: SourceStamps,
    /// Every paper's sentence embedding, once all are there.
    meaning: Mutex<Option<Arc<Meaning>>>,
    /// The model whose embeddings were started for this corpus.
    embedding_model: Mutex<Option<PathBuf>>,
}

impl LoadedCorpus {
    fn new(corpus: impl Into<Arc<Corpus>>, stamps: SourceStamps) -> LoadedCorpus {
        LoadedCorpus {
            corpus: corpus.into(),
            index: OnceLock::new(),
            titles: Mutex::default(),
            words: Mutex::default(),
            bib_macros: OnceLock::new(),
            related: Mutex::default(),
            references: Mutex::default(),
            related_queue: Mutex::default(),
            stamps,
            meaning: Mutex::default(),
            embedding_model: Mutex::default(),
        }
    }

    /// The papers' embeddings, once every paper has one.
    pub fn meaning(&self) -> Option<Arc<Meaning>> {
        unpoisoned(&self.meaning).clone()
    }

    /// Related papers are ranked by meaning from now on: the lists found by
    /// shared words are forgotten.
    pub(super) fn set_meaning(&self, meaning: Meaning) {
        *unpoisoned(&self.meaning) = Some(Arc::new(meaning));
        unpoisoned(&self.related).clear();
    }

    fn forget_meaning(&self) {
        *unpoisoned(&self.embedding_model) = None;
        if unpoisoned(&self.meaning).take().is_some() {
            unpoisoned(&self.related).clear();
        }
    }

    /// True once per model: the caller starts embedding this corpus with it.
    pub(super) fn start_embedding(&self, model: &std::path::Path) -> bool {
        let mut started = unpoisoned(&self.embedding_model);
        if started.as_deref() == Some(model) {
            return false;
        }
        *started = Some(model.to_path_buf());
        true
    }

    /// A corpus indexed (in memory) and title-matched now, on this thread:
    /// for tests and tools that have no server.
    pub fn indexed_now(corpus: impl Into<Arc<Corpus>>, stamps: SourceStamps) -> Arc<LoadedCorpus> {
        let loaded = LoadedCorpus::new(corpus, stamps);
        if let Ok(index) = PaperIndex::in_memory(&loaded.corpus, &mut |_, _| {}) {
            loaded.set_titles(TitleMatcher::for_corpus(&loaded.corpus));
            loaded.set_index(index);
        }
        Arc::new(loaded)
    }

    /// The macros of its `.bib` sources, read through `files` on first use.
    pub fn bib_macros(&self, files: &dyn FileSystem) -> Arc<MacroTable> {
        self.bib_macros
            .get_or_init(|| match self.corpus.reload_facts() {
                // Kept from the load (the same files, read then).
                Some(facts) => facts.macros(),
                None => Arc::new(corpus_macros(&self.corpus, &|path| files.read(path))),
            })
            .clone()
    }

    pub fn index(&self) -> Option<Arc<PaperIndex>> {
        self.index.get().cloned()
    }

    /// The title matcher, once built.
    pub fn titles(&self) -> Option<Arc<TitleMatcher>> {
        unpoisoned(&self.titles).clone()
    }

    /// The words to search by while the index is not there yet.
    pub fn words(&self) -> Option<Arc<WordColumns>> {
        unpoisoned(&self.words).clone()
    }

    /// This corpus and whatever index it has right now.
    pub fn context(&self) -> PaperContext<'_> {
        PaperContext {
            corpus: &self.corpus,
            search: self.index.get().map(|i| &**i as &dyn PaperSearch),
            meaning: None,
        }
    }

    /// The papers most related to the one at `ordinal` (up to
    /// `RELATED_KEPT`, best first), computed once per paper. Nothing is kept
    /// while the index is still being built.
    pub fn related(&self, ordinal: usize) -> Arc<Vec<usize>> {
        if let Some(known) = self.cached_related(ordinal) {
            return known;
        }
        let meaning = self.meaning();
        let context = PaperContext {
            meaning: meaning.as_deref().map(|m| &m.vectors),
            ..self.context()
        };
        let found = Arc::new(context.related_papers(ordinal, RELATED_KEPT));
        if self.index().is_some() {
            let mut cache = unpoisoned(&self.related);
            if cache.len() >= RELATED_CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(ordinal, found.clone());
        }
        found
    }

    /// The reference of `ordinal` in `style`, formatted by `format` the
    /// first time it is asked for and kept (formatting takes a
    /// millisecond or so, too slow to do for every hover).
    pub fn reference(
        &self,
        style: &str,
        ordinal: usize,
        format: impl FnOnce() -> Option<(String, String)>,
    ) -> FormattedReference {
        let key = (style.to_string(), ordinal);
        if let Some(known) = unpoisoned(&self.references).get(&key) {
            return known.clone();
        }
        let formatted = format().map(Arc::new);
        let mut cache = unpoisoned(&self.references);
        if cache.len() >= RELATED_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key, formatted.clone());
        formatted
    }

    /// The related papers of `ordinal` if they were found already.
    pub fn cached_related(&self, ordinal: usize) -> Option<Arc<Vec<usize>>> {
        unpoisoned(&self.related).get(&ordinal).cloned()
    }

    /// Has the related papers of `ordinal` found in the background (once
    /// the index is there); asking again for a paper found or waiting
    /// costs next to nothing. The worker holds the corpus only while it
    /// works, and ends when the corpus is dropped.
    pub fn find_related_later(self: &Arc<Self>, ordinal: usize) {
        if self.index().is_none() || self.cached_related(ordinal).is_some() {
            return;
        }
        let mut queue = unpoisoned(&self.related_queue);
        if queue.is_none() {
            let (sender, papers) = std::sync::mpsc::channel::<usize>();
            let corpus = Arc::downgrade(self);
            let started = crate::background::spawn("related-papers", move || {
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

    /// The index is ready: searches go to it, and the word columns that
    /// stood in for it are let go (snapshots still holding them keep them
    /// until they end).
    fn set_index(&self, index: PaperIndex) {
        let _ = self.index.set(Arc::new(index));
        unpoisoned(&self.words).take();
    }

    /// Word columns to search by until the index is set (none once it is;
    /// checked under the lock `set_index` takes after setting the index).
    fn set_words(&self, words: WordColumns) {
        let mut slot = unpoisoned(&self.words);
        if self.index.get().is_none() {
            *slot = Some(Arc::new(words));
        }
    }

    fn set_titles(&self, titles: TitleMatcher) {
        *unpoisoned(&self.titles) = Some(Arc::new(titles));
    }

    fn reading(&self) -> Reading<'_> {
        Reading {
            corpus: &self.corpus,
            stamps: &self.stamps,
        }
    }
}

/// Progress of long work on a corpus (indexing a large one, computing its
/// embeddings), for the client's progress UI.
#[derive(Clone, Debug)]
pub enum LoadEvent {
    Begin {
        label: String,
        task: Task,
    },
    Progress {
        label: String,
        task: Task,
        percent: u32,
    },
    End {
        label: String,
        task: Task,
    },
}

/// The long work a `LoadEvent` is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Task {
    Indexing,
    Embedding,
}

/// Called with each freshly read corpus and its label.
pub type LoadReport = Box<dyn Fn(&Corpus, &str) + Send + Sync>;
/// Called with a re-read corpus that was refused, its label, and why.
pub type KeptReport = Box<dyn Fn(&Corpus, &str, &str) + Send + Sync>;

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

/// What loading needs besides the files: the cache directory and who to
/// tell about each load.
pub struct Loader {
    pub cache: Arc<Cache>,
    pub hooks: LoadHooks,
    /// Computes the corpora's embeddings (related papers by meaning).
    pub embedder: Embedder,
    /// Builds the title matchers of corpora reloaded by entry.
    pub title_rebuilds: Arc<TitleRebuilds>,
}

/// The title matchers of corpora reloaded by entry, built again one at a
/// time and only for the newest corpus asked for. A matcher is built from
/// every title (about a second of a core at 75k papers) while the moved
/// one stands in; lines appended to a dump a tenth of a second apart asked
/// for one each, on threads of their own: they ran side by side, each
/// holding its half-built tables, and all but the last were thrown away
/// with the corpus they were for.
#[derive(Default)]
pub struct TitleRebuilds {
    state: Mutex<RebuildState>,
}

#[derive(Default)]
struct RebuildState {
    /// The corpus to build for next; gone if it was replaced meanwhile.
    next: Option<std::sync::Weak<LoadedCorpus>>,
    running: bool,
}

impl TitleRebuilds {
    /// Builds `target`'s title matcher beside, after the one being built,
    /// instead of any asked for before it and not yet begun.
    fn request(self: &Arc<Self>, target: &Arc<LoadedCorpus>) {
        let mut state = unpoisoned(&self.state);
        state.next = Some(Arc::downgrade(target));
        if state.running {
            return;
        }
        state.running = true;
        drop(state);
        let rebuilds = self.clone();
        let started = crate::background::spawn("title-matcher", move || {
            // Running is cleared however the loop ends (a panic too), so
            // later reloads start a worker again.
            let _done = StopsRunning(&rebuilds);
            while let Some(next) = rebuilds.take_next() {
                if let Some(target) = next.upgrade() {
                    target.set_titles(TitleMatcher::for_corpus(&target.corpus));
                    drop(target);
                    crate::corpus::release_freed_memory();
                }
            }
        });
        if let Err(e) = started {
            unpoisoned(&self.state).running = false;
            tracing::error!("cannot start the thread that matches titles: {e}");
        }
    }

    /// The next corpus to build for; `None` (and no longer running) when
    /// none is waiting.
    fn take_next(&self) -> Option<std::sync::Weak<LoadedCorpus>> {
        let mut state = unpoisoned(&self.state);
        let next = state.next.take();
        state.running = next.is_some();
        next
    }
}

struct StopsRunning<'a>(&'a TitleRebuilds);

impl Drop for StopsRunning<'_> {
    fn drop(&mut self) {
        // A worker that ends normally has cleared it in `take_next` (and
        // another may be running since).
        if std::thread::panicking() {
            unpoisoned(&self.0.state).running = false;
        }
    }
}

impl Loader {
    /// Reads the sources of `selection` (the bundled corpus for none) and
    /// notes how they looked (blocking).
    pub fn read(&self, selection: &CorpusSelection) -> (Arc<Corpus>, SourceStamps) {
        read_selection(selection, &self.cache)
    }

    /// [`Loader::read`], kept as a `LoadedCorpus` not yet indexed.
    fn parse(&self, selection: &CorpusSelection) -> LoadedCorpus {
        let (corpus, stamps) = self.read(selection);
        LoadedCorpus::new(corpus, stamps)
    }

    /// Builds the index — or opens it, or updates it from `previous` (the
    /// corpus `target` replaces, with its index) — and the title matcher,
    /// side by side on two threads, and sets each on `target` as soon as it
    /// is ready: a warm start searches as soon as the persisted index opens,
    /// not after a million titles are sorted too (blocking). Reports
    /// progress for large corpora.
    fn build_search(
        &self,
        target: &LoadedCorpus,
        label: &str,
        previous: Option<(&Corpus, &PaperIndex)>,
    ) {
        let corpus = &*target.corpus;
        let match_titles = || target.set_titles(TitleMatcher::for_corpus(corpus));
        std::thread::scope(|scope| {
            let beside = std::thread::Builder::new()
                .name("title-matcher".into())
                .spawn_scoped(scope, match_titles);
            let index = self.index_of(corpus, label, previous);
            target.set_index(index);
            if beside.is_err() {
                match_titles();
            }
        });
    }

    /// The index of `corpus`: updated from `previous` where it can be,
    /// else opened or built.
    fn index_of(
        &self,
        corpus: &Corpus,
        label: &str,
        previous: Option<(&Corpus, &PaperIndex)>,
    ) -> PaperIndex {
        let hooks = &self.hooks;
        let updated = previous.and_then(|(old_corpus, old_index)| {
            PaperIndex::updated_from(old_index, old_corpus, corpus, self.cache.dir())
        });
        if let Some(index) = updated {
            tracing::info!(
                "index ready for {label}: {} papers (updated)",
                index.num_docs()
            );
            return index;
        }
        let large = corpus.papers.len() >= PERSIST_MIN_PAPERS;
        if large {
            (hooks.progress)(LoadEvent::Begin {
                label: label.to_string(),
                task: Task::Indexing,
            });
        }
        let mut last = 0;
        let (index, warning) =
            PaperIndex::for_corpus(corpus, self.cache.dir(), &mut |done, total| {
                let percent = (done * 100 / total.max(1)) as u32;
                if large && percent >= last + 5 {
                    last = percent;
                    (hooks.progress)(LoadEvent::Progress {
                        label: label.to_string(),
                        task: Task::Indexing,
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
                task: Task::Indexing,
            });
        }
        tracing::info!(
            "index ready for {label}: {} papers ({:?})",
            index.num_docs(),
            index.origin
        );
        crate::corpus::release_freed_memory();
        index
    }
}

/// The corpus a selection names — its files, or the bundled corpus for none
/// — read through the parsed-corpus cache, with the files' stamps: what the
/// server, `paper-ls check` and the shell commands all load.
pub fn read_selection(selection: &[PathBuf], cache: &Cache) -> (Arc<Corpus>, SourceStamps) {
    let stamps = SourceStamps::take(selection);
    let corpus = if selection.is_empty() {
        Arc::new(bundled::load_bundled(cache.dir()))
    } else {
        Corpus::load_cached(selection, cache)
    };
    (corpus, stamps)
}

type Slot = Arc<OnceCell<Arc<LoadedCorpus>>>;

/// The corpora loaded so far, by the files they were read from.
pub struct CorpusCache {
    loader: Arc<Loader>,
    slots: Mutex<HashMap<CorpusSelection, Slot>>,
}

impl CorpusCache {
    pub fn new(loader: Loader) -> CorpusCache {
        CorpusCache {
            loader: Arc::new(loader),
            slots: Mutex::default(),
        }
    }

    pub fn loader(&self) -> &Arc<Loader> {
        &self.loader
    }

    /// The corpus for `selection`, loading it on first use.
    pub async fn get(&self, selection: &CorpusSelection) -> Arc<LoadedCorpus> {
        let slot = unpoisoned(&self.slots)
            .entry(selection.clone())
            .or_default()
            .clone();
        let loaded = slot
            .get_or_init(|| first_load(selection.clone(), self.loader.clone()))
            .await
            .clone();
        self.loader
            .embedder
            .embed_later(&loaded, selection, &self.loader);
        loaded
    }

    /// The corpus of `selection` when it has been read, without waiting
    /// for it (see [`get`](Self::get)).
    pub fn get_if_loaded(&self, selection: &CorpusSelection) -> Option<Arc<LoadedCorpus>> {
        let slot = unpoisoned(&self.slots).get(selection)?.clone();
        let loaded = slot.get()?.clone();
        self.loader
            .embedder
            .embed_later(&loaded, selection, &self.loader);
        Some(loaded)
    }

    /// The embedding settings changed: corpora start over with the new model,
    /// or rank by words again when turned off.
    pub fn semantic_changed(&self) {
        let on = self.loader.embedder.config().is_some();
        for (selection, loaded) in self.loaded() {
            if on {
                self.loader
                    .embedder
                    .embed_later(&loaded, &selection, &self.loader);
            } else {
                loaded.forget_meaning();
            }
        }
    }

    /// Every corpus loaded so far, with the files it came from.
    pub fn loaded(&self) -> Vec<(CorpusSelection, Arc<LoadedCorpus>)> {
        unpoisoned(&self.slots)
            .iter()
            .filter_map(|(selection, slot)| Some((selection.clone(), slot.get()?.clone())))
            .collect()
    }

    /// Puts a re-read corpus in place of the old one; requests already
    /// running keep the old one until they finish.
    pub fn replace(&self, selection: &CorpusSelection, loaded: Arc<LoadedCorpus>) {
        self.loader
            .embedder
            .embed_later(&loaded, selection, &self.loader);
        let slot = Arc::new(OnceCell::new_with(Some(loaded)));
        unpoisoned(&self.slots).insert(selection.clone(), slot);
    }

    /// Forgets corpora no selection uses any more.
    pub fn retain(&self, in_use: &[CorpusSelection]) {
        unpoisoned(&self.slots).retain(|k, _| in_use.contains(k));
    }
}

pub(super) fn label_of(selection: &CorpusSelection) -> String {
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

/// The corpus of a selection whose reading panicked: empty, with a problem
/// that says so on each of its files, so the user is told rather than
/// handed another corpus.
fn failed_read(selection: &CorpusSelection, label: &str) -> LoadedCorpus {
    let message = format!(
        "paper-ls failed while reading {label} (a bug: please report it with this file); no papers from it are available until it changes"
    );
    let files: Vec<PathBuf> = if selection.is_empty() {
        vec![PathBuf::from("<bundled>")]
    } else {
        selection.clone()
    };
    let problems = files
        .into_iter()
        .map(|file| Problem {
            file,
            line: 0,
            severity: Severity::Error,
            message: message.clone(),
        })
        .collect();
    tracing::error!("{message}");
    LoadedCorpus::new(
        Corpus::from_sources(Vec::new(), problems),
        SourceStamps::take(selection),
    )
}

/// The first load of a selection: a small corpus comes back indexed; a large
/// one comes back parsed and is indexed beside.
async fn first_load(selection: CorpusSelection, loader: Arc<Loader>) -> Arc<LoadedCorpus> {
    let label = label_of(&selection);
    let (for_parse, parse_loader, parse_label) = (selection.clone(), loader.clone(), label.clone());
    let parsed = tokio::task::spawn_blocking(move || {
        let loaded = Arc::new(parse_loader.parse(&for_parse));
        (parse_loader.hooks.report)(&loaded.corpus, &parse_label);
        if loaded.corpus.papers.len() < PERSIST_MIN_PAPERS {
            parse_loader.build_search(&loaded, &parse_label, None);
        }
        loaded
    })
    .await;
    let loaded = match parsed {
        Ok(loaded) => loaded,
        Err(_) => {
            let failed = Arc::new(failed_read(&selection, &label));
            (loader.hooks.report)(&failed.corpus, &label);
            return failed;
        }
    };
    if loaded.index().is_none() {
        // Key prefixes answer meanwhile; requests go first.
        let target = loaded.clone();
        let started = crate::background::spawn("index-beside", move || {
            // Building the index takes a while (a minute at a million
            // papers): title and name words answer meanwhile.
            if !index_dir(&target.corpus, loader.cache.dir()).exists() {
                target.set_words(WordColumns::for_corpus(&target.corpus));
            }
            loader.build_search(&target, &label, None);
            // Read back from the parsed-corpus cache, a corpus knows too
            // little of its `.bib` files to read an edit by entry: learnt
            // now, once searches answer.
            target.corpus.gather_reload_facts(loader.cache.dir());
        });
        if let Err(e) = started {
            tracing::error!("cannot start the thread that indexes the corpus: {e}");
        }
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
    loader: Arc<Loader>,
) -> Option<Reread> {
    tokio::task::spawn_blocking(move || {
        let label = label_of(&selection);
        if let Some(old) = &last_good {
            if let Some(reread) = reload_by_entry(&selection, old, &loader, &label) {
                return reread;
            }
        }
        let loaded = loader.parse(&selection);
        let damage = last_good
            .as_ref()
            .and_then(|old| reason_to_keep(old.reading(), loaded.reading()));
        if let Some(why) = damage {
            (loader.hooks.kept)(&loaded.corpus, &label, &why);
            return Reread::Kept;
        }
        (loader.hooks.report)(&loaded.corpus, &label);
        let previous = last_good
            .as_ref()
            .and_then(|old| Some((old.corpus.clone(), old.index()?)));
        loader.build_search(
            &loaded,
            &label,
            previous.as_ref().map(|(c, i)| (&**c, &**i)),
        );
        Reread::Fresh(Arc::new(loaded))
    })
    .await
    .ok()
}

/// [`reload`] of a selection whose one changed `.bib` can be read by entry
/// (see `corpus::entry_reload`): the papers spliced, the index updated by
/// the replaced papers only, and the old title matcher standing in, its
/// papers moved, until the new one is built beside. `None`: read it whole.
fn reload_by_entry(
    selection: &CorpusSelection,
    old: &Arc<LoadedCorpus>,
    loader: &Arc<Loader>,
    label: &str,
) -> Option<Reread> {
    // Taken before reading, so a write during the read is seen again.
    let stamps = SourceStamps::take(selection);
    let started = std::time::Instant::now();
    let (corpus, splice) = old
        .corpus
        .reloaded_by_entry(selection, loader.cache.dir())?;
    let loaded = LoadedCorpus::new(corpus, stamps);
    if let Some(why) = reason_to_keep(old.reading(), loaded.reading()) {
        (loader.hooks.kept)(&loaded.corpus, label, &why);
        return Some(Reread::Kept);
    }
    tracing::info!(
        "{label}: {} entries replaced by {} at paper {} (read by entry in {} ms)",
        splice.removed,
        splice.added,
        splice.at,
        started.elapsed().as_millis()
    );
    (loader.hooks.report)(&loaded.corpus, label);
    let index = old.index().and_then(|index| {
        PaperIndex::updated_by_splice(
            &index,
            &old.corpus,
            &loaded.corpus,
            splice,
            loader.cache.dir(),
        )
    });
    match index {
        Some(index) => loaded.set_index(index),
        None => loaded.set_index(loader.index_of(&loaded.corpus, label, None)),
    }
    if let Some(titles) = old.titles() {
        loaded.set_titles(TitleMatcher::moved(titles, splice));
    }
    let loaded = Arc::new(loaded);
    loader.title_rebuilds.request(&loaded);
    Some(Reread::Fresh(loaded))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_answer_until_the_index_is_set_and_are_let_go_then() {
        use crate::corpus::Paper;
        use crate::index::SearchRequest;
        use crate::workspace::CorpusView;
        let papers: Vec<Paper> = [
            "Denoising Diffusion Probabilistic Models",
            "Attention Is All You Need",
        ]
        .iter()
        .enumerate()
        .map(|(i, title)| {
            let mut paper = Paper::titled(title.to_string(), "article");
            paper.key = format!("p{i}");
            paper
        })
        .collect();
        let loaded = Arc::new(LoadedCorpus::new(
            Corpus::from_papers(papers, Vec::new()),
            SourceStamps::take(&[]),
        ));
        let find = |view: &CorpusView, text: &str| -> Vec<usize> {
            view.context().search.map_or(Vec::new(), |s| {
                s.search(&SearchRequest {
                    text,
                    limit: 5,
                    as_you_type: true,
                })
                .iter()
                .map(|h| h.paper)
                .collect()
            })
        };
        assert!(CorpusView::of(loaded.clone()).context().search.is_none());
        loaded.set_words(WordColumns::for_corpus(&loaded.corpus));
        let before = CorpusView::of(loaded.clone());
        assert_eq!(find(&before, "diffus"), [0]);
        assert!(!before.is_indexed());
        let index = PaperIndex::in_memory(&loaded.corpus, &mut |_, _| {}).unwrap();
        loaded.set_index(index);
        assert!(loaded.words().is_none(), "the index replaces the words");
        let after = CorpusView::of(loaded.clone());
        assert!(after.is_indexed());
        assert_eq!(find(&after, "attention"), [1]);
        assert_eq!(
            find(&before, "diffus"),
            [0],
            "an older snapshot keeps its words"
        );
        loaded.set_words(WordColumns::for_corpus(&loaded.corpus));
        assert!(loaded.words().is_none(), "words come too late once indexed");
    }

    #[test]
    fn title_matchers_are_built_for_the_newest_corpus_asked_for() {
        use crate::corpus::Paper;
        let corpus_of = |title: &str| {
            let mut paper = Paper::titled(title.to_string(), "article");
            paper.key = "k".into();
            Arc::new(LoadedCorpus::new(
                Corpus::from_papers(vec![paper], Vec::new()),
                SourceStamps::take(&[]),
            ))
        };
        let rebuilds = Arc::new(TitleRebuilds::default());
        let replaced = corpus_of("Denoising Diffusion Probabilistic Models");
        rebuilds.request(&replaced);
        drop(replaced);
        let kept: Vec<Arc<LoadedCorpus>> = (0..20)
            .map(|i| corpus_of(&format!("Attention Is All You Need, Part {i}")))
            .collect();
        for corpus in &kept {
            rebuilds.request(corpus);
        }
        let newest = kept.last().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while newest.titles().is_none() || unpoisoned(&rebuilds.state).running {
            assert!(std::time::Instant::now() < deadline, "never built");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let built = kept.iter().filter(|c| c.titles().is_some()).count();
        assert!(built < kept.len(), "one matcher built per request: {built}");
        // A worker that has stopped is started again.
        let later = corpus_of("Grokking: Generalization Beyond Overfitting");
        rebuilds.request(&later);
        while later.titles().is_none() {
            assert!(std::time::Instant::now() < deadline, "never built again");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn a_failed_read_is_an_empty_corpus_that_says_so_on_each_file() {
        let selection: CorpusSelection = vec!["/notes/a.bib".into(), "/notes/b.bib".into()];
        let failed = failed_read(&selection, "a.bib, b.bib");
        assert_eq!(failed.corpus.papers.len(), 0);
        let files: Vec<&std::path::Path> = failed
            .corpus
            .problems
            .iter()
            .map(|p| p.file.as_path())
            .collect();
        assert_eq!(files, [selection[0].as_path(), selection[1].as_path()]);
        assert!(failed
            .corpus
            .problems
            .iter()
            .all(|p| p.severity == Severity::Error
                && p.message.contains("failed while reading a.bib, b.bib")));
        let bundled = failed_read(&Vec::new(), "the bundled corpus");
        assert!(bundled.corpus.problems[0]
            .message
            .contains("the bundled corpus"));
    }
}
