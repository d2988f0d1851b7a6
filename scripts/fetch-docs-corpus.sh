#!/usr/bin/env bash
# Fetches the HTML documentation corpus for eval/data/gold-flask.jsonl: Debian's python-flask-doc
# (Sphinx HTML, pinned version and sha256), unpacked, and copies only its documentation pages
# (no _static/, _sources/, _images/, search, genindex, py-modindex or 404 page) into DEST,
# keeping subfolders. The pages are never vendored: DEST defaults to var/corpora/flask
# (git-ignored). Idempotent: a DEST whose stamp names this package version is left as it is.
#
# Usage: scripts/fetch-docs-corpus.sh [DEST]
set -euo pipefail

# The defaults are Flask's; scripts/fetch-git-doc.sh sets these for Debian's git-doc.
PACKAGE="${DOCS_PACKAGE:-python-flask-doc}"
VERSION="${DOCS_VERSION:-2.2.2-3}"
SHA256="${DOCS_SHA256:-0659f6a04b15fe3f907150cadc0399fe987c790e722e001b73f7e49fa5ecca15}"
HTML_ROOT="${DOCS_HTML_ROOT:-usr/share/doc/python-flask-doc/html}"
EXPECTED_PAGES="${DOCS_EXPECTED_PAGES:-73}"
DEFAULT_DEST="${DOCS_DEST:-var/corpora/flask}"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/debian-fetch.sh
source "$repo_root/scripts/lib/debian-fetch.sh"
dest="${1:-$repo_root/$DEFAULT_DEST}"
stamp="$dest/.fetched-from"
want="$PACKAGE=$VERSION sha256:$SHA256"

if stamp_is_current "$dest" "$want"; then
  echo "$dest already holds $PACKAGE $VERSION; nothing to do"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fetch_deb "$PACKAGE=$VERSION" "$SHA256" "$work" >/dev/null
html="$work/root/$HTML_ROOT"

rm -rf "$dest"
mkdir -p "$dest"
count=0
while IFS= read -r -d '' page; do
  relative="${page#"$html"/}"
  case "$relative" in
    _*/* | search.html | genindex.html | py-modindex.html | 404.html) continue ;;
  esac
  mkdir -p "$dest/$(dirname "$relative")"
  cp "$page" "$dest/$relative"
  count=$((count + 1))
done < <(find "$html" -type f -name '*.html' -print0 | sort -z)

if [ "$count" -ne "$EXPECTED_PAGES" ]; then
  echo "copied $count pages, expected $EXPECTED_PAGES: the package layout changed" >&2
  exit 1
fi
echo "$want" >"$stamp"
echo "copied $count HTML pages of $PACKAGE $VERSION into $dest"
