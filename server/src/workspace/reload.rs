//! Following corpus files as they change on disk. Every loaded source is
//! looked at (modification time and size) a few times a second, and at once
//! when the client reports a watched file changed. A change is read at the
//! first look when the file ends as a finished write of its format leaves
//! it (a `.bib` whose last line closes an entry, a CSL-JSON array closed on
//! its own line, JSON Lines ending in a whole line; a file replaced by
//! rename always does), and otherwise once it has held still for two looks
//! (400 ms), so a file being written is not read half-way (a Zotero
//! library, whose writes are SQLite transactions, is read at once). A source that disappears keeps its last good
//! papers for a few seconds (editors and Zotero replace files by delete and
//! rename); if it stays away, the corpus is read without it. A source that is
//! there but damaged (unreadable, or cut short) keeps the last good corpus
//! until it changes again (`last_good`).

use super::corpora::{discard_old_index, label_of, reload, Reread};
use super::selection::CorpusSelection;
use super::stamps::{SourceStamps, Stamp};
use super::Workspace;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const LOOK_EVERY: Duration = Duration::from_millis(200);
/// How many looks a changed file must hold still for before it is read: a
/// writer pausing between bursts for less than this is never read half-way.
const HOLD_STILL_LOOKS: u32 = 2;
/// How many looks a missing source may stay missing before it counts as deleted.
const MISSING_GRACE_LOOKS: u32 = 15;

/// Watches until shutdown; `after_swap` runs after each re-read corpus is in place.
pub async fn follow_sources(workspace: Arc<Workspace>, after_swap: Arc<dyn Fn() + Send + Sync>) {
    let mut pending: HashMap<CorpusSelection, (Vec<Stamp>, u32)> = HashMap::new();
    // Sources as they were when a re-read was refused: not read again (nor
    // the user told again) until they change once more.
    let mut refused: HashMap<CorpusSelection, Vec<Stamp>> = HashMap::new();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(LOOK_EVERY) => {}
            _ = workspace.sources_touched().notified() => {}
        }
        if workspace.is_shutting_down() {
            return;
        }
        for (selection, loaded) in workspace.corpora().loaded() {
            if selection.is_empty() {
                continue;
            }
            let before = loaded.stamps.as_read();
            let now = loaded.stamps.now();
            if refused.get(&selection) == Some(&now) {
                continue;
            }
            let holds = if changes_look_finished(&loaded.stamps, &before, &now) {
                0
            } else {
                hold_still_looks(&selection)
            };
            if !ready_to_read(&mut pending, &selection, &before, now.clone(), holds) {
                continue;
            }
            tracing::info!(
                "a corpus file changed; reading {} source(s) again",
                selection.len()
            );
            let loader = workspace.corpora().loader().clone();
            match reload(selection.clone(), Some(loaded.clone()), loader).await {
                Some(Reread::Fresh(fresh)) => {
                    refused.remove(&selection);
                    discard_old_index(&loaded, &fresh);
                    workspace.corpora().replace(&selection, fresh);
                    after_swap();
                }
                Some(Reread::Kept) => {
                    refused.insert(selection.clone(), now);
                }
                // Reading failed outright (a bug): keep the last good
                // papers, say so, and wait for the files to change again.
                None => {
                    let why = format!(
                        "paper-ls failed while reading {} again (a bug: please report it with the file); still answering from the {} papers read before",
                        selection
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                        loaded.corpus.papers.len()
                    );
                    (workspace.corpora().loader().hooks.kept)(
                        &loaded.corpus,
                        &label_of(&selection),
                        &why,
                    );
                    refused.insert(selection.clone(), now);
                }
            }
        }
    }
}

