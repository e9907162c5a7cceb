"""`ticketing-infra deploy` (what `make deploy` runs), `ticketing-infra backup`, and
`ticketing-infra smoke` (deploy's production smoke on its own, e.g. after a rollback by hand)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from ticketing_infra import catalog
from ticketing_infra.aws import Aws
from ticketing_infra.backup import take_backups
from ticketing_infra.deploy import DEFAULT_FRONTEND_BUILD, STEPS, DeployOptions, deploy
from ticketing_infra.images import Builder, ImageError, git_commit
from ticketing_infra.progress import Progress
from ticketing_infra.rollout import DeployError
from ticketing_infra.smoke import run_smoke
from ticketing_infra.taskdefs import RenderError


def _region(value: str | None) -> str:
    region = value or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise SystemExit("no AWS region: pass --region or set AWS_REGION")
    return region


def _builder(args: argparse.Namespace) -> Builder:
    if args.build_command or args.push_command:
        if not (args.build_command and args.push_command):
            raise ImageError("--build-command and --push-command go together")
        return Builder(args.build_command, args.push_command, args.login_command)
    return Builder.detect()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ticketing-infra")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION)")
    parser.add_argument("--endpoint-url", help=argparse.SUPPRESS)  # tests: a moto server
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser("deploy", help="build, push, migrate and roll out")
    release.add_argument("--service", action="append", default=[], help="only these (repeatable)")
    release.add_argument("--tag", help="image tag (default: the git commit)")
    release.add_argument("--allow-dirty", action="store_true", help="tag a dirty work tree anyway")
    release.add_argument("--dry-run", action="store_true", help="print the plan and stop")
    release.add_argument(
        "--build-command",
        default=os.environ.get("TICKETING_BUILD_COMMAND"),
        help="template with {image} {dockerfile} {context} {service} (default: docker, podman "
        "or buildah, whichever is installed)",
    )
    release.add_argument(
        "--push-command",
        default=os.environ.get("TICKETING_PUSH_COMMAND"),
        help="template with {image}",
    )
    release.add_argument(
        "--login-command",
        default=os.environ.get("TICKETING_LOGIN_COMMAND"),
        help="template with {registry}; gets the ECR password on stdin",
    )
    release.add_argument(
        "--frontend", type=Path, default=DEFAULT_FRONTEND_BUILD, help="frontend build dir"
    )
    release.add_argument(
        "--stripe-publishable-key",
        default=os.environ.get("STRIPE_PUBLISHABLE_KEY"),
        help="Stripe's publishable key for the web app's Payment Element (none: no Stripe)",
    )
    release.add_argument("--parallel-builds", type=int, default=2, help="images built at once")
    release.add_argument("--poll-seconds", type=float, default=15)
    release.add_argument("--timeout-minutes", type=float, default=30)
    release.add_argument(
        "--bake-minutes",
        type=float,
        default=catalog.BAKE_TIME_MINUTES,
        help="how long the edge alarms are watched after the smoke (blue/green services also "
        "bake for their own bake time in ECS)",
    )
    release.add_argument(
        "--api-url", help="the API the smoke checks (default: the platform parameter's api_url)"
    )

    commands.add_parser("backup", help="RDS snapshot + DynamoDB on-demand backup")
    smoke = commands.add_parser(
        "smoke", help="the post-deploy production smoke alone (read-only), against any API"
    )
    smoke.add_argument("--api-url", required=True, help="e.g. https://api.ticketing-pro.com")
    args = parser.parse_args(argv)
    if args.command == "smoke":
        result = run_smoke(args.api_url, Progress(total_steps=1))
        print("smoke passed" if result.ok else "smoke FAILED")
        return 0 if result.ok else 1
    aws = Aws(region=_region(args.region), endpoint_url=args.endpoint_url)
    try:
        if args.command == "backup":
            backups = take_backups(aws)
            print(f"RDS snapshot {backups.rds_snapshot} (creating)")
            print(f"DynamoDB backup {backups.dynamodb_backup_arn}")
            return 0
        options = DeployOptions(
            tag=args.tag or git_commit(allow_dirty=args.allow_dirty),
            services=args.service,
            dry_run=args.dry_run,
            builder=lambda: _builder(args),
            frontend_build=args.frontend,
            stripe_publishable_key=args.stripe_publishable_key,
            parallel_builds=args.parallel_builds,
            poll_seconds=args.poll_seconds,
            timeout_s=args.timeout_minutes * 60,
            bake_s=args.bake_minutes * 60,
            api_url=args.api_url,
        )
        return deploy(aws, options, Progress(total_steps=STEPS))
    except (DeployError, ImageError, RenderError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        print(f"AWS error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
