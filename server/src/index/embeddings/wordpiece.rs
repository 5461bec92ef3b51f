//! BERT's tokenizer, as `tokenizer.json` describes it for the
//! sentence-transformers BERT family: the BERT normalizer (control characters
//! dropped, whitespace unified, CJK ideographs spaced, accents stripped,
//! lower case), the BERT pre-tokenizer (split at whitespace, punctuation
//! isolated), WordPiece (greedy longest match, `##` continuations, a word
//! that cannot be spelt becomes `[UNK]`), then `[CLS] … [SEP]` and
//! truncation to the model's length. Special tokens written literally in the
//! text (`[MASK]` in an NLP abstract) are those tokens, as in the reference
//! implementation, whose ids this one reproduces (see the tests).

use anyhow::{anyhow, bail, Context};
use std::collections::HashMap;
use unicode_categories::UnicodeCategories;
use unicode_normalization::UnicodeNormalization;

pub struct WordPiece {
    vocab: HashMap<Box<str>, u32>,
    /// Special tokens matched literally before normalisation, longest first.
    specials: Vec<(Box<str>, u32)>,
    unk: u32,
    cls: u32,
    sep: u32,
    prefix: Box<str>,
    max_word_chars: usize,
    clean_text: bool,
    chinese_chars: bool,
    strip_accents: bool,
    lowercase: bool,
}

impl WordPiece {
    /// Reads a Hugging Face `tokenizer.json` of a WordPiece model.
    pub fn from_json(text: &str) -> anyhow::Result<WordPiece> {
        let json: serde_json::Value =
            serde_json::from_str(text).context("tokenizer.json is not JSON")?;
        let model = &json["model"];
        if model["type"].as_str() != Some("WordPiece") {
            bail!(
                "the tokenizer's model is {}, not WordPiece (only BERT-family models are supported)",
                model["type"].as_str().unwrap_or("missing")
            );
        }
        let vocab: HashMap<Box<str>, u32> = model["vocab"]
            .as_object()
            .ok_or_else(|| anyhow!("tokenizer.json has no vocabulary"))?
            .iter()
            .filter_map(|(token, id)| {
                Some((token.as_str().into(), u32::try_from(id.as_u64()?).ok()?))
            })
            .collect();
        let id = |token: &str| {
            vocab
                .get(token)
                .copied()
                .ok_or_else(|| anyhow!("the vocabulary has no {token}"))
        };
        let unk = id(model["unk_token"].as_str().unwrap_or("[UNK]"))?;
        let (cls, sep) = (id("[CLS]")?, id("[SEP]")?);
        let mut specials: Vec<(Box<str>, u32)> = json["added_tokens"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["special"].as_bool() == Some(true))
            .filter_map(|t| {
                let content = t["content"].as_str()?;
                let id = u32::try_from(t["id"].as_u64()?).ok()?;
                (!content.is_empty()).then(|| (content.into(), id))
            })
            .collect();
        specials.sort_by_key(|(content, _)| std::cmp::Reverse(content.len()));
        let normalizer = &json["normalizer"];
        let (clean_text, chinese_chars, strip_accents, lowercase) =
            match normalizer["type"].as_str() {
                Some("BertNormalizer") => {
                    let flag =
                        |name: &str, default: bool| normalizer[name].as_bool().unwrap_or(default);
                    let lowercase = flag("lowercase", true);
                    (
                        flag("clean_text", true),
                        flag("handle_chinese_chars", true),
                        normalizer["strip_accents"].as_bool().unwrap_or(lowercase),
                        lowercase,
                    )
                }
                None => (false, false, false, false),
                Some(other) => bail!("the tokenizer's normalizer is {other}, not BertNormalizer"),
            };
        Ok(WordPiece {
            vocab,
            specials,
            unk,
            cls,
            sep,
            prefix: model["continuing_subword_prefix"]
                .as_str()
                .unwrap_or("##")
                .into(),
            max_word_chars: model["max_input_chars_per_word"].as_u64().unwrap_or(100) as usize,
            clean_text,
            chinese_chars,
            strip_accents,
            lowercase,
        })
    }

