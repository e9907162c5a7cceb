#!/opt/venv/bin/python
"""Mailpit's command line, the part docker-compose.yml uses, over the devkit's mail catcher:
`/mailpit` serves SMTP on :1025 and the web UI and its JSON API on :8025; `/mailpit readyz` exits
0 once the API answers (the health check). The smoke test reads either API."""

from __future__ import annotations

import sys
import urllib.request

SMTP_PORT = 1025
HTTP_PORT = 8025


def ready() -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{HTTP_PORT}/api/messages", timeout=2):
            return 0
    except OSError as exc:
        print(f"readyz: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    if sys.argv[1:] == ["readyz"]:
        sys.exit(ready())
    if sys.argv[1:]:
        sys.exit(f"mailpit (devkit stand-in): only `readyz` is understood, not {sys.argv[1:]}")
    from ticketing_devkit import mailcatcher

    print(f"mailpit (devkit stand-in): SMTP :{SMTP_PORT}, web UI and API :{HTTP_PORT}", flush=True)
    mailcatcher.main(
        ["--host", "0.0.0.0", "--smtp-port", str(SMTP_PORT), "--http-port", str(HTTP_PORT)]
    )
