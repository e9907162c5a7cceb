"""The platform's API for the steps around a load run (preparing accounts and events, the
correctness check, the chaos run's customers): the devkit's one client (`ticketing_common.platform`)
pointed at this machine only. The load itself is the locustfile's."""

from __future__ import annotations

from typing import Any

from ticketing_common.platform import Platform

from ticketing_loadtest.choices import require_loopback

DEV_SERVICE_TOKEN = "dev-service-token-not-for-production"  # noqa: S105 - `make dev`'s token


def api(base_url: str, **options: Any) -> Platform:
    """The client for `base_url` (the gateway, or a service), which must be on this machine.
    `patience_s` waits out 429s: setup steps registering accounts through a rate-limited gateway
    wait; the check does not."""
    return Platform(require_loopback(base_url), **options)


def login(gateway: str, email: str, password: str, *, patience_s: float = 0) -> str:
    return api(gateway, patience_s=patience_s).login(email, password)
