//! The matcher's rules over plain word streams (the notes layer's markup
//! handling is tested there and in `index::title_mentions`).

use super::*;
use crate::text::words::*;

const TITLES: &[&str] = &[
    "Grokfast: Accelerated Grokking by Amplifying Slow Gradients",
    "SlimFlow: Training Smaller One-Step Diffusion Models with Rectified Flow",
    "MeshCNN: A Network with an Edge",
    "Attention Is All You Need",
    "Attention: Not All You Need",
    "Transformers: State-of-the-Art Natural Language Processing",
    "Translation",
    "Introduction",
    "Machine Translation",
    "Is It Worth It",
    "ROUGE: A Package for Automatic Evaluation of Summaries",
    "LLMs: Understanding Code Syntax and Semantics",
    "Grokfast Revisited",
    "Attention Is All You Need",
    "Microsemantics",
];

fn matcher() -> TitleMatcher {
    TitleMatcher::build(TITLES.iter().copied(), &is_english_word)
}

/// Plain text to prose words; a blank line starts a block.
fn words(text: &str) -> Vec<ProseWord> {
    let mut out = Vec::new();
    for (p, para) in text.split("\n\n").enumerate() {
        let base = text
            .split("\n\n")
            .take(p)
            .map(|s| s.len() + 2)
            .sum::<usize>();
        for (i, w) in title_words(para).enumerate() {
            let start = base + (w.as_ptr() as usize - para.as_ptr() as usize);
            out.push(ProseWord {
                norm: normalize_word(w).unwrap(),
                range: start..start + w.len(),
                starts_block: i == 0,
            });
        }
    }
    out
}

/// Each match as (matched text, papers, short name).
fn found(text: &str) -> Vec<(String, Vec<usize>, bool)> {
    let words = words(text);
    matcher()
        .find(&words)
        .into_iter()
        .map(|m| {
            let range = words[m.first_word].range.start..words[m.last_word].range.end;
            (text[range].to_string(), m.papers, m.short_name)
        })
        .collect()
}

fn texts(text: &str) -> Vec<String> {
    found(text).into_iter().map(|(t, _, _)| t).collect()
}

#[test]
fn whole_titles_match_in_any_case_and_punctuation() {
    assert_eq!(
        found("I read grokfast accelerated grokking by amplifying slow gradients today."),
        [(
            "grokfast accelerated grokking by amplifying slow gradients".to_string(),
            vec![0],
            false
        )]
    );
    assert_eq!(
        texts("see MESHCNN -- a network, with an “edge”!"),
        ["MESHCNN -- a network, with an “edge"]
    );
}

#[test]
fn shared_titles_give_every_paper() {
    assert_eq!(
        found("Attention is all you need."),
        [("Attention is all you need".to_string(), vec![3, 13], false)]
    );
}

#[test]
fn the_longest_title_wins() {
    // "Grokfast Revisited" is a title too, but it does not start here; the
    // short name would, and the whole title is longer.
    assert_eq!(
        found("Grokfast: Accelerated Grokking by Amplifying Slow Gradients"),
        [(TITLES[0].to_string(), vec![0], false)]
    );
    assert_eq!(
        found("Grokfast revisited"),
        [("Grokfast revisited".to_string(), vec![12], false)]
    );
}

#[test]
fn partial_titles_and_generic_titles_do_not_match() {
    assert!(texts("accelerated grokking by amplifying slow signals").is_empty());
    assert!(texts("a network with an edge").is_empty());
    assert!(texts("Translation is hard. Introduction. machine translation").is_empty());
    assert!(texts("is it worth it").is_empty());
}

#[test]
fn a_title_needs_every_word_even_the_last() {
    // The last word is in no title; the run of candidates is empty there.
    assert!(texts("Attention is all you qwzx").is_empty());
    assert_eq!(texts("MeshCNN: a network with an qwzx"), ["MeshCNN"]);
}

#[test]
fn titles_do_not_cross_blocks() {
    assert!(texts("Attention is all\n\nyou need").is_empty());
}

#[test]
fn short_names_need_a_coined_word_and_a_capital() {
    assert_eq!(
        found("Grokfast and SlimFlow beat MeshCNN and GROKFAST; grokfast does not."),
        [
            ("Grokfast".to_string(), vec![0], true),
            ("SlimFlow".to_string(), vec![1], true),
            ("MeshCNN".to_string(), vec![2], true),
            ("GROKFAST".to_string(), vec![0], true),
        ]
    );
    // Ordinary words before a colon are not short names.
    assert!(texts("Attention and Transformers and Translation").is_empty());
    // An ordinary word in coined casing matches only as written.
    assert_eq!(texts("ROUGE scores, rouge, Rouge"), ["ROUGE"]);
    // Plural acronyms are not names.
    assert!(texts("LLMs are everywhere").is_empty());
    // A coined one-word title is its own short name.
    assert_eq!(texts("Microsemantics"), ["Microsemantics"]);
}

