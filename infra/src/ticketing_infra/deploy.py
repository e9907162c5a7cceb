"""`make deploy`: plan, then images -> task definitions -> migrations -> services -> smoke ->
bake -> frontend -> cache warming.

Nothing changes before the plan is printed; `--dry-run` stops there. A failed migration stops the
release before any service moves. Once services move, a failure at any point until the bake has
passed — a deployment that fails or that ECS rolls back, the production smoke, an edge alarm
during the bake — rolls every service of the release back to the revision it ran before (a
blue/green one still baking by shifting traffic straight back to blue) and withdraws the
release's revisions. The last line says what happened.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ticketing_infra import catalog, frontend
from ticketing_infra.catalog import ServiceSpec
from ticketing_infra.follow import Follower
from ticketing_infra.images import Builder, build_and_push, login
from ticketing_infra.progress import Progress
from ticketing_infra.rollout import DeployError, Planner, Rollout, ServicePlan, TaskPlacement
from ticketing_infra.smoke import RETRY_PAUSE_S, run_smoke
from ticketing_infra.warmup import warm, warm_up_paths

STEPS = 9
DEFAULT_FRONTEND_BUILD = catalog.REPO_ROOT / "frontend" / "dist"


@dataclass
class DeployOptions:
    tag: str
    services: Sequence[str] = ()  # empty: all of them
    dry_run: bool = False
    builder: Callable[[], Builder] = Builder.detect  # only called when something needs building
    frontend_build: Path = DEFAULT_FRONTEND_BUILD
    # Written with api_url into the web app's config.json (frontend.web_config); None: no Stripe.
    stripe_publishable_key: str | None = None
    parallel_builds: int = 2
    poll_seconds: float = 15
    timeout_s: float = 1800
    bake_s: float = catalog.BAKE_TIME_MINUTES * 60
    api_url: str | None = None  # default: the platform parameter's api_url


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
    parameter = aws.json_parameter(catalog.DEPLOY_PARAMETER)
    placement = TaskPlacement.from_parameter(parameter)
    specs = select(catalog.discover(), options.services)
    plans = Planner(aws, account=account, region=aws.region, placement=placement).plan(
        specs, options.tag
    )
    api_url = options.api_url or parameter.get("api_url")
    if any(p.updates for p in plans) and not api_url:
        raise DeployError(
            "no API URL for the production smoke: the platform parameter has none "
            "(cdk deploy TicketingPlatform) and --api-url was not given"
        )
    frontend_target = _frontend_target(aws, options.frontend_build)
    print_plan(plans, options, account, aws.region, placement, frontend_target, api_url, progress)
    if any(p.updates for p in plans):
        _warn_missing_alarms(aws, progress)
    if options.dry_run:
        progress.say("dry run: nothing changed")
        return 0

    rollout = Rollout(
        aws, placement, progress, poll_seconds=options.poll_seconds, timeout_s=options.timeout_s
    )
    follower = Follower(
        aws, placement, progress, poll_seconds=options.poll_seconds, timeout_s=options.timeout_s
    )

    def roll_back(why: str) -> int:
        progress.say(f"{why}: rolling back")
        stable = rollout.rollback(plans, follower)
        rollout.deregister_new(plans)
        state = "rolled back" if stable else "rolled back, but not every service is stable"
        progress.say(f"verdict: release {options.tag} FAILED ({why}); {state}")
        return 1

    progress.step("Images")
    _images(aws, options, plans, progress)

    progress.step("Task definitions")
    rollout.register(plans)
    if not any(p.registers for p in plans):
        progress.item("every service runs this release already")

    progress.step("Migrations")
    if any(p.migrates for p in plans):
        if not rollout.migrate(plans):
            progress.say("migrations failed: no service was updated")
            rollout.deregister_new(plans)
            progress.say(f"verdict: release {options.tag} FAILED (migrations); nothing moved")
            return 1
    else:
        progress.item("no database-owning service changes")

    progress.step("Services")
    rollout.update(plans)
    outcome = follower.until_live(plans)
    if outcome.failed:
        return roll_back(f"rollout failed ({', '.join(p.name for p in outcome.failed)})")
    for plan in plans:
        if plan.registers and not plan.service_exists:
            progress.item(
                f"{plan.name}: registered only; `cdk deploy TicketingServices` creates the service"
            )
    rolled_out = [p for p in plans if p.deployment_id]

    progress.step("Smoke")
    cdn = None
    on_sale: list[str] = []
    if rolled_out:
        assert api_url is not None
        progress.item(f"read-only checks against {api_url}")
        smoke = run_smoke(api_url, progress, pause_s=min(options.poll_seconds, RETRY_PAUSE_S))
        if not smoke.ok:
            return roll_back("production smoke failed")
        cdn, on_sale = smoke.cdn, smoke.on_sale_event_ids
    else:
        progress.item("nothing rolled out: no smoke")

    progress.step("Bake")
    if rolled_out:
        outcome = follower.through_bake(plans, options.bake_s)
        if outcome.failed:
            return roll_back(f"bake failed ({', '.join(p.name for p in outcome.failed)})")
    else:
        progress.item("nothing rolled out: nothing to bake")

    progress.step("Frontend")
    _frontend(aws, options, frontend_target, api_url, progress)

    progress.step("Cache warming")
    _warm_cache(cdn, api_url, on_sale, bool(rolled_out), progress)
    progress.say(f"verdict: released {options.tag}" + _summary(rolled_out))
    return 0


def _images(aws: Any, options: DeployOptions, plans: list[ServicePlan], progress: Progress) -> None:
    to_build = [p for p in plans if p.registers and not p.image_present]
    if not to_build:
        progress.item("every image is in ECR already")
        return
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


def _frontend(
    aws: Any,
    options: DeployOptions,
    target: tuple[str, str] | None,
    api_url: str | None,
    progress: Progress,
) -> None:
    if target is None:
        progress.item(f"no frontend build at {options.frontend_build}: skipped")
        return
    bucket, distribution = target
    frontend.publish(
        aws.client("s3"),
        aws.client("cloudfront"),
        options.frontend_build,
        bucket,
        distribution,
        progress,
        frontend.web_config(api_url, options.stripe_publishable_key) if api_url else None,
    )


def _warm_cache(
    cdn: str | None, api_url: str | None, on_sale: list[str], rolled_out: bool, progress: Progress
) -> None:
    if cdn is None:
        progress.item(
            "the API answered without a CDN in front: nothing to warm"
            if rolled_out
            else "nothing rolled out: nothing to warm"
        )
        return
    assert api_url is not None
    progress.item(f"{cdn} in front of {api_url}: the event list and on-sale events' layouts")
    warm(api_url, warm_up_paths(on_sale), progress)


def _summary(rolled_out: Sequence[ServicePlan]) -> str:
    if not rolled_out:
        return " (nothing to roll out)"
    blue_green = [p.name for p in rolled_out if p.blue_green]
    rolling = [p.name for p in rolled_out if not p.blue_green]
    parts = []
    if blue_green:
        parts.append(f"blue/green: {', '.join(blue_green)}")
    if rolling:
        parts.append(f"rolling: {', '.join(rolling)}")
    return f" ({'; '.join(parts)}; smoke passed, bake passed)"


def _warn_missing_alarms(aws: Any, progress: Progress) -> None:
    """A bake watching alarms that do not exist watches nothing: say so before it starts."""
    found = aws.client("cloudwatch").describe_alarms(AlarmNames=list(catalog.DEPLOYMENT_ALARMS))
    missing = set(catalog.DEPLOYMENT_ALARMS) - {a["AlarmName"] for a in found["MetricAlarms"]}
    if missing:
        progress.item(
            f"WARNING: alarm(s) {', '.join(sorted(missing))} do not exist: the bake cannot see "
            "them fire (`cdk deploy TicketingServices` creates them)"
        )


def _frontend_target(aws: Any, build: Path) -> tuple[str, str] | None:
    if not (build / frontend.INDEX).is_file():
        return None
    edge = aws.json_parameter(catalog.EDGE_PARAMETER, region=catalog.EDGE_REGION)
    return edge["bucket"], edge["distribution_id"]


def strategy_line(plan: ServicePlan) -> str:
    """How ECS will deploy this service, and what the CDK app declares when it differs."""
    declared = plan.spec.deployment_strategy
    if plan.blue_green:
        text = f"blue/green, bake {catalog.BAKE_TIME_MINUTES} min"
    else:
        text = "rolling, circuit breaker"
    if plan.strategy != declared:
        wanted = "blue/green" if declared == catalog.BLUE_GREEN else "rolling"
        text += f" (the CDK app declares {wanted}: `cdk deploy TicketingServices` first)"
    return text


def print_plan(
    plans: Sequence[ServicePlan],
    options: DeployOptions,
    account: str,
    region: str,
    placement: TaskPlacement,
    frontend_target: tuple[str, str] | None,
    api_url: str | None,
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
            target = f"roll out, new revision: {strategy_line(plan)}"
        else:
            target = "register only (service not created yet)"
        progress.item(f"{plan.name:<{width}}  image: {image}; {target}")
        for change in plan.changes:
            progress.item(f"{'':<{width}}    {change}")
    migrating = [p.name for p in plans if p.migrates]
    progress.item("migrations: " + (", ".join(migrating) if migrating else "none"))
    if any(p.updates for p in plans):
        progress.item(
            f"after the rollout: smoke against {api_url}; bake {options.bake_s / 60:.0f} min "
            f"watching {', '.join(catalog.DEPLOYMENT_ALARMS)}; any failure rolls every "
            "service back"
        )
        progress.item(
            "cache warming: the event list and on-sale events' layouts, when the API answers "
            "through a CDN"
        )
    if frontend_target:
        bucket, distribution = frontend_target
        progress.item(
            f"frontend: {options.frontend_build} -> s3://{bucket}, invalidate {distribution}"
        )
    else:
        progress.item("frontend: none (no build found)")
