#!/usr/bin/env bash
# The release artefacts of `bash release/build.sh` (dist/), installed as a
# user without Rust would install them:
#   - the wheel, with pip into a fresh virtual environment that holds nothing
#     else: `paper-ls --version` names this checkout's version and commit,
#     `paper-ls search grokking` searches the bundled corpus, and an LSP
#     session with the installed command shows a paper's abstract on hover;
#   - the archive: what it holds, and the binary in it runs;
#   - the source package, when built (--sdist): pip builds it with cargo in a
#     fresh environment, and the command it gives runs;
#   - the SHA-256 sums match the files.
# The platform .vsix is installed in VS Code by tests/editors/run.sh
# (vscode-bundled).
#
# bash tests/packaging/run.sh        (after bash release/build.sh)
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
DIST=${PAPER_LS_DIST:-$REPO/dist}
TMP=$(mktemp -d /tmp/paper-ls-packaging.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
export PAPER_LS_CACHE_DIR=$TMP/cache
# No embedding model here: related papers by meaning are tested in tests/lsp.rs.
export PAPER_LS_MODEL_URL=file:///nonexistent/paper-ls-test-model

passed=0
failed=0
check() { # NAME CONDITION-STATUS [DETAIL]
  if [ "$2" -eq 0 ]; then
    passed=$((passed + 1)); echo "PASS packaging: $1"
  else
    failed=$((failed + 1)); echo "FAIL packaging: $1${3:+ — $3}"
  fi
}

version=$(sed -n 's/^version = "\(.*\)"/\1/p' server/Cargo.toml | head -1)
commit=$(git rev-parse --short=12 HEAD)
host=$(rustc -vV | sed -n 's/^host: //p')
wheel=$(ls "$DIST"/paper_ls-"$version"-*.whl 2>/dev/null | head -1)
tarball=$DIST/paper-ls-$version-$host.tar.gz
sums=$DIST/SHA256SUMS-$host
if [ -z "$wheel" ] || [ ! -f "$tarball" ] || [ ! -f "$sums" ]; then
  echo "no release artefacts for $version on $host in $DIST: run bash release/build.sh"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "wheel: $wheel"

# The wheel's metadata: the crate's version, a licence, the project's links.
meta=$(python3 - "$wheel" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    print(z.read(name).decode())
    print("FILES:", " ".join(z.namelist()))
PY
)
grep -q "^Version: $version$" <<<"$meta" && grep -q '^License-Expression: MIT$' <<<"$meta" \
  && grep -q '^Project-URL: Repository, ' <<<"$meta" && grep -q "paper_ls-$version.data/scripts/paper-ls" <<<"$meta"
check "the wheel carries the crate's version $version, the MIT licence, the links and the paper-ls script" $? \
  "$(grep -E '^(Version|License|Project-URL|FILES)' <<<"$meta" | tr '\n' ' ')"

# A fresh virtual environment with nothing in it but pip, and the wheel.
venv=$TMP/venv
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --no-index --disable-pip-version-check "$wheel" >"$TMP/pip.log" 2>&1
check "pip installs the wheel into a fresh virtual environment, offline" $? "$(cat "$TMP/pip.log")"
# What venv itself brings (pip; setuptools before Python 3.12) aside.
installed=$("$venv/bin/python" -m pip list --format=freeze --disable-pip-version-check 2>/dev/null |
  grep -Ev '^(pip|setuptools)==' | tr '\n' ' ')
[ "$installed" = "paper-ls==$version " ]
check "the environment holds paper-ls and nothing else (no Rust, no dependencies)" $? "$installed"

# The installed command, found on PATH as a user's shell finds it; no cargo.
user_path=$venv/bin:/usr/bin:/bin
found=$(PATH=$user_path command -v paper-ls)
[ "$found" = "$venv/bin/paper-ls" ]
check "paper-ls on PATH is the installed one" $? "$found"
out=$(PATH=$user_path paper-ls --version 2>&1)
[ "$out" = "paper-ls $version ($commit)" ]
check "paper-ls --version names the version and the commit built" $? "$out"
out=$(cd "$TMP" && PATH=$user_path paper-ls search grokking 2>&1)
grep -q 'grokfast-accelerated-grokking' <<<"$out"
check "paper-ls search grokking finds the bundled grokking papers" $? "$(head -c 400 <<<"$out")"
mkdir -p "$TMP/notes"
out=$(PATH=$user_path python3 tests/packaging/lsp_hover.py paper-ls "$TMP/notes" 2>&1)
rc=$?
echo "$out" | sed 's/^/  /'
[ $rc -eq 0 ] && grep -q "^serverInfo: paper-ls $version ($commit)$" <<<"$out"
check "an LSP session with the installed command: serverInfo, hover shows the abstract" $? "$out"

# The archive: one folder with the binary, the README, the licence, the changelog.
listing=$(tar -tzf "$tarball" | sort | tr '\n' ' ')
expected="paper-ls-$version-$host/ paper-ls-$version-$host/CHANGELOG.md paper-ls-$version-$host/LICENSE paper-ls-$version-$host/README.md paper-ls-$version-$host/paper-ls "
[ "$listing" = "$expected" ] || [ "$listing" = "${expected#paper-ls-$version-$host/ }" ]
check "the archive holds the binary, README, LICENSE and CHANGELOG in one folder" $? "$listing"
tar -C "$TMP" -xzf "$tarball"
out=$("$TMP/paper-ls-$version-$host/paper-ls" --version 2>&1)
[ "$out" = "paper-ls $version ($commit)" ]
check "the archive's binary runs" $? "$out"

# The source package (release/build.sh --sdist): what pip builds where no
# wheel fits. Built from it in a fresh environment (pip fetches maturin from
# PyPI for the build), sharing this checkout's target folder so the
# dependencies are not compiled again; a packager names the commit.
sdist=$DIST/paper_ls-$version.tar.gz
listed=3
if [ -f "$sdist" ]; then
  listed=4
  python3 -m venv "$TMP/from-source"
  CARGO_TARGET_DIR=$REPO/target PAPER_LS_COMMIT=$commit \
    "$TMP/from-source/bin/python" -m pip install -q --disable-pip-version-check "$sdist" >"$TMP/sdist.log" 2>&1
  check "pip builds and installs the source package (bundled corpus included)" $? "$(tail -20 "$TMP/sdist.log")"
  out=$(cd "$TMP" && "$TMP/from-source/bin/paper-ls" --version 2>&1 && "$TMP/from-source/bin/paper-ls" search grokking 2>&1)
  grep -q "^paper-ls $version ($commit)$" <<<"$out" && grep -q 'grokfast-accelerated-grokking' <<<"$out"
  check "the command built from source names the commit it was given and searches the bundled corpus" $? "$(head -c 400 <<<"$out")"
fi

# The sums.
out=$(cd "$DIST" && sha256sum -c "$(basename "$sums")" 2>&1)
check "SHA256SUMS matches every artefact" $? "$out"
[ "$(wc -l <"$sums")" -eq "$listed" ]
check "SHA256SUMS lists the $listed artefacts" $? "$(cat "$sums")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
