"""`ticketing-loadtest`: the steps of a load test.

    ticketing-loadtest prepare [--accounts 200]     accounts + fresh on-sale events (before)
    ticketing-loadtest run -u 100 -r 50 -t 45s     a bounded headless Locust run, then the SLO
                                                   verdict and the correctness check
    ticketing-loadtest slo results/run             the SLO verdict of a run's CSV
    ticketing-loadtest check                       the correctness check on its own
    ticketing-loadtest room-report results/run     the burst's way through the waiting room

Everything targets 127.0.0.1 (the gateway of `make dev` by default) and nothing else.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ticketing_devkit.stack import REDIS as STACK_REDIS

from ticketing_loadtest import correctness, room, slo
from ticketing_loadtest.api import DEV_SERVICE_TOKEN, api, login
from ticketing_loadtest.choices import require_loopback
from ticketing_loadtest.prepare import RoomPlan, prepare

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
DEMO_ADMIN = ("admin@ticketing.dev", "Admin-demo-2026")
DEFAULT_SLO = Path(__file__).resolve().parents[2] / "slo.toml"
MAX_USERS = 5000  # one machine's worth; larger runs are distributed (README)
MAX_SECONDS = 1800


def seconds(text: str) -> int:
    """Locust's run-time syntax: 90, 90s, 5m, 1h30m."""
    total, number = 0, ""
    for char in text.strip():
        if char.isdigit():
            number += char
        elif char in "hms" and number:
            total += int(number) * {"h": 3600, "m": 60, "s": 1}[char]
            number = ""
        else:
            raise argparse.ArgumentTypeError(f"not a duration: {text!r}")
    return total + (int(number) if number else 0)


def run_slo(prefix: str, thresholds: Path) -> int:
    try:
        rows = slo.read_stats(Path(f"{prefix}_stats.csv"))
    except slo.UnusableStats as exc:
        print(f"SLO verdict: no usable stats ({exc})", flush=True)
        return 2
    checks = slo.verdict(rows, slo.load_thresholds(thresholds))
    print(slo.render(checks), flush=True)
    return 0 if slo.passed(checks) else 1


def run_check(args: argparse.Namespace) -> int:
    token = login(args.gateway, args.admin_email, args.admin_password, patience_s=60)
    services = correctness.connect(
        token,
        inventory_url=args.inventory_url,
        booking_url=args.booking_url,
        payment_url=args.payment_url,
        service_token=args.service_token,
    )
    event_ids = list(args.event or [])
    fixture = Path(args.dir) / "fixture.json"
    if fixture.exists():
        event_ids += json.loads(fixture.read_text())["events"].values()
    if not args.only_fixture:
        event_ids += [e["event_id"] for e in api(args.gateway).pages("/api/v1/events", limit=100)]
    with ThreadPoolExecutor(16) as pool:
        violations = correctness.run_check(
            lambda event_id: correctness.read_event(services, event_id, pool),
            event_ids,
            settle_s=args.settle,
        )
    for violation in violations[:50]:
        print(f"  VIOLATION {violation.kind}: {violation.event_id} {violation.detail}")
    if len(violations) > 50:
        print(f"  ... and {len(violations) - 50} more")
    print(
        f"correctness: {'PASS' if not violations else 'FAIL'} "
        f"({len(set(event_ids))} events, {len(violations)} violations)",
        flush=True,
    )
    return 1 if violations else 0


def locust_command(args: argparse.Namespace) -> list[str]:
    require_loopback(args.gateway)
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--host",
        args.gateway,
        "--headless",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{args.time}s",
        "--stop-timeout",
        "10",
        "--csv",
        args.csv,
        "--only-summary",
        "--accounts-file",
        str(Path(args.dir) / "accounts.json"),
        "--fixture-file",
        str(Path(args.dir) / "fixture.json"),
    ]
    command += ["--think-time", args.think_time, "--room-redis-url", args.room_redis_url]
    if args.processes:
        command += ["--processes", str(args.processes)]
    return command + list(args.user_classes)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.users <= MAX_USERS or not 1 <= args.time <= MAX_SECONDS:
        raise SystemExit(f"runs are bounded: 1-{MAX_USERS} users, 1-{MAX_SECONDS} s")
    if not args.skip_prepare:
        prepare(args.gateway, Path(args.dir), max(args.accounts, 1), room_plan(args))
    Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
    for stale in room.record_paths(args.csv):
        stale.unlink()
    command = locust_command(args)
    print("$ " + " ".join(command[2:]), flush=True)
    # Locust's own exit code says only whether any request failed; the SLO decides.
    subprocess.run(command, check=False, timeout=args.time + 120)  # noqa: S603
    room.summarize(args.csv)
    verdict = run_slo(args.csv, Path(args.slo))
    if not args.event:
        # The run's own events; `check` alone also reads every other on-sale event.
        args.only_fixture = True
    checked = run_check(args)
    return max(verdict, checked)


