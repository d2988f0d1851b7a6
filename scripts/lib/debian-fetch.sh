# Shared by the scripts that fetch pinned Debian packages into a git-ignored folder
# (fetch-docs-corpus.sh, fetch-pdf-corpus.sh): the stamp check and one verified download.
# Source it; every function exits the script with a message on failure.

# stamp_is_current DEST WANT: true when DEST's stamp already says WANT; refuses (exit 1) a
# non-empty DEST that no fetch script made, since only a folder with the stamp is ever replaced.
stamp_is_current() {
  local dest="$1" want="$2" stamp="$1/.fetched-from"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  if [ -d "$dest" ] && [ ! -f "$stamp" ] && [ -n "$(ls -A "$dest")" ]; then
    echo "$dest exists and was not made by this script; remove it or pass another DEST" >&2
    exit 1
  fi
  return 1
}

# fetch_deb PACKAGE=VERSION SHA256 DIR: downloads the package into DIR, checks its sha256 and
# unpacks it into DIR/root; prints the .deb's path.
fetch_deb() {
  local pinned="$1" sha256="$2" dir="$3" deb got
  command -v apt-get >/dev/null 2>&1 || { echo "apt-get not found: this script needs Debian/Ubuntu apt" >&2; exit 1; }
  command -v dpkg >/dev/null 2>&1 || { echo "dpkg not found: this script needs Debian/Ubuntu dpkg" >&2; exit 1; }
  mkdir -p "$dir"
  (cd "$dir" && apt-get download -q "$pinned" >&2) || {
    echo "apt-get download $pinned failed: run 'apt-get update' (Debian 12 bookworm sources) and retry" >&2
    exit 1
  }
  deb="$(ls "$dir"/*.deb)"
  got="$(sha256sum "$deb" | cut -d' ' -f1)"
  if [ "$got" != "$sha256" ]; then
    echo "sha256 mismatch for $deb: expected $sha256, got $got; refusing to unpack" >&2
    exit 1
  fi
  dpkg -x "$deb" "$dir/root"
  echo "$deb"
}
