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
use std::collections::{HashMap, HashSet};
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
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    for &i in &needs_key {
        groups.entry(base_key(&papers[i])).or_default().push(i);
    }
    let mut bases: Vec<_> = groups.into_iter().collect();
    bases.sort_by(|a, b| a.0.cmp(&b.0));
    let mut generated: HashSet<String, ShortKeys> = HashSet::default();
    let mut new_keys = Vec::with_capacity(needs_key.len());
    for (base, mut members) in bases {
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

/// The key a paper would get if nothing collided with it.
pub fn base_key(paper: &Paper) -> String {
    let words = significant_title_words(&paper.title);
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

fn significant_title_words(title: &str) -> Vec<String> {
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