    /// The token ids of `text` as the model reads it: `[CLS]`, at most
    /// `max_tokens - 2` tokens of the text, `[SEP]`.
    pub fn encode(&self, text: &str, max_tokens: usize) -> Vec<u32> {
        let budget = max_tokens.saturating_sub(2);
        let mut ids = Vec::with_capacity(budget.min(text.len() / 3 + 2) + 2);
        ids.push(self.cls);
        let mut rest = text;
        let mut normalized = String::new();
        let mut candidate = String::new();
        while !rest.is_empty() && ids.len() <= budget {
            let (before, special, after) = self.next_special(rest);
            normalized.clear();
            self.normalize(before, &mut normalized);
            for word in pre_tokenize(&normalized) {
                if ids.len() > budget {
                    break;
                }
                self.word_pieces(word, &mut candidate, &mut ids);
            }
            if let Some(special) = special {
                ids.push(special);
            }
            rest = after;
        }
        ids.truncate(budget + 1);
        ids.push(self.sep);
        ids
    }

    /// The text before the first special token, that token, and the text after.
    fn next_special<'t>(&self, text: &'t str) -> (&'t str, Option<u32>, &'t str) {
        let mut best: Option<(usize, &str, u32)> = None;
        for (content, id) in &self.specials {
            if let Some(at) = text.find(&**content) {
                if best.is_none_or(|(b, ..)| at < b) {
                    best = Some((at, content, *id));
                }
            }
        }
        match best {
            Some((at, content, id)) => (&text[..at], Some(id), &text[at + content.len()..]),
            None => (text, None, ""),
        }
    }

    fn normalize(&self, text: &str, out: &mut String) {
        let mut stage = String::with_capacity(text.len());
        for c in text.chars() {
            if self.clean_text {
                if c == '\0' || c == '\u{fffd}' || is_control(c) {
                    continue;
                }
                if is_whitespace(c) {
                    stage.push(' ');
                    continue;
                }
            }
            if self.chinese_chars && is_chinese_char(c) {
                stage.push(' ');
                stage.push(c);
                stage.push(' ');
            } else {
                stage.push(c);
            }
        }
        let lower = |c: char, out: &mut String| {
            if self.lowercase {
                out.extend(c.to_lowercase());
            } else {
                out.push(c);
            }
        };
        if self.strip_accents && !stage.is_ascii() {
            for c in stage.nfd().filter(|c| !c.is_mark_nonspacing()) {
                lower(c, out);
            }
        } else if self.lowercase && stage.is_ascii() {
            stage.make_ascii_lowercase();
            out.push_str(&stage);
        } else {
            for c in stage.chars() {
                lower(c, out);
            }
        }
    }

    fn word_pieces(&self, word: &str, candidate: &mut String, ids: &mut Vec<u32>) {
        if word.chars().count() > self.max_word_chars {
            ids.push(self.unk);
            return;
        }
        let first = ids.len();
        let mut start = 0;
        while start < word.len() {
            let mut end = word.len();
            let mut found = None;
            while start < end {
                let piece = &word[start..end];
                let id = if start == 0 {
                    self.vocab.get(piece)
                } else {
                    candidate.clear();
                    candidate.push_str(&self.prefix);
                    candidate.push_str(piece);
                    self.vocab.get(candidate.as_str())
                };
                if let Some(&id) = id {
                    found = Some(id);
                    break;
                }
                end -= piece.chars().next_back().map_or(1, char::len_utf8);
            }
            match found {
                Some(id) => {
                    ids.push(id);
                    start = end;
                }
                None => {
                    ids.truncate(first);
                    ids.push(self.unk);
                    return;
                }
            }
        }
    }
}

/// Words split at whitespace, each punctuation character a word of its own.
fn pre_tokenize(text: &str) -> impl Iterator<Item = &str> {
    text.split(char::is_whitespace)
        .filter(|w| !w.is_empty())
        .flat_map(|word| {
            let mut pieces = Vec::new();
            let mut start = 0;
            for (at, c) in word.char_indices() {
                if c.is_ascii_punctuation() || c.is_punctuation() {
                    if start < at {
                        pieces.push(&word[start..at]);
                    }
                    pieces.push(&word[at..at + c.len_utf8()]);
                    start = at + c.len_utf8();
                }
            }
            if start < word.len() {
                pieces.push(&word[start..]);
            }
            pieces
        })
}

fn is_whitespace(c: char) -> bool {
    c.is_whitespace()
}

/// Control and format characters (and private use), but not the whitespace
/// controls, which become spaces.
fn is_control(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r') && c.is_other()
}

