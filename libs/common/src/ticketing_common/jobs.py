"""A service's one-off jobs from the command line (`python -m ticketing_<name> <job>`, or the
`ticketing-<name>` script): the setup and demo-data jobs its `[tool.ticketing]` declares, and its
operators' tools. Each service's cli.py lists its jobs; `run_job` is the one entry point."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    """A job that takes none."""


@dataclass(frozen=True)
class Job:
    help: str
    run: Callable[[argparse.Namespace], None]
    arguments: Callable[[argparse.ArgumentParser], None] = _no_arguments


def run_job(prog: str, jobs: Mapping[str, Job], argv: Sequence[str] | None = None) -> None:
    """Parse `argv` (the process's arguments when None) and run the job it names."""
    parser = argparse.ArgumentParser(prog=prog)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, job in jobs.items():
        job.arguments(commands.add_parser(name, help=job.help))
    args = parser.parse_args(argv)
    jobs[args.command].run(args)
