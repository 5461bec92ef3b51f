//! Every feature as data: a fixture (files, `$0` at the cursor) and the
//! expected answer next to it, rendered as text. When an answer changes on
//! purpose, `UPDATE_EXPECT=1 cargo test -p paper-ls --lib features::tests`
//! rewrites the expectations in place; review the diff like any other.

mod fixture;

use super::code_actions::{ActionKind, Effect};
use super::{
    add_to_bibliography, code_actions, completion, definition, diagnostics, hover, inlay_hints,
    references, rename,
};
use crate::workspace::settings::Settings;
use expect_test::{expect, Expect};
use fixture::Fixture;

/// Four papers: two on grokking (one with a coined short name in its
/// title), one on diffusion, one on translation; abstracts for all.
const REFS: &str = r#"
//- /refs.bib
@article{power2022grokking,
  title = {Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets},
  author = {Power, Alethea and Burda, Yuri and Edwards, Harri},
  year = {2022},
  journal = {arXiv},
  abstract = {Neural networks generalize long after they overfit small algorithmic datasets: grokking.}
}
@article{lee2024grokfast,
  title = {Grokfast: Accelerated Grokking by Amplifying Slow Gradients},
  author = {Lee, Jaerin and Kang, Bong Gyun},
  year = {2024},
  abstract = {Amplifying the slow gradients makes grokking happen many times sooner on algorithmic datasets.}
}
@inproceedings{ho2020denoising,
  title = {Denoising Diffusion Probabilistic Models},
  author = {Ho, Jonathan and Jain, Ajay and Abbeel, Pieter},
  year = {2020},
  booktitle = {NeurIPS},
  abstract = {High quality image synthesis with diffusion probabilistic models trained on a weighted bound.}
}
@article{vaswani2017attention,
  title = {Attention Is All You Need},
  author = {Vaswani, Ashish},
  year = {2017},
  abstract = {The Transformer, based solely on attention mechanisms, for machine translation.}
}
"#;

fn check(fixture: &str, answer: impl Fn(&Fixture) -> String, expect: Expect) {
    let f = Fixture::new(&format!("{REFS}{fixture}"));
    expect.assert_eq(&answer(&f));
}

fn hover_of(f: &Fixture) -> String {
    match hover::hover(&f.snap, f.offset()) {
        Some(card) => format!(
            "{}\n---- over {}",
            card.markdown,
            Fixture::show_range(f.text(), &card.range)
        ),
        None => "no hover".into(),
    }
}

