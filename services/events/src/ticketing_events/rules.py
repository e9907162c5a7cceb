"""Rules that need more than the request body: an event against its venue, seats against the
seat map. Breaking one is a 422 with the same `errors` shape as schema validation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ticketing_common.problems import unprocessable


def check_section_tiers(section_tiers: dict[str, str], sections: list[dict[str, Any]]) -> None:
    """Every section of the venue is priced, and nothing else is."""
    venue_sections = [section["section_id"] for section in sections]
    errors: list[tuple[list[str | int], str, str]] = []
    if unknown := sorted(set(section_tiers) - set(venue_sections)):
        errors.append(
            (
                ["body", "section_tiers"],
                f"the venue has no sections {', '.join(unknown)}",
                "unknown_section",
            )
        )
    if unpriced := [s for s in venue_sections if s not in section_tiers]:
        errors.append(
            (
                ["body", "section_tiers"],
                f"every section of the venue needs a price tier; missing: {', '.join(unpriced)}",
                "unpriced_section",
            )
        )
    if errors:
        raise unprocessable(*errors)


def check_starts_in_future(starts_at: datetime, now: datetime) -> None:
    if starts_at <= now:
        raise unprocessable(
            (["body", "starts_at"], "an event must start in the future", "starts_in_past")
        )


def check_waiting_room(enabled: bool, opens_at: datetime | None) -> None:
    """A room that is on needs its opening: who came before it is shuffled at that moment."""
    if enabled and opens_at is None:
        raise unprocessable(
            (
                ["body", "opens_at"],
                "a waiting room that is on needs its opening time (opens_at)",
                "opens_at_required",
            )
        )
