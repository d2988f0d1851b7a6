"""``Checker``: claim-level grounding of an answer against one loaded index (the I/O edge)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from grounding.compare import Candidate, best_candidate, decide, needs_elsewhere, similarity
from grounding.errors import CitationError
from grounding.facts import extract_facts, words
from grounding.records import CheckResult, Citation, Evidence, Facts, SentenceCheck, Thresholds, VerifierReading
from grounding.verifier import (
    ClaimVerifier,
    Verification,
    combine,
    disagreement,
    precise_reasons,
    verdict_of,
    window_rows,
)
from index import Index, content_terms
from text import fold, split_sentences

# ``texts -> (n, dimension)`` unit rows: the index's query encoder (or the hashing embedder in tests).
Encode = Callable[[Sequence[str]], npt.NDArray[np.float32]]
_ELSEWHERE_CANDIDATES = 10
_RETRIEVED_PASSAGES = 5
# A citation longer than this many sentences is read around its best sentence only: the verifier
# reads at most ``max_length`` word pieces, and the claim is one sentence.
_WINDOW_CITED_SENTENCES = 3


@lru_cache(maxsize=65536)
def _features(text: str) -> tuple[list[str], Facts, frozenset[str]]:
    """Analysed terms, facts and words of an evidence sentence (pure, so cached by text)."""
    return content_terms(fold(text)), extract_facts(text), words(text)


@lru_cache(maxsize=65536)
def _plain(text: str) -> str:
    """``text`` folded (``text.normalize.fold``), runs of whitespace as one space, case-folded: how a
    quote is recognised."""
    return " ".join(fold(text).split()).casefold()


def claim_spans(answer_text: str,
                quotes: Sequence[tuple[str, Sequence[tuple[int, int]]]]) -> list[tuple[int, int]]:
    """The claims of ``answer_text`` as ``(start, end)`` spans (pure).

    ``quotes`` are the cited texts in citation order, each with its sentences as spans relative
    to it (the index's own sentences of the cited range). A cited text the answer quotes verbatim
    is found left to right and its claims are those sentences: an extractive answer is its
    citations' texts joined by a space, and re-splitting that would merge two quotes where the
    second opens in lower case ("... would. gevent allows ...") or cut a quoted code block into
    lines. The text between and around the quotes (all of it, for an answer that quotes nothing)
    is split into sentences with the index's splitter.
    """
    spans: list[tuple[int, int]] = []
    cursor = 0
    for quote, sentences in quotes:
        found = answer_text.find(quote, cursor) if quote.strip() else -1
        if found < 0:
            continue
        spans.extend(split_sentences(answer_text, cursor, found))
        inside = [(found + start, found + end) for start, end in sentences
                  if 0 <= start < end <= len(quote) and quote[start:end].strip()]
        spans.extend(inside or [(found, found + len(quote))])
        cursor = found + len(quote)
    spans.extend(split_sentences(answer_text, cursor))
    return [(start, end) for start, end in spans if answer_text[start:end].strip()]


class Checker:
    """Checks answers against ``index``; ready when constructed, read-only afterwards.

    With a ``verifier`` (``grounding.verifier_model.load_verifier``), the verifier decides each
    cited claim's verdict from the cited sentences and their neighbours (``grounding.verifier``);
    the rules still choose the evidence sentence and give the reasons. Without one, the rules decide.
    """

    def __init__(self, index: Index, encode: Encode, thresholds: Thresholds | None = None,
                 verifier: ClaimVerifier | None = None) -> None:
        self.index = index
        self.encode = encode
        self.thresholds = thresholds or Thresholds()
        self.verifier = verifier
        # Sentences are grouped by document (``Index`` checks it): each document's rows are one run.
        sentences = index.sentences
        document_rows, first_rows, counts = np.unique(sentences.doc_rows, return_index=True, return_counts=True)
        doc_ids = sentences.document_texts.doc_ids
        self._runs: dict[str, tuple[int, int]] = {
            doc_ids[int(document)]: (int(first), int(first) + int(count))
            for document, first, count in zip(document_rows, first_rows, counts, strict=True)}

    def _document_rows(self, doc_id: str) -> range:
        first, stop = self._runs.get(doc_id, (0, 0))
        return range(first, stop)

    def _range_rows(self, citation: Citation) -> range:
        """Rows of the sentences of the cited document that overlap the cited range."""
        if citation.doc_id not in self._runs:
            return range(0)
        first, stop = self._runs[citation.doc_id]
        sentences = self.index.sentences
        low = int(np.searchsorted(sentences.ends[first:stop], citation.start_char, side="right"))
        high = int(np.searchsorted(sentences.starts[first:stop], citation.end_char, side="left"))
        return range(first + low, first + max(low, high))

    def _quote(self, citation: Citation) -> tuple[str, list[tuple[int, int]]]:
        """The characters a (validated) citation names and its sentences, relative to them.

        Sentences cut by the cited range keep only their part inside it, stripped of spaces.
        """
        text = self.index.documents[citation.doc_id].text[citation.start_char : citation.end_char]
        sentences = self.index.sentences
        inside = []
        for row in self._range_rows(citation):
            start = max(int(sentences.starts[row]), citation.start_char) - citation.start_char
            end = min(int(sentences.ends[row]), citation.end_char) - citation.start_char
            part = text[start:end]
            if part.strip():
                inside.append((start + len(part) - len(part.lstrip()), end - len(part) + len(part.rstrip())))
        return text, inside

    def _validate(self, citations: Sequence[Citation]) -> None:
        for citation in citations:
            document = self.index.documents.get(citation.doc_id)
            if document is None:
                raise CitationError(f"citation names unknown document {citation.doc_id!r}; "
                                    "cite a doc_id of the index (GET /documents lists them)")
            if citation.start_char >= citation.end_char:
                empty = "is the same as" if citation.start_char == citation.end_char else "is after"
                raise CitationError(f"citation of {citation.doc_id!r}: start_char {citation.start_char} {empty} "
                                    f"end_char {citation.end_char}, so it cites nothing; give start_char < end_char")
            if not 0 <= citation.start_char < citation.end_char <= len(document.text):
                raise CitationError(
                    f"citation range {citation.start_char}-{citation.end_char} of {citation.doc_id!r} is "
                    f"not inside its text (0-{len(document.text)}); give 0 <= start_char < end_char")

    def _candidates(self, rows: Sequence[int], claim_vector: npt.NDArray[np.float32],
                    claim_terms: list[str], claim_text: str) -> list[Candidate]:
        if len(rows) == 0:
            return []
        quoted = _plain(claim_text)
        row_array = np.asarray(rows, dtype=np.int64)
        cosines = self.index.sentence_vectors[row_array] @ claim_vector
        candidates = []
        for row, cosine in zip(row_array.tolist(), cosines.tolist(), strict=True):
            sentence = self.index.sentences[row]
            terms, facts, sentence_words = _features(sentence.text)
            candidates.append(Candidate(
                evidence=Evidence(doc_id=sentence.doc_id, start_char=sentence.start,
                                  end_char=sentence.end, text=sentence.text),
                # A verbatim quote scores as a perfect match: pooled sentence vectors of a long chunk
                # can sit far from the vector of the very same text (cosine 0.5 on the seed index).
                score=1.0 if quoted and quoted in _plain(sentence.text)
                else similarity(claim_terms, terms, float(cosine)), facts=facts, words=sentence_words))
        return candidates

    def _elsewhere_cosines(self, claim_vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """``(sentences, claims)`` cosines of every indexed sentence to every claim: one scan of the
        sentence vectors for the whole answer (each scan reads them all from disk)."""
        cosines = self.index.sentence_vectors @ np.ascontiguousarray(claim_vectors.T)
        shaped: npt.NDArray[np.float32] = np.asarray(cosines).reshape(len(self.index.sentence_vectors),
                                                                      len(claim_vectors))
        return shaped

    def _elsewhere_rows(self, cosines: npt.NDArray[np.float32], excluded: set[str]) -> list[int]:
        """The best sentences of other documents than ``excluded`` by one claim's ``cosines``."""
        count = min(len(cosines), _ELSEWHERE_CANDIDATES + 50)
        top = np.argpartition(-cosines, count - 1)[:count] if count else np.zeros(0, dtype=np.int64)
        ranked = sorted(top.tolist(), key=lambda row: -float(cosines[row]))
        return [row for row in ranked if self.index.sentences.doc_id(row) not in excluded][:_ELSEWHERE_CANDIDATES]

    def _retrieved_rows(self, question: str) -> list[int]:
        vector = self.encode([question])[0]
        hits = self.index.dense_search(vector, _RETRIEVED_PASSAGES) + \
            self.index.sparse_search(question, _RETRIEVED_PASSAGES)
        rows: list[int] = []
        for chunk_row in sorted({hit.row for hit in hits}):
            rows.extend(row for row in self.index.sentence_rows(chunk_row) if row not in rows)
        return rows

    def _window(self, row: int, citations: Sequence[Citation]) -> Evidence:
        """The evidence the verifier reads for a claim whose best cited sentence is ``row``: the
        sentences of the citation holding it (at most ``_WINDOW_CITED_SENTENCES``, around ``row``)
        and ``NEIGHBOURS`` more on either side, in the same document."""
        doc_id = self.index.sentences.doc_id(row)
        first, stop = row, row + 1
        for citation in citations:
            rows = self._range_rows(citation)
            if citation.doc_id == doc_id and row in rows:
                first, stop = rows.start, rows.stop
                break
        if stop - first > _WINDOW_CITED_SENTENCES:
            first = max(first, min(row - 1, stop - _WINDOW_CITED_SENTENCES))
            stop = first + _WINDOW_CITED_SENTENCES
        document_first, document_stop = self._runs[doc_id]
        rows = window_rows(first, stop, document_first, document_stop)
        sentences = self.index.sentences
        start, end = int(sentences.starts[rows.start]), int(sentences.ends[rows.stop - 1])
        return Evidence(doc_id=doc_id, start_char=start, end_char=end,
                        text=self.index.documents[doc_id].text[start:end])

    def _row_of(self, evidence: Evidence, rows: Sequence[int]) -> int:
        sentences = self.index.sentences
        return next(row for row in rows if int(sentences.starts[row]) == evidence.start_char
                    and sentences.doc_id(row) == evidence.doc_id)

    def _readings(self, texts: Sequence[str], windows: Sequence[Evidence | None]) -> list[Verification | None]:
        """The verifier's reading of each claim that has a window to read (one batch); None elsewhere."""
        asked = [(position, window) for position, window in enumerate(windows) if window is not None]
        if self.verifier is None or not asked:
            return [None] * len(windows)
        readings: list[Verification | None] = [None] * len(windows)
        answers = self.verifier.verify([(texts[position], window.text) for position, window in asked])
        for (position, _), reading in zip(asked, answers, strict=True):
            readings[position] = reading
        return readings

    def check(self, answer_text: str, citations: Sequence[Citation] = (),
              question: str | None = None) -> CheckResult:
        """Verdicts on every sentence of ``answer_text`` (raises ``CitationError`` for a bad citation).

        The rules find each claim's best cited sentence (and the best of the rest of the cited
        documents); the verifier, when there is one, reads the window around the cited sentence and
        decides the verdict. Only the claims that their citations do not support (by the rules, or by
        the verifier when it read them) are searched for in every other document, in one scan of the
        sentence vectors for all of them.
        """
        self._validate(citations)
        spans = claim_spans(answer_text, [self._quote(citation) for citation in citations])
        if not spans:
            return CheckResult(sentences=())
        texts = [answer_text[start:end] for start, end in spans]
        vectors = self.encode(texts)
        cited_rows: list[int] = []
        for citation in citations:
            cited_rows.extend(row for row in self._range_rows(citation) if row not in cited_rows)
        cited_documents = {citation.doc_id for citation in citations}
        in_range = set(cited_rows)
        document_rows = [row for doc_id in sorted(cited_documents) for row in self._document_rows(doc_id)
                         if row not in in_range]
        retrieved = self._retrieved_rows(question) if question and not citations else []
        has_citations = bool(citations) or bool(retrieved)
        found: list[tuple[list[str], Facts, Candidate | None, Candidate | None]] = []
        windows: list[Evidence | None] = []
        for text, vector in zip(texts, vectors, strict=True):
            claim_terms = content_terms(fold(text))
            facts = extract_facts(text)
            cited = best_candidate(self._candidates(cited_rows or retrieved, vector, claim_terms, text),
                                   facts, self.thresholds)
            window = self._window(self._row_of(cited.evidence, cited_rows or retrieved), citations) \
                if self.verifier is not None and cited is not None else None
            # A verbatim quote of the cited text is what the text says: nothing for a model to judge
            # (and an extractive answer, made of such quotes, costs no model call).
            windows.append(None if window is not None and _plain(text) in _plain(window.text) else window)
            in_document = best_candidate(self._candidates(document_rows, vector, claim_terms, text),
                                         facts, self.thresholds)
            found.append((claim_terms, facts, cited, in_document))
        readings = self._readings(texts, windows)
        labels = [combine(reading, precise_reasons(text, window.text))
                  if reading is not None and window is not None else None
                  for text, reading, window in zip(texts, readings, windows, strict=True)]
        searched = [position for position, ((_, _, cited, in_document), label) in enumerate(zip(found, labels,
                                                                                                    strict=True))
                    if not retrieved and label != "supported"
                    and needs_elsewhere(cited, in_document, self.thresholds, has_citations=has_citations)]
        # One scan for every claim searched; column[position] is that claim's column of the cosines.
        elsewhere_cosines = self._elsewhere_cosines(vectors[searched]) if searched else None
        column = {position: number for number, position in enumerate(searched)}
        checks = []
        for position, ((start, end), text, vector) in enumerate(zip(spans, texts, vectors, strict=True)):
            claim_terms, facts, cited, in_document = found[position]
            elsewhere = best_candidate(self._candidates(
                self._elsewhere_rows(elsewhere_cosines[:, column[position]], cited_documents), vector,
                claim_terms, text), facts, self.thresholds) \
                if elsewhere_cosines is not None and position in column else None
            verdict, chosen, reasons = decide(facts, cited, in_document, elsewhere, self.thresholds,
                                              has_citations=has_citations)
            check = SentenceCheck(text=text, start=start, end=end, verdict=verdict, rules_verdict=verdict,
                                  score=round(chosen.score, 4) if chosen else 0.0,
                                  evidence=chosen.evidence if chosen else None, reasons=reasons)
            reading, label, window = readings[position], labels[position], windows[position]
            if reading is not None and label is not None and window is not None:
                check = replace(check, verdict=verdict_of(label),
                                verifier=VerifierReading(label=label, probabilities=reading.probabilities,
                                                         model=reading.model, window=window),
                                disagreement=disagreement(label, verdict, reading, reasons))
            checks.append(check)
        return CheckResult(sentences=tuple(checks))


def check_answer(index: Index, encode: Encode, answer_text: str, citations: Sequence[Citation] = (),
                 question: str | None = None, *, thresholds: Thresholds | None = None,
                 verifier: ClaimVerifier | None = None) -> CheckResult:
    """Check one answer against ``index`` (builds a ``Checker``; keep one to check many answers)."""
    return Checker(index, encode, thresholds, verifier).check(answer_text, citations, question)
