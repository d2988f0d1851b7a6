"""The MCP server, driven by the official SDK's own client: in process, over stdio, over streamable HTTP.

In process (``mcp.Client(server)``) pins the tools' contract against the fake engine; stdio runs
``python -m grounded mcp`` on a hashing index and compares with the Python API; HTTP mounts the
server on the app (``/mcp``) under a real uvicorn and checks the API key, the metrics and admission
control. Structured results must equal the HTTP bodies of ``/query`` and ``/check``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from fastapi.testclient import TestClient
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, TextResourceContents

import grounded
from service.app import create_app
from service.errors import NotReadyError
from service.mcp_server import EXCERPT_MAX_CHARS, MCP_PATH, McpBackend, build_mcp_server
from service.reload import Served
from service.settings import load_settings
from tests.support.fakes import LIGHTHOUSE, ORCHARD, FakeDocument, FakeEngine, SlowEngine, running_server
from tests.support.mcp_client import backend_for, error_text, in_process, structured
from tests.support.paths import REPO

ANSWERED = "How far does the lighthouse beam reach at night?"
BEAM = "Its beam now reaches twenty-two nautical miles on a clear night."
KEY = "mcp-test-key"
QUERY_KEYS = {"question", "answer", "abstention", "passages", "index_version", "timings_ms", "ranker"}


def without_timings(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "timings_ms"}


@pytest.fixture
def http(tmp_path: Path) -> Iterator[TestClient]:
    """``POST /query`` and ``/check`` of the fake engine, to compare the tools' bodies with."""
    with TestClient(create_app(load_settings(index_dir=tmp_path), engine_loader=lambda _: FakeEngine())) as client:
        yield client


# ------------------------------------------------------------------------------ the tools' contract

def test_tools_tell_an_assistant_when_to_use_each() -> None:
    async def session(client: Client) -> None:
        assert "Call ask before answering" in (client.instructions or "")
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == {"ask", "get_document", "check"}
        assert "Use it first for any question" in (tools["ask"].description or "")
        assert "the part of it around a citation" in (tools["get_document"].description or "")
        assert "Verify an answer you wrote" in (tools["check"].description or "")
        ask_input = tools["ask"].input_schema
        assert ask_input["required"] == ["question"]
        assert set(ask_input["properties"]) == {"question", "top_k", "doc_ids", "mode"}
        assert (ask_input["properties"]["top_k"]["minimum"], ask_input["properties"]["top_k"]["maximum"]) == (1, 50)
        assert set(tools["get_document"].input_schema["properties"]) == {"doc_id", "start_char", "end_char", "page"}
        assert set(tools["check"].input_schema["properties"]) == {"answer", "citations", "question"}
        for tool in tools.values():
            assert tool.output_schema is not None
            assert tool.annotations is not None and tool.annotations.read_only_hint
        assert set((tools["ask"].output_schema or {})["properties"]) >= QUERY_KEYS

    in_process(build_mcp_server(backend_for(FakeEngine())), session)


def test_ask_returns_the_query_body(http: TestClient) -> None:
    arguments: list[dict[str, Any]] = [
        {"question": ANSWERED},
        {"question": "apple harvest cooperative", "top_k": 1, "mode": "sparse"},
        {"question": "What is the capital of Peru?"},
        {"question": ANSWERED, "doc_ids": [ORCHARD.doc_id]},
    ]

    async def session(client: Client) -> None:
        for call in arguments:
            body = structured(await client.call_tool("ask", call))
            assert set(body) == QUERY_KEYS
            request = {key: value for key, value in call.items() if key != "doc_ids"}
            if "doc_ids" in call:
                request["filters"] = {"doc_ids": call["doc_ids"]}
            assert without_timings(body) == without_timings(http.post("/query", json=request).json())

    in_process(build_mcp_server(backend_for(FakeEngine())), session)


def test_refused_calls_are_tool_errors_that_say_what_to_fix() -> None:
    def not_ready() -> Served:
        raise NotReadyError("the index is still loading; retry when GET /ready answers 200")

    async def session(client: Client) -> None:
        assert "question: must contain more than whitespace; ask a question" in error_text(
            await client.call_tool("ask", {"question": "   "}))
        assert "top_k" in error_text(await client.call_tool("ask", {"question": ANSWERED, "top_k": 99}))
        assert '[0] "nope"' in error_text(await client.call_tool("ask", {"question": ANSWERED, "doc_ids": ["nope"]}))
        assert 'no document has doc_id "nope"' in error_text(await client.call_tool("get_document", {"doc_id": "nope"}))
        outside = {"doc_id": LIGHTHOUSE.doc_id, "start_char": 0, "end_char": len(LIGHTHOUSE.text) + 1}
        assert "is not inside the text" in error_text(
            await client.call_tool("check", {"answer": BEAM, "citations": [outside]}))

    in_process(build_mcp_server(backend_for(FakeEngine())), session)

    async def loading(client: Client) -> None:
        assert "still loading" in error_text(await client.call_tool("ask", {"question": ANSWERED}))

    backend = backend_for(FakeEngine())
    in_process(build_mcp_server(McpBackend(served=not_ready, admission=backend.admission,
                                           metrics=backend.metrics)), loading)


