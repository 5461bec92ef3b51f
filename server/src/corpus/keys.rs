//! Citation keys for papers whose source has none (digests, arXiv dumps, CSL
//! items without a usable id).
//!
//! A generated key is built from the paper itself — first author's family
//! name, year and first significant title word (`power2022grokking`), or the
//! first significant title words when there is no author
//! (`grokfast-accelerated-grokking`) — so it does not depend on where the paper
//! sits in the corpus. Papers whose keys collide are ordered by their own
//! content, the first keeps the key and the others get `-2`, `-3`…; adding a
//! paper can therefore only change keys inside its own collision group.
//! Keys are ASCII letters, digits and single `-`, valid unquoted in `\cite{}`
//! and in pandoc's `[@…]`.

use super::paper::{KeyOrigin, Paper, Problem, Severity};
use crate::corpus::short_hash::ShortKeys;
use std::collections::HashSet;
use std::path::PathBuf;

/// Words that never make a key readable.
const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "of", "on", "in", "for", "to", "and", "or", "with", "via", "by", "from",
    "at", "is", "are", "as", "its", "into", "towards", "toward", "do", "does", "how", "what",
    "why", "when", "we", "our", "your", "can", "be", "not", "no", "using", "about", "beyond",
];

/// Fills in keys for papers that have none and warns about duplicate source
/// keys across files (the first occurrence wins; later ones are renamed).
pub fn assign_keys(papers: &mut [Paper], source_paths: &[PathBuf], problems: &mut Vec<Problem>) {
    // Source keys are looked up where they are (no copies: a corpus is
    // mostly source keys); generated ones are remembered on the side.
    let mut source_keys: HashSet<&str, ShortKeys> =
        HashSet::with_capacity_and_hasher(papers.len(), ShortKeys::default());
    let mut needs_key = Vec::new();
    for (i, paper) in papers.iter().enumerate() {
        if paper.key.is_empty() {
            needs_key.push(i);
        } else if source_keys.contains(paper.key.as_str()) {
            problems.push(Problem {
                file: source_paths.get(paper.origin.file).cloned().unwrap_or_default(),
                line: paper.origin.line,
                severity: Severity::Warning,
                message: format!("duplicate key `{}`: an earlier source already has it; this one gets a generated key", paper.key),
            });
            needs_key.push(i);
        } else {
            source_keys.insert(&paper.key);
        }
    }
    // Papers by base key, then by position: a group is a run. The bases
    // are computed on every core (a million arXiv papers have no keys).
    let mut by_base: Vec<(String, usize)> = base_keys_of(papers, &needs_key)
        .into_iter()
        .zip(needs_key)
        .collect();
    by_base.sort_unstable();
    let mut generated: HashSet<String, ShortKeys> =
        HashSet::with_capacity_and_hasher(by_base.len(), ShortKeys::default());
    let mut new_keys = Vec::with_capacity(by_base.len());
    for group in by_base.chunk_by_mut(|a, b| a.0 == b.0) {
        let base = std::mem::take(&mut group[0].0);
        let mut members: Vec<usize> = group.iter().map(|&(_, i)| i).collect();
        members.sort_by_cached_key(|&i| identity(&papers[i]));
        let mut n = 1;
        for i in members {
            let mut key = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            while source_keys.contains(key.as_str()) || generated.contains(&key) {
                n += 1;
                key = format!("{base}-{n}");
            }
            n += 1;
            generated.insert(key.clone());
            new_keys.push((i, key));
        }
    }
    drop(source_keys);
    for (i, key) in new_keys {
        papers[i].key = key;
        papers[i].key_origin = KeyOrigin::Generated;
    }
}

