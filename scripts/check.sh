#!/usr/bin/env bash
# Lint and type-check: ruff over the tree, mypy over the normkg package as installed.
# The layers live in top-level folders (ontology/, kg/, ...) and install as normkg.<layer>; mypy needs
# them in one tree, so a tree of symbolic links under build/typecheck mirrors the installed layout.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/ruff check .
tree=build/typecheck/normkg
rm -rf build/typecheck && mkdir -p "$tree"
for f in normkg/*.py; do ln -s "$PWD/$f" "$tree/$(basename "$f")"; done
for layer in ontology kg ingest reasoning api; do ln -s "$PWD/$layer" "$tree/$layer"; done
cd build/typecheck && ../../.venv/bin/mypy --config-file ../../pyproject.toml -p normkg
