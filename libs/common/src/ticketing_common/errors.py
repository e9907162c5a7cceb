"""Domain errors the shared library defines: raised by domain and client code, answered as a
problem only at the HTTP edge (`problems.install_problem_handlers`)."""

from __future__ import annotations


class InvalidCursor(Exception):
    """A list cursor the API did not issue (made up, cut short, or another list's): the caller's
    400 `bad-cursor`."""


class PeerUnavailable(Exception):
    """Another service could not give a usable answer: unreachable, slower than its timeout, a
    5xx, a status its command does not name, or an answer outside its contract. Trying again
    later may work."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"the {service} service is unavailable ({reason})")
        self.service = service
        self.reason = reason
