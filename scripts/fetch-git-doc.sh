#!/usr/bin/env bash
# Fetches the second training documentation corpus: Debian's git-doc (asciidoc HTML: man pages,
# the user manual, how-tos), pinned version and sha256, into DEST (default var/corpora/git).
# Never vendored. Same rules as fetch-docs-corpus.sh, which does the work.
#
# Usage: scripts/fetch-git-doc.sh [DEST]
set -euo pipefail
export DOCS_PACKAGE="git-doc"
export DOCS_VERSION="1:2.39.5-0+deb12u3"
export DOCS_SHA256="3c89668a11053a6bafade3de1f611f4613db31e082af63f43d8c5b69ad8795ec"
export DOCS_HTML_ROOT="usr/share/doc/git-doc"
export DOCS_EXPECTED_PAGES=241
export DOCS_DEST="var/corpora/git"
exec bash "$(dirname "${BASH_SOURCE[0]}")/fetch-docs-corpus.sh" "$@"
