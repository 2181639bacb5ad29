#!/usr/bin/env bash
# Packaging checks, one CI step: build the PyInstaller bundle, run it the ways a
# person and a scheduler would, check the Linux desktop files, and compile the
# Windows installer with the real Inno Setup compiler under Wine.
#
#   bash .ci/packaging.sh            (as root on Debian 12; what it installs is cached
#                                     in ${SYNCPANE_CI_CACHE:-~/.cache/syncpane-ci})
#
# Every part prints a "== packaging: ... ==" header; on failure the script stops
# with "packaging: FAILED at <part>" and exits 1. Timings are summed up at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

CACHE=${SYNCPANE_CI_CACHE:-$HOME/.cache/syncpane-ci}
INNOSETUP_NPM="innosetup@6.4.1"
PY=${PYTHON:-python3}
export QT_QPA_PLATFORM=offscreen PYTHONUNBUFFERED=1
WORK=$(mktemp -d /tmp/syncpane-packaging.XXXXXX)
BUNDLE="$ROOT/dist/Syncpane"
XVFB_PID=""

cleanup() {
  [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null
  if [ -n "${WINEPREFIX:-}" ] && command -v wineserver >/dev/null; then
    WINEPREFIX=$WINEPREFIX wineserver -k 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

timings=()
run_part() {  # run_part "name" function
  local name=$1 fn=$2 t0 t1
  echo
  echo "== packaging: $name =="
  t0=$(date +%s)
  if ! "$fn"; then
    t1=$(date +%s)
    echo "packaging: FAILED at '$name' (after $((t1 - t0)) s)" >&2
    exit 1
  fi
  t1=$(date +%s)
  timings+=("$(printf '%5d s  %s' $((t1 - t0)) "$name")")
  echo "-- ok: $name ($((t1 - t0)) s)"
}
fail() { echo "packaging: $*" >&2; return 1; }

# ---------------------------------------------------------------- tools
apt_install() {  # apt_install PKG...: only what is missing; one update at most
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "apt-get install ${missing[*]}"
  apt-get update -qq || return 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Debian's wine runs only 64-bit programs without the i386 libwine; ISCC.exe is
# 32-bit. Adding i386 to the system's apt is not possible here, so fetch the
# matching libwine:i386 with a private apt configuration and unpack it in the
# cache (see shared/notes/platform.md, "Inno Setup on Linux").
fetch_libwine_i386() {
  local version dir apt_dir opts
  version=$(dpkg-query -W -f='${Version}' wine64) || return 1
  dir="$CACHE/libwine-i386-$version"
  LIBWINE_I386="$dir/root/usr/lib/i386-linux-gnu/wine"
  [ -d "$LIBWINE_I386/i386-windows" ] && { echo "libwine:i386 $version (cached)"; return 0; }
  apt_dir="$CACHE/apt-i386"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/parts" "$apt_dir/cache/archives/partial" "$dir"
  echo "deb [arch=i386 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" \
    > "$apt_dir/sources.list"
  opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/parts"
        -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
        -o "APT::Architecture=i386" -o "APT::Architectures::=i386" -o "Debug::NoLocking=1")
  apt-get "${opts[@]}" -qq update || return 1
  (cd "$dir" && apt-get "${opts[@]}" -qq download "libwine:i386=$version") 2>&1 | grep -v "unsandboxed" || true
  ls "$dir"/libwine_*_i386.deb >/dev/null 2>&1 || fail "could not download libwine:i386=$version" || return 1
  dpkg-deb -x "$dir"/libwine_*_i386.deb "$dir/root" || return 1
  rm -f "$dir"/libwine_*_i386.deb
  [ -d "$LIBWINE_I386/i386-windows" ] || fail "libwine:i386 unpacked without i386-windows/" || return 1
  echo "libwine:i386 $version unpacked into $dir"
}

part_tools() {
  mkdir -p "$CACHE" || return 1
  "$PY" -c "import PyInstaller" 2>/dev/null \
    || "$PY" -m pip install -q --disable-pip-version-check "pyinstaller>=6.6" || return 1
  echo "PyInstaller $("$PY" -m PyInstaller --version)"
  apt_install wine wine64 desktop-file-utils shared-mime-info || return 1
  echo "$(wine --version 2>/dev/null | head -n 1)"
  fetch_libwine_i386 || return 1
  ISCC="$CACHE/innosetup/node_modules/innosetup/bin/ISCC.exe"
  if [ ! -f "$ISCC" ]; then
    command -v npm >/dev/null || fail "npm is needed for the innosetup package" || return 1
    npm install --prefix "$CACHE/innosetup" --no-audit --no-fund --loglevel=error "$INNOSETUP_NPM" || return 1
  fi
  [ -f "$ISCC" ] || fail "no ISCC.exe in the innosetup npm package" || return 1
  echo "ISCC: $ISCC"
}

# ---------------------------------------------------------------- bundle
part_build() {
  PYTHON=$PY bash packaging/build.sh || return 1
  VERSION=$("$PY" -c "import app; print(app.__version__)")
}

part_trimmed() {
  # The spec's exclusions took effect and the bundle stays lean.
  local max_mb=${SYNCPANE_BUNDLE_MAX_MB:-200} mb bad=0 f
  mb=$(du -sm "$BUNDLE" | cut -f1)
  echo "bundle size: $mb MiB (limit $max_mb)"
  [ "$mb" -le "$max_mb" ] || { echo "packaging: bundle is $mb MiB, over $max_mb" >&2; bad=1; }
  for f in $(cd "$BUNDLE" && find . -path '*/plugins/platforms/*' -type f); do
    case "$(basename "$f")" in
      libqoffscreen.so|libqminimal.so|libqxcb.so) ;;
      *) echo "packaging: unexpected platform plugin $f" >&2; bad=1 ;;
    esac
  done
  for f in libqxcb.so libqoffscreen.so libqsvg.so libqsvgicon.so libQt6Svg.so.6 libQt6Network.so.6; do
    [ -n "$(find "$BUNDLE" -name "$f" -print -quit)" ] || { echo "packaging: $f is missing" >&2; bad=1; }
  done
  f=$(cd "$BUNDLE" && find . \( -path '*PySide6*/translations*' -o -name 'libQt6Qml*' -o -name 'libQt6Quick*' \
        -o -name 'libQt6OpenGL*' -o -name 'libQt6Pdf*' -o -path '*/plugins/tls*' \) -print | head -n 5)
  [ -z "$f" ] || { echo "packaging: left-out parts are in the bundle: $f" >&2; bad=1; }
  [ $bad -eq 0 ] && echo "only the wanted Qt parts are bundled"
}

