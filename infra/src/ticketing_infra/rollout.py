"""The ECS side of a release: plan each service's change, register task definition revisions,
run migrations as one-off tasks, update the services, and roll them back (following the
deployments is follow.py's).

The invariant that lets CloudFormation and `make deploy` share the services: the latest ACTIVE
revision of every family is the one that should run. CloudFormation names only the family, so
whenever it touches a service it resolves to that revision; deploy keeps the invariant by
deregistering the revisions of a release it rolls back.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, WaiterError

from ticketing_infra import catalog
from ticketing_infra.catalog import ServiceSpec
from ticketing_infra.progress import Progress
from ticketing_infra.taskdefs import canonical, render, validate

if TYPE_CHECKING:
    from ticketing_infra.follow import Follower

DIGEST_TAG = "ticketing:definition-sha256"
STARTED_BY = "ticketing-deploy"
LOG_TAIL_LINES = 30


class DeployError(RuntimeError):
    """A problem found before anything changed (missing secret, log group, repository...)."""


@dataclass(frozen=True)
class TaskPlacement:
    """Where one-off tasks run (the SSM parameter the platform stack writes)."""

    cluster: str
    subnets: list[str]
    security_groups: list[str]

    @classmethod
    def from_parameter(cls, value: dict[str, Any]) -> TaskPlacement:
        return cls(value["cluster"], list(value["subnets"]), list(value["security_groups"]))

    def network(self) -> dict[str, Any]:
        return {
            "awsvpcConfiguration": {
                "subnets": self.subnets,
                "securityGroups": self.security_groups,
                "assignPublicIp": "DISABLED",
            }
        }


@dataclass
class ServicePlan:
    spec: ServiceSpec
    image: str
    image_present: bool
    definition: dict[str, Any]  # rendered RegisterTaskDefinition input, digest tag included
    digest: str
    service_exists: bool
    current_arn: str | None  # what the service runs now: the rollback target
    current_digest: str | None
    # How ECS deploys it now (the service's deploymentConfiguration.strategy; ROLLING when the
    # service does not exist yet or says nothing).
    strategy: str = catalog.ROLLING
    new_arn: str | None = None
    deployment_id: str | None = None  # what update-service started (its PRIMARY deployment)
    update_started: datetime | None = None
    service_deployment_arn: str | None = None  # blue/green: the deployment followed
    baked: bool = False  # blue/green: SUCCESSFUL (bake time passed, blue gone)
    changes: list[str] = field(default_factory=list)

    @property
    def blue_green(self) -> bool:
        return self.strategy == catalog.BLUE_GREEN

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def registers(self) -> bool:
        return self.digest != self.current_digest

    @property
    def updates(self) -> bool:
        return self.service_exists and self.registers

    @property
    def migrates(self) -> bool:
        return self.spec.owns_database and self.registers


def digest_of(definition: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(definition).encode()).hexdigest()


def _tag(tags: Iterable[dict[str, str]], key: str) -> str | None:
    return next((t["value"] for t in tags if t["key"] == key), None)


def revision_of(arn: str | None) -> str:
    return ":" + arn.rsplit(":", 1)[1] if arn else "-"


def describe_changes(current: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """What differs between the running revision and the one to register, in words."""
    if current is None:
        return ["first revision"]
    changes = []
    for key in ("cpu", "memory", "executionRoleArn", "taskRoleArn"):
        if current.get(key) != new.get(key):
            changes.append(f"{key} {current.get(key)} -> {new.get(key)}")
    old_containers = {c["name"]: c for c in current.get("containerDefinitions", [])}
    for container in new["containerDefinitions"]:
        name = container["name"]
        old = old_containers.pop(name, None)
        if old is None:
            changes.append(f"{name}: new container")
            continue
        if old.get("image") != container.get("image"):
            changes.append(
                f"{name}: image {old.get('image', '').rsplit(':', 1)[-1]} -> "
                f"{container.get('image', '').rsplit(':', 1)[-1]}"
            )
        for key, label in (("environment", "value"), ("secrets", "valueFrom")):
            before = {i["name"]: i[label] for i in old.get(key, [])}
            after = {i["name"]: i[label] for i in container.get(key, [])}
            for kind, names in (
                ("+", after.keys() - before.keys()),
                ("-", before.keys() - after.keys()),
                ("~", {n for n in after.keys() & before.keys() if after[n] != before[n]}),
            ):
                if names:
                    changes.append(f"{name}: {key} {kind}{', '.join(sorted(names))}")
    changes.extend(f"{name}: container removed" for name in old_containers)
    return changes or ["same containers, other settings"]


class Planner:
    """Reads what is there (ECR, Secrets Manager, CloudWatch Logs, ECS) and works out, per
    service, what a deploy of `tag` changes. Changes nothing."""

    def __init__(self, aws: Any, *, account: str, region: str, placement: TaskPlacement) -> None:
        self.aws = aws
        self.account = account
        self.region = region
        self.placement = placement
        self._secret_arns: dict[str, str] = {}

    def secret_arn(self, name: str) -> str:
        if name not in self._secret_arns:
            client = self.aws.client("secretsmanager")
            try:
                self._secret_arns[name] = client.describe_secret(SecretId=name)["ARN"]
            except client.exceptions.ResourceNotFoundException:
                raise DeployError(
                    f"secret {name} does not exist (TicketingPlatform creates it)"
                ) from None
        return self._secret_arns[name]

    def plan(self, specs: Sequence[ServiceSpec], tag: str) -> list[ServicePlan]:
        from ticketing_infra.images import image_exists

        running = self._running_task_definitions([s.name for s in specs])
        plans = []
        for spec in specs:
            registry = f"{self.account}.dkr.ecr.{self.region}.amazonaws.com"
            image = f"{registry}/{spec.repository}:{tag}"
            try:
                present = image_exists(self.aws.ecr, spec, tag)
            except self.aws.ecr.exceptions.RepositoryNotFoundException:
                raise DeployError(f"ECR repository {spec.repository} does not exist") from None
            values = catalog.placeholder_values(self.account, self.region, image)
            definition = render(spec.task_definition, values, self.secret_arn)
            validate(definition)
            self._check_log_groups(definition)
            digest = digest_of(definition)
            definition["tags"] = [*definition.get("tags", []), {"key": DIGEST_TAG, "value": digest}]
            service = running.get(spec.name)
            service_exists = service is not None
            current_arn = service["taskDefinition"] if service else None
            current, current_digest = self._describe(current_arn or spec.family)
            plan = ServicePlan(
                spec=spec,
                image=image,
                image_present=present,
                definition=definition,
                digest=digest,
                service_exists=service_exists,
                current_arn=current_arn,
                current_digest=current_digest,
                strategy=(service or {})
                .get("deploymentConfiguration", {})
                .get("strategy", catalog.ROLLING),
            )
            if plan.registers:
                plan.changes = describe_changes(current, definition)
            plans.append(plan)
        return plans

    def _running_task_definitions(self, names: list[str]) -> dict[str, dict[str, Any]]:
        running = {}
        for start in range(0, len(names), 10):
            response = self.aws.ecs.describe_services(
                cluster=self.placement.cluster, services=names[start : start + 10]
            )
            for service in response["services"]:
                if service["status"] == "ACTIVE":
                    running[service["serviceName"]] = service
        return running

    def _describe(self, task_definition: str) -> tuple[dict[str, Any] | None, str | None]:
        try:
            response = self.aws.ecs.describe_task_definition(
                taskDefinition=task_definition, include=["TAGS"]
            )
        except ClientError:
            return None, None  # no revision of this family yet
        return response["taskDefinition"], _tag(response.get("tags", []), DIGEST_TAG)

    def _check_log_groups(self, definition: dict[str, Any]) -> None:
        # awslogs fails the task at start when its group is missing: find out now instead.
        for container in definition["containerDefinitions"]:
            group = container["logConfiguration"]["options"]["awslogs-group"]
            found = self.aws.logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
            if not any(g["logGroupName"] == group for g in found):
                raise DeployError(
                    f"log group {group} does not exist (TicketingPlatform creates it)"
                )


class Rollout:
    """Applies a plan to ECS, one stage at a time; every stage reports through `progress`."""

    def __init__(
        self,
        aws: Any,
        placement: TaskPlacement,
        progress: Progress,
        *,
        poll_seconds: float = 15,
        timeout_s: float = 1800,
    ) -> None:
        self.aws = aws
        self.ecs = aws.ecs
        self.placement = placement
        self.progress = progress
        self.poll_seconds = poll_seconds
        self.timeout_s = timeout_s

    def _waiter_config(self) -> dict[str, float]:
        # botocore sleeps `Delay` seconds between polls; a fraction is fine (tests poll fast).
        return {
            "Delay": self.poll_seconds,
            "MaxAttempts": max(1, math.ceil(self.timeout_s / self.poll_seconds)),
        }

    # -- task definitions --------------------------------------------------------------------

    def register(self, plans: Sequence[ServicePlan]) -> None:
        for plan in plans:
            if not plan.registers:
                continue
            response = self.ecs.register_task_definition(**plan.definition)
            plan.new_arn = response["taskDefinition"]["taskDefinitionArn"]
            self.progress.ok(
                f"{plan.name}: registered {plan.spec.family}{revision_of(plan.new_arn)}"
            )

    def deregister_new(self, plans: Sequence[ServicePlan]) -> None:
        """Withdraw this release's revisions, so each family's latest ACTIVE revision is again
        the one that ran before (what CloudFormation resolves the family name to)."""
        for plan in plans:
            if plan.new_arn:
                self.ecs.deregister_task_definition(taskDefinition=plan.new_arn)
                self.progress.item(
                    f"{plan.name}: deregistered {plan.spec.family}{revision_of(plan.new_arn)}"
                )

    # -- migrations --------------------------------------------------------------------------

    def migrate(self, plans: Sequence[ServicePlan]) -> bool:
        """Run every migrating service's `migrate` command as a one-off task of its new
        revision; True when all of them exited 0."""
        started: dict[str, ServicePlan] = {}
        ok = True
        for plan in plans:
            if not plan.migrates:
                continue
            response = self.ecs.run_task(
                cluster=self.placement.cluster,
                taskDefinition=plan.new_arn,
                launchType="FARGATE",  # on-demand: a Spot interruption must not cut a migration
                networkConfiguration=self.placement.network(),
                overrides={
                    "containerOverrides": [
                        {"name": plan.name, "command": plan.spec.migrate_command}
                    ]
                },
                startedBy=STARTED_BY,
                count=1,
            )
            if response.get("failures") or not response.get("tasks"):
                reasons = "; ".join(f.get("reason", "?") for f in response.get("failures", []))
                self.progress.fail(f"{plan.name}: migration task did not start: {reasons}")
                ok = False
                continue
            arn = response["tasks"][0]["taskArn"]
            started[arn] = plan
            self.progress.item(
                f"{plan.name}: {' '.join(plan.spec.migrate_command)} ({arn.rsplit('/', 1)[1]})"
            )
        if not started:
            return ok
        arns = list(started)
        try:
            self.ecs.get_waiter("tasks_stopped").wait(
                cluster=self.placement.cluster, tasks=arns, WaiterConfig=self._waiter_config()
            )
        except WaiterError as error:
            self.progress.fail(f"migrations did not finish: {error}")
            return False
        for task in self.ecs.describe_tasks(cluster=self.placement.cluster, tasks=arns)["tasks"]:
            plan = started[task["taskArn"]]
            container: dict[str, Any] = next(
                (c for c in task.get("containers", []) if c["name"] == plan.name), {}
            )
            exit_code = container.get("exitCode")
            if exit_code == 0:
                self.progress.ok(f"{plan.name}: migrations applied")
                continue
            ok = False
            reason = container.get("reason") or task.get("stoppedReason") or "no reason given"
            self.progress.fail(f"{plan.name}: migration exited {exit_code} ({reason})")
            for line in self._log_tail(plan, task["taskArn"]):
                self.progress.item(f"| {line}")
        return ok

    def _log_tail(self, plan: ServicePlan, task_arn: str) -> list[str]:
        options = plan.spec.app_container["logConfiguration"]["options"]
        stream = f"{options['awslogs-stream-prefix']}/{plan.name}/{task_arn.rsplit('/', 1)[1]}"
        try:
            events = self.aws.logs.get_log_events(
                logGroupName=options["awslogs-group"],
                logStreamName=stream,
                limit=LOG_TAIL_LINES,
                startFromHead=False,
            )["events"]
        except ClientError as error:
            return [f"(no logs: {error.response['Error']['Code']})"]
        return [event["message"].rstrip() for event in events]

    # -- services ----------------------------------------------------------------------------

    def update(self, plans: Sequence[ServicePlan]) -> None:
        for plan in plans:
            if not plan.updates:
                continue
            plan.update_started = datetime.now(UTC)
            service = self.ecs.update_service(
                cluster=self.placement.cluster, service=plan.name, taskDefinition=plan.new_arn
            )["service"]
            primary = next(d for d in service["deployments"] if d["status"] == "PRIMARY")
            plan.deployment_id = primary["id"]
            self.progress.item(
                f"{plan.name}: {revision_of(plan.current_arn)} -> {revision_of(plan.new_arn)} "
                f"(deployment {primary['id']})"
            )

    def rollback(self, plans: Sequence[ServicePlan], follower: Follower) -> bool:
        """Put every service this release updated back on the revision it ran before; True when
        they are all stable again. A blue/green deployment still in flight (live, baking) is
        stopped with ROLLBACK: ECS shifts traffic straight back to blue, whose tasks still run.
        Any other service gets its previous revision again (a finished blue/green deployment:
        a new one, back)."""
        updated = [p for p in plans if p.deployment_id and p.current_arn]
        stopped = [p for p in updated if p.blue_green and follower.take_back(p)]
        described = self._describe_services([p.name for p in updated if p not in stopped])
        moved = []
        for plan in updated:
            if plan in stopped:
                continue
            if described.get(plan.name, {}).get("taskDefinition") == plan.current_arn:
                self.progress.item(f"{plan.name}: already back on {revision_of(plan.current_arn)}")
                continue
            self.ecs.update_service(
                cluster=self.placement.cluster, service=plan.name, taskDefinition=plan.current_arn
            )
            moved.append(plan.name)
            self.progress.item(
                f"{plan.name}: {revision_of(plan.new_arn)} -> {revision_of(plan.current_arn)}"
            )
        ok = follower.wait_rolled_back(stopped) if stopped else True
        if moved and self._wait_stable(moved):
            self.progress.fail("the rolled-back services are not stable yet: check the ECS console")
            return False
        return ok

    def _wait_stable(self, names: list[str]) -> bool:
        """Wait for services_stable; True when it timed out (or gave up on a failure state)."""
        timed_out = False
        for start in range(0, len(names), 10):
            try:
                self.ecs.get_waiter("services_stable").wait(
                    cluster=self.placement.cluster,
                    services=names[start : start + 10],
                    WaiterConfig=self._waiter_config(),
                )
            except WaiterError:
                timed_out = True
        return timed_out

    def _describe_services(self, names: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(names), 10):
            response = self.ecs.describe_services(
                cluster=self.placement.cluster, services=names[start : start + 10]
            )
            found.update({s["serviceName"]: s for s in response["services"]})
        return found
