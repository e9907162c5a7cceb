"""A stand-in for the OTLP/HTTP receiver of the ADOT collector the services export traces to
(POST /v1/traces, protobuf): it keeps every span it is sent, with the service that sent it.

    with OtlpCollector() as collector:          # OTEL_EXPORTER_OTLP_ENDPOINT=collector.url
        ...
        for service, span in collector.spans:   # span: opentelemetry.proto's Span
            ...

opentelemetry's protobuf is imported when one is made: only the tests of traced services use it,
and they have it.
"""

from __future__ import annotations

import http.server
import threading
from typing import Any


class OtlpCollector:
    def __init__(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
            ExportTraceServiceResponse,
        )

        self.spans: list[tuple[str, Any]] = []
        self.paths: list[str] = []
        collector = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                collector.paths.append(self.path)
                for resource in ExportTraceServiceRequest.FromString(body).resource_spans:
                    service = next(
                        a.value.string_value
                        for a in resource.resource.attributes
                        if a.key == "service.name"
                    )
                    for scope in resource.scope_spans:
                        collector.spans.extend((service, span) for span in scope.spans)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> OtlpCollector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
