"""A webhook receiver on 127.0.0.1 for notification tests (nightly, watch): it keeps every JSON body posted."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookSink:
    """The bodies received so far; `arrived` is set by the first one."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.arrived = threading.Event()


@contextmanager
def webhook_sink() -> Iterator[tuple[WebhookSink, int]]:
    """(sink, port) while the block runs; the server thread is shut down after it."""
    sink = WebhookSink()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            sink.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            sink.arrived.set()
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield sink, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
