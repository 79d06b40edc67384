#!/usr/bin/env bash
# Set everything up, then run the main job on the embedded store: ingest every dataset found in the
# data folder (NORMKG_DATA_DIR, default ../shared/data) and print a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/normkg ingest "$@"
.venv/bin/normkg stats
