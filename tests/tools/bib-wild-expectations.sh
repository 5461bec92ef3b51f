#!/usr/bin/env bash
# Regenerates tests/fixtures/bib-wild-expected.tsv: for every BibTeX file of
# the real-world corpus ../shared/corpora/bib-wild, how many entries pandoc
# (an independent BibTeX reader) finds in it. tests/bib_wild.rs compares our
# reader's paper count with these numbers.
#
# BibTeX files are those whose name ends in .bib, .bibtex or .biblatex (any
# case, optionally gzipped): the extensions paper-ls itself reads as BibTeX.
# Each line is `path<TAB>count`, the path relative to bib-wild/, sorted
# bytewise. The count is the number of CSL items of
# `pandoc -f bibtex -t csljson FILE` (which, like paper-ls, reads a file that
# is not UTF-8 as Latin-1); a non-zero exit (pandoc rejects the whole file at
# its first syntax error), a run over 30 s or over 4 GB of heap is recorded
# as `error` (pandoc never finishes on biber's deliberate crossref and xdata
# cycles and grows by hundreds of megabytes a second; the cap keeps it from
# exhausting the machine).
#
# Usage: tests/tools/bib-wild-expectations.sh [BIB_WILD_DIR]
# Needs pandoc, jq and timeout; takes a few minutes.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${1:-$repo/../shared/corpora/bib-wild}
out=$repo/tests/fixtures/bib-wild-expected.tsv
timeout_s=30
export GHCRTS=-M4g

for tool in pandoc jq timeout; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 1; }
done
[ -d "$corpus" ] || { echo "error: no corpus at $corpus" >&2; exit 1; }
corpus=$(cd "$corpus" && pwd)
echo "$(pandoc --version | head -n 1), corpus $corpus" >&2

# Prints pandoc's item count for one file, or `error`.
count_items() {
  local file=$1 json
  if [[ ${file,,} == *.gz ]]; then
    json=$(gzip -dc -- "$file" | timeout "$timeout_s" pandoc -f bibtex -t csljson 2>/dev/null) || { echo error; return; }
  else
    json=$(timeout "$timeout_s" pandoc -f bibtex -t csljson -- "$file" 2>/dev/null) || { echo error; return; }
  fi
  [ -n "$json" ] || json='[]'
  jq 'length' <<<"$json" 2>/dev/null || echo error
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
done_count=0
while IFS= read -r -d '' file; do
  printf '%s\t%s\n' "${file#./}" "$(cd "$corpus" && count_items "$file")" >>"$tmp"
  done_count=$((done_count + 1))
  if ((done_count % 100 == 0)); then echo "$done_count files" >&2; fi
done < <(cd "$corpus" && find . -type f \( -iname '*.bib' -o -iname '*.bibtex' -o -iname '*.biblatex' \
  -o -iname '*.bib.gz' -o -iname '*.bibtex.gz' -o -iname '*.biblatex.gz' \) -print0)

LC_ALL=C sort -t $'\t' -k1,1 "$tmp" >"$out"
errors=$(awk -F'\t' '$2 == "error"' "$out" | wc -l)
echo "$done_count files, $errors errors: wrote $out" >&2
