"""A SCRIPTED STAND-IN for an OpenAI-compatible model server: no model, only replayed replies.

No language model can run on the test machines, so the generative path is tested against this
small HTTP server on loopback. It answers ``POST /v1/chat/completions`` (plain or ``stream``) with
the next reply of its script, as llama.cpp's server, vLLM or Ollama would shape it, and records
every request so tests can read the prompt. A reply can also be late (a timeout), an HTTP error or
a body that is not a completion.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """One scripted reply: the answer text, or a delay, an HTTP status or a raw body instead."""

    text: str = ""
    delay_s: float = 0.0
    status: int = 200
    raw_body: bytes | None = None
    pieces: int = 4
    """How many ``delta`` chunks a streamed reply is cut into."""


class ScriptedModelServer:
    """Replays ``script`` one reply per request (the last one repeats); ``requests`` holds bodies."""

    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def next_reply(self) -> Reply:
        """The reply for the request now arriving."""
        with self._lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, message_format: str, *args: Any) -> None:
                """Quiet: the test output is not the place for access logs."""

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
                with server._lock:
                    server.requests.append(body)
                    server.headers.append({name.lower(): value for name, value in self.headers.items()})
                reply = server.next_reply()
                time.sleep(reply.delay_s)
                try:
                    if reply.status != 200 or reply.raw_body is not None:
                        self._send(reply.status, reply.raw_body or b'{"error": {"message": "scripted failure"}}',
                                   "application/json")
                    elif body.get("stream"):
                        self._stream(reply)
                    else:
                        self._send(200, json.dumps(_completion(reply.text, body)).encode(), "application/json")
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up (a timeout test): nothing to answer

            def _send(self, status: int, payload: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _stream(self, reply: Reply) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                size = max(1, -(-len(reply.text) // reply.pieces))
                for start in range(0, len(reply.text), size):
                    chunk = _chunk(reply.text[start:start + size])
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        return Handler

    def serve(self) -> threading.Thread:
        """Start answering on a daemon thread."""
        thread = threading.Thread(target=self._server.serve_forever, name="scripted-model", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Stop answering and free the port."""
        self._server.shutdown()
        self._server.server_close()


def _completion(text: str, request: dict[str, Any]) -> dict[str, Any]:
    return {"id": "scripted-1", "object": "chat.completion", "created": 0, "model": request.get("model", ""),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def _chunk(text: str) -> dict[str, Any]:
    return {"id": "scripted-1", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}


@contextmanager
def scripted_model_server(*script: Reply) -> Iterator[ScriptedModelServer]:
    """A running scripted stand-in with ``script``; closed afterwards."""
    server = ScriptedModelServer()
    server.script = list(script) or [Reply(text="")]
    server.serve()
    try:
        yield server
    finally:
        server.close()
