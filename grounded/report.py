"""Terminal output of the CLI (formatting only; no decisions are made here)."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index import Document, IngestReport
    from service import QueryResult


def _excerpt(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _chunk_counts(report: IngestReport) -> dict[str, int]:
    """Chunks per document, from the manifest (looked up once per document: a million-chunk corpus
    has a hundred thousand documents)."""
    return {entry.doc_id: entry.chunk_count for entry in report.manifest.documents}


def ingest_report_dict(report: IngestReport) -> dict[str, object]:
    """The ingest report as plain JSON-able data."""
    chunk_counts = _chunk_counts(report)
    return {
        "index_version": report.manifest.index_version,
        "published": report.published,
        "model": report.manifest.model_id,
        "precision": report.manifest.precision,
        "chunks": report.chunk_count,
        "sentences": report.sentence_count,
        "embedded_texts": report.embedded_texts,
        "reused_texts": report.reused_texts,
        "documents": [
            {
                "doc_id": document.doc_id,
                "title": document.title,
                "chars": len(document.text),
                "chunks": chunk_counts.get(document.doc_id, 0),
                "encoding": document.encoding or None,
                "pages": len(document.pages) or None,
                "notices": [{"code": notice.code, "reason": notice.reason} for notice in document.notices],
                "excluded": [{"start": region.start, "end": region.end, "reason": region.reason,
                              "excerpt": _excerpt(document.text[region.start : region.end])}
                             for region in document.excluded],
            }
            for document in report.documents
        ],
        "dropped_duplicate_chunks": [
            {"chunk_id": dropped.chunk_id, "duplicate_of": dropped.duplicate_of,
             "similarity": dropped.similarity} for dropped in report.dropped_duplicates
        ],
        "rejected": [{"path": rejection.path, "code": rejection.code, "reason": rejection.reason}
                     for rejection in report.rejections],
    }


def _format(document: Document) -> str:
    """What the indexed line says about a document's format: its pages, or a text encoding other than UTF-8."""
    if document.pages:
        return f"  {len(document.pages)} pages"
    if document.encoding and document.encoding != "utf-8":
        return f"  encoding {document.encoding}"
    return ""


def _pages(pages: tuple[int, ...]) -> str:
    """" p. 3", " pp. 3-4", or "" for a document without pages."""
    if not pages:
        return ""
    return f" p. {pages[0]}" if len(pages) == 1 else f" pp. {pages[0]}-{pages[-1]}"


def print_ingest_report(report: IngestReport, *, as_json: bool, verbose: bool) -> None:
    """Print what was indexed, what was excluded as furniture or duplicate, and what was refused."""
    if as_json:
        print(json.dumps(ingest_report_dict(report), indent=2, ensure_ascii=False))
        return
    chunk_counts = _chunk_counts(report)
    for document in report.documents:
        furniture = [region for region in document.excluded if region.is_furniture]
        duplicates = [region for region in document.excluded if not region.is_furniture]
        furniture_chars = sum(region.end - region.start for region in furniture)
        chunks = chunk_counts.get(document.doc_id, 0)
        print(f"indexed  {document.doc_id}  {chunks} chunks{_format(document)}  \"{_excerpt(document.title, 70)}\"")
        for notice in document.notices:
            print(f"  notice [{notice.code}]: {notice.reason}")
        if furniture:
            reasons = Counter(region.reason.removeprefix("furniture:") for region in furniture)
            summary = ", ".join(f"{reason} ×{count}" for reason, count in sorted(reasons.items()))
            print(f"  furniture excluded: {furniture_chars} of {len(document.text)} chars ({summary})")
        if duplicates:
            print(f"  duplicate lines excluded: {len(duplicates)}")
        shown = document.excluded if verbose else [r for r in furniture if r.end - r.start >= 200][:3]
        for region in shown:
            print(f"    [{region.start}:{region.end}] {region.reason}: "
                  f"\"{_excerpt(document.text[region.start : region.end])}\"")
    for dropped in report.dropped_duplicates:
        print(f"duplicate chunk {dropped.chunk_id} not indexed (repeats {dropped.duplicate_of}, "
              f"similarity {dropped.similarity:.2f})")
    for rejection in report.rejections:
        print(f"rejected {rejection.path}: [{rejection.code}] {rejection.reason}")
    state = "published" if report.published else "unchanged (no new version)"
    print(f"{len(report.documents)} documents, {report.chunk_count} chunks, {report.sentence_count} sentences; "
          f"embedded {report.embedded_texts} texts, reused {report.reused_texts}; "
          f"index {report.manifest.index_version[:12]} {state}")


def print_ask(result: QueryResult) -> None:
    """Print the answer (or abstention) and the ranked passages with their citations."""
    if result.answer is None:
        print(f"No answer: {result.abstention_reason}")
    else:
        print("Answer:")
        for citation in result.answer.citations:
            print(f"  {citation.text}")
            print(f"    — {citation.doc_id} [{citation.start}:{citation.end}]{_pages(citation.pages)} "
                  f"(passage {citation.passage_rank})")
    print()
    for passage in result.passages:
        print(f"{passage.rank}. {passage.doc_id} [{passage.start}:{passage.end}] score {passage.score:.3f}"
              f"  \"{_excerpt(passage.title, 70)}\"")
        print(f"   {_excerpt(passage.text, 300)}")
    print(f"\n({result.timings.total:.1f} ms, index {result.index_version[:12]})")
