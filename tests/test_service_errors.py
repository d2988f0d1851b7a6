"""Every bad request gets a 4xx in one error shape, never a 500, never an echo of the input."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import Message

from service.app import create_app
from service.errors import EXCERPT_MAX_CHARS, QueryTimeoutError, excerpt
from service.settings import load_settings
from tests.support.fakes import FakeEngine, running_server

MAX_ECHO = 100
LIMIT = 65536


def make_client(tmp_path: Path, engine: FakeEngine) -> TestClient:
    app = create_app(load_settings(index_dir=tmp_path), engine_loader=lambda settings: engine)
    # 500s must come back as responses here, not as exceptions re-raised into the test.
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path, FakeEngine()) as test_client:
        yield test_client


def assert_error(response: Any, status: int | set[int], code: str | None = None) -> str:
    """The response is the error shape with the expected status; returns the message."""
    statuses = {status} if isinstance(status, int) else status
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert isinstance(body["error"]["code"], str)
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return str(body["error"]["message"])


def assert_no_echo(response_text: str, sent: str | bytes) -> None:
    """No run of more than ``MAX_ECHO`` characters of the request appears in the response."""
    sent_text = sent.decode("utf-8", "backslashreplace") if isinstance(sent, bytes) else sent
    for start in range(max(0, len(response_text) - MAX_ECHO)):
        assert response_text[start : start + MAX_ECHO + 1] not in sent_text


def post_raw(client: TestClient, body: bytes, content_type: str | None = "application/json") -> Any:
    headers = {"content-type": content_type} if content_type is not None else {}
    return client.post("/query", content=body, headers=headers)


# (body, status, field named in the message)
BAD_BODIES: list[tuple[Any, int, str]] = [
    ({"question": ""}, 422, "question"),
    ({"question": "   \n\t "}, 422, "question"),
    ({"question": "a" * 2001}, 422, "question"),
    ({"question": "x" * 5000 + "?"}, 422, "question"),
    ({"question": "null\x00byte"}, 422, "question"),
    ({"question": "bell\x07"}, 422, "question"),
    ({"question": "escape\x1b[31m"}, 422, "question"),
    ({"question": "delete\x7f"}, 422, "question"),
    ({"question": "c1 control\x85"}, 422, "question"),
    ({"question": "c1 control\x9f"}, 422, "question"),
    ({"question": 5}, 422, "question"),
    ({"question": None}, 422, "question"),
    ({"question": ["a"]}, 422, "question"),
    ({}, 422, "question"),
    ({"question": "ok", "top_k": 0}, 422, "top_k"),
    ({"question": "ok", "top_k": 51}, 422, "top_k"),
    ({"question": "ok", "top_k": -3}, 422, "top_k"),
    ({"question": "ok", "top_k": "5"}, 422, "top_k"),
    ({"question": "ok", "top_k": 5.5}, 422, "top_k"),
    ({"question": "ok", "top_k": 5.0}, 422, "top_k"),
    ({"question": "ok", "top_k": None}, 422, "top_k"),
    ({"question": "ok", "top_k": True}, 422, "top_k"),
    ({"question": "ok", "top_k": 10**200}, 422, "top_k"),
    ({"question": "ok", "mode": "semantic"}, 422, "mode"),
    ({"question": "ok", "mode": "HYBRID"}, 422, "mode"),
    ({"question": "ok", "mode": None}, 422, "mode"),
    ({"question": "ok", "mode": "m" * 10_000}, 422, "mode"),
    ({"question": "ok", "limit": 3}, 422, "limit"),
    ({"question": "ok", "k" * 5000: 3}, 422, "unknown field"),
    ({"question": "ok", "filters": {"doc_ids": []}}, 422, "doc_ids"),
    ({"question": "ok", "filters": {"doc_ids": "harbour-light"}}, 422, "doc_ids"),
    ({"question": "ok", "filters": {"doc_ids": ["d" * 5000]}}, 422, "doc_ids"),
    ({"question": "ok", "filters": {"doc_ids": ["d"] * 101}}, 422, "doc_ids"),
    ({"question": "ok", "filters": {"doc_id": ["harbour-light"]}}, 422, "filters"),
    ({"question": "ok", "filters": "harbour-light"}, 422, "filters"),
    ([{"question": "ok"}], 422, "body"),
    ("just a string", 422, "body"),
    (42, 422, "body"),
    (None, 422, "body"),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD_BODIES)
def test_bad_bodies_are_rejected_in_error_shape(client: TestClient, body: Any, status: int, field: str) -> None:
    raw = json.dumps(body).encode()
    response = post_raw(client, raw)
    message = assert_error(response, status, "invalid_request")
    assert field in message
    assert len(response.content) < 2000
    assert_no_echo(response.text, raw)


def test_unknown_filter_doc_ids_are_404(client: TestClient) -> None:
    doc_ids = ["harbour-light", "no-such-doc", "u" * 250, *[f"missing-{n}" for n in range(5)]]
    response = client.post("/query", json={"question": "ok", "filters": {"doc_ids": doc_ids}})
    message = assert_error(response, 404, "unknown_document")
    assert '[1] "no-such-doc"' in message
    assert "and 4 more" in message
    assert "harbour-light" not in message
    assert_no_echo(response.text, json.dumps(doc_ids))


def test_top_k_message_says_the_range(client: TestClient) -> None:
    message = assert_error(client.post("/query", json={"question": "ok", "top_k": 51}), 422)
    assert message.startswith("top_k: must be between 1 and 50")


def test_several_errors_are_reported_together(client: TestClient) -> None:
    message = assert_error(client.post("/query", json={"question": "", "top_k": 0, "mode": "x", "extra": 1}), 422)
    for field in ("question", "top_k", "mode", "extra"):
        assert field in message


@pytest.mark.parametrize(
    "raw",
    [
        b'{"question": "\\ud800"}',  # lone high surrogate
        b'{"question": "ok \\udfff"}',  # lone low surrogate
        b'{"question": "\\ude00\\ud83d"}',  # a pair in the wrong order is two lone surrogates
        b'{"question": "ok", "\\ud800": 1}',  # in an unknown field's name
        b'{"question": "ok", "mode": "\\ud800"}',
        b'{"question": "ok", "filters": {"doc_ids": ["\\ud800"]}}',
    ],
)
def test_lone_surrogates_are_422_not_500(client: TestClient, raw: bytes) -> None:
    response = post_raw(client, raw)
    assert_error(response, 422, "invalid_request")
    response.content.decode("utf-8")  # the body itself is valid UTF-8


def test_a_valid_surrogate_pair_is_an_ordinary_character(client: TestClient) -> None:
    response = post_raw(client, b'{"question": "lighthouse \\ud83c\\udf0a beam night"}')
    assert response.status_code == 200
    assert response.json()["question"] == "lighthouse \U0001f30a beam night"


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"question": "unterminated',
        b"{'question': 'single quotes'}",
        b'{"question": "ok",}',
        b'{"question": "ok"} trailing',
        b"\xff\xfe not utf-8",
        b'{"question": NaN}',
        b'{"top_k": ' + b"9" * 5000 + b"}",  # beyond Python's integer-string limit
        b"[" * 5000,
        b'{"question": "' + b"z" * 60_000,
    ],
)
def test_malformed_json_is_rejected_in_error_shape(client: TestClient, raw: bytes) -> None:
    response = post_raw(client, raw)
    assert_error(response, {400, 422})
    # Python's parser takes NaN, which then fails the schema: either code is right.
    assert response.json()["error"]["code"] in {"invalid_json", "invalid_request"}
    assert_no_echo(response.text, raw)


def test_malformed_json_code(client: TestClient) -> None:
    message = assert_error(post_raw(client, b'{"question": '), 400, "invalid_json")
    assert "not valid JSON" in message


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        None,
    ],
)
def test_wrong_content_type_is_415(client: TestClient, content_type: str | None) -> None:
    response = post_raw(client, b'{"question": "lighthouse beam"}', content_type)
    message = assert_error(response, 415, "unsupported_media_type")
    assert "application/json" in message


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/problem+json"])
def test_json_content_type_variants_are_accepted(client: TestClient, content_type: str) -> None:
    response = post_raw(client, b'{"question": "lighthouse beam"}', content_type)
    assert response.status_code == 200


def test_long_content_type_is_not_echoed(client: TestClient) -> None:
    content_type = "text/" + "p" * 3000
    response = post_raw(client, b'{"question": "x"}', content_type)
    assert_error(response, 415)
    assert_no_echo(response.text, content_type)


def test_body_over_limit_with_content_length_is_413(client: TestClient) -> None:
    raw = json.dumps({"question": "q" * (LIMIT + 10)}).encode()
    response = post_raw(client, raw)
    assert_error(response, 413, "payload_too_large")
    assert_no_echo(response.text, raw)
    assert float(response.headers["x-process-time-ms"]) >= 0
    # Refused before routing, yet counted under the route template.
    assert 'route="/query",status="413"' in client.get("/metrics").text


def test_body_at_limit_is_read(client: TestClient) -> None:
    # Exactly the limit is allowed; the question is then simply too long (422, not 413).
    prefix, suffix = b'{"question": "', b'"}'
    raw = prefix + b"q" * (LIMIT - len(prefix) - len(suffix)) + suffix
    assert len(raw) == LIMIT
    assert_error(post_raw(client, raw), 422, "invalid_request")


def _asgi_post(app: Any, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes, int]:
    """POST ``chunks`` as a streamed body straight into the ASGI app; returns the status, the
    response body and how many chunks the app pulled."""
    pulled = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal pulled
        if pulled < len(chunks):
            pulled += 1
            return {
                "type": "http.request",
                "body": chunks[pulled - 1],
                "more_body": pulled < len(chunks),
            }
        await asyncio.sleep(3600)  # a client that sent everything and waits
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/query",
        "raw_path": b"/query",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=10))
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(start["status"]), body, pulled


def test_chunked_body_over_limit_is_413_and_reading_stops_early(tmp_path: Path) -> None:
    app = create_app(load_settings(index_dir=tmp_path), engine_loader=lambda s: FakeEngine())
    chunk = b"x" * 16384
    chunks = [b'{"question": "', *[chunk] * 64]  # about 1 MiB, no Content-Length
    status, body, pulled = _asgi_post(
        app, chunks, [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]
    )
    assert status == 413
    assert json.loads(body)["error"]["code"] == "payload_too_large"
    # The 14-byte prefix plus four 16 KiB chunks cross 64 KiB; nothing after them is read.
    assert pulled == 5
    assert b"x" * (MAX_ECHO + 1) not in body


def test_chunked_body_within_limit_reaches_the_route(tmp_path: Path) -> None:
    app = create_app(load_settings(index_dir=tmp_path), engine_loader=lambda s: FakeEngine())
    # The lifespan has not run, so the route answers not_ready: the body got through intact.
    status, body, _ = _asgi_post(app, [b'{"question": ', b'"lighthouse"}'], [(b"content-type", b"application/json")])
    assert status == 503
    assert json.loads(body)["error"]["code"] == "not_ready"


def _raw_http(base_url: str, request_head: bytes, body_parts: list[bytes]) -> bytes:
    """Send a hand-written request over a real socket and read until the server closes."""
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(request_head)
        for part in body_parts:
            connection.sendall(part)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def test_413_over_a_real_server_with_and_without_content_length(tmp_path: Path) -> None:
    app = create_app(load_settings(index_dir=tmp_path), engine_loader=lambda s: FakeEngine())
    with running_server(app) as base_url:
        # Declared too large: answered before a single body byte is sent.
        declared = _raw_http(
            base_url,
            b"POST /query HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n",
            [],
        )
        # Chunked: send just past the limit and no terminating chunk; the server must answer
        # from the bytes counted so far instead of waiting for the rest.
        chunk = b"y" * 8192
        chunked = _raw_http(
            base_url,
            b"POST /query HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n",
            [b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(LIMIT // len(chunk) + 1)],
        )
    for raw_response in (declared, chunked):
        head, _, body = raw_response.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413"), head
        assert json.loads(body)["error"]["code"] == "payload_too_large"


def test_unknown_route_is_404_in_error_shape(client: TestClient) -> None:
    path = "/" + "nope" * 500
    response = client.get(path)
    message = assert_error(response, 404, "not_found")
    assert "/docs" in message
    assert_no_echo(response.text, path)


def test_wrong_method_is_405_in_error_shape(client: TestClient) -> None:
    response = client.get("/query")
    message = assert_error(response, 405, "method_not_allowed")
    assert "POST" in message
    assert response.headers["allow"] == "POST"
    assert_error(client.delete("/documents"), 405, "method_not_allowed")


def test_overlong_doc_id_in_path_is_rejected_without_echo(client: TestClient) -> None:
    doc_id = "d" * 3000
    response = client.get(f"/documents/{doc_id}")
    message = assert_error(response, 422, "invalid_request")
    assert "doc_id" in message
    assert_no_echo(response.text, doc_id)


def test_unknown_doc_id_message_is_short(client: TestClient) -> None:
    doc_id = "e" * 200
    response = client.get(f"/documents/{doc_id}")
    assert_error(response, 404, "unknown_document")
    assert_no_echo(response.text, doc_id)


def test_engine_crash_is_500_without_internals(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine = FakeEngine()
    with make_client(tmp_path, engine) as test_client:
        engine.fail_with = RuntimeError("secret detail /srv/index/chunks.jsonl row 17")
        with caplog.at_level(logging.ERROR, logger="service.app"):
            response = test_client.post("/query", json={"question": "lighthouse"})
        metrics = test_client.get("/metrics").text
    message = assert_error(response, 500, "internal_error")
    assert "secret" not in response.text
    assert "reference" in message
    assert "secret detail" in caplog.text  # the log keeps what the client does not see
    assert 'route="/query",status="500"' in metrics


def test_engine_timeout_is_504(tmp_path: Path) -> None:
    engine = FakeEngine()
    with make_client(tmp_path, engine) as test_client:
        engine.fail_with = QueryTimeoutError("the query took longer than 10 s; retry or simplify")
        response = test_client.post("/query", json={"question": "lighthouse"})
    message = assert_error(response, 504, "query_timeout")
    assert "retry" in message


def test_excerpt_is_short_and_ascii() -> None:
    for value in ["a" * 10_000, "\ud800" * 500, "é" * 300, 10**300, -(10**5000), 1e308, None]:
        rendered = excerpt(value)
        assert len(rendered) <= EXCERPT_MAX_CHARS
        assert rendered.isascii()
    assert excerpt({"a": 1}) == "an object"
    assert excerpt([1, 2]) == "an array"


# Letters, digits, punctuation, spaces and symbols, plus controls and lone surrogates (which
# hypothesis leaves out by default).
_hostile_text = st.text(alphabet=st.characters(categories=["L", "N", "P", "Z", "S", "Cc", "Cs"]), max_size=50)
_json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _hostile_text
_json_values = st.recursive(
    _json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
_bodies = st.fixed_dictionaries(
    {},
    optional={
        "question": _json_values | st.text(max_size=2100) | _hostile_text,
        "top_k": _json_values | st.integers(min_value=-5, max_value=60),
        "mode": _json_values | st.sampled_from(["hybrid", "dense", "sparse"]),
        "filters": _json_values,
        "other": _json_values,
    },
)


def test_fuzzed_bodies_never_500(tmp_path: Path) -> None:
    with make_client(tmp_path, FakeEngine()) as test_client:

        @settings(max_examples=150, deadline=None, database=None)
        @given(body=_bodies)
        def check(body: dict[str, Any]) -> None:
            # ensure_ascii writes lone surrogates as \\udXXX escapes, as a hostile client would.
            raw = json.dumps(body, ensure_ascii=True).encode()
            response = post_raw(test_client, raw)
            if response.status_code == 200:
                assert set(response.json()) >= {"question", "answer", "passages"}
            else:
                assert_error(response, {413, 422})
                assert_no_echo(response.text, raw)

        check()
