"""The MCP SDK's in-process client against a server built on an engine: shared by the MCP tests."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult

from service.admission import Admission
from service.engine_protocol import QueryEngineProtocol
from service.mcp_server import McpBackend
from service.observability import Metrics
from service.reload import serve_engine


def backend_for(engine: QueryEngineProtocol, *, slots: int = 2, queue: int = 8) -> McpBackend:
    """What the tools use, over ``engine`` (served at once), with its own metrics and admission."""
    metrics = Metrics()
    served = serve_engine(engine)
    return McpBackend(served=lambda: served, metrics=metrics,
                      admission=Admission(slots=slots, queue=queue, queue_timeout_s=1.0, query_timeout_s=5.0,
                                          registry=metrics.registry))


def in_process(server: MCPServer, session: Callable[[Client], Awaitable[None]]) -> None:
    """Run ``session`` against ``server`` through the SDK's in-process client."""
    async def main() -> None:
        async with Client(server) as client:
            await session(client)

    anyio.run(main)


def structured(result: CallToolResult) -> dict[str, Any]:
    """A successful call's structured content, which its text content must restate."""
    assert not result.is_error, result.content
    assert result.structured_content is not None
    text = result.content[0]
    assert text.type == "text" and json.loads(text.text) == result.structured_content
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    """A refused call's message."""
    assert result.is_error and result.content[0].type == "text"
    return result.content[0].text
