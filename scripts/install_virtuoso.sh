#!/usr/bin/env bash
# Install OpenLink Virtuoso 7 (Debian's virtuoso-opensource) so that the store contract tests also
# run SparqlStore against Virtuoso (tests/conftest_stores.py starts a throwaway instance on free
# local ports with a database in a temp folder; nothing is configured system-wide).
# Without it, those test cases are skipped with a reason. Needs root (or sudo) and apt.
set -euo pipefail
if command -v virtuoso-t >/dev/null && command -v isql-vt >/dev/null; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends virtuoso-opensource
command -v virtuoso-t >/dev/null && command -v isql-vt >/dev/null
