# Shared by the scripts: a build folder outside the clone (so CI's fresh
# clones build incrementally) and a check that the toolchain is there.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ecspoc/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
if ! command -v cargo >/dev/null 2>&1; then
  echo "ecspoc needs a Rust toolchain (cargo) on PATH: see https://rustup.rs" >&2
  exit 1
fi
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$component" >/dev/null 2>&1 || { echo "cargo $component is missing and could not be installed" >&2; exit 1; }
  fi
done
