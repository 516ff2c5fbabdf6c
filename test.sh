#!/usr/bin/env bash
# Set up if needed, then run the whole test suite headless.
set -euo pipefail
cd "$(dirname "$0")"
source tools/bootstrap.sh
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest "$@"
