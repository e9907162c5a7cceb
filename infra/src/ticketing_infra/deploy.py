"""`make deploy`: plan, then images -> task definitions -> migrations -> services -> frontend.

Nothing changes before the plan is printed; `--dry-run` stops there. A failed migration stops the
release before any service moves; a failed rollout rolls every service of the release back to the
revision it ran before and withdraws the release's revisions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ticketing_infra import catalog, frontend
from ticketing_infra.catalog import ServiceSpec
from ticketing_infra.images import Builder, build_and_push, login
from ticketing_infra.progress import Progress
from ticketing_infra.rollout import DeployError, Planner, Rollout, ServicePlan, TaskPlacement

STEPS = 6
DEFAULT_FRONTEND_BUILD = catalog.REPO_ROOT / "frontend" / "dist"


@dataclass
class DeployOptions:
    tag: str
    services: Sequence[str] = ()  # empty: all of them
    dry_run: bool = False
    builder: Callable[[], Builder] = Builder.detect  # only called when something needs building
    frontend_build: Path = DEFAULT_FRONTEND_BUILD
    # The web app's config.json for this environment (frontend.web_config); None: the build's own.
    web_config: dict[str, Any] | None = None
    parallel_builds: int = 2
    poll_seconds: float = 15
    timeout_s: float = 1800


def select(specs: Sequence[ServiceSpec], names: Sequence[str]) -> list[ServiceSpec]:
    if not names:
        return list(specs)
    known = {spec.name: spec for spec in specs}
    unknown = sorted(set(names) - known.keys())
    if unknown:
        raise DeployError(f"unknown service(s): {', '.join(unknown)} (known: {', '.join(known)})")
    return [known[name] for name in names]


def deploy(aws: Any, options: DeployOptions, progress: Progress) -> int:
    """Run a release; returns the process exit status (0: released or nothing to do)."""
    progress.step("Plan")
    account = aws.account_id()
    placement = TaskPlacement.from_parameter(aws.json_parameter(catalog.DEPLOY_PARAMETER))
    specs = select(catalog.discover(), options.services)
    plans = Planner(aws, account=account, region=aws.region, placement=placement).plan(
        specs, options.tag
    )
    frontend_target = _frontend_target(aws, options.frontend_build)
    print_plan(plans, options, account, aws.region, placement, frontend_target, progress)
    if options.dry_run:
        progress.say("dry run: nothing changed")
        return 0

    rollout = Rollout(
        aws, placement, progress, poll_seconds=options.poll_seconds, timeout_s=options.timeout_s
    )
    progress.step("Images")
    to_build = [p for p in plans if p.registers and not p.image_present]
    if to_build:
        builder = options.builder()
        login(aws.ecr, builder)
        with ThreadPoolExecutor(max_workers=options.parallel_builds) as pool:
            futures = {
                pool.submit(build_and_push, aws.ecr, builder, p.spec, p.image, options.tag): p
                for p in to_build
            }
            for future in as_completed(futures):
                future.result()  # the first failure stops the release (ImageError)
                progress.ok(f"{futures[future].name}: pushed {futures[future].image}")
    else:
        progress.item("every image is in ECR already")

    progress.step("Task definitions")
    rollout.register(plans)
    if not any(p.registers for p in plans):
        progress.item("every service runs this release already")

    progress.step("Migrations")
    if any(p.migrates for p in plans):
        if not rollout.migrate(plans):
            progress.say("migrations failed: no service was updated")
            rollout.deregister_new(plans)
            return 1
    else:
        progress.item("no database-owning service changes")

    progress.step("Services")
    rollout.update(plans)
    failed = rollout.wait_and_verify(plans)
    if failed:
        progress.say(f"rollout failed ({', '.join(p.name for p in failed)}): rolling back")
        stable = rollout.rollback(plans)
        rollout.deregister_new(plans)
        progress.say("rolled back" if stable else "rolled back, but not every service is stable")
        return 1
    for plan in plans:
        if plan.registers and not plan.service_exists:
            progress.item(
                f"{plan.name}: registered only; `cdk deploy TicketingServices` creates the service"
            )

    progress.step("Frontend")
    if frontend_target is None:
        progress.item(f"no frontend build at {options.frontend_build}: skipped")
    else:
        bucket, distribution = frontend_target
        frontend.publish(
            aws.client("s3"),
            aws.client("cloudfront"),
            options.frontend_build,
            bucket,
            distribution,
            progress,
            options.web_config,
        )
    progress.say("released " + options.tag)
    return 0


def _frontend_target(aws: Any, build: Path) -> tuple[str, str] | None:
    if not (build / frontend.INDEX).is_file():
        return None
    edge = aws.json_parameter(catalog.EDGE_PARAMETER, region=catalog.EDGE_REGION)
    return edge["bucket"], edge["distribution_id"]


def print_plan(
    plans: Sequence[ServicePlan],
    options: DeployOptions,
    account: str,
    region: str,
    placement: TaskPlacement,
    frontend_target: tuple[str, str] | None,
    progress: Progress,
) -> None:
    progress.say(f"release {options.tag} to {placement.cluster} (account {account}, {region})")
    width = max(len(p.name) for p in plans)
    for plan in plans:
        if not plan.registers:
            progress.item(f"{plan.name:<{width}}  unchanged")
            continue
        image = "in ECR" if plan.image_present else "build + push"
        if plan.updates:
            target = "roll out, new revision"
        else:
            target = "register only (service not created yet)"
        progress.item(f"{plan.name:<{width}}  image: {image}; {target}")
        for change in plan.changes:
            progress.item(f"{'':<{width}}    {change}")
    migrating = [p.name for p in plans if p.migrates]
    progress.item("migrations: " + (", ".join(migrating) if migrating else "none"))
    if frontend_target:
        bucket, distribution = frontend_target
        progress.item(
            f"frontend: {options.frontend_build} -> s3://{bucket}, invalidate {distribution}"
        )
    else:
        progress.item("frontend: none (no build found)")
