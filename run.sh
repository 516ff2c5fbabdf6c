#!/usr/bin/env bash
# Set up if needed, then open Neural Playground.
set -euo pipefail
cd "$(dirname "$0")"
source tools/bootstrap.sh gui
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
    echo "No display found (DISPLAY is not set). Run this from a desktop session," >&2
    echo "or under a virtual one: xvfb-run -a ./run.sh" >&2
    exit 1
fi
exec .venv/bin/playground gui "$@"
