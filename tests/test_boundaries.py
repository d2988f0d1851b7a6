"""One table of request boundaries: the status each gets, never a 500, the error shape, no echo."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import load_settings
from tests.support.fakes import LIGHTHOUSE, FakeEngine

MAX_ECHO = 100
LIMIT = 65536
JSON = "application/json"
ANSWERABLE = "How far does the lighthouse beam reach at night?"


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One request and what it must get back."""

    name: str
    body: bytes = b""
    status: int
    code: str | None = None  # the error code; None for a 200
    content_type: str | None = JSON
    chunked: bool = False  # send the body without Content-Length
    method: str = "POST"
    path: str = "/query"


def as_json(value: Any) -> bytes:
    """UTF-8 JSON as a client would send it (non-ASCII characters unescaped)."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def question(text: str, **extra: Any) -> bytes:
    return as_json({"question": text, **extra})


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


BOUNDARIES = [
    # The question's length.
    Case(name="empty question", body=question(""), status=422, code="invalid_request"),
    Case(name="whitespace question", body=question(" \t\n "), status=422, code="invalid_request"),
    Case(name="2000 characters", body=question(("lighthouse beam " * 125)[:2000]), status=200),
    Case(name="2001 characters", body=question("b" * 2001), status=422, code="invalid_request"),
    Case(name="2000 characters of 4-byte emoji", body=question("\U0001f30a" * 2000), status=200),
    # Characters.
    Case(name="NUL", body=question("lighthouse\x00beam"), status=422, code="invalid_request"),
    Case(name="bell", body=question("lighthouse\x07"), status=422, code="invalid_request"),
    Case(name="escape sequence", body=question("\x1b[2Jlighthouse"), status=422, code="invalid_request"),
    Case(name="C1 control", body=question("lighthouse\x85beam"), status=422, code="invalid_request"),
    Case(name="tab and newline", body=question("lighthouse\tbeam\r\nnight"), status=200),
    Case(name="lone high surrogate", body=b'{"question": "beam \\ud800"}', status=422, code="invalid_request"),
    Case(name="lone low surrogate", body=b'{"question": "\\udfff beam"}', status=422, code="invalid_request"),
    Case(name="escaped surrogate pair", body=b'{"question": "beam \\ud83c\\udf0a"}', status=200),
    Case(name="invalid UTF-8 byte", body=b'{"question": "beam \xff\xfe"}', status=400, code="invalid_json"),
    Case(name="overlong UTF-8", body=b'{"question": "beam \xc0\xaf"}', status=400, code="invalid_json"),
    Case(name="truncated UTF-8", body=b'{"question": "beam \xe2\x82"}', status=400, code="invalid_json"),
    Case(name="UTF-8 byte order mark", body=b"\xef\xbb\xbf" + question(ANSWERABLE), status=200),
    Case(name="Arabic", body=question("ما هو مدى شعاع المنارة في الليل؟"), status=200),
    Case(name="Hebrew", body=question("מה טווח האור של המגדלור בלילה?"), status=200),
    Case(name="right-to-left override", body=question("\u202elighthouse beam"), status=200),
    Case(name="CJK", body=question("灯塔的光束在夜间能照多远？"), status=200),
    Case(name="emoji", body=question("\U0001f30a\U0001f3ee lighthouse?"), status=200),
    Case(name="emoji ZWJ sequence", body=question("\U0001f469\u200d\U0001f469\u200d\U0001f467 beam"), status=200),
    Case(name="combining marks", body=question("lighthouse be\u0301a\u0308m"), status=200),
    # top_k.
    Case(name="top_k 1", body=question(ANSWERABLE, top_k=1), status=200),
    Case(name="top_k 50", body=question(ANSWERABLE, top_k=50), status=200),
    Case(name="top_k 0", body=question(ANSWERABLE, top_k=0), status=422, code="invalid_request"),
    Case(name="top_k -1", body=question(ANSWERABLE, top_k=-1), status=422, code="invalid_request"),
    Case(name="top_k 51", body=question(ANSWERABLE, top_k=51), status=422, code="invalid_request"),
    Case(name="top_k 10^9", body=question(ANSWERABLE, top_k=10**9), status=422, code="invalid_request"),
    Case(name="top_k 10^400", body=question(ANSWERABLE, top_k=10**400), status=422, code="invalid_request"),
    Case(name='top_k "5"', body=question(ANSWERABLE, top_k="5"), status=422, code="invalid_request"),
    Case(name="top_k 5.5", body=question(ANSWERABLE, top_k=5.5), status=422, code="invalid_request"),
    Case(name="top_k 5.0", body=question(ANSWERABLE, top_k=5.0), status=422, code="invalid_request"),
    Case(name="top_k 1e400", body=b'{"question": "beam", "top_k": 1e400}', status=422, code="invalid_request"),
    Case(name="top_k NaN", body=b'{"question": "beam", "top_k": NaN}', status=422, code="invalid_request"),
    Case(name="top_k null", body=question(ANSWERABLE, top_k=None), status=422, code="invalid_request"),
    Case(name="top_k true", body=question(ANSWERABLE, top_k=True), status=422, code="invalid_request"),
    # Structure.
    Case(name="10,000 nested arrays in an unknown field",
         body=b'{"question": "beam", "x": ' + nested(10_000) + b"}", status=400, code="invalid_json"),
    Case(name="10,000 nested arrays in filters",
         body=b'{"question": "beam", "filters": {"doc_ids": ' + nested(10_000) + b"}}",
         status=400, code="invalid_json"),
    Case(name="500 nested arrays in an unknown field",
         body=b'{"question": "beam", "x": ' + nested(500) + b"}", status=422, code="invalid_request"),
    Case(name="500 nested arrays in filters",
         body=b'{"question": "beam", "filters": {"doc_ids": ' + nested(500) + b"}}",
         status=422, code="invalid_request"),
    Case(name="10,000 nested objects",
         body=b'{"question": "beam", "x": ' + b'{"a":' * 10_000 + b"1" + b"}" * 10_000 + b"}",
         status=400, code="invalid_json"),
    # Python's parser keeps the last duplicate; the request is then an ordinary one.
    Case(name="duplicate keys", body=b'{"question": "nothing", "question": "' + ANSWERABLE.encode() + b'"}',
         status=200),
    Case(name="empty body", body=b"", status=422, code="invalid_request"),
    Case(name="JSON null body", body=b"null", status=422, code="invalid_request"),
    Case(name="JSON array body", body=as_json([{"question": ANSWERABLE}]), status=422, code="invalid_request"),
    Case(name="truncated JSON", body=b'{"question": "be', status=400, code="invalid_json"),
    # Content type.
    Case(name="text/plain", body=question(ANSWERABLE), content_type="text/plain", status=415,
         code="unsupported_media_type"),
    Case(name="no content type", body=question(ANSWERABLE), content_type=None, status=415,
         code="unsupported_media_type"),
    Case(name="form encoding", body=b"question=beam", content_type="application/x-www-form-urlencoded",
         status=415, code="unsupported_media_type"),
    Case(name="JSON with charset", body=question(ANSWERABLE), content_type="application/json; charset=utf-8",
         status=200),
    # Size.
    Case(name="over the limit with Content-Length", body=question("q" * LIMIT), status=413,
         code="payload_too_large"),
    Case(name="over the limit, chunked", body=question("q" * LIMIT), chunked=True, status=413,
         code="payload_too_large"),
    Case(name="at the limit, chunked", body=question("q" * (LIMIT - 20)), chunked=True, status=422,
         code="invalid_request"),
    Case(name="ten times the limit, chunked", body=b"[" * (10 * LIMIT), chunked=True, status=413,
         code="payload_too_large"),
    # The path parameter.
    Case(name="doc_id at 256 characters", method="GET", path="/documents/" + "d" * 256, status=404,
         code="unknown_document"),
    Case(name="doc_id at 257 characters", method="GET", path="/documents/" + "d" * 257, status=422,
         code="invalid_request"),
    Case(name="doc_id percent-encoded emoji", method="GET", path="/documents/%F0%9F%8C%8A", status=404,
         code="unknown_document"),
    Case(name="doc_id invalid percent-encoding", method="GET", path="/documents/%ff%fe", status=404,
         code="unknown_document"),
    Case(name="doc_id encoded NUL", method="GET", path="/documents/a%00b", status=404, code="unknown_document"),
    Case(name="existing doc_id", method="GET", path=f"/documents/{LIGHTHOUSE.doc_id}", status=200),
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = load_settings(index_dir=tmp_path_factory.mktemp("index"))
    app = create_app(settings, engine_loader=lambda s: FakeEngine())
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def send(client: TestClient, case: Case) -> Any:
    headers = {"content-type": case.content_type} if case.content_type is not None else {}
    if case.method == "GET":
        return client.get(case.path)
    if case.chunked:

        def pieces() -> Iterator[bytes]:
            for start in range(0, len(case.body), 8192):
                yield case.body[start : start + 8192]

        return client.post(case.path, content=pieces(), headers=headers)
    return client.post(case.path, content=case.body, headers=headers)


def assert_no_long_echo(response_text: str, sent: str) -> None:
    """No run of more than ``MAX_ECHO`` characters of the request appears in the response."""
    for start in range(max(0, len(response_text) - MAX_ECHO)):
        assert response_text[start : start + MAX_ECHO + 1] not in sent


@pytest.mark.parametrize("case", BOUNDARIES, ids=[case.name for case in BOUNDARIES])
def test_boundary(client: TestClient, case: Case) -> None:
    response = send(client, case)
    assert response.status_code == case.status, response.text[:300]
    body = response.json()
    if case.status == 200:
        assert case.code is None
        return
    assert response.headers["content-type"].startswith("application/json")
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == case.code
    assert body["error"]["message"]
    response.content.decode("utf-8")  # always valid UTF-8, whatever came in
    sent = case.body.decode("utf-8", "backslashreplace") + case.path
    assert_no_long_echo(response.text, sent)


def test_chunked_cases_really_have_no_content_length(client: TestClient) -> None:
    def pieces() -> Iterator[bytes]:
        yield b'{"question": "beam"}'

    request = client.build_request("POST", "/query", content=pieces(), headers={"content-type": JSON})
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"


def test_the_answers_keep_what_was_asked(client: TestClient) -> None:
    for text in ("ما هو مدى شعاع المنارة في الليل؟", "灯塔的光束在夜间能照多远？", "\U0001f30a\U0001f3ee lighthouse?"):
        assert client.post("/query", json={"question": text}).json()["question"] == text
