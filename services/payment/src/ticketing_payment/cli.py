"""`ticketing-payment migrate`."""

from __future__ import annotations

from ticketing_common.jobs import run_job
from ticketing_common.migrations import migrate_job

from ticketing_payment.settings import PaymentSettings

JOBS = {"migrate": migrate_job(PaymentSettings, __file__)}


def main(argv: list[str] | None = None) -> None:
    run_job("ticketing-payment", JOBS, argv)
