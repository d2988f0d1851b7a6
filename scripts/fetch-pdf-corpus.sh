#!/usr/bin/env bash
# Fetches real PDF files for the PDF tests and bench/perf/pdf_extractors.py: five Debian
# documentation packages (pinned versions and sha256s, about 3.9 MB of downloads) that ship
# manuals made by four different producers (pdfTeX, dblatex, xdvipdfmx, ReportLab), unpacked, and
# copies only their PDFs into DEST (gunzipped where Debian compressed them). The files are never
# vendored: DEST defaults to var/corpora/pdf (git-ignored). Idempotent: a DEST whose stamp names
# these versions is left as it is.
#
# Usage: scripts/fetch-pdf-corpus.sh [DEST]
set -euo pipefail

# package=version  sha256  path of the PDF inside the package  name in DEST
FILES=(
  "camlidl-doc=1.04-5 183dc96108e0b0164c8f464ff2499b68dbe600c33ecd82f2510afc411165aba5 usr/share/doc/camlidl/camlidl-1.04.doc.pdf camlidl.pdf"
  "freefem-doc=3.5.8-7 14cdb044e0dabc15a7f7b01c1b262b53457364115bd0c089d8a991d01859b0f7 usr/share/doc/freefem-doc/freefem.pdf freefem.pdf"
  "docbook-xsl-doc-pdf=1.79.1-1 b0b961def787d991d4d5f9395bb68cdd1d587f97b8f1f9ebc50482a3b097ec8c usr/share/doc/docbook-xsl-doc-pdf/doc/reference.pdf.gz docbook-xsl-reference.pdf"
  "live-manual-pdf=2:20151217.2 173f5a4f6fc209706aa99b579201180440e06c0ab94e4355e33a53a72dfb705b usr/share/doc/live-manual/pdf/live-manual.portrait.en.a4.pdf.gz live-manual.pdf"
  "python-reportlab-doc=3.6.12-1+deb12u1 f7d27c209eb0c2063b604f34414681d0694a83280aa1668f0bccc685f607131c usr/share/doc/python-reportlab-doc/reportlab-userguide.pdf reportlab-userguide.pdf"
)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/debian-fetch.sh
source "$repo_root/scripts/lib/debian-fetch.sh"
dest="${1:-$repo_root/var/corpora/pdf}"
stamp="$dest/.fetched-from"
want="$(printf '%s\n' "${FILES[@]}" | cut -d' ' -f1,2)"

if stamp_is_current "$dest" "$want"; then
  echo "$dest already holds the pinned PDF packages; nothing to do"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/out"

for entry in "${FILES[@]}"; do
  read -r pinned sha256 inside name <<<"$entry"
  package="${pinned%%=*}"
  fetch_deb "$pinned" "$sha256" "$work/$package" >/dev/null
  source_file="$work/$package/root/$inside"
  case "$inside" in
    *.gz) gunzip -c "$source_file" >"$work/out/$name" ;;
    *) cp "$source_file" "$work/out/$name" ;;
  esac
  head -c 5 "$work/out/$name" | grep -q '%PDF-' || { echo "$inside in $pinned is not a PDF" >&2; exit 1; }
done

rm -rf "$dest"
mkdir -p "$dest"
cp "$work/out/"*.pdf "$dest/"
echo "$want" >"$stamp"
echo "copied ${#FILES[@]} PDF files into $dest"
