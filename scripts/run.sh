#!/usr/bin/env bash
# Set everything up, then run the main job on the embedded store: ingest every dataset found in the
# data folder (NORMKG_DATA_DIR, default ../shared/data), print a summary, and serve the REST API on
# 127.0.0.1:8000 (set NORMKG_NO_SERVE=1 to stop after the summary).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/normkg ingest "$@"
.venv/bin/normkg stats
if [ -z "${NORMKG_NO_SERVE:-}" ]; then
  exec .venv/bin/normkg serve
fi