def room_plan(args: argparse.Namespace) -> RoomPlan | None:
    if args.no_waiting_room:
        return None
    return RoomPlan(
        admission_per_minute=args.room_rate,
        max_shoppers=args.room_slots,
        shopping_minutes=args.room_minutes,
        opens_in_s=args.room_opens_in,
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="ticketing-loadtest", description=__doc__)
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--dir", default=".loadtest", help="accounts and fixture files")
    commands = parser.add_subparsers(dest="command", required=True)

    planning = argparse.ArgumentParser(add_help=False)
    planning.add_argument(
        "--no-waiting-room", action="store_true", help="the burst event without its room"
    )
    planning.add_argument("--room-rate", type=int, default=300, help="admitted per minute")
    planning.add_argument("--room-slots", type=int, default=50, help="most shopping at once")
    planning.add_argument("--room-minutes", type=int, default=2, help="shopping time")
    planning.add_argument(
        "--room-redis-url",
        default=STACK_REDIS,
        help="the gateway's Redis, read during the run for how many shop at once",
    )
    planning.add_argument(
        "--room-opens-in",
        type=float,
        default=15.0,
        help="seconds from the end of the setup step to the opening",
    )

    prep = commands.add_parser(
        "prepare", parents=[planning], help="register accounts, create on-sale events"
    )
    prep.add_argument("--accounts", type=int, default=200)

    checking = argparse.ArgumentParser(add_help=False)
    checking.add_argument("--admin-email", default=DEMO_ADMIN[0])
    checking.add_argument("--admin-password", default=DEMO_ADMIN[1])
    checking.add_argument("--inventory-url", default="http://127.0.0.1:8003")
    checking.add_argument("--booking-url", default="http://127.0.0.1:8004")
    checking.add_argument("--payment-url", default="http://127.0.0.1:8005")
    checking.add_argument("--service-token", default=DEV_SERVICE_TOKEN)
    checking.add_argument("--event", action="append", help="an event to check (repeatable)")
    checking.add_argument(
        "--only-fixture", action="store_true", help="skip the other on-sale events"
    )
    checking.add_argument("--settle", type=float, default=30.0, help="seconds to converge")

    commands.add_parser("check", parents=[checking], help="the correctness check")

    verdict = commands.add_parser("slo", help="the SLO verdict of a run's stats CSV")
    verdict.add_argument("csv", help="the --csv prefix of the run")
    verdict.add_argument("--thresholds", default=str(DEFAULT_SLO))

    reporting = commands.add_parser("room-report", help="the burst's way through the room")
    reporting.add_argument("csv", help="the --csv prefix of the run")

    running = commands.add_parser(
        "run", parents=[checking, planning], help="prepare, load, judge, check"
    )
    running.add_argument("-u", "--users", type=int, default=100)
    running.add_argument("-r", "--spawn-rate", type=float, default=50)
    running.add_argument("-t", "--time", type=seconds, default=45, help="e.g. 45s, 5m")
    running.add_argument("--accounts", type=int, default=200)
    running.add_argument("--csv", default="loadtest/results/run")
    running.add_argument("--slo", default=str(DEFAULT_SLO))
    running.add_argument("--processes", type=int, default=0, help="Locust worker processes")
    running.add_argument("--think-time", default="0.5,2", help="OnSaleUser pauses: MIN,MAX s")
    running.add_argument("--skip-prepare", action="store_true")
    running.add_argument("user_classes", nargs="*", help="OnSaleUser, BurstUser (default both)")

    args = parser.parse_args()
    require_loopback(args.gateway)
    if args.command == "prepare":
        prepare(args.gateway, Path(args.dir), args.accounts, room_plan(args))
    elif args.command == "room-report":
        sys.exit(0 if room.summarize(args.csv) is not None else 2)
    elif args.command == "slo":
        sys.exit(run_slo(args.csv, Path(args.thresholds)))
    elif args.command == "check":
        sys.exit(run_check(args))
    else:
        sys.exit(run(args))
