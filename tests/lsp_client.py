"""A small synchronous LSP client: `python -m scoredsl lsp` in a subprocess, JSON-RPC over
its stdin/stdout with Content-Length framing. Every wait has a timeout, so a server that
hangs fails a test instead of blocking it. Used by tests/test_lsp.py and benchmarks/lsp.py.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 20.0  # seconds for any one answer (the first load builds the parser)


class LspError(Exception):
    pass


def _read_messages(stream: BinaryIO, into: queue.Queue[dict[str, Any] | None]) -> None:
    while True:
        length = None
        while True:
            line = stream.readline()
            if not line:
                into.put(None)
                return
            line = line.strip()
            if not line:
                break
            name, _, value = line.decode("ascii").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        if length is None:
            continue
        into.put(json.loads(stream.read(length).decode("utf-8")))


class Client:
    def __init__(self, encodings: list[str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scoredsl", "lsp"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        self.incoming: queue.Queue[dict[str, Any] | None] = queue.Queue()
        reader = threading.Thread(
            target=_read_messages, args=(self.process.stdout, self.incoming), daemon=True
        )
        reader.start()
        self.notifications: list[dict[str, Any]] = []
        self.next_id = 0
        capabilities: dict[str, Any] = {}
        if encodings is not None:
            capabilities["general"] = {"positionEncodings": encodings}
        self.initialized = self.request(
            "initialize", {"processId": None, "rootUri": None, "capabilities": capabilities}
        )
        self.notify("initialized", {})

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.process.stdin is not None
        self.process.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode("ascii") + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def _next(self, deadline: float) -> dict[str, Any]:
        try:
            message = self.incoming.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise LspError("the server did not answer in time") from None
        if message is None:
            raise LspError("the server closed its output")
        return message

    def request(self, method: str, params: Any, timeout: float = TIMEOUT) -> Any:
        self.next_id += 1
        ident = self.next_id
        self.send({"id": ident, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            message = self._next(deadline)
            if message.get("id") == ident and "method" not in message:
                if "error" in message:
                    raise LspError(message["error"])
                return message.get("result")
            self.notifications.append(message)

    def wait_for(
        self,
        method: str,
        accept: Callable[[dict[str, Any]], bool] = lambda params: True,
        timeout: float = TIMEOUT,
    ) -> Any:
        """The params of the first notification of `method` they pass `accept`, new or kept."""
        for i, message in enumerate(self.notifications):
            if message.get("method") == method and accept(message["params"]):
                return self.notifications.pop(i)["params"]
        deadline = time.monotonic() + timeout
        while True:
            message = self._next(deadline)
            if message.get("method") == method and accept(message["params"]):
                return message["params"]
            self.notifications.append(message)

    def open(self, uri: str, text: str, version: int = 1) -> dict[str, Any]:
        """didOpen, then the diagnostics published for it."""
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "scoredsl", "version": version,
                              "text": text}},
        )  # fmt: skip
        return self.diagnostics(uri)

    def change(self, uri: str, text: str, version: int) -> dict[str, Any]:
        self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
        )
        return self.diagnostics(uri)

    def diagnostics(self, uri: str) -> dict[str, Any]:
        params: dict[str, Any] = self.wait_for(
            "textDocument/publishDiagnostics", lambda p: p["uri"] == uri
        )
        return params

    def close(self) -> None:
        try:
            self.request("shutdown", None, timeout=5)
            self.notify("exit", None)
            self.process.wait(timeout=5)
        except (LspError, OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
