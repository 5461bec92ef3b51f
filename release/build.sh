#!/usr/bin/env bash
# Release artefacts for one platform, all from one release build and stamped
# with one version (the crate's, which the VS Code extension must share):
#
#   dist/paper_ls-<version>-py3-none-<platform>.whl   pip/pipx install paper-ls
#   dist/paper-ls-<version>-<vscode-target>.vsix      VS Code, server inside
#   dist/paper-ls-<version>-<rust-target>.tar.gz      binary + README + LICENSE
#   dist/SHA256SUMS-<rust-target>                      sums of the three
#   dist/paper_ls-<version>.tar.gz                     with --sdist: the Python
#                                                      source package (what pip
#                                                      builds where no wheel fits)
#
# bash release/build.sh [--target <rust-target>] [--out <dir>] [--sdist]
#
# Needs: cargo, maturin (pip install 'maturin>=1.9,<2'), Node.js + npm (the
# extension's locked dependencies are installed when missing). Without
# --target the host's platform is built, in the same target/release folder
# as `cargo build --release`, so the dependencies compiled for the benchmark
# or a previous build are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

target=""
out=$REPO/dist
sdist=false
while [ $# -gt 0 ]; do
  case $1 in
    --target) target=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --sdist) sdist=true; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "release/build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

host=$(rustc -vV | sed -n 's/^host: //p')
triple=${target:-$host}

# One version for everything: the crate's, which the extension must carry too.
version=$(sed -n 's/^version = "\(.*\)"/\1/p' server/Cargo.toml | head -1)
ext_version=$(node -p "require('./editors/vscode/package.json').version")
if [ "$version" != "$ext_version" ]; then
  echo "release/build.sh: the crate is $version but editors/vscode/package.json is $ext_version" >&2
  exit 1
fi

case $triple in
  x86_64-unknown-linux-*) vscode_target=linux-x64 ;;
  aarch64-unknown-linux-*) vscode_target=linux-arm64 ;;
  armv7-unknown-linux-*) vscode_target=linux-armhf ;;
  x86_64-apple-darwin) vscode_target=darwin-x64 ;;
  aarch64-apple-darwin) vscode_target=darwin-arm64 ;;
  x86_64-pc-windows-*) vscode_target=win32-x64 ;;
  aarch64-pc-windows-*) vscode_target=win32-arm64 ;;
  *) echo "release/build.sh: no VS Code platform for $triple" >&2; exit 2 ;;
esac
exe=paper-ls
case $triple in *windows*) exe=paper-ls.exe ;; esac

# The commit comes from git (server/build.rs); PAPER_LS_COMMIT names it for a
# build outside a checkout.
echo "paper-ls $version for $triple -> $out"
rm -f "$out/paper-ls-$version-$vscode_target.vsix" "$out/paper-ls-$version-$triple.tar.gz" \
      "$out/SHA256SUMS-$triple"

# 1. The wheel; maturin's build is the release build the other two reuse.
python=$(type -P python3 || type -P python || echo python3)
maturin() { # the maturin on PATH, else the one pip put beside Python
  if type -P maturin >/dev/null; then
    command maturin "$@"
  else
    "$python" -m maturin "$@"
  fi
}
maturin_args=(build --release --out "$out")
[ -n "$target" ] && maturin_args+=(--target "$target")
maturin "${maturin_args[@]}"
# The one just written (another target's wheel may be beside it).
wheel=$(ls -t "$out"/paper_ls-"$version"-*.whl | head -1)
if [ -n "$target" ]; then
  binary=$REPO/target/$target/release/$exe
else
  binary=$REPO/target/release/$exe
fi
[ -x "$binary" ] || { echo "release/build.sh: no binary at $binary" >&2; exit 1; }
if [ "$triple" = "$host" ]; then
  "$binary" --version
fi

# 2. The archive: the binary with the README and the licence, in one folder.
stage=$(mktemp -d)
trap 'rm -rf "$stage"; rm -rf "$REPO/editors/vscode/server"' EXIT
name=paper-ls-$version-$triple
mkdir -p "$stage/$name"
cp "$binary" README.md LICENSE CHANGELOG.md "$stage/$name/"
tar -C "$stage" -czf "$out/$name.tar.gz" "$name"

# 3. The platform .vsix: the extension with the binary in server/, which it
#    runs when paper-ls.server.path is not set.
ext=$REPO/editors/vscode
if [ ! -f "$ext/node_modules/.package-lock.json" ] || [ "$ext/package-lock.json" -nt "$ext/node_modules/.package-lock.json" ]; then
  (cd "$ext" && npm ci --no-audit --no-fund --loglevel=error)
fi
rm -rf "$ext/server"
mkdir -p "$ext/server"
cp "$binary" "$ext/server/$exe"
chmod 755 "$ext/server/$exe"
cp CHANGELOG.md "$ext/CHANGELOG.md"
(cd "$ext" && npm run -s compile &&
  npx vsce package --target "$vscode_target" \
    -o "$out/paper-ls-$version-$vscode_target.vsix")
rm -rf "$ext/server"

# 4. The source package, once per release (it is the same on every platform).
if $sdist; then
  rm -f "$out/paper_ls-$version.tar.gz"
  maturin sdist --out "$out"
fi

# 5. The sums, in the format `sha256sum -c` reads.
(
  cd "$out"
  files=("$(basename "$wheel")" "paper-ls-$version-$vscode_target.vsix" "$name.tar.gz")
  $sdist && files+=("paper_ls-$version.tar.gz")
  if command -v sha256sum >/dev/null; then
    sha256sum "${files[@]}"
  else
    shasum -a 256 "${files[@]}"
  fi >"SHA256SUMS-$triple"
)
echo "release artefacts:"
(cd "$out" && ls -l $(sed 's/^[0-9a-f]* [ *]//' "SHA256SUMS-$triple") "SHA256SUMS-$triple")
