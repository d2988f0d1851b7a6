"""One long line without sentence breaks is cut in linear time into exact, token-bounded pieces."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.chunking import CountTokens, document_sentences, split_document, token_counter
from ingest.records import ChunkingParams, Document
from ingest.wrapping import logical_lines
from text.sentences import split_sentences

PARAMS = ChunkingParams()
COUNT = token_counter(PARAMS.encoding)
WORDS = ("the", "harbour", "ships", "sailed", "past", "old", "stone", "walls", "while", "traders",
         "counted", "cargo", "and", "wind", "turned", "grey", "over", "quiet", "water", "near", "town")


def doc(text: str) -> Document:
    return Document(doc_id="d", source="d.txt", text=text, title="t", content_hash="h", excluded=())


def words_line(characters: int, seed: int = 5) -> str:
    """A line of words, commas at most, and no sentence break."""
    rng = random.Random(seed)
    words = (rng.choice(WORDS) + ("," if rng.random() < 0.05 else "") for _ in range(characters))
    return " ".join(words)[:characters].rstrip()


def no_space_line(characters: int) -> str:
    """CJK, emoji (a ZWJ family among them) and accented letters, with no space to cut at."""
    rng = random.Random(11)
    parts = ["日本語の文章", "中文句子", "😀", "🎉", "👩‍👩‍👧", "é", "naïve", "ü"]
    line = ""
    while len(line) < characters:
        line += rng.choice(parts) + chr(rng.randint(0x4E00, 0x9FFF))
    return line[:characters]


def pieces_by_searching_the_whole_rest(text: str, start: int, end: int, max_tokens: int,
                                       count: CountTokens) -> list[tuple[int, int]]:
    """The cuts before the window: every piece counts the whole rest of the sentence (quadratic)."""
    pieces: list[tuple[int, int]] = []
    piece_start = start
    while piece_start < end:
        if count(text[piece_start:end]) <= max_tokens:
            pieces.append((piece_start, end))
            break
        low, high = piece_start + 1, end
        while low < high:
            middle = (low + high + 1) // 2
            if count(text[piece_start:middle]) <= max_tokens:
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


def expected_pieces(text: str, max_tokens: int) -> list[tuple[int, int]]:
    # The same sentences ingest cuts (random text with short lines can count as hard-wrapped).
    return [piece for start, end in split_sentences(text, lines=logical_lines(text))
            for piece in pieces_by_searching_the_whole_rest(text, start, end, max_tokens, COUNT)]


def test_a_long_line_of_words_is_cut_at_spaces_into_exact_bounded_chunks() -> None:
    text = words_line(200_000)
    split = split_document(doc(text), PARAMS)
    assert len(split.sentences) > 100
    for chunk in split.chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.token_count == COUNT(chunk.text) <= PARAMS.max_tokens
    pieces = split.sentences
    assert pieces[0].start == 0 and pieces[-1].end == len(text)
    for previous, current in itertools.pairwise(pieces):
        assert text[previous.end] == " ", "a piece ends before a space"
        assert text[previous.end : current.start].isspace(), "only spaces lie between pieces"
    assert all(COUNT(piece.text) <= PARAMS.max_tokens for piece in pieces)


def test_a_long_line_costs_tokenising_linear_in_its_length() -> None:
    text = words_line(200_000)
    counted = 0

    def count(piece: str) -> int:
        nonlocal counted
        counted += len(piece)
        return COUNT(piece)

    split_document(doc(text), PARAMS, count)
    # About 23 times the line here; counting the whole rest for every piece made it 205 times.
    assert counted < 40 * len(text)


def test_a_long_line_without_spaces_is_cut_into_contiguous_bounded_pieces() -> None:
    text = no_space_line(30_000)
    split = split_document(doc(text), PARAMS)
    pieces = split.sentences
    assert len(pieces) > 10
    assert pieces[0].start == 0 and pieces[-1].end == len(text)
    for previous, current in itertools.pairwise(pieces):
        assert previous.end == current.start
    for piece in pieces:
        assert text[piece.start : piece.end] == piece.text
        assert COUNT(piece.text) <= PARAMS.max_tokens
    for chunk in split.chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.token_count == COUNT(chunk.text) <= PARAMS.max_tokens


def test_long_lines_are_cut_where_searching_the_whole_rest_cut_them() -> None:
    for text, max_tokens in [(words_line(30_000, seed=1), 180), (words_line(5_000, seed=2), 8),
                             (no_space_line(6_000), 180), (no_space_line(2_000), 9)]:
        found = [(piece.start, piece.end)
                 for piece in document_sentences(doc(text), ChunkingParams(max_tokens=max_tokens), COUNT)]
        assert found == expected_pieces(text, max_tokens)


# At least 100 parts, so nearly every example has a sentence longer than the first window.
PARTS = ["ab", "xyz", "harbour", " ", " ", " ", "  ", ",", "!", "42", "'s", "é", "😀", "👩‍👩‍👧", "日本",
         "語", ". ", "\n"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(PARTS), min_size=100, max_size=400).map("".join),
       st.integers(min_value=8, max_value=40))
def test_cuts_equal_searching_the_whole_rest_on_arbitrary_text(text: str, max_tokens: int) -> None:
    found = [(piece.start, piece.end)
             for piece in document_sentences(doc(text), ChunkingParams(max_tokens=max_tokens), COUNT)]
    assert found == expected_pieces(text, max_tokens)