#[test]
fn short_names_shared_by_many_papers_are_dropped() {
    let titles = [
        "PRISM: One Thing",
        "PRISM: Two",
        "PRISM: Three",
        "PRISM: Four",
    ];
    let m = TitleMatcher::build(titles, &is_english_word);
    assert!(m.find(&words("PRISM")).is_empty());
    let m = TitleMatcher::build(titles[..3].iter().copied(), &is_english_word);
    assert_eq!(m.find(&words("PRISM"))[0].papers, [0, 1, 2]);
}

#[test]
fn ordinary_words_come_from_the_caller() {
    let m = TitleMatcher::build(["Grokfast: A"], &|w: &str| w == "grokfast");
    assert!(m.find(&words("Grokfast")).is_empty());
}

#[test]
fn empty_inputs() {
    let m = TitleMatcher::build([], &is_english_word);
    assert!(m.find(&words("Attention is all you need")).is_empty());
    assert!(matcher().find(&[]).is_empty());
    let m = TitleMatcher::build(["", ":", "a: b"], &is_english_word);
    assert_eq!(m.stats().titles, 0);
}

#[test]
fn many_titles_with_one_anchor_narrow_correctly() {
    let titles: Vec<String> = (0..500)
        .map(|i| {
            format!("On the {} of Grokking", ["Role", "Nature", "Edge"][i % 3]) + &"x".repeat(i / 3)
        })
        .collect();
    let m = TitleMatcher::build(titles.iter().map(String::as_str), &is_english_word);
    let text = format!("on the nature of grokking{}", "x".repeat(41));
    let got = m.find(&words(&text));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].papers, [124]);
    assert_eq!(got[0].last_word, 4);
}

#[test]
fn terms_of_the_field_are_not_names() {
    let mut titles: Vec<String> = (0..11)
        .map(|i| format!("Study {i} of LiDAR Odometry for Robots"))
        .collect();
    titles.push("LiDAR: A Sensor for Everything".into());
    titles.push("LiDAR Odometry".into());
    titles.push("Grokfast Revisited".into());
    let m = TitleMatcher::build(titles.iter().map(String::as_str), &is_english_word);
    assert!(m.find(&words("LiDAR odometry and LiDAR")).is_empty());
    assert_eq!(m.find(&words("grokfast revisited")).len(), 1);
    assert_eq!(
        m.find(&words("Study 3 of lidar odometry for robots")).len(),
        1
    );
}

#[test]
fn overlapping_titles_keep_the_longer() {
    let titles = [
        "Deep Spatial Attention Bridging",
        "Bridging the Gap between Prior and Posterior Knowledge Selection",
    ];
    let m = TitleMatcher::build(titles, &is_english_word);
    let text =
        "deep spatial attention. Bridging the gap between prior and posterior knowledge selection";
    let got = m.find(&words(text));
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].papers.clone(), got[0].first_word), (vec![1], 3));
    let got = m.find(&words("deep spatial attention bridging the gap"));
    assert_eq!((got[0].papers.clone(), got[0].last_word), (vec![0], 3));
}

#[test]
fn a_moved_matcher_finds_papers_where_they_moved_to_and_not_the_replaced() {
    let base = std::sync::Arc::new(matcher());
    // Paper 2 (MeshCNN) replaced by two papers: later ones move by one.
    let splice = Splice {
        at: 2,
        removed: 1,
        added: 2,
    };
    let moved = TitleMatcher::moved(base.clone(), splice);
    assert_ne!(moved.id(), base.id());
    assert_eq!(moved.stats(), base.stats());
    let text = "Attention Is All You Need, then MeshCNN: A Network with an Edge, and Grokfast.";
    let before: Vec<(usize, usize, Vec<usize>)> = base
        .find(&words(text))
        .into_iter()
        .map(|m| (m.first_word, m.last_word, m.papers))
        .collect();
    let after: Vec<(usize, usize, Vec<usize>)> = moved
        .find(&words(text))
        .into_iter()
        .map(|m| (m.first_word, m.last_word, m.papers))
        .collect();
    assert_eq!(before.len(), 3, "{before:?}");
    assert_eq!(
        after.len(),
        2,
        "the replaced paper's title is not found: {after:?}"
    );
    assert_eq!(after[0].2, [4, 14], "moved by one");
    assert_eq!(after[1].2, [0], "before the splice: unmoved");
}