/// The base keys of `papers[i]` for each `i` of `which`, computed on
/// every core when there are many.
fn base_keys_of(papers: &[Paper], which: &[usize]) -> Vec<String> {
    const PER_THREAD_MIN: usize = 20_000;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(which.len() / PER_THREAD_MIN)
        .max(1);
    let keys_of =
        |part: &[usize]| -> Vec<String> { part.iter().map(|&i| base_key(&papers[i])).collect() };
    if threads == 1 {
        return keys_of(which);
    }
    let per_thread = which.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = which
            .chunks(per_thread)
            .map(|part| scope.spawn(move || keys_of(part)))
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// The key a paper would get if nothing collided with it.
pub fn base_key(paper: &Paper) -> String {
    let family = paper
        .authors
        .first()
        .map(|a| ascii_word(a.family.split_whitespace().last().unwrap_or("")))
        .unwrap_or_default();
    let year = paper.year.map(|y| y.to_string()).unwrap_or_default();
    let mut key = String::with_capacity(32);
    if !family.is_empty() {
        key.push_str(&family);
        key.push_str(&year);
        TitleWords::of(&paper.title).first(1, |word| key.push_str(word));
        return key;
    }
    TitleWords::of(&paper.title).first(3, |word| {
        if !key.is_empty() {
            key.push('-');
        }
        key.push_str(word);
    });
    if key.is_empty() {
        key.push_str("paper");
    }
    if !year.is_empty() {
        key.push('-');
        key.push_str(&year);
    }
    key
}

/// A title's words as keys use them: folded to ASCII, lower case, split at
/// anything but letters and digits.
struct TitleWords {
    folded: String,
}

impl TitleWords {
    fn of(title: &str) -> TitleWords {
        let mut folded = if title.is_ascii() {
            title.to_string()
        } else {
            deunicode::deunicode(title)
        };
        folded.make_ascii_lowercase();
        TitleWords { folded }
    }

    fn words(&self) -> impl Iterator<Item = &str> {
        self.folded
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
    }

    /// Hands the first `n` significant words to `take` — or, when the
    /// title has none (only stop words or single letters), its first `n`
    /// words.
    fn first(&self, n: usize, mut take: impl FnMut(&str)) {
        let significant = |w: &&str| {
            !STOP_WORDS.contains(w) && (w.len() > 1 || w.bytes().all(|b| b.is_ascii_digit()))
        };
        if self.words().any(|w| significant(&w)) {
            self.words().filter(significant).take(n).for_each(&mut take);
        } else {
            self.words().take(n).for_each(take);
        }
    }
}

fn ascii_word(s: &str) -> String {
    deunicode::deunicode(s)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// What distinguishes a paper independently of its position in the corpus.
fn identity(paper: &Paper) -> (String, String, String) {
    let id = paper
        .ids
        .doi
        .clone()
        .or_else(|| paper.ids.arxiv.clone())
        .unwrap_or_default();
    (
        id,
        paper.title.to_lowercase(),
        paper.abstract_text.clone().unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::paper::Person;

    fn paper(title: &str, family: Option<&str>, year: Option<i32>) -> Paper {
        let mut p = Paper::titled(title.into(), "misc");
        if let Some(f) = family {
            p.authors.push(Person {
                given: "A.".into(),
                family: f.into(),
            });
        }
        p.year = year;
        p
    }

    fn keys_of(mut papers: Vec<Paper>) -> Vec<String> {
        assign_keys(&mut papers, &[], &mut Vec::new());
        papers.into_iter().map(|p| p.key).collect()
    }

    #[test]
    fn readable_keys_from_authors_or_titles() {
        let keys = keys_of(vec![
            paper(
                "Grokking: Generalization Beyond Overfitting",
                Some("Power"),
                Some(2022),
            ),
            paper(
                "Grokfast: Accelerated Grokking by Amplifying Slow Gradients",
                None,
                None,
            ),
            paper("Über die Größe", Some("Müller-Lüdenscheidt"), Some(1999)),
            paper("", None, None),
        ]);
        assert_eq!(
            keys,
            [
                "power2022grokking",
                "grokfast-accelerated-grokking",
                "mullerludenscheidt1999uber",
                "paper"
            ]
        );
    }

    #[test]
    fn collisions_are_unique_and_independent_of_order() {
        let a = paper("Deep Nets", Some("Smith"), Some(2020));
        let mut b = paper("Deep Trees", Some("Smith"), Some(2020));
        b.abstract_text = Some("x".into());
        let forward = keys_of(vec![a.clone(), b.clone()]);
        let backward = keys_of(vec![b, a]);
        assert_eq!(forward, ["smith2020deep", "smith2020deep-2"]);
        assert_eq!(backward, ["smith2020deep-2", "smith2020deep"]);
    }

    #[test]
    fn generated_keys_avoid_source_keys() {
        let mut taken = paper("Deep", Some("Smith"), Some(2020));
        taken.key = "smith2020deep".into();
        taken.key_origin = KeyOrigin::Source;
        let keys = keys_of(vec![taken, paper("Deep", Some("Smith"), Some(2020))]);
        assert_eq!(keys, ["smith2020deep", "smith2020deep-2"]);
    }

    /// The key generation as it was written first (one `String` per word,
    /// a map of groups), kept to check the faster one against.
    fn reference_keys(papers: &mut [Paper]) {
        fn words_of(title: &str) -> Vec<String> {
            let folded = deunicode::deunicode(title);
            let words: Vec<String> = folded
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_ascii_lowercase)
                .collect();
            let significant: Vec<String> = words
                .iter()
                .filter(|w| {
                    !STOP_WORDS.contains(&w.as_str())
                        && (w.len() > 1 || w.bytes().all(|b| b.is_ascii_digit()))
                })
                .cloned()
                .collect();
            if significant.is_empty() {
                words
            } else {
                significant
            }
        }
        fn base(paper: &Paper) -> String {
            let words = words_of(&paper.title);
            let family = paper
                .authors
                .first()
                .map(|a| ascii_word(a.family.split_whitespace().last().unwrap_or("")))
                .unwrap_or_default();
            let year = paper.year.map(|y| y.to_string()).unwrap_or_default();
            if !family.is_empty() {
                let word = words.first().cloned().unwrap_or_default();
                return format!("{family}{year}{word}");
            }
            let mut parts: Vec<String> = words.into_iter().take(3).collect();
            if parts.is_empty() {
                parts.push("paper".into());
            }
            if !year.is_empty() {
                parts.push(year);
            }
            parts.join("-")
        }
        let source: HashSet<String> = papers
            .iter()
            .filter(|p| !p.key.is_empty())
            .map(|p| p.key.clone())
            .collect();
        let mut groups: std::collections::HashMap<String, Vec<usize>> = Default::default();
        for (i, p) in papers.iter().enumerate() {
            if p.key.is_empty() {
                groups.entry(base(p)).or_default().push(i);
            }
        }
        let mut bases: Vec<_> = groups.into_iter().collect();
        bases.sort_by(|a, b| a.0.cmp(&b.0));
        let mut generated = HashSet::new();
        for (base, mut members) in bases {
            members.sort_by_cached_key(|&i| identity(&papers[i]));
            let mut n = 1;
            for i in members {
                let mut key = if n == 1 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                };
                while source.contains(&key) || generated.contains(&key) {
                    n += 1;
                    key = format!("{base}-{n}");
                }
                n += 1;
                generated.insert(key.clone());
                papers[i].key = key;
            }
        }
    }

    /// Many papers over a small vocabulary (so that keys collide, across
    /// groups too: `a-2` is both a suffixed key and a base), accents, stop
    /// words only, no authors, no years, source keys among them: the keys
    /// are those of the first implementation, on one thread and on several.
    #[test]
    fn the_keys_are_those_of_the_first_implementation() {
        let words = [
            "a", "A", "the", "of", "2", "x", "Deep", "deep", "Über", "Größe", "nets", "C++", "—",
            "Learning", "日本", "on", "beyond", "Z", "10×",
        ];
        let families = [
            "",
            "Smith",
            "Müller-Lüdenscheidt",
            "van der Berg",
            "O'Neil",
            "李",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut papers = Vec::new();
        for i in 0..60_000 {
            let title: Vec<&str> = (0..1 + next(4)).map(|_| words[next(words.len())]).collect();
            let family = families[next(families.len())];
            let year = [None, Some(2020), Some(2021)][next(3)];
            let mut p = paper(
                &title.join(" "),
                (!family.is_empty()).then_some(family),
                year,
            );
            if next(7) == 0 {
                p.abstract_text = Some(format!("abstract {}", next(3)));
            }
            if next(50) == 0 {
                p.key = format!("a-{}", next(5));
            } else if next(50) == 0 {
                p.key = format!("smith2020deep-{}", next(4));
            }
            p.origin.line = i;
            papers.push(p);
        }
        // Source keys are unique here (duplicates are another test's).
        let mut seen = HashSet::new();
        for p in papers.iter_mut() {
            if !p.key.is_empty() && !seen.insert(p.key.clone()) {
                p.key.clear();
            }
        }
        // 60,000 papers are cut across threads; 3,000 are not.
        for count in [papers.len(), 3_000] {
            let mut ours: Vec<Paper> = papers[..count].to_vec();
            let mut reference = ours.clone();
            reference_keys(&mut reference);
            let mut problems = Vec::new();
            assign_keys(&mut ours, &[], &mut problems);
            assert!(problems.is_empty());
            let differing: Vec<_> = ours
                .iter()
                .zip(&reference)
                .filter(|(a, b)| a.key != b.key)
                .map(|(a, b)| (a.key.clone(), b.key.clone(), a.title.clone()))
                .take(5)
                .collect();
            assert!(differing.is_empty(), "keys differ: {differing:?}");
            let unique: HashSet<&str> = ours.iter().map(|p| p.key.as_str()).collect();
            assert_eq!(unique.len(), count, "every key unique");
        }
    }

    #[test]
    fn keys_are_citable() {
        for title in ["C++ & Rust: 10× faster?", "日本語のタイトル", "---"] {
            let key = keys_of(vec![paper(title, None, Some(2024))]).remove(0);
            assert!(
                key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                "{key}"
            );
            assert!(
                key.starts_with(|c: char| c.is_ascii_alphanumeric()),
                "{key}"
            );
            assert!(!key.contains("--") && !key.ends_with('-'), "{key}");
        }
    }
}
