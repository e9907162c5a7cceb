"""Calling another service's command (`contracts`): one client base, one failure policy.

- A 2xx answer is validated against the command's answer model and returned.
- A status the command names among its `refusals` (404 unknown, 409 refused, ...) raises
  `PeerRefused`, with the peer's problem slug: a definite answer the caller acts on.
- Anything else (unreachable, slower than the timeout, a 5xx, any other status, an answer that
  is not the contract's) raises `PeerUnavailable`: the peer failed, trying again later may
  work. Domain code lets it propagate (a request fails, a bus message is redelivered) or catches
  it where the work can wait (a reconciler catches up); the HTTP edge answers it as one problem,
  503 `dependency-unavailable` with `Retry-After` (`problems.install_problem_handlers`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from pydantic import ValidationError

from ticketing_common.contracts import AnswerT, Command, NoBody, RequestT
from ticketing_common.errors import PeerUnavailable
from ticketing_common.http_client import ServiceClient, ServiceResponse

log = logging.getLogger(__name__)

__all__ = ["PeerClient", "PeerRefused", "PeerUnavailable"]


class PeerRefused(Exception):
    """The peer gave one of the command's definite refusals."""

    def __init__(self, service: str, status: int, slug: str, body: Any) -> None:
        super().__init__(f"{service} answered {status} {slug}")
        self.service = service
        self.status = status
        self.slug = slug
        self.body = body


def problem_slug(body: Any) -> str:
    """The slug of a problem+json body's `type` (`.../problems/seats-taken` → `seats-taken`)."""
    kind = body.get("type") if isinstance(body, dict) else None
    return kind.rsplit("/", 1)[-1] if isinstance(kind, str) else ""


class PeerClient:
    """One peer service, as its callers see it: subclasses name their methods after what they
    ask and send the commands of `contracts`. The body is the command's request model, or `raw`:
    data already in that shape, sent as it is (a layout of 150,000 seats is not validated twice)."""

    def __init__(
        self, services: ServiceClient, base_url: str, *, timeout_s: float | None = None
    ) -> None:
        self.services = services
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    async def send(
        self,
        command: Command[RequestT, AnswerT],
        body: RequestT | None = None,
        *,
        raw: Any = None,
        query: Mapping[str, str | int] | None = None,
        timeout_s: float | None = None,
        **path: str,
    ) -> AnswerT:
        url = self.base_url + command.path.format(
            **{key: quote(value, safe="") for key, value in path.items()}
        )
        if query:
            url += "?" + urlencode(query)
        payload = raw
        if body is not None and not isinstance(body, NoBody):
            payload = body.model_dump(mode="json")
        response = await self.services.call(
            command.service,
            command.method,
            url,
            json=payload,
            timeout_s=timeout_s or self.timeout_s,
        )
        return self._answer(command, response)

    @staticmethod
    def _answer(command: Command[Any, AnswerT], response: ServiceResponse) -> AnswerT:
        if response.status in command.refusals:
            raise PeerRefused(
                command.service, response.status, problem_slug(response.body), response.body
            )
        if not response.ok:
            log.warning(
                "a peer failed a command",
                extra={
                    "service": command.service,
                    "command": f"{command.method} {command.path}",
                    "status": response.status,
                    "body": response.body,
                },
            )
            raise PeerUnavailable(command.service, f"answered {response.status}")
        if command.answer is NoBody:
            return command.answer()
        try:
            answer: AnswerT = command.answer.model_validate(response.body)
        except ValidationError as exc:
            log.warning(
                "a peer's answer is not the contract's",
                extra={"service": command.service, "command": command.path, "error": str(exc)},
            )
            raise PeerUnavailable(command.service, "answered outside its contract") from exc
        return answer