part_version() {
  local out
  out=$("$BUNDLE/syncpane-cli" --version) || fail "syncpane-cli --version exited $?" || return 1
  echo "$out"
  [ "$out" = "syncpane $VERSION" ] || fail "expected 'syncpane $VERSION'" || return 1
  # The bundle's asyncssh takes the same speed-ups as here (they check
  # asyncssh's sources, which the bundle must carry), and hashes as here
  # (BLAKE3 is a compiled module the bundle must carry).
  local want got line
  for line in '^asyncssh ' '^content hashes: '; do
    want=$("$PY" -m app --version --verbose | grep "$line")
    got=$("$BUNDLE/syncpane-cli" --version --verbose | grep "$line")
    echo "bundle: $got"
    [ -n "$got" ] && [ "$got" = "$want" ] || fail "the bundle says '$got', here: '$want'" || return 1
  done
}

part_sync() {
  local d="$WORK/sync" rc
  mkdir -p "$d/left/sub" "$d/right" "$d/home"
  printf 'alpha\n' > "$d/left/a.txt"
  printf 'nested\n' > "$d/left/sub/b.txt"
  printf 'new text\n' > "$d/left/changed.txt"
  printf 'old\n' > "$d/right/changed.txt"
  printf 'extra\n' > "$d/right/stale.txt"
  touch -d '2024-01-01 10:00' "$d/right/changed.txt"
  touch -d '2024-06-01 10:00' "$d/left/changed.txt"
  # Relative locations resolve against the job's folder (spec/job-format.md).
  cat > "$d/mirror.syncjob" <<'JOB'
{"syncpane_job": 1, "name": "packaging check",
 "pairs": [{"left": "left", "right": "right"}],
 "sync": {"variant": "mirror", "direction": "to_right", "deletion": "permanent",
          "max_delete_percent": 100}}
JOB
  SYNCPANE_HOME="$d/home" "$BUNDLE/syncpane-cli" sync "$d/mirror.syncjob" --json \
    > "$d/out.json" 2> "$d/err.txt"
  rc=$?
  cat "$d/out.json"; echo; cat "$d/err.txt"
  [ $rc -eq 0 ] || fail "sync exited $rc" || return 1
  "$PY" - "$d" <<'CHECK' || return 1
import json, sys
from pathlib import Path
d = Path(sys.argv[1])
out = json.loads((d / "out.json").read_text())
s = out["summary"]
problems = []
if out["errors"]:
    problems.append(f"errors reported: {out['errors']}")
if (s["copy_to_right"], s["delete_right"], s["failed"]) != (3, 1, 0):
    problems.append(f"summary {s}: expected 3 copies to the right, 1 deletion, 0 failed")
want = {"a.txt": "alpha\n", "sub/b.txt": "nested\n", "changed.txt": "new text\n"}
for rel, text in want.items():
    p = d / "right" / rel
    if not p.is_file() or p.read_text() != text:
        problems.append(f"right/{rel} is not the left's copy")
if (d / "right" / "stale.txt").exists():
    problems.append("right/stale.txt was not deleted")
found = sorted(str(p.relative_to(d / "right")) for p in (d / "right").rglob("*") if p.is_file())
if found != sorted(want):
    problems.append(f"right/ holds {found}")
for p in problems:
    print("packaging: sync check:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
CHECK
  echo "files on disk match the mirror"
  # A second run finds nothing to do.
  SYNCPANE_HOME="$d/home" "$BUNDLE/syncpane-cli" sync "$d/mirror.syncjob" --json > "$d/again.json"
  rc=$?
  [ $rc -eq 0 ] || fail "second sync exited $rc" || return 1
  "$PY" -c "import json,sys; o=json.load(open(sys.argv[1])); sys.exit(1 if any(p['items'] for p in o['pairs']) else 0)" \
    "$d/again.json" || fail "second sync still found work: $(cat "$d/again.json")" || return 1
  echo "second run: nothing left to do"
}

gui_smoke() {  # gui_smoke LABEL [ARGS...]: the window opens and the app exits 0
  local label=$1 rc; shift
  SYNCPANE_HOME="$WORK/gui-home" SYNCPANE_SMOKE_EXIT=1 timeout 120 "$BUNDLE/Syncpane" "$@" \
    > "$WORK/gui.out" 2> "$WORK/gui.err"
  rc=$?
  cat "$WORK/gui.out" "$WORK/gui.err"
  [ $rc -eq 0 ] || fail "$label: Syncpane exited $rc (124 = still running after 120 s)" || return 1
  ! grep -q "Traceback" "$WORK/gui.err" || fail "$label: a Python traceback was printed" || return 1
  echo "$label: exited 0"
}

part_gui_offscreen() {
  mkdir -p "$WORK/gui-home"
  gui_smoke "offscreen, no job" || return 1
  [ -f "$WORK/sync/mirror.syncjob" ] || fail "no job file from the sync part" || return 1
  gui_smoke "offscreen, job given as on a double-click" "$WORK/sync/mirror.syncjob"
}

part_gui_xcb() {
  # The xcb plugin and its libraries in the bundle, as on a real X desktop.
  if ! command -v Xvfb >/dev/null; then
    echo "SKIPPED: Xvfb is not installed (apt-get install xvfb)"
    return 0
  fi
  local fd_file="$WORK/xvfb.display" n
  Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3> "$fd_file" 2> "$WORK/xvfb.log" &
  XVFB_PID=$!
  for _ in $(seq 50); do [ -s "$fd_file" ] && break; sleep 0.1; done
  n=$(tr -d '\n' < "$fd_file")
  [ -n "$n" ] || fail "Xvfb did not start: $(cat "$WORK/xvfb.log")" || return 1
  DISPLAY=":$n" QT_QPA_PLATFORM=xcb gui_smoke "xcb on Xvfb :$n" || return 1
  kill "$XVFB_PID" 2>/dev/null; wait "$XVFB_PID" 2>/dev/null; XVFB_PID=""
}

part_desktop() {
  SYNCPANE_REQUIRE_DESKTOP_VALIDATE=1 "$PY" -m pytest -q -p no:cacheprovider tests/packaging
}

# ---------------------------------------------------------------- installer
winpath() { local p; p=$(realpath -m "$1"); printf 'Z:%s' "${p//\//\\}"; }

iscc() {  # iscc ARGS...: ISCC under Wine, output in $WORK/iscc.log
  # No display and no Mono/Gecko: a fresh prefix must not stop to ask for them.
  env -u DISPLAY -u WAYLAND_DISPLAY WINEPREFIX="$CACHE/wineprefix" WINEDLLPATH="$LIBWINE_I386" \
    WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" \
    wine "$ISCC" "$@" > "$WORK/iscc.log" 2>&1
}

part_installer() {
  export WINEPREFIX="$CACHE/wineprefix"
  local out="$WORK/installer" rc setup
  # First prove that this Wine reports ISCC's errors at all: a 32-bit program
  # that cannot start under wine64 alone exits 0 and writes nothing.
  mkdir -p "$WORK/broken"
  printf '[Setup]\nAppName=x\nThisIsNotADirective=1\n' > "$WORK/broken/broken.iss"
  iscc /Q "$(winpath "$WORK/broken/broken.iss")"
  rc=$?
  [ $rc -ne 0 ] || fail "ISCC accepted a broken script (exit 0): it does not really run under this Wine" || return 1
  echo "a broken script is refused (exit $rc), so ISCC really runs"

  # Not /Q: the full log shows warnings and the closing "Successful compile" line.
  iscc "/DDistDir=$(winpath "$BUNDLE")" "/DAppVersion=$VERSION" /DForeignBundle=1 \
    "/DOutputDir=$(winpath "$out")" "$(winpath "$ROOT/installer.iss")"
  rc=$?
  grep -iE "^(warning|error|compile aborted)" "$WORK/iscc.log"
  tail -n 3 "$WORK/iscc.log"
  [ $rc -eq 0 ] || fail "ISCC exited $rc" || return 1
  ! grep -qiE "^(Error|Compile aborted)" "$WORK/iscc.log" || fail "ISCC reported an error" || return 1
  ! grep -qiE "^Warning" "$WORK/iscc.log" || fail "ISCC reported a warning" || return 1
  grep -q "^Successful compile" "$WORK/iscc.log" || fail "ISCC did not report a successful compile" || return 1
  setup="$out/Syncpane-$VERSION-setup.exe"
  [ -f "$setup" ] || fail "ISCC exited 0 but $setup does not exist: $(ls -la "$out" 2>&1)" || return 1
  [ "$(head -c 2 "$setup")" = "MZ" ] || fail "$setup is not a Windows program" || return 1
  echo "setup: $setup ($(du -h "$setup" | cut -f1), bundle $(du -sh "$BUNDLE" | cut -f1))"
}

t_start=$(date +%s)
run_part "install tools (pyinstaller, wine + libwine:i386, ISCC from npm)" part_tools
run_part "build the PyInstaller bundle (packaging/build.sh)" part_build
run_part "bundle: trimmed (size, Qt plugins and libraries)" part_trimmed
run_part "bundle: syncpane-cli --version" part_version
run_part "bundle: syncpane-cli sync JOB --json, files on disk" part_sync
run_part "bundle: Syncpane window starts offscreen and exits" part_gui_offscreen
run_part "bundle: Syncpane window under Xvfb (xcb)" part_gui_xcb
run_part "Linux desktop entry and MIME type (tests/packaging)" part_desktop
run_part "Windows installer: ISCC installer.iss under Wine" part_installer

echo
echo "== packaging: all parts passed in $(( $(date +%s) - t_start )) s =="
printf '%s\n' "${timings[@]}"
