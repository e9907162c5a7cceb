"""A small blocking client for the platform's API, for the steps around a load run (preparing
accounts and events, the correctness check). The load itself is the locustfile's."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import requests

from ticketing_loadtest.choices import require_loopback

DEV_SERVICE_TOKEN = "dev-service-token-not-for-production"  # noqa: S105 - `make dev`'s token


class ApiError(RuntimeError):
    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        super().__init__(f"{method} {url} answered {status}: {body[:300]}")
        self.status = status


class Api:
    """JSON over HTTP to one base URL on this machine, one pooled session per thread."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout_s: float = 30,
        patience_s: float = 0,
    ) -> None:
        self.base = require_loopback(base_url)
        # How long a 429 is waited out (Retry-After) before it counts as an answer: setup steps
        # registering accounts through a rate-limited gateway wait; the check does not.
        self.patience_s = patience_s
        self.headers = {"Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.timeout_s = timeout_s
        self._local = threading.local()

    def with_headers(self, **headers: str) -> Api:
        api = Api(self.base, timeout_s=self.timeout_s, patience_s=self.patience_s)
        api.headers = {**self.headers, **headers}
        return api

    @property
    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
    ) -> tuple[int, Any]:
        url = self.base + path
        deadline = time.monotonic() + self.patience_s
        while True:
            response = self._session.request(
                method, url, json=json, params=params, headers=self.headers, timeout=self.timeout_s
            )
            if response.status_code != 429 or time.monotonic() >= deadline:
                break
            time.sleep(min(float(response.headers.get("Retry-After") or 1), 5))
        if response.status_code not in ok:
            raise ApiError(method, url, response.status_code, response.text)
        return response.status_code, (response.json() if response.content else None)

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params or None)[1]

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, json=body)[1]

    def pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a `{items, next_cursor}` listing."""
        cursor = None
        while True:
            page = self.get(path, **params, **({"cursor": cursor} if cursor else {}))
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return


def login(gateway: str, email: str, password: str, *, patience_s: float = 0) -> str:
    body = Api(gateway, patience_s=patience_s).post(
        "/api/v1/auth/login", {"email": email, "password": password}
    )
    token: str = body["access_token"]
    return token
