#!/usr/bin/env bash
# Build the Syncpane bundle on Linux or macOS: dist/Syncpane/ with the window
# program `Syncpane` and the console program `syncpane-cli`.
#
#   bash packaging/build.sh            (PYTHON=/path/to/python to pick an interpreter)
#
# Installs PyInstaller from PyPI when it is missing, and the app's own
# dependencies when they cannot be imported. Work files go to build/pyinstaller/.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
PYINSTALLER_REQ="pyinstaller>=6.6"

if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
  echo "build.sh: installing $PYINSTALLER_REQ"
  "$PY" -m pip install -q --disable-pip-version-check "$PYINSTALLER_REQ"
fi
if ! "$PY" -c "import PySide6.QtWidgets, asyncssh, platformdirs, keyring, pathspec, send2trash" 2>/dev/null; then
  echo "build.sh: installing the app's dependencies (pip install -e .)"
  "$PY" -m pip install -q --disable-pip-version-check -e .
fi

version=$("$PY" -c "import app; print(app.__version__)")
echo "build.sh: Syncpane $version with $("$PY" -m PyInstaller --version 2>/dev/null | tail -n 1) on $("$PY" -c 'import sys; print(sys.version.split()[0])')"

"$PY" -m PyInstaller packaging/syncpane.spec --noconfirm \
  --distpath dist --workpath build/pyinstaller --log-level WARN

for exe in Syncpane syncpane-cli; do
  if [ ! -x "dist/Syncpane/$exe" ]; then
    echo "build.sh: dist/Syncpane/$exe is missing" >&2
    exit 1
  fi
done
got=$(dist/Syncpane/syncpane-cli --version)
if [ "$got" != "syncpane $version" ]; then
  echo "build.sh: the bundle says '$got', expected 'syncpane $version'" >&2
  exit 1
fi
echo "build.sh: dist/Syncpane/ ready ($(du -sh dist/Syncpane | cut -f1)): $got"
