#!/usr/bin/env bash
# Shared by run.sh and test.sh: make sure the Debian libraries Qt needs are
# there, create .venv and install the project. Fast when nothing changed.
# Usage: source tools/bootstrap.sh [gui]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
MODE="${1:-headless}"

# Offscreen rendering needs these; a real window on X11 needs the xcb ones too.
DEB_HEADLESS=(libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0 fonts-dejavu-core)
DEB_WINDOW=(libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
            libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1
            libxkbcommon-x11-0)

need_debs=()
want=("${DEB_HEADLESS[@]}")
[ "$MODE" = gui ] && want+=("${DEB_WINDOW[@]}")
if command -v dpkg-query >/dev/null 2>&1; then
    for pkg in "${want[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
            need_debs+=("$pkg")
        fi
    done
fi
if [ "${#need_debs[@]}" -gt 0 ]; then
    line="apt-get install -y --no-install-recommends ${need_debs[*]}"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing Debian libraries Qt needs: ${need_debs[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        $line >/dev/null
    else
        echo "Qt needs these Debian libraries. Install them as root, then run again:" >&2
        echo "  sudo $line" >&2
        exit 1
    fi
fi

pick_python() {
    for cand in "${PYTHON:-}" python3.11 python3.12 python3.10 python3; do
        [ -n "$cand" ] || continue
        if command -v "$cand" >/dev/null 2>&1 &&
           "$cand" -c 'import sys; raise SystemExit(sys.version_info < (3, 10))' 2>/dev/null; then
            echo "$cand"; return 0
        fi
    done
    echo "Neural Playground needs Python 3.10 or newer (3.11 recommended)." >&2
    return 1
}

if [ ! -x "$VENV/bin/python" ]; then
    py="$(pick_python)"
    echo "Creating .venv with $("$py" --version)"
    "$py" -m venv "$VENV"
fi

# Reinstall only when the dependency description changed.
stamp="$VENV/.playground-install"
want_stamp="$(cat "$ROOT/pyproject.toml" "$ROOT/constraints-cpu.txt" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want_stamp" ] ||
   ! "$VENV/bin/python" -c 'import playground, torch, PySide6, pyqtgraph' 2>/dev/null; then
    echo "Installing Neural Playground and its dependencies into .venv ..."
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    "$VENV/bin/python" -m pip install -q -e "$ROOT[dev]" -c "$ROOT/constraints-cpu.txt"
    echo "$want_stamp" > "$stamp"
fi
