"""`ticketing-notification migrate` (also `python -m ticketing_notification migrate`)."""

from __future__ import annotations

from ticketing_common.jobs import run_job
from ticketing_common.migrations import migrate_job

from ticketing_notification.settings import NotificationSettings

JOBS = {"migrate": migrate_job(NotificationSettings, __file__)}


def main(argv: list[str] | None = None) -> None:
    run_job("ticketing-notification", JOBS, argv)