def test_get_document_reads_a_range_and_pages_through_a_long_text() -> None:
    long_text = " ".join(f"Sentence number {number} of a long report." for number in range(1500))
    report = FakeDocument(doc_id="reports/annual", title="Annual report", source="reports/annual.txt",
                          text=long_text)
    assert len(long_text) > 2 * EXCERPT_MAX_CHARS

    async def session(client: Client) -> None:
        start = LIGHTHOUSE.text.index(BEAM)
        excerpt = structured(await client.call_tool("get_document", {
            "doc_id": LIGHTHOUSE.doc_id, "start_char": start, "end_char": start + len(BEAM)}))
        assert excerpt == {"doc_id": LIGHTHOUSE.doc_id, "title": LIGHTHOUSE.title, "source": LIGHTHOUSE.source,
                           "document_chars": len(LIGHTHOUSE.text), "start_char": start,
                           "end_char": start + len(BEAM), "text": BEAM, "truncated": False}
        whole = structured(await client.call_tool("get_document", {"doc_id": LIGHTHOUSE.doc_id, "end_char": 10**6}))
        assert whole["text"] == LIGHTHOUSE.text and not whole["truncated"]
        pages, position, truncated = [], 0, True
        while truncated:
            page = structured(await client.call_tool("get_document", {"doc_id": "reports/annual",
                                                                      "start_char": position}))
            assert len(page["text"]) <= EXCERPT_MAX_CHARS
            pages.append(page["text"])
            position, truncated = page["end_char"], page["truncated"]
        assert "".join(pages) == long_text and len(pages) == 3

    in_process(build_mcp_server(backend_for(FakeEngine((LIGHTHOUSE, ORCHARD, report)))), session)


def test_check_returns_the_check_body(http: TestClient) -> None:
    start = LIGHTHOUSE.text.index(BEAM)
    citation = {"doc_id": LIGHTHOUSE.doc_id, "start_char": start, "end_char": start + len(BEAM)}
    answer = f"{BEAM} The keeper sold apples at the market."

    async def session(client: Client) -> None:
        body = structured(await client.call_tool("check", {"answer": answer, "citations": [citation]}))
        assert body == http.post("/check", json={"answer": {"text": answer, "citations": [citation]}}).json()
        assert [sentence["verdict"] for sentence in body["sentences"]] == ["supported", "unsupported"]
        retrieved = structured(await client.call_tool("check", {"answer": BEAM, "question": ANSWERED}))
        assert retrieved["sentences"][0]["verdict"] == "supported"

    in_process(build_mcp_server(backend_for(FakeEngine())), session)


def test_the_document_list_and_texts_are_resources(http: TestClient) -> None:
    async def session(client: Client) -> None:
        resources = (await client.list_resources()).resources
        assert [str(resource.uri) for resource in resources] == ["grounded://documents"]
        listed = (await client.read_resource("grounded://documents")).contents[0]
        assert isinstance(listed, TextResourceContents) and listed.mime_type == "application/json"
        assert json.loads(listed.text) == http.get("/documents").json()
        templates = (await client.list_resource_templates()).resource_templates
        assert [template.uri_template for template in templates] == ["grounded://documents/{+doc_id}"]
        text = (await client.read_resource(f"grounded://documents/{ORCHARD.doc_id}")).contents[0]
        assert isinstance(text, TextResourceContents) and text.text == ORCHARD.text

    in_process(build_mcp_server(backend_for(FakeEngine())), session)


# ------------------------------------------------------------------------------ stdio: grounded mcp

