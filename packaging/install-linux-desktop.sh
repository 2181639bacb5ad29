#!/usr/bin/env bash
# Add Syncpane to the Linux desktop of the current user: menu entry, app icon,
# and the .syncjob file type, so double-clicking a job opens it in Syncpane.
#
#   bash packaging/install-linux-desktop.sh                  # Syncpane installed with pip/pipx
#   bash packaging/install-linux-desktop.sh --exec /opt/Syncpane/Syncpane   # a PyInstaller bundle
#   bash packaging/install-linux-desktop.sh --uninstall
#
# Files go under ${XDG_DATA_HOME:-~/.local/share} (applications/, mime/packages/,
# icons/hicolor/scalable/apps/); no root needed. The caches are refreshed with
# update-mime-database, update-desktop-database and gtk-update-icon-cache when
# those tools exist, and Syncpane becomes the default for .syncjob with xdg-mime.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
res="$here/../resources"
exec_cmd="syncpane"
uninstall=0

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --exec) [ $# -ge 2 ] || { echo "install-linux-desktop.sh: --exec needs a program" >&2; exit 2; }
            exec_cmd=$2; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install-linux-desktop.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

data=${XDG_DATA_HOME:-$HOME/.local/share}
apps="$data/applications"
mime="$data/mime"
icons="$data/icons/hicolor"
desktop="$apps/syncpane.desktop"
mime_xml="$mime/packages/syncpane.xml"
icon="$icons/scalable/apps/syncpane.svg"

refresh() {
  if command -v update-mime-database >/dev/null; then update-mime-database "$mime" || true; fi
  if command -v update-desktop-database >/dev/null; then update-desktop-database -q "$apps" || true; fi
  if command -v gtk-update-icon-cache >/dev/null && [ -f "$icons/index.theme" ]; then
    gtk-update-icon-cache -q -t "$icons" || true
  fi
}

if [ "$uninstall" = 1 ]; then
  rm -f "$desktop" "$mime_xml" "$icon"
  mkdir -p "$mime/packages" "$apps"
  refresh
  echo "Syncpane removed from the desktop menu and the .syncjob file type (your jobs are untouched)."
  exit 0
fi

for f in "$res/linux/syncpane.desktop" "$res/linux/syncpane-mime.xml" "$res/icons/app.svg"; do
  [ -f "$f" ] || { echo "install-linux-desktop.sh: $f is missing (run it from a Syncpane source tree)" >&2; exit 1; }
done

# Desktop entries quote an argument that holds spaces; %, $, ` and \ would need
# escaping too, so refuse them rather than write a broken entry.
case "$exec_cmd" in
  *[%\$\`\\\"]*) echo "install-linux-desktop.sh: --exec path must not contain % \$ \` \\ or \"" >&2; exit 2 ;;
esac
case "$exec_cmd" in
  *" "*) exec_field="\"$exec_cmd\"" ;;
  *) exec_field="$exec_cmd" ;;
esac
if ! command -v "$exec_cmd" >/dev/null; then
  echo "install-linux-desktop.sh: warning: '$exec_cmd' is not found now; the menu entry stays hidden until it is" \
       "(install Syncpane with pipx, or pass --exec /path/to/Syncpane)" >&2
fi

mkdir -p "$apps" "$mime/packages" "$(dirname "$icon")"
# Rewrite only the program in Exec= and TryExec=, keep the arguments.
sed -e "s|^Exec=syncpane |Exec=$exec_field |" -e "s|^TryExec=syncpane\$|TryExec=$exec_cmd|" \
  "$res/linux/syncpane.desktop" > "$desktop.tmp"
mv "$desktop.tmp" "$desktop"
install -m 644 "$res/linux/syncpane-mime.xml" "$mime_xml"
install -m 644 "$res/icons/app.svg" "$icon"
refresh
if command -v xdg-mime >/dev/null; then
  xdg-mime default syncpane.desktop application/x-syncpane-job || true
fi

echo "Syncpane added for $(id -un): $desktop"
echo "  .syncjob files: $mime_xml"
echo "  icon: $icon"
