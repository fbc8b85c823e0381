# Shared by scripts/run and scripts/test: installs what is missing, nothing more.
# Every step checks first, so a second run skips installed tools within seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export PATH="$HOME/.cargo/bin:$PATH"
# Outside the clone, so a fresh clone (and CI) reuses earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/trestle-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# A cold CI build gains nothing from incremental state, which costs time and gigabytes.
if [ -n "${CI:-}" ]; then
  export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
fi

CARGO_LEPTOS_VERSION=0.3.11
TOOLCHAIN="$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)"
WASM_BINDGEN_VERSION="$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"/\1/p}' Cargo.lock)"

# Each step says how long the run has taken so far: CI has a time budget to keep.
step() { printf '\n==> %s  [%dm%02ds]\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

ensure_rust() {
  if ! command -v rustup >/dev/null; then
    echo "rustup is required (https://rustup.rs); this machine image ships it." >&2
    exit 1
  fi
  if ! rustup toolchain list | grep -q "^$TOOLCHAIN" ||
     ! rustup target list --installed --toolchain "$TOOLCHAIN" 2>/dev/null | grep -q wasm32-unknown-unknown ||
     ! rustup component list --installed --toolchain "$TOOLCHAIN" 2>/dev/null | grep -q clippy; then
    step "Installing Rust $TOOLCHAIN with the wasm target"
    rustup toolchain install   # reads rust-toolchain.toml
  fi
}

ensure_cargo_leptos() {
  if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
    step "Installing cargo-leptos $CARGO_LEPTOS_VERSION (about 13 minutes on 2 cores, once)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
}

ensure_wasm_bindgen() {
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    step "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (matches Cargo.lock)"
    # No --locked: its lockfile pins a webpki-roots release the registry no longer serves.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi
}

# Release builds run wasm-opt, which cargo-leptos would otherwise download from GitHub.
# The npm package binaryen ships one (Debian's binaryen is too old for current Rust wasm);
# cargo-leptos uses whichever wasm-opt is on PATH.
WASM_OPT_DIR="$HOME/.cache/trestle-tools/binaryen"
ensure_wasm_opt() {
  if ! wasm-opt --version >/dev/null 2>&1; then
    if ! "$WASM_OPT_DIR/node_modules/.bin/wasm-opt" --version >/dev/null 2>&1; then
      step "Installing wasm-opt (npm binaryen@132) into $WASM_OPT_DIR"
      npm install --prefix "$WASM_OPT_DIR" --no-audit --no-fund binaryen@132
    fi
    export PATH="$WASM_OPT_DIR/node_modules/.bin:$PATH"
  fi
}

ensure_chromium() {
  if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null; then
    step "Installing Chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium)}"
}

ensure_end2end_packages() {
  if [ ! -f end2end/node_modules/.package-lock.json ] ||
     [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    step "Installing end-to-end test packages"
    (cd end2end && npm ci --no-audit --no-fund)
  fi
}

# SurrealDB's own server, for the scale-out test (two Trestle processes on one database):
# built from crates.io by tools/surreal-server, as the release binary is a GitHub download.
ensure_surreal_server() {
  export SURREAL_SERVER_BIN="$CARGO_TARGET_DIR/debug/surreal-server"
  if [ ! -x "$SURREAL_SERVER_BIN" ]; then
    step "Building SurrealDB's server for the scale-out test (about 7 minutes on 2 cores, once)"
  fi
  cargo build --quiet --locked --manifest-path tools/surreal-server/Cargo.toml
}