/// Whether the sources changed and have since held still for
/// `hold_still_looks` looks (or a missing one stayed missing past the grace
/// period).
fn ready_to_read(
    pending: &mut HashMap<CorpusSelection, (Vec<Stamp>, u32)>,
    selection: &CorpusSelection,
    before: &[Stamp],
    now: Vec<Stamp>,
    hold_still_looks: u32,
) -> bool {
    if now == before {
        pending.remove(selection);
        return false;
    }
    let missing = now
        .iter()
        .zip(before)
        .any(|(n, b)| n.is_none() && b.is_some());
    let looks = match pending.get_mut(selection).filter(|(seen, _)| *seen == now) {
        Some(entry) => {
            entry.1 += 1;
            entry.1
        }
        // First look at this state of the files.
        None => {
            pending.insert(selection.clone(), (now, 0));
            0
        }
    };
    if looks < hold_still_looks || (missing && looks < MISSING_GRACE_LOOKS) {
        return false;
    }
    pending.remove(selection);
    true
}

/// How many looks a selection's changed sources must hold still for. A
/// Zotero library is SQLite: each commit is whole, so it is read at the
/// first look that sees it changed (within `LOOK_EVERY`); text files are
/// written in pieces.
fn hold_still_looks(selection: &CorpusSelection) -> u32 {
    let all_libraries = selection
        .iter()
        .all(|p| crate::corpus::zotero::ZoteroSource::from_path(p).is_some());
    if all_libraries {
        0
    } else {
        HOLD_STILL_LOOKS
    }
}

/// Whether every source that changed since it was read (and is there)
/// ends as a finished write leaves it.
fn changes_look_finished(stamps: &SourceStamps, before: &[Stamp], now: &[Stamp]) -> bool {
    let mut changed = stamps
        .0
        .iter()
        .zip(before.iter().zip(now))
        .filter(|(_, (b, n))| b != n)
        .peekable();
    changed.peek().is_some()
        && changed.all(|((path, _), (_, n))| n.is_some() && looks_finished(path))
}