def test_grounded_mcp_over_stdio_answers_as_the_python_api_does(hashing_seed_index: Path) -> None:
    index = grounded.open_index(hashing_seed_index)
    question = "Who mediated the talks?"
    expected = without_timings(index.ask(question, top_k=3).model_dump(mode="json"))
    doc_id = index.documents()[0].doc_id
    parameters = StdioServerParameters(
        command=sys.executable, args=["-m", "grounded", "mcp", "--index", str(hashing_seed_index)], cwd=REPO,
        env={"PYTHONPATH": str(REPO), "GROUNDED_THREADS": "1",
             **{name: os.environ[name] for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE") if name in os.environ}})

    async def main() -> None:
        with open(os.devnull, "w", encoding="utf-8") as quiet:
            # The server's stderr (its ready line) goes to devnull: pytest's capture has no file descriptor.
            async with Client(stdio_client(parameters, errlog=quiet)) as client:
                assert {tool.name for tool in (await client.list_tools()).tools} == {"ask", "get_document", "check"}
                body = structured(await client.call_tool("ask", {"question": question, "top_k": 3}))
                assert without_timings(body) == expected
                answer = body["answer"]
                assert answer is not None
                cited = [{key: citation[key] for key in ("doc_id", "start_char", "end_char")}
                         for citation in answer["citations"]]
                verdicts = structured(await client.call_tool("check", {"answer": answer["text"], "citations": cited}))
                assert verdicts == index.check(answer["text"], cited).model_dump(mode="json")
                listed = (await client.read_resource("grounded://documents")).contents[0]
                assert isinstance(listed, TextResourceContents)
                assert json.loads(listed.text) == [summary.model_dump() for summary in index.documents()]
                excerpt = structured(await client.call_tool("get_document", {"doc_id": doc_id, "end_char": 100}))
                assert excerpt["text"] == index.document(doc_id).text[:100]

    anyio.run(main)


def test_grounded_mcp_refuses_a_missing_index_with_exit_code_2(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from grounded.cli import main

    assert main(["mcp", "--index", str(tmp_path / "nothing")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("grounded: error: ") and captured.out == ""


def test_the_readme_claude_desktop_config_runs_grounded_mcp() -> None:
    from grounded.cli import build_parser

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## MCP", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```json\n(.*?)```", section, flags=re.DOTALL)
    server = json.loads(block)["mcpServers"]["grounded"]
    assert Path(server["command"]).is_absolute() and server["command"].endswith("/.venv/bin/grounded")
    arguments = build_parser().parse_args(server["args"])
    assert arguments.command == "mcp" and arguments.index.is_absolute()


# ------------------------------------------------------------------------------ streamable HTTP on serve

@contextmanager
def served_app(tmp_path: Path, engine: FakeEngine, **settings: Any) -> Iterator[tuple[str, Any]]:
    """The service with ``engine`` under uvicorn on a free loopback port: (base URL, the app)."""
    app = create_app(load_settings(index_dir=tmp_path / "index", **settings), engine_loader=lambda _: engine)
    with running_server(app) as url:
        yield url, app


@asynccontextmanager
async def http_client(url: str, *, key: str | None = KEY, mode: str = "auto") -> AsyncIterator[Client]:
    """The SDK's client on the streamable HTTP transport, sending ``key`` as a Bearer token."""
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    # The transport leaves a client it was given open: this one closes with the session.
    async with httpx2.AsyncClient(headers=headers) as connection, Client(
            streamable_http_client(url + MCP_PATH, http_client=connection), mode=mode) as client:
        yield client


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_serve_answers_mcp_at_slash_mcp_behind_the_api_key(tmp_path: Path, mode: str) -> None:
    with served_app(tmp_path, FakeEngine(), api_key=KEY) as (url, _app):
        query_body = httpx.post(url + "/query", json={"question": ANSWERED},
                                headers={"Authorization": f"Bearer {KEY}"}).json()

        async def main() -> None:
            async with http_client(url, mode=mode) as client:
                assert {tool.name for tool in (await client.list_tools()).tools} == {"ask", "get_document", "check"}
                body = structured(await client.call_tool("ask", {"question": ANSWERED}))
                assert without_timings(body) == without_timings(query_body)
                listed = (await client.read_resource("grounded://documents")).contents[0]
                assert isinstance(listed, TextResourceContents) and len(json.loads(listed.text)) == 2

        anyio.run(main)


def test_mcp_without_the_key_is_401_in_the_one_error_shape(tmp_path: Path) -> None:
    with served_app(tmp_path, FakeEngine(), api_key=KEY) as (url, _app):
        message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            response = httpx.post(url + MCP_PATH, json=message, headers=headers)
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "unauthorized"
            assert response.headers["www-authenticate"].startswith("Bearer")

        async def main() -> None:
            async with http_client(url, key=None) as client:
                await client.list_tools()

        # The SDK's client refuses to start a session on the 401 (inside its task groups).
        with pytest.raises(ExceptionGroup) as refused:
            anyio.run(main)
        assert refused.group_contains(MCPError, match="error response")


def test_mcp_calls_are_counted_and_share_admission_control_with_query(tmp_path: Path) -> None:
    engine = SlowEngine()
    with served_app(tmp_path, engine, max_concurrent_queries=1, max_queue=0) as (url, app):
        async def ask_once() -> CallToolResult:
            async with http_client(url, key=None) as client:
                return await client.call_tool("ask", {"question": ANSWERED})

        assert not anyio.run(ask_once).is_error
        metrics = httpx.get(url + "/metrics").text
        assert 'route="/mcp",status="200"' in metrics
        assert 'grounded_query_results_total{cached="false",outcome="answered"} 1.0' in metrics

        engine.delay_s = 2.0  # a /query holds the only slot; the MCP call finds no place
        holder = threading.Thread(target=httpx.post, args=(url + "/query",),
                                  kwargs={"json": {"question": "apple harvest"}, "timeout": 30})
        holder.start()
        try:
            deadline = time.monotonic() + 10
            while app.state.admission.running < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert app.state.admission.running == 1
            refused = anyio.run(ask_once)
            assert refused.is_error and "at capacity" in error_text(refused)
        finally:
            engine.delay_s = 0.0
            holder.join(timeout=30)
