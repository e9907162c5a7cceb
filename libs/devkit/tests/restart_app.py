"""A stand-in service for test_restarts.py: /health answers 200 (standard library only, so it
runs in devkit's own environment). Usage: python restart_app.py PORT"""

import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Quiet."""


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
