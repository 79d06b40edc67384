#!/usr/bin/env bash
# Create .venv and install normkg with its models and test tools, from PyPI only.
# Idempotent: does nothing when pyproject.toml has not changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
stamp=.venv/.normkg-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/normkg ]; then
  exit 0
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip setuptools wheel
# The CPU build of torch comes first, so that nothing pulls the ~4.5 GB CUDA build.
# On the project's machines pip's find-links hold torch==2.13.0+cpu; elsewhere set
# NORMKG_TORCH_INDEX=https://download.pytorch.org/whl/cpu (PyTorch's CPU index).
if [ -n "${NORMKG_TORCH_INDEX:-}" ]; then
  .venv/bin/python -m pip install --quiet "torch==2.13.0" --index-url "$NORMKG_TORCH_INDEX"
else
  .venv/bin/python -m pip install --quiet "torch==2.13.0"
fi
.venv/bin/python -m pip install --quiet -e ".[dev]"
echo "$want" > "$stamp"