/// Whether the file ends the way a whole file of its format does, read
/// from its last bytes: a `.bib` whose last line (comment lines after it
/// aside) is the `}` (or `)`) that closes an entry, as every tool writes it (a cut inside an entry almost
/// never leaves a lone brace as its last line); a JSON array closed by a
/// `]` on its own line; JSON Lines ending in a line that closes its object.
/// Anything else (compressed files, other endings) waits for the file to
/// hold still.
fn looks_finished(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(len) = file.metadata().map(|m| m.len()) else {
        return false;
    };
    let mut tail = Vec::new();
    if file.seek(SeekFrom::Start(len.saturating_sub(256))).is_err()
        || file.read_to_end(&mut tail).is_err()
    {
        return false;
    }
    let tail = String::from_utf8_lossy(&tail);
    let last_line = tail.trim_end().rsplit('\n').next().unwrap_or("").trim();
    // Text between entries is a comment to BibTeX: CryptoBib ends in a
    // `%----` rule line.
    let last_bib_line = tail
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('%'))
        .unwrap_or("");
    match extension.as_str() {
        "bib" | "bibtex" | "biblatex" => matches!(last_bib_line, "}" | ")"),
        "json" => last_line == "]",
        "jsonl" | "ndjson" => tail.ends_with('\n') && last_line.ends_with('}'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    #[test]
    fn reads_only_after_the_file_holds_still() {
        let mut pending = HashMap::new();
        let sel: CorpusSelection = vec!["a.bib".into()];
        let t = SystemTime::UNIX_EPOCH;
        let old = vec![Some((t, 10))];
        let writing = vec![Some((t + Duration::from_secs(1), 5))];
        let done = vec![Some((t + Duration::from_secs(2), 20))];
        assert!(!ready_to_read(
            &mut pending,
            &sel,
            &old,
            old.clone(),
            HOLD_STILL_LOOKS
        ));
        assert!(!ready_to_read(
            &mut pending,
            &sel,
            &old,
            writing.clone(),
            HOLD_STILL_LOOKS
        ));
        assert!(
            !ready_to_read(&mut pending, &sel, &old, done.clone(), HOLD_STILL_LOOKS),
            "still changing"
        );
        assert!(
            !ready_to_read(&mut pending, &sel, &old, done.clone(), HOLD_STILL_LOOKS),
            "held still for one look"
        );
        assert!(
            ready_to_read(&mut pending, &sel, &old, done, HOLD_STILL_LOOKS),
            "held still for two looks"
        );
    }

    #[test]
    fn a_library_is_read_at_the_first_look_that_sees_it_changed() {
        let mut pending = HashMap::new();
        let sel: CorpusSelection = vec!["/z/zotero.sqlite".into()];
        assert_eq!(hold_still_looks(&sel), 0);
        assert_eq!(
            hold_still_looks(&vec!["/z/zotero.sqlite".into(), "a.bib".into()]),
            2
        );
        let t = SystemTime::UNIX_EPOCH;
        let old = vec![Some((t, 10))];
        let committed = vec![Some((t + Duration::from_secs(1), 12))];
        assert!(!ready_to_read(&mut pending, &sel, &old, old.clone(), 0));
        assert!(ready_to_read(&mut pending, &sel, &old, committed, 0));
    }

    #[test]
    fn a_finished_write_is_read_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let cases: &[(&str, &str, bool)] = &[
            ("a.bib", "@article{a,\n  title = {A},\n}\n", true),
            ("b.bib", "@article{a,\n  title = {A},\n}\n\n\n", true),
            ("c.bib", "@article{a,\n  title = {A},\n  year = {20", false),
            ("d.bib", "@article{a,\n  title = {A}", false),
            ("e.bib", "@article{a, title = {A}}\n% the end\n", false),
            (
                "k.bib",
                "@article{a,\n  title = {A},\n}\n\n%-------\n",
                true,
            ),
            ("l.bib", "@article{a,\n  title = {A},\n%-------\n", false),
            ("f.json", "[\n  {\"id\": \"a\"}\n]\n", true),
            (
                "g.json",
                "[\n  {\"id\": \"a\", \"author\": [{\"family\": \"X\"}]",
                false,
            ),
            ("h.jsonl", "{\"id\": \"a\"}\n{\"id\": \"b\"}\n", true),
            ("i.jsonl", "{\"id\": \"a\"}\n{\"id\": \"b", false),
            ("j.bib.gz", "}\n", false),
        ];
        for (name, text, finished) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            assert_eq!(looks_finished(&path), *finished, "{name}: {text:?}");
        }
        assert!(!looks_finished(&dir.path().join("missing.bib")));
        // Only the sources that changed are looked at, and a missing one is
        // left to the grace period.
        let t = std::time::SystemTime::UNIX_EPOCH;
        let stamps = SourceStamps(vec![
            (dir.path().join("a.bib"), Some((t, 1))),
            (dir.path().join("c.bib"), Some((t, 1))),
        ]);
        let before = stamps.as_read();
        let a_changed = vec![Some((t, 2)), Some((t, 1))];
        let c_changed = vec![Some((t, 1)), Some((t, 2))];
        assert!(changes_look_finished(&stamps, &before, &a_changed));
        assert!(!changes_look_finished(&stamps, &before, &c_changed));
        assert!(!changes_look_finished(&stamps, &before, &before));
        assert!(!changes_look_finished(
            &stamps,
            &before,
            &[None, Some((t, 1))]
        ));
    }

    #[test]
    fn a_briefly_missing_file_keeps_the_old_papers() {
        let mut pending = HashMap::new();
        let sel: CorpusSelection = vec!["a.bib".into()];
        let old = vec![Some((SystemTime::UNIX_EPOCH, 10))];
        let gone = vec![None];
        let reads: Vec<bool> = (0..=MISSING_GRACE_LOOKS)
            .map(|_| ready_to_read(&mut pending, &sel, &old, gone.clone(), HOLD_STILL_LOOKS))
            .collect();
        assert!(reads[..reads.len() - 1].iter().all(|r| !r));
        assert!(
            reads[reads.len() - 1],
            "gone for good after the grace period"
        );
    }
}