/// CJK ideographs, which BERT tokenizes one by one.
fn is_chinese_char(c: char) -> bool {
    matches!(
        c as u32,
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B920..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> WordPiece {
        let vocab = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "un", "##aff", "##able", "!", "?",
            "cafe", "[", "]", "mask", "naive", "##s", "中", "a",
        ];
        let vocab: serde_json::Map<String, serde_json::Value> = vocab
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), i.into()))
            .collect();
        let json = serde_json::json!({
            "added_tokens": [
                {"id": 0, "content": "[PAD]", "special": true},
                {"id": 4, "content": "[MASK]", "special": true}
            ],
            "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                           "strip_accents": null, "lowercase": true},
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                      "max_input_chars_per_word": 10, "vocab": vocab}
        });
        WordPiece::from_json(&json.to_string()).unwrap()
    }

    #[test]
    fn words_split_into_longest_pieces_with_specials_around() {
        let t = tiny();
        assert_eq!(t.encode("The unaffable!", 64), vec![2, 5, 6, 7, 8, 9, 3]);
        // Accents stripped and lower-cased; the NFD form of é is e + U+0301.
        assert_eq!(t.encode("CAFÉ naïves", 64), vec![2, 11, 15, 16, 3]);
        // A word that cannot be spelt is one [UNK]; so is an over-long one.
        assert_eq!(t.encode("unxable aaaaaaaaaaa", 64), vec![2, 1, 1, 3]);
        // CJK ideographs are words of their own; control characters vanish.
        assert_eq!(t.encode("a中a\u{7}", 64), vec![2, 18, 17, 18, 3]);
    }

    #[test]
    fn special_tokens_written_in_the_text_are_those_tokens() {
        let t = tiny();
        assert_eq!(t.encode("the [MASK] a", 64), vec![2, 5, 4, 18, 3]);
        // Lower case is not the special token: it is punctuation and a word.
        assert_eq!(t.encode("[mask]", 64), vec![2, 12, 14, 13, 3]);
    }

    #[test]
    fn long_texts_are_cut_to_the_model_length() {
        let t = tiny();
        let ids = t.encode(&"the ".repeat(100), 8);
        assert_eq!(ids, vec![2, 5, 5, 5, 5, 5, 5, 3]);
        assert_eq!(t.encode("", 8), vec![2, 3]);
        assert_eq!(t.encode("the", 2), vec![2, 3]);
    }

    /// The ids of the reference implementation (Hugging Face `tokenizers`)
    /// for hand-picked hard texts and 3,000 raw arXiv titles and abstracts
    /// (LaTeX, accents, Greek, CJK, symbols, special tokens written out).
    #[test]
    fn ids_equal_the_reference_tokenizer_on_real_and_hard_texts() {
        use std::io::BufRead;
        let Some(model) = crate::index::embeddings::test_model() else {
            return;
        };
        let Some(corpora) = crate::corpus::bibtex::tests::corpora() else {
            return;
        };
        let tokenizer =
            WordPiece::from_json(&std::fs::read_to_string(model.join("tokenizer.json")).unwrap())
                .unwrap();
        let testdata =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/index/embeddings/testdata");
        let mut texts: Vec<String> = std::fs::read_to_string(testdata.join("wordpiece_texts.txt"))
            .unwrap()
            .lines()
            .map(|l| l.replace("\\n", "\n"))
            .collect();
        let gz = std::fs::File::open(corpora.join("arxiv/arxiv-2025-cs.jsonl.gz")).unwrap();
        let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(gz));
        for line in reader.lines().take(3000) {
            let record: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
            let field = |name: &str| record[name].as_str().unwrap_or("").to_string();
            texts.push(format!("{} {}", field("title"), field("abstract")));
        }
        let reference = std::fs::read_to_string(testdata.join("wordpiece_reference.txt")).unwrap();
        let expected: Vec<&str> = reference.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(expected.len(), texts.len());
        let mut wrong = Vec::new();
        for (i, (text, expected)) in texts.iter().zip(&expected).enumerate() {
            let ids = tokenizer.encode(text, 256);
            let bytes: Vec<u8> = ids.iter().flat_map(|id| id.to_le_bytes()).collect();
            let got = format!("{:016x} {}", xxhash_rust::xxh3::xxh3_64(&bytes), ids.len());
            if got != *expected {
                wrong.push(format!(
                    "text {i} ({expected} expected, {got}): {}",
                    &text[..text.len().min(120)]
                ));
            }
        }
        assert!(
            wrong.is_empty(),
            "{} of {} differ:\n{}",
            wrong.len(),
            texts.len(),
            wrong.join("\n")
        );
    }

    #[test]
    fn non_wordpiece_tokenizers_are_refused() {
        let json = r#"{"model": {"type": "BPE", "vocab": {}}}"#;
        assert!(WordPiece::from_json(json).is_err());
        assert!(WordPiece::from_json("not json").is_err());
    }
}