#[test]
fn hover_on_a_cited_key_shows_its_card() {
    check(
        r#"
//- /note.md
See [@lee2024gr$0okfast, p. 3].
"#,
        hover_of,
        expect![[r#"
            Lee, J., & Kang, B. G. (2024). *Grokfast: Accelerated Grokking by Amplifying Slow Gradients*.

            **Grokfast: Accelerated Grokking by Amplifying Slow Gradients**

            Jaerin Lee and Bong Gyun Kang · 2024

            Amplifying the slow gradients makes grokking happen many times sooner on algorithmic datasets.

            `lee2024grokfast` · refs.bib:8
            ---- over 6..21 "lee2024grokfast""#]],
    );
}

#[test]
fn short_titles_the_writer_marked_get_cards_and_cite_actions() {
    let short =
        "//- /short.bib\n@misc{wu2020snf, title = {Stochastic Normalizing Flows}, year = 2020}\n";
    check(
        &format!("{short}//- /note.md\nWe tried *Stochastic Normal$0izing Flows* here.\n"),
        |f| hover_of(f).lines().last().unwrap_or_default().to_string(),
        expect![[r#"---- over 10..38 "Stochastic Normalizing Flows""#]],
    );
    check(
        &format!(
            "{short}//- /note.md\nBackground: Stochastic Normal$0izing Flows mix MCMC and flows.\n"
        ),
        actions_of,
        expect![[r#"
            Cite wu2020snf (preferred): 40..40 "" -> " [@wu2020snf]"
        "#]],
    );
    check(
        &format!("{short}//- /note.md\nstochastic normal$0izing flows are a family.\n"),
        hover_of,
        expect!["no hover"],
    );
}

#[test]
fn hover_on_a_title_written_in_prose_and_on_its_short_name() {
    check(
        r#"
//- /note.tex
As \emph{Denoising Diffusion Pro$0babilistic Models} showed, and Grokfast too.
"#,
        hover_of,
        expect![[r#"
            Ho, J., Jain, A., & Abbeel, P. (2020). Denoising Diffusion Probabilistic Models. In *NeurIPS*.

            **Denoising Diffusion Probabilistic Models**

            Jonathan Ho, Ajay Jain and Pieter Abbeel · 2020 · *NeurIPS*

            High quality image synthesis with diffusion probabilistic models trained on a weighted bound.

            `ho2020denoising` · refs.bib:14
            ---- over 9..49 "Denoising Diffusion Probabilistic Models""#]],
    );
    check(
        r#"
//- /note.md
The *Grok$0fast* trick.
"#,
        hover_of,
        expect![[r#"
            Lee, J., & Kang, B. G. (2024). *Grokfast: Accelerated Grokking by Amplifying Slow Gradients*.

            **Grokfast: Accelerated Grokking by Amplifying Slow Gradients**

            Jaerin Lee and Bong Gyun Kang · 2024

            Amplifying the slow gradients makes grokking happen many times sooner on algorithmic datasets.

            `lee2024grokfast` · refs.bib:8
            ---- over 5..13 "Grokfast""#]],
    );
}

#[test]
fn hover_on_an_unknown_key_or_plain_text_is_nothing() {
    check(
        "//- /note.md\n[@nob$0ody2020] and text.\n",
        hover_of,
        expect!["no hover"],
    );
    check(
        "//- /note.md\nJust te$0xt.\n",
        hover_of,
        expect!["no hover"],
    );
}

fn completion_of(f: &Fixture) -> String {
    let Some(found) = completion::completion(&f.snap, f.offset()) else {
        return "no completion here".into();
    };
    let mut out = format!(
        "replacing {}{}\n",
        Fixture::show_range(f.text(), &found.range),
        if found.found.incomplete {
            " (incomplete)"
        } else {
            ""
        }
    );
    for item in &found.found.items {
        out.push_str(&format!("{} — {}\n", item.key, item.detail));
    }
    out
}

#[test]
fn completion_by_key_title_author_and_topic() {
    check(
        "//- /note.md\nSee [@grok$0].\n",
        completion_of,
        expect![[r#"
            replacing 6..10 "grok"
            power2022grokking — Grokking (Power et al., 2022)
            lee2024grokfast — Grokfast (Lee et al., 2024)
        "#]],
    );
    check(
        "//- /note.tex\n\\cite{power2022grokking, diffus$0}\n",
        completion_of,
        expect![[r#"
            replacing 25..31 "diffus"
            ho2020denoising — Denoising Diffusion Probabilistic Models (Ho et al., 2020)
        "#]],
    );
    check(
        "//- /note.md\nAs shown by @vaswani$0 before.\n",
        completion_of,
        expect![[r#"
            replacing 13..20 "vaswani"
            vaswani2017attention — Attention Is All You Need (Vaswani, 2017)
        "#]],
    );
    check(
        "//- /note.md\nNot in a citation: grok$0\n",
        completion_of,
        expect!["no completion here"],
    );
}

fn diagnostics_of(f: &Fixture) -> String {
    diagnostics::unknown_keys_in(&f.snap)
        .iter()
        .map(|u| {
            format!(
                "{} {}\n",
                Fixture::show_range(f.text(), &u.range),
                u.message()
            )
        })
        .collect()
}

#[test]
fn diagnostics_name_unknown_keys_and_the_closest_papers() {
    check(
        "//- /note.md\n$0[@power2022grokking; @power2022grokkin; @nobody1999]\n",
        diagnostics_of,
        expect![[r#"
            22..38 "power2022grokkin" unknown citation key `power2022grokkin`; closest: `power2022grokking`, `lee2024grokfast`
            41..51 "nobody1999" unknown citation key `nobody1999`: no paper in the corpus has it
        "#]],
    );
    check(
        "//- /note.tex\n$0\\citep{lee2024grokfast}\n% \\cite{commented2020}\n",
        diagnostics_of,
        expect![""],
    );
}

fn missing_of(f: &Fixture) -> String {
    diagnostics::not_in_bibliography(&f.snap)
        .iter()
        .map(|m| {
            format!(
                "{} {}\n",
                Fixture::show_range(f.text(), &m.range),
                m.message()
            )
        })
        .collect()
}

#[test]
fn library_papers_missing_from_the_documents_own_bibliography() {
    check(
        r#"
//- /thesis/mine.bib
@misc{own2020, title = {Our Own Earlier Paper}, year = 2020}
//- /thesis/main.tex
$0\bibliography{mine}
\cite{own2020, lee2024grokfast} and \citet{nobody1999}.
"#,
        missing_of,
        expect![[r#"
            35..50 "lee2024grokfast" `lee2024grokfast` is in the library (refs.bib) but not in mine.bib: LaTeX will not find it
        "#]],
    );
    check(
        r#"
//- /notes/mine.bib
@misc{own2020, title = {Our Own Earlier Paper}, year = 2020}
//- /notes/draft.md
---
bibliography: mine.bib
---
$0As [@own2020; @ho2020denoising] show.
"#,
        missing_of,
        expect![[r#"
            46..61 "ho2020denoising" `ho2020denoising` is in the library (refs.bib) but not in mine.bib: pandoc will not find it
        "#]],
    );
    check(
        "//- /note.md\n$0No bibliography of its own: [@ho2020denoising].\n",
        missing_of,
        expect![""],
    );
}

fn locations_of(f: &Fixture, found: &[references::NoteLocations]) -> String {
    found
        .iter()
        .flat_map(|l| {
            l.ranges.iter().map(|r| {
                format!(
                    "{} {}\n",
                    f.show_path(&l.path),
                    Fixture::show_range(&l.text, r)
                )
            })
        })
        .collect()
}

#[test]
fn references_across_notes_with_titles_in_prose() {
    check(
        r#"
//- /chapter1.md
Grokking was found by [@power2022grokking]; [@lee2024grokfast] sped it up.
//- /chapter2.tex
\section{Speed} \citet{lee2024grokfast} and again Grokfast.
//- /draft.md
Open: [@lee2024gro$0kfast]
"#,
        |f| {
            locations_of(
                f,
                &references::references_at(&f.snap, f.offset()).unwrap_or_default(),
            )
        },
        expect![[r#"
            /chapter1.md 46..61 "lee2024grokfast"
            /chapter2.tex 23..38 "lee2024grokfast"
            /chapter2.tex 50..58 "Grokfast"
            /draft.md 8..23 "lee2024grokfast"
        "#]],
    );
}

fn rename_of(f: &Fixture, new_key: &str) -> String {
    match rename::rename_at(&f.snap, f.offset(), new_key) {
        Ok(Some(edits)) => edits
            .iter()
            .map(|e| {
                format!(
                    "{} {} -> {:?}\n",
                    f.show_path(&e.path),
                    Fixture::show_range(&e.text, &e.range),
                    e.new_text
                )
            })
            .collect(),
        Ok(None) => "not on a citation".into(),
        Err(refusal) => format!("refused: {refusal}"),
    }
}

#[test]
fn rename_edits_the_bib_and_every_note_or_says_why_not() {
    check(
        r#"
//- /other.tex
\cite{ho2020denoising,power2022grokking}
//- /note.md
[@ho2020de$0noising] and @ho2020denoising.
"#,
        |f| rename_of(f, "ho2020ddpm"),
        expect![[r#"
            /note.md 2..17 "ho2020denoising" -> "ho2020ddpm"
            /note.md 24..39 "ho2020denoising" -> "ho2020ddpm"
            /other.tex 6..21 "ho2020denoising" -> "ho2020ddpm"
            /refs.bib 612..627 "ho2020denoising" -> "ho2020ddpm"
        "#]],
    );
    check(
        "//- /note.md\n[@ho2020de$0noising]\n",
        |f| rename_of(f, "vaswani2017attention"),
        expect!["refused: cannot rename `ho2020denoising` to `vaswani2017attention`: `vaswani2017attention` (“Attention Is All You Need”) already has that key; BibTeX keys ignore case, so choose a key no other paper has"],
    );
    check(
        "//- /note.md\n[@ho2020de$0noising]\n",
        |f| rename_of(f, "has space"),
        expect!["refused: `has space` cannot be a citation key: it contains a space or a control character"],
    );
}

fn actions_of(f: &Fixture) -> String {
    code_actions::code_actions(&f.snap, f.at.clone())
        .iter()
        .map(|a| {
            let effect = match &a.effect {
                Effect::EditDocument { range, new_text } => {
                    format!("{} -> {new_text:?}", Fixture::show_range(f.text(), range))
                }
                Effect::AddToBibliography { keys } => format!("add {}", keys.join(", ")),
                Effect::Refused { reason } => format!("refused: {reason}"),
                Effect::OpenPaper { key } => format!("open {key}"),
            };
            format!(
                "{}{}{}: {effect}\n",
                a.title,
                if a.preferred { " (preferred)" } else { "" },
                if a.kind == ActionKind::Source {
                    " [source]"
                } else {
                    ""
                },
            )
        })
        .collect()
}

#[test]
fn code_actions_fix_unknown_keys_and_cite_titles() {
    check(
        "//- /note.md\nSee [@lee2024grokfst$0].\n",
        actions_of,
        expect![[r#"
            Replace with lee2024grokfast — Grokfast (preferred): 6..20 "lee2024grokfst" -> "lee2024grokfast"
        "#]],
    );
    check(
        "//- /note.md\nWe build on Attention Is All You $0Need in this note.\n",
        actions_of,
        expect![[r#"
            Cite vaswani2017attention (preferred): 37..37 "" -> " [@vaswani2017attention]"
        "#]],
    );
    check(
        "//- /note.tex\nWe build on Attention Is All You $0Need here.\n",
        actions_of,
        expect![[r#"
            Cite vaswani2017attention (preferred): 37..37 "" -> "~\\cite{vaswani2017attention}"
        "#]],
    );
}

fn hints_of(f: &Fixture) -> String {
    inlay_hints::inlay_hints(&f.snap, 0..f.text().len())
        .iter()
        .map(|h| {
            format!(
                "after {:?}: {}\n",
                &f.text()[..h.offset]
                    .rsplit(['[', '{', ',', ' '])
                    .next()
                    .unwrap_or(""),
                h.label
            )
        })
        .collect()
}

#[test]
fn inlay_hints_show_short_titles_unless_switched_off() {
    let fixture = "//- /note.tex\n$0\\cite{power2022grokking, ho2020denoising, unknown2020}\n";
    check(
        fixture,
        hints_of,
        expect![[r#"
        after "power2022grokking": Grokking
        after "ho2020denoising": Denoising Diffusion Probabilistic Models
    "#]],
    );
    let off = Settings {
        inlay_hints: false,
        ..Settings::default()
    };
    let f = Fixture::with_settings(&format!("{REFS}{fixture}"), off);
    assert_eq!(hints_of(&f), "");
}

fn related_of(f: &Fixture) -> String {
    let Some(found) = definition::implementation(&f.snap, f.offset()) else {
        return "not on a paper".into();
    };
    found
        .iter()
        .map(|l| format!("{}:{}\n", f.show_path(&l.path), l.line))
        .collect()
}

fn definition_of(f: &Fixture) -> String {
    definition::definition(&f.snap, f.offset())
        .iter()
        .map(|l| {
            let key = l.key.as_ref().map_or(String::new(), |k| {
                format!(" columns {:?} (UTF-16 {:?})", k.utf8, k.utf16)
            });
            format!("{}:{}{key}\n", f.show_path(&l.path), l.line)
        })
        .collect()
}

#[test]
fn go_to_paper_and_to_related_papers() {
    check(
        "//- /note.md\n[@lee2024gr$0okfast]\n",
        definition_of,
        expect![[r#"
            /refs.bib:8 columns 9..24 (UTF-16 9..24)
        "#]],
    );
    check(
        "//- /note.md\n[@lee2024gr$0okfast]\n",
        related_of,
        expect![[r#"
            /refs.bib:1
        "#]],
    );
    check(
        "//- /note.md\nno$0thing\n",
        related_of,
        expect!["not on a paper"],
    );
}

#[test]
fn what_is_under_the_cursor() {
    let f = Fixture::new(&format!(
        "{REFS}//- /note.md\nGrokking: Generalization Beyond Overfitting on Small Algo$0rithmic Datasets\n"
    ));
    let target = hover::paper_at(&f.snap, f.offset()).expect("a title");
    let keys: Vec<String> = target.papers.iter().map(|&p| f.key(p)).collect();
    expect![[r#"["power2022grokking"] 0..73 "Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets""#]].assert_eq(&format!(
        "{keys:?} {}",
        Fixture::show_range(f.text(), &target.range)
    ));
}

#[test]
fn a_hover_ends_with_related_papers_once_they_are_found() {
    let f = Fixture::new(&format!("{REFS}//- /note.md\n[@lee2024gr$0okfast]\n"));
    definition::implementation(&f.snap, f.offset());
    let card = hover::hover(&f.snap, f.offset()).expect("a card").markdown;
    let related = &card[card.find("Related:").expect("a related section")..];
    expect![[r#"
        Related:
        - Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets (`power2022grokking`)"#]].assert_eq(related);
}

const THESIS: &str = r#"
//- /thesis/mine.bib
@misc{own2020, title = {Our Own Earlier Paper}, year = 2020}
"#;

fn addition_of(f: &Fixture, keys: &[&str]) -> String {
    let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    match add_to_bibliography::add_to_bibliography(&f.snap, &keys) {
        Ok(added) => {
            let mut out = format!(
                "{} at {}: added {}\n",
                f.show_path(&added.edit.path),
                added.edit.range.start,
                added.added.join(", ")
            );
            for refused in &added.refused {
                out.push_str(&format!("refused {}: {}\n", refused.key, refused.reason));
            }
            out.push_str(&added.edit.new_text);
            out
        }
        Err(reason) => format!("refused: {reason}"),
    }
}

#[test]
fn missing_papers_get_a_fix_each_and_one_for_all() {
    check(
        &format!(
            "{THESIS}//- /thesis/main.tex\n\\bibliography{{mine}}\n\
             \\cite{{own2020, lee2024$0grokfast}} and \\citet{{ho2020denoising}}.\n"
        ),
        actions_of,
        expect![[r#"
            Add lee2024grokfast to mine.bib (preferred): add lee2024grokfast
            Add all 2 missing papers to mine.bib [source]: add lee2024grokfast, ho2020denoising
        "#]],
    );
}

#[test]
fn adding_papers_appends_standalone_entries_after_one_blank_line() {
    let f = Fixture::new(&format!(
        "{REFS}{THESIS}//- /thesis/main.tex\n\\bibliography{{mine}}\n$0\\cite{{lee2024grokfast}}\n"
    ));
    expect![[r#"
        /thesis/mine.bib at 61: added lee2024grokfast, power2022grokking

        @article{lee2024grokfast,
          title     = {Grokfast: Accelerated Grokking by Amplifying Slow Gradients},
          author    = {Lee, Jaerin and Kang, Bong Gyun},
          year      = {2024},
          abstract  = {Amplifying the slow gradients makes grokking happen many times sooner on algorithmic datasets.},
        }

        @article{power2022grokking,
          title     = {Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets},
          author    = {Power, Alethea and Burda, Yuri and Edwards, Harri},
          year      = {2022},
          journal   = {arXiv},
          abstract  = {Neural networks generalize long after they overfit small algorithmic datasets: grokking.},
        }
    "#]]
    .assert_eq(&addition_of(&f, &["lee2024grokfast", "power2022grokking"]));
}

#[test]
fn conflicts_in_the_bibliography_are_refused_with_the_reason() {
    let thesis = r#"
//- /thesis/mine.bib
@misc{LEE2024grokfast, title = {Something Else Entirely}}
@misc{mygrok, title = {Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets}}
@misc{ho2020denoising, title = {Denoising Diffusion Probabilistic Models}}
"#;
    let f = Fixture::new(&format!(
        "{REFS}{thesis}//- /thesis/main.tex\n\\bibliography{{mine}}\n$0\\cite{{x}}\n"
    ));
    expect!["refused: mine.bib already has the key `LEE2024grokfast` for another paper (“Something Else Entirely”); BibTeX keys ignore case, so rename one of them first"]
        .assert_eq(&addition_of(&f, &["lee2024grokfast"]));
    expect!["refused: mine.bib already has this paper as `mygrok`: cite that key instead"]
        .assert_eq(&addition_of(&f, &["power2022grokking"]));
    expect!["refused: mine.bib already has every paper asked for"]
        .assert_eq(&addition_of(&f, &["ho2020denoising"]));
    let plan = add_to_bibliography::plan(&f.snap, &["power2022grokking".to_string()]).unwrap();
    assert_eq!(plan.refused[0].cite_instead.as_deref(), Some("mygrok"));
}

#[test]
fn only_bibtex_files_inside_the_workspace_are_written() {
    // The workspace is the thesis folder; `../shared` is outside it.
    let outside = "//- /shared.bib\n@misc{s, title={S}}\n//- /thesis/main.tex\n\\bibliography{../shared}\n$0\\cite{lee2024grokfast}\n";
    let mut f = Fixture::new(&format!("{REFS}{outside}"));
    f.snap.root = Some(f.dir.path().join("thesis"));
    let refused = addition_of(&f, &["lee2024grokfast"]);
    assert!(
        refused
            .starts_with("refused: cannot add papers to shared.bib: it is outside the workspace"),
        "{refused}"
    );

    #[cfg(unix)]
    {
        let f = Fixture::new(&format!(
            "{REFS}//- /thesis/main.tex\n\\bibliography{{linked}}\n$0\\cite{{lee2024grokfast}}\n"
        ));
        let elsewhere = tempfile::tempdir().unwrap();
        let target = elsewhere.path().join("victim.bib");
        std::fs::write(&target, "").unwrap();
        std::os::unix::fs::symlink(&target, f.dir.path().join("thesis/linked.bib")).unwrap();
        let mut f = f;
        reload_bibliography(&mut f);
        let refused = addition_of(&f, &["lee2024grokfast"]);
        assert!(refused.contains("it is outside the workspace"), "{refused}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "");

        // A link named like a bibliography, to another file of the workspace.
        let f = Fixture::new(&format!(
            "{REFS}//- /thesis/main.tex\n\\bibliography{{sneaky}}\n$0\\cite{{lee2024grokfast}}\n"
        ));
        let config = f.dir.path().join("config");
        std::fs::write(&config, "[core]\n").unwrap();
        std::os::unix::fs::symlink(&config, f.dir.path().join("thesis/sneaky.bib")).unwrap();
        let mut f = f;
        reload_bibliography(&mut f);
        let refused = addition_of(&f, &["lee2024grokfast"]);
        assert!(refused.contains("not a BibTeX file"), "{refused}");
        assert_eq!(std::fs::read_to_string(&config).unwrap(), "[core]\n");
    }

    let mut f = Fixture::new(&format!(
        "{REFS}{THESIS}//- /thesis/main.tex\n\\bibliography{{mine}}\n$0\\cite{{lee2024grokfast}}\n"
    ));
    let mine = f.dir.path().join("thesis/mine.bib");
    let mut permissions = std::fs::metadata(&mine).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&mine, permissions).unwrap();
    expect!["refused: cannot add papers to mine.bib: the file is read-only"]
        .assert_eq(&addition_of(&f, &["lee2024grokfast"]));
    f.snap.root = None;
    expect!["refused: cannot add papers to mine.bib: no workspace folder is open, and paper-ls writes only into files of the workspace"]
        .assert_eq(&addition_of(&f, &["lee2024grokfast"]));
}

/// Sets the fixture document's bibliography again from the files now on disk.
fn reload_bibliography(f: &mut Fixture) {
    use crate::workspace::corpora::{read_selection, LoadedCorpus};
    let doc = f.snap.document.clone().unwrap();
    let policy = crate::workspace::selection::CorpusPolicy::new(f.snap.root.clone(), &[], &[]);
    let own = policy.document_bibliography(doc.path.as_deref().unwrap(), &doc.text, doc.language);
    let cache = crate::corpus::Cache::at(f.dir.path().join(".cache"));
    let (corpus, stamps) = read_selection(&own, &cache);
    f.snap.bibliography = Some(crate::workspace::Bibliography {
        files: own,
        corpus: crate::workspace::CorpusView::of(LoadedCorpus::indexed_now(corpus, stamps)),
    });
}

#[test]
fn the_target_setting_chooses_among_the_bibliography_files() {
    let files = r#"
//- /thesis/a.bib
@misc{a2020, title = {A}}
//- /thesis/b.bib
@misc{b2020, title = {B}}
"#;
    let fixture = format!(
        "{REFS}{files}//- /thesis/main.tex\n\\bibliography{{a,b}}\n$0\\cite{{lee2024grokfast}}\n"
    );
    let first = Fixture::new(&fixture);
    assert!(addition_of(&first, &["lee2024grokfast"]).starts_with("/thesis/a.bib at "));
    let settings = |target: &str| Settings {
        bibliography_target: Some(target.into()),
        ..Settings::default()
    };
    let by_path = Fixture::with_settings(&fixture, settings("thesis/b.bib"));
    assert!(addition_of(&by_path, &["lee2024grokfast"]).starts_with("/thesis/b.bib at "));
    let by_name = Fixture::with_settings(&fixture, settings("b.bib"));
    assert!(addition_of(&by_name, &["lee2024grokfast"]).starts_with("/thesis/b.bib at "));
    let elsewhere = Fixture::with_settings(&fixture, settings("other.bib"));
    expect!["refused: the setting bibliography.target is `other.bib`, but this document's bibliography is a.bib, b.bib"]
        .assert_eq(&addition_of(&elsewhere, &["lee2024grokfast"]));
}

#[test]
fn entries_are_written_only_into_bibtex_and_hayagriva_files() {
    let csl = "//- /thesis/own.json\n[{\"id\": \"own\", \"title\": \"Own\"}]\n";
    let f = Fixture::new(&format!(
        "{REFS}{csl}//- /thesis/main.md\n---\nbibliography: own.json\n---\n$0[@lee2024grokfast]\n"
    ));
    expect!["refused: cannot add papers to own.json: paper-ls writes entries only into BibTeX files (.bib, .bibtex, .biblatex) and Hayagriva YAML files (.yml, .yaml)"]
        .assert_eq(&addition_of(&f, &["lee2024grokfast"]));
}

#[test]
fn citation_keys_link_to_the_doi_arxiv_page_or_url() {
    let refs = r#"
//- /links.bib
@article{withdoi, title = {With a DOI}, doi = {10.1000/xyz}, eprint = {2101.00001}, archiveprefix = {arXiv}}
@misc{witharxiv, title = {Only arXiv}, eprint = {2101.00002}, archiveprefix = {arXiv}}
@misc{withurl, title = {Only a URL}, url = {https://example.org/paper}}
@misc{nothing, title = {Nowhere to Go}}
"#;
    let f = Fixture::new(&format!(
        "{refs}//- /note.md\n$0[@withdoi; @witharxiv; @withurl; @nothing; @unknown]\n"
    ));
    let shown: String = super::links::paper_links(&f.snap)
        .iter()
        .map(|l| {
            format!(
                "{} -> {} ({})\n",
                Fixture::show_range(f.text(), &l.range),
                l.target,
                l.tooltip
            )
        })
        .collect();
    expect![[r#"
        2..9 "withdoi" -> https://doi.org/10.1000/xyz (Open DOI 10.1000/xyz)
        12..21 "witharxiv" -> https://arxiv.org/abs/2101.00002 (Open arXiv:2101.00002)
        24..31 "withurl" -> https://example.org/paper (Open https://example.org/paper)
    "#]]
    .assert_eq(&shown);
}

fn written_of(f: &Fixture) -> String {
    let Some(found) = completion::completion(&f.snap, f.offset()) else {
        return "no completion here".into();
    };
    found
        .found
        .items
        .iter()
        .map(|item| match &item.written {
            Some((bytes, text)) => {
                format!(
                    "{} as {text} over {}\n",
                    item.key,
                    Fixture::show_range(f.text(), bytes)
                )
            }
            None => format!(
                "{} over {}\n",
                item.key,
                Fixture::show_range(f.text(), &found.range)
            ),
        })
        .collect()
}

#[test]
fn typst_notes_get_hover_completion_and_diagnostics() {
    check(
        "//- /note.typ\nAs @power2022grok$0king[p. 7] shows.\n",
        hover_of,
        expect![[r#"
            Power, A., Burda, Y., & Edwards, H. (2022). Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets. *arXiv*.

            **Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets**

            Alethea Power, Yuri Burda and Harri Edwards · 2022 · *arXiv*

            Neural networks generalize long after they overfit small algorithmic datasets: grokking.

            `power2022grokking` · refs.bib:1
            ---- over 4..21 "power2022grokking""#]],
    );
    check(
        "//- /note.typ\nSee @grok$0 and more.\n",
        completion_of,
        expect![[r#"
            replacing 5..9 "grok"
            power2022grokking — Grokking (Power et al., 2022)
            lee2024grokfast — Grokfast (Lee et al., 2024)
        "#]],
    );
    check(
        "//- /note.typ\nSee #cite(<diffus$0\n",
        completion_of,
        expect![[r#"
            replacing 11..17 "diffus"
            ho2020denoising — Denoising Diffusion Probabilistic Models (Ho et al., 2020)
        "#]],
    );
    check(
        "//- /note.typ\n// @grok$0\n",
        completion_of,
        expect!["no completion here"],
    );
    check(
        "//- /note.typ\n= Intro <intro>\n$0See @intro, @power2022grokking, @nobody1999 and #cite(label(\"lee2024grokfst\")).\n$@nope$ `@nope`\n",
        diagnostics_of,
        expect![[r#"
            49..59 "nobody1999" unknown citation key `nobody1999`: no paper in the corpus has it
            77..91 "lee2024grokfst" unknown citation key `lee2024grokfst`; closest: `lee2024grokfast`
        "#]],
    );
}

#[test]
fn typst_keys_that_are_no_labels_are_cited_with_cite() {
    check(
        "//- /more.bib\n@misc{DBLP:conf/slashed, title = {Slashed Keys Considered}}\n//- /note.typ\nSee @Slashed$0\n",
        written_of,
        expect![[r#"
            DBLP:conf/slashed as #cite(label("DBLP:conf/slashed")) over 4..12 "@Slashed"
        "#]],
    );
    check(
        "//- /more.bib\n@misc{DBLP:conf/slashed, title = {Slashed Keys Considered}}\n//- /note.typ\nSee #cite(<Slashed$0>)\n",
        written_of,
        expect![[r#"
            DBLP:conf/slashed as label("DBLP:conf/slashed") over 10..19 "<Slashed>"
        "#]],
    );
}

#[test]
fn typst_titles_renames_and_bibliographies() {
    check(
        "//- /note.typ\nWe build on _Attention Is All You $0Need_ here.\n",
        actions_of,
        expect![[r#"
            Cite vaswani2017attention (preferred): 39..39 "" -> " @vaswani2017attention"
        "#]],
    );
    check(
        r#"
//- /other.typ
#cite(<ho2020denoising>) and @ho2020denoising[p. 2]
//- /note.md
[@ho2020de$0noising]
"#,
        |f| rename_of(f, "ho2020ddpm"),
        expect![[r#"
            /note.md 2..17 "ho2020denoising" -> "ho2020ddpm"
            /other.typ 7..22 "ho2020denoising" -> "ho2020ddpm"
            /other.typ 30..45 "ho2020denoising" -> "ho2020ddpm"
            /refs.bib 612..627 "ho2020denoising" -> "ho2020ddpm"
        "#]],
    );
    // pandoc and BibTeX read `DBLP:conf/ho` whole; Typst's `@DBLP:conf/ho`
    // cites `DBLP:conf`.
    check(
        r#"
//- /other.typ
#cite(<ho2020denoising>) and @ho2020denoising[p. 2]
//- /note.md
[@ho2020de$0noising]
"#,
        |f| rename_of(f, "DBLP:conf/ho").replace(&f.dir.path().display().to_string(), ""),
        expect![[
            r#"refused: cannot rename `ho2020denoising` to `DBLP:conf/ho`: /other.typ cites it as `@ho2020denoising` or `<ho2020denoising>`, and Typst would not read `@DBLP:conf/ho` as that key (a label is letters, digits, `_`, `-`, `.` and `:`, not ending in `.` or `:`); choose such a key, or cite it there as `#cite(label("ho2020denoising"))` first"#
        ]],
    );
    check(
        "//- /other.typ
#cite(label(\"ho2020denoising\"))
//- /note.md
[@ho2020de$0noising]
",
        |f| rename_of(f, "DBLP:conf/ho"),
        expect![[r#"
            /note.md 2..17 "ho2020denoising" -> "DBLP:conf/ho"
            /other.typ 13..28 "ho2020denoising" -> "DBLP:conf/ho"
            /refs.bib 612..627 "ho2020denoising" -> "DBLP:conf/ho"
        "#]],
    );
    check(
        &format!(
            "{THESIS}//- /thesis/main.typ\n#bibliography(\"mine.bib\", style: \"apa\")\n\
             @own2020 and @lee2024$0grokfast.\n"
        ),
        actions_of,
        expect![[r#"
            Add lee2024grokfast to mine.bib (preferred): add lee2024grokfast
            Add all 1 missing paper to mine.bib [source]: add lee2024grokfast
        "#]],
    );
}

#[test]
fn papers_are_added_to_a_hayagriva_bibliography_as_yaml_entries() {
    let paper = r#"
//- /paper/refs.yml
# Our references.
mine2021:
  type: article
  title: Our Own Earlier Paper
  author: Author, Ann
  date: 2021
//- /paper/main.typ
#bibliography("refs.yml")
$0See @mine2021, @ho2020denoising and @lee2024grokfast.
"#;
    let f = Fixture::new(&format!("{REFS}{paper}"));
    let added = addition_of(&f, &["ho2020denoising", "lee2024grokfast", "mine2021"]);
    expect![[r#"
        /paper/refs.yml at 110: added ho2020denoising, lee2024grokfast

        ho2020denoising:
          type: article
          title: "Denoising Diffusion Probabilistic Models"
          author:
            - "Ho, Jonathan"
            - "Jain, Ajay"
            - "Abbeel, Pieter"
          date: 2020
          parent:
            type: proceedings
            title: "{NeurIPS}"
          abstract: "High quality image synthesis with diffusion probabilistic models trained on a weighted bound."

        lee2024grokfast:
          type: article
          title: "Grokfast: Accelerated Grokking by Amplifying Slow Gradients"
          author:
            - "Lee, Jaerin"
            - "Kang, Bong Gyun"
          date: 2024
          abstract: "Amplifying the slow gradients makes grokking happen many times sooner on algorithmic datasets."
    "#]]
    .assert_eq(&added);

    // What was appended reads back as the same papers.
    let addition = add_to_bibliography::add_to_bibliography(
        &f.snap,
        &["ho2020denoising".to_string(), "lee2024grokfast".to_string()],
    )
    .unwrap();
    let whole = format!("{}{}", addition.edit.text, addition.edit.new_text);
    let (papers, problems) =
        crate::corpus::hayagriva_yaml::load_hayagriva_yaml(0, &addition.edit.path, &whole);
    assert!(problems.is_empty(), "{problems:?}");
    let library = f.snap.corpus.corpus();
    for key in ["ho2020denoising", "lee2024grokfast"] {
        let read = papers.iter().find(|p| p.key == key).unwrap();
        let original = library.paper(library.index_of(key).unwrap());
        assert_eq!(read.title, original.title);
        assert_eq!(read.year, original.year);
        assert_eq!(read.venue.as_deref(), original.venue);
        assert_eq!(read.authors.len(), original.authors.iter().count());
        assert_eq!(read.entry_type, original.entry_type);
    }
}

#[test]
fn a_hayagriva_bibliography_that_would_not_read_back_is_not_written() {
    let flow =
        "//- /paper/refs.yml\n{mine2021: {type: article, title: Ours}}\n//- /paper/main.typ\n\
                #bibliography(\"refs.yml\")\n$0@lee2024grokfast\n";
    let f = Fixture::new(&format!("{REFS}{flow}"));
    let refused = addition_of(&f, &["lee2024grokfast"]);
    assert!(
        refused.starts_with("refused: cannot add papers to refs.yml: with the entries appended"),
        "{refused}"
    );
    let broken = "//- /paper/refs.yml\nmine2021:\n  title: [unclosed\n//- /paper/main.typ\n\
                  #bibliography(\"refs.yml\")\n$0@lee2024grokfast\n";
    let f = Fixture::new(&format!("{REFS}{broken}"));
    let refused = addition_of(&f, &["lee2024grokfast"]);
    assert!(refused.contains("fix it first"), "{refused}");
}

#[test]
fn a_typst_documents_hayagriva_bibliography_is_read() {
    check(
        r#"
//- /paper/refs.yml
mine2021:
  type: article
  title: Our Own Earlier Paper
  author: Author, Ann
  date: 2021
  parent:
    type: periodical
    title: Journal of Ours
//- /paper/main.typ
#bibliography("refs.yml")
$0See @mine2021 and @lee2024grokfast.
"#,
        |f| format!("{}{}", missing_of(f), diagnostics_of(f)),
        expect![[r#"
            45..60 "lee2024grokfast" `lee2024grokfast` is in the library (refs.bib) but not in refs.yml: Typst will not find it
        "#]],
    );
}
