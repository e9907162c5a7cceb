"""The branches moto's ECS cannot reach (it neither creates nor fails deployments): a circuit
breaker that rolled a service back, a deployment that never settles, a migration that exits
non-zero. ECS is botocore's Stubber, which also checks every request and canned response
against the ECS model."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.stub import ANY, Stubber
from ticketing_infra import catalog
from ticketing_infra.deploy import DeployOptions, deploy
from ticketing_infra.follow import Follower
from ticketing_infra.progress import Progress
from ticketing_infra.rollout import DIGEST_TAG, Rollout, ServicePlan, TaskPlacement
from ticketing_infra.taskdefs import render

REGION = "eu-west-1"
ACCOUNT = "123456789012"
CLUSTER = "ticketing-cluster"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
SPECS = {spec.name: spec for spec in catalog.discover()}
PLACEMENT = TaskPlacement(CLUSTER, ["subnet-1", "subnet-2"], ["sg-1"])

NO_FRONTEND_BUILD = Path("/nonexistent/frontend/dist")


def arn(name: str, revision: int) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/ticketing-{name}:{revision}"


def task_arn(task_id: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{task_id}"


def client(service: str) -> Any:
    return botocore.session.get_session().create_client(
        service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )


@pytest.fixture
def ecs() -> Iterator[tuple[Any, Stubber]]:
    ecs = client("ecs")
    with Stubber(ecs) as stubber:
        yield ecs, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def logs() -> Iterator[tuple[Any, Stubber]]:
    logs = client("logs")
    with Stubber(logs) as stubber:
        yield logs, stubber
        stubber.assert_no_pending_responses()


class FakeAws:
    def __init__(self, ecs: Any, logs: Any = None) -> None:
        self.ecs = ecs
        self.logs = logs


def planned(name: str, *, new: int = 2) -> ServicePlan:
    """A service running revision 1, with revision `new` registered for the release."""
    spec = SPECS[name]
    image = f"{REGISTRY}/{spec.repository}:abc"
    values = catalog.placeholder_values(ACCOUNT, REGION, image)
    definition = render(spec.task_definition, values, lambda n: f"arn:aws:secretsmanager:::{n}")
    return ServicePlan(
        spec=spec,
        image=image,
        image_present=True,
        definition=definition,
        digest="new",
        service_exists=True,
        current_arn=arn(name, 1),
        current_digest="old",
        new_arn=arn(name, new),
    )


def deployment(
    id: str, revision_arn: str, status: str, state: str, reason: str = ""
) -> dict[str, Any]:
    item = {"id": id, "status": status, "taskDefinition": revision_arn, "rolloutState": state}
    if reason:
        item["rolloutStateReason"] = reason
    return item


def service(name: str, revision_arn: str, *deployments: dict[str, Any]) -> dict[str, Any]:
    return {
        "serviceName": name,
        "status": "ACTIVE",
        "taskDefinition": revision_arn,
        "desiredCount": 2,
        "runningCount": 2,
        "deployments": list(deployments),
    }


def expect_update(stubber: Stubber, name: str, to: int, deployment_id: str) -> None:
    stubber.add_response(
        "update_service",
        {
            "service": service(
                name,
                arn(name, to),
                deployment(deployment_id, arn(name, to), "PRIMARY", "IN_PROGRESS"),
                deployment(f"ecs-svc/{name}-before", arn(name, 1), "ACTIVE", "COMPLETED"),
            )
        },
        {"cluster": CLUSTER, "service": name, "taskDefinition": arn(name, to)},
    )


def expect_describe(stubber: Stubber, services: list[dict[str, Any]]) -> None:
    stubber.add_response(
        "describe_services",
        {"services": services, "failures": []},
        {"cluster": CLUSTER, "services": [s["serviceName"] for s in services]},
    )


def rollout(aws: FakeAws, out: io.StringIO, timeout_s: float = 1.0) -> Rollout:
    return Rollout(aws, PLACEMENT, Progress(9, out), poll_seconds=0.01, timeout_s=timeout_s)


def follower(aws: Any, out: io.StringIO, timeout_s: float = 1.0) -> Follower:
    return Follower(aws, PLACEMENT, Progress(9, out), poll_seconds=0.01, timeout_s=timeout_s)


def test_circuit_breaker_rollback_fails_the_release_and_everything_goes_back(
    ecs: tuple[Any, Stubber],
) -> None:
    client, stubber = ecs
    auth, booking = planned("auth"), planned("booking")
    out = io.StringIO()
    expect_update(stubber, "auth", 2, "ecs-svc/auth-new")
    expect_update(stubber, "booking", 2, "ecs-svc/booking-new")
    # Stable — but booking is stable because the circuit breaker put revision 1 back.
    settled = [
        service(
            "auth",
            arn("auth", 2),
            deployment("ecs-svc/auth-new", arn("auth", 2), "PRIMARY", "COMPLETED"),
        ),
        service(
            "booking",
            arn("booking", 1),
            deployment("ecs-svc/booking-rollback", arn("booking", 1), "PRIMARY", "COMPLETED"),
        ),
    ]
    expect_describe(stubber, settled)  # the first look: auth COMPLETED, booking's is gone

    steps = rollout(FakeAws(client), out)
    steps.update([auth, booking])
    watch = follower(FakeAws(client), out)
    outcome = watch.until_live([auth, booking])

    assert [p.name for p in outcome.failed] == ["booking"]
    assert "ok auth: :2 rolled out" in out.getvalue()
    assert "FAILED booking: rolloutState GONE: the deployment was replaced" in out.getvalue()

    # Roll back: auth moves to revision 1 again, booking is there already; then the release's
    # revisions are withdrawn so the families' latest ACTIVE revision is revision 1.
    expect_describe(stubber, settled)
    stubber.add_response(
        "update_service",
        {
            "service": service(
                "auth",
                arn("auth", 1),
                deployment("ecs-svc/auth-back", arn("auth", 1), "PRIMARY", "IN_PROGRESS"),
            )
        },
        {"cluster": CLUSTER, "service": "auth", "taskDefinition": arn("auth", 1)},
    )
    expect_describe(
        stubber,
        [
            service(
                "auth",
                arn("auth", 1),
                deployment("ecs-svc/auth-back", arn("auth", 1), "PRIMARY", "COMPLETED"),
            )
        ],
    )
    for name in ("auth", "booking"):
        stubber.add_response(
            "deregister_task_definition",
            {"taskDefinition": {"taskDefinitionArn": arn(name, 2), "status": "INACTIVE"}},
            {"taskDefinition": arn(name, 2)},
        )
    assert steps.rollback([auth, booking], watch) is True
    steps.deregister_new([auth, booking])
    text = out.getvalue()
    assert "auth: :2 -> :1" in text
    assert "booking: already back on :1" in text


def test_failed_deployment_still_listed_reports_the_circuit_breaker_reason(
    ecs: tuple[Any, Stubber],
) -> None:
    client, stubber = ecs
    booking = planned("booking")
    out = io.StringIO()
    expect_update(stubber, "booking", 2, "ecs-svc/booking-new")
    reason = "ECS deployment circuit breaker: tasks failed to start."
    rolling_back = [
        service(
            "booking",
            arn("booking", 1),
            deployment("ecs-svc/booking-back", arn("booking", 1), "PRIMARY", "IN_PROGRESS"),
            deployment("ecs-svc/booking-new", arn("booking", 2), "ACTIVE", "FAILED", reason),
        )
    ]
    expect_describe(stubber, rolling_back)

    rollout(FakeAws(client), out).update([booking])
    outcome = follower(FakeAws(client), out).until_live([booking])
    assert [p.name for p in outcome.failed] == ["booking"]
    assert f"FAILED booking: rolloutState FAILED: {reason}" in out.getvalue()


def test_deployment_that_never_settles_times_out(ecs: tuple[Any, Stubber]) -> None:
    client, stubber = ecs
    events = planned("events")
    out = io.StringIO()
    expect_update(stubber, "events", 2, "ecs-svc/events-new")
    stuck = [
        service(
            "events",
            arn("events", 2),
            deployment("ecs-svc/events-new", arn("events", 2), "PRIMARY", "IN_PROGRESS"),
            deployment("ecs-svc/events-before", arn("events", 1), "ACTIVE", "COMPLETED"),
        )
    ]
    expect_describe(stubber, stuck)

    rollout(FakeAws(client), out).update([events])
    outcome = follower(FakeAws(client), out, timeout_s=0).until_live([events])
    assert [p.name for p in outcome.failed] == ["events"]
    assert "FAILED events: not live within 0s" in out.getvalue()


# -- blue/green: ECS's service deployments ----------------------------------------------------

DEPLOYMENT_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-deployment/{CLUSTER}/api-gateway/sd-1"
REVISION_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-revision/{CLUSTER}/api-gateway/r-2"


def blue_green(name: str = "api-gateway") -> ServicePlan:
    plan = planned(name)
    plan.strategy = "BLUE_GREEN"
    return plan


def expect_found(stubber: Stubber, name: str = "api-gateway") -> None:
    """The service deployment update-service started, found by its target revision."""
    stubber.add_response(
        "list_service_deployments",
        {
            "serviceDeployments": [
                {
                    "serviceDeploymentArn": DEPLOYMENT_ARN,
                    "targetServiceRevisionArn": REVISION_ARN,
                    "status": "IN_PROGRESS",
                    "createdAt": datetime.now(UTC),
                }
            ]
        },
        {"cluster": CLUSTER, "service": name, "createdAt": {"after": ANY}},
    )
    stubber.add_response(
        "describe_service_revisions",
        {
            "serviceRevisions": [
                {"serviceRevisionArn": REVISION_ARN, "taskDefinition": arn(name, 2)}
            ],
            "failures": [],
        },
        {"serviceRevisionArns": [REVISION_ARN]},
    )


def expect_stage(stubber: Stubber, status: str, stage: str | None = None, **extra: Any) -> None:
    item: dict[str, Any] = {"serviceDeploymentArn": DEPLOYMENT_ARN, "status": status, **extra}
    if stage:
        item["lifecycleStage"] = stage
    stubber.add_response(
        "describe_service_deployments",
        {"serviceDeployments": [item], "failures": []},
        {"serviceDeploymentArns": [DEPLOYMENT_ARN]},
    )


def test_blue_green_deployment_is_followed_stage_by_stage_until_live(
    ecs: tuple[Any, Stubber],
) -> None:
    client, stubber = ecs
    gateway = blue_green()
    out = io.StringIO()
    expect_update(stubber, "api-gateway", 2, "ecs-svc/gateway-new")
    expect_found(stubber)
    green = {"arn": REVISION_ARN, "requestedTaskCount": 2, "pendingTaskCount": 1}
    expect_stage(
        stubber, "IN_PROGRESS", "SCALE_UP", targetServiceRevision={**green, "runningTaskCount": 1}
    )
    expect_stage(
        stubber,
        "IN_PROGRESS",
        "PRODUCTION_TRAFFIC_SHIFT",
        targetServiceRevision={**green, "runningTaskCount": 2},
    )
    expect_stage(stubber, "IN_PROGRESS", "BAKE_TIME")

    rollout(FakeAws(client), out).update([gateway])
    outcome = follower(FakeAws(client), out).until_live([gateway])

    assert outcome.failed == []
    text = out.getvalue()
    assert gateway.service_deployment_arn == DEPLOYMENT_ARN
    assert (
        text.index("api-gateway: starting green tasks (1/2 tasks)")
        < text.index("api-gateway: shifting production traffic to green (2/2 tasks)")
        < text.index("api-gateway: baking (blue kept for an instant rollback)")
        < text.index("ok api-gateway: :2 takes production traffic")
    )


def test_a_blue_green_deployment_the_circuit_breaker_rolls_back_is_a_failure(
    ecs: tuple[Any, Stubber],
) -> None:
    client, stubber = ecs
    gateway = blue_green()
    out = io.StringIO()
    expect_update(stubber, "api-gateway", 2, "ecs-svc/gateway-new")
    expect_found(stubber)
    expect_stage(
        stubber,
        "ROLLBACK_SUCCESSFUL",
        "CLEAN_UP",
        deploymentCircuitBreaker={"status": "TRIGGERED", "failureCount": 3, "threshold": 3},
        statusReason="tasks failed to start",
    )
    rollout(FakeAws(client), out).update([gateway])
    outcome = follower(FakeAws(client), out).until_live([gateway])
    assert outcome.failed == [gateway]
    assert (
        "FAILED api-gateway: ROLLBACK_SUCCESSFUL: circuit breaker (3 tasks failed); "
        "tasks failed to start"
    ) in out.getvalue()


def expect_migration(stubber: Stubber, name: str, task_id: str, exit_code: int) -> None:
    spec = SPECS[name]
    stubber.add_response(
        "run_task",
        {"tasks": [{"taskArn": task_arn(task_id), "lastStatus": "PROVISIONING"}], "failures": []},
        {
            "cluster": CLUSTER,
            "taskDefinition": arn(name, 2),
            "launchType": "FARGATE",
            "networkConfiguration": PLACEMENT.network(),
            "overrides": {"containerOverrides": [{"name": name, "command": spec.migrate_command}]},
            "startedBy": "ticketing-deploy",
            "count": 1,
        },
    )


def stopped_task(name: str, task_id: str, exit_code: int) -> dict[str, Any]:
    return {
        "taskArn": task_arn(task_id),
        "lastStatus": "STOPPED",
        "stoppedReason": "Essential container in task exited",
        "containers": [
            {"name": name, "exitCode": exit_code, "lastStatus": "STOPPED"},
            {"name": "adot-collector", "lastStatus": "STOPPED", "exitCode": 0},
        ],
    }


def test_failed_migration_is_reported_with_its_log_tail(
    ecs: tuple[Any, Stubber], logs: tuple[Any, Stubber]
) -> None:
    client, stubber = ecs
    logs_client, logs_stubber = logs
    auth, events = planned("auth"), planned("events")
    expect_migration(stubber, "auth", "t-auth", 0)
    expect_migration(stubber, "events", "t-events", 1)
    tasks = [stopped_task("auth", "t-auth", 0), stopped_task("events", "t-events", 1)]
    arns = [task_arn("t-auth"), task_arn("t-events")]
    for _ in range(2):  # the tasks_stopped waiter, then the exit code check
        stubber.add_response(
            "describe_tasks", {"tasks": tasks, "failures": []}, {"cluster": CLUSTER, "tasks": arns}
        )
    logs_stubber.add_response(
        "get_log_events",
        {"events": [{"message": 'alembic: relation "venues" already exists'}]},
        {
            "logGroupName": "/ecs/ticketing-events",
            "logStreamName": "ecs/events/t-events",
            "limit": 30,
            "startFromHead": False,
        },
    )
    out = io.StringIO()
    assert rollout(FakeAws(client, logs_client), out).migrate([auth, events]) is False
    text = out.getvalue()
    assert "ok auth: migrations applied" in text
    assert "FAILED events: migration exited 1 (Essential container in task exited)" in text
    assert '| alembic: relation "venues" already exists' in text


def test_migration_task_that_cannot_start_fails_the_step(ecs: tuple[Any, Stubber]) -> None:
    client, stubber = ecs
    stubber.add_response(
        "run_task", {"tasks": [], "failures": [{"arn": arn("auth", 2), "reason": "RESOURCE:ENI"}]}
    )
    out = io.StringIO()
    assert rollout(FakeAws(client), out).migrate([planned("auth")]) is False
    assert "auth: migration task did not start: RESOURCE:ENI" in out.getvalue()


# -- the whole `deploy`, with ECS stubbed and everything else on the moto server -------------


def current_revision(name: str, image_tag: str) -> dict[str, Any]:
    spec = SPECS[name]
    return {
        "taskDefinition": {
            "taskDefinitionArn": arn(name, 1),
            "family": spec.family,
            "revision": 1,
            "cpu": spec.task_definition["cpu"],
            "memory": spec.task_definition["memory"],
            "containerDefinitions": [
                {
                    "name": name,
                    "image": f"{REGISTRY}/{spec.repository}:{image_tag}",
                }
            ],
        },
        "tags": [{"key": DIGEST_TAG, "value": "digest-of-revision-1"}],
    }


def expect_plan(stubber: Stubber, name: str, strategy: str | None = None) -> None:
    running = service(name, arn(name, 1), deployment("d-1", arn(name, 1), "PRIMARY", "COMPLETED"))
    if strategy:  # what TicketingServices configures
        running["deploymentConfiguration"] = {"strategy": strategy, "bakeTimeInMinutes": 10}
    expect_describe(stubber, [running])
    stubber.add_response(
        "describe_task_definition",
        current_revision(name, "old"),
        {"taskDefinition": arn(name, 1), "include": ["TAGS"]},
    )
    stubber.add_response(
        "register_task_definition",
        {"taskDefinition": {"taskDefinitionArn": arn(name, 2), "revision": 2}},
    )


def stub_ecs(aws: Any, ecs: Any) -> None:
    aws._clients[("ecs", aws.region)] = ecs


def push_image(aws: Any, name: str, tag: str) -> None:
    aws.ecr.put_image(
        repositoryName=SPECS[name].repository,
        imageManifest=json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {},
                "layers": [],
            }
        ),
        imageTag=tag,
    )


def test_release_that_fails_to_migrate_moves_no_service(
    aws: Any, platform: dict[str, Any], ecs: tuple[Any, Stubber]
) -> None:
    client, stubber = ecs
    push_image(aws, "auth", "abc")
    stub_ecs(aws, client)
    expect_plan(stubber, "auth")
    stubber.add_response("run_task", {"tasks": [{"taskArn": task_arn("t-1")}], "failures": []})
    for _ in range(2):
        stubber.add_response(
            "describe_tasks", {"tasks": [stopped_task("auth", "t-1", 3)], "failures": []}
        )
    stubber.add_response(
        "deregister_task_definition",
        {"taskDefinition": {"taskDefinitionArn": arn("auth", 2), "status": "INACTIVE"}},
        {"taskDefinition": arn("auth", 2)},
    )  # and no update_service: the Stubber refuses calls it was not told about
    out = io.StringIO()
    options = DeployOptions(
        tag="abc",
        services=["auth"],
        poll_seconds=0.01,
        timeout_s=1,
        frontend_build=NO_FRONTEND_BUILD,  # whether frontend/dist exists here is not the point
    )

    assert deploy(aws, options, Progress(9, out)) == 1
    text = out.getvalue()
    assert "auth: image 1111111" not in text
    assert "auth: image old -> abc" in text
    assert "FAILED auth: migration exited 3" in text
    assert "(no logs: ResourceNotFoundException)" in text  # the stream never got a line
    assert "migrations failed: no service was updated" in text


def test_release_whose_rollout_fails_is_rolled_back(
    aws: Any, platform: dict[str, Any], ecs: tuple[Any, Stubber]
) -> None:
    client, stubber = ecs
    push_image(aws, "booking", "abc")  # booking owns no SQL database: no migration
    stub_ecs(aws, client)
    expect_plan(stubber, "booking")
    expect_update(stubber, "booking", 2, "ecs-svc/booking-new")
    back = [
        service(
            "booking",
            arn("booking", 1),
            deployment("ecs-svc/booking-rollback", arn("booking", 1), "PRIMARY", "COMPLETED"),
        )
    ]
    for _ in range(2):  # the rollout followed (the circuit breaker put :1 back), rollback check
        expect_describe(stubber, back)
    stubber.add_response(
        "deregister_task_definition",
        {"taskDefinition": {"taskDefinitionArn": arn("booking", 2), "status": "INACTIVE"}},
        {"taskDefinition": arn("booking", 2)},
    )
    out = io.StringIO()
    options = DeployOptions(
        tag="abc",
        services=["booking"],
        poll_seconds=0.01,
        timeout_s=1,
        frontend_build=NO_FRONTEND_BUILD,  # whether frontend/dist exists here is not the point
    )

    assert deploy(aws, options, Progress(9, out)) == 1
    text = out.getvalue()
    assert text.index("[1/9] Plan") < text.index("[5/9] Services") < text.index("rolling back")
    assert "booking: already back on :1" in text
    assert "deregistered ticketing-booking:2" in text
    assert "[6/9]" not in text  # nothing after a failed rollout
    assert text.rstrip().endswith(
        "verdict: release abc FAILED (rollout failed (booking)); rolled back"
    )


# -- whole releases of the blue/green gateway (ECS stubbed, the rest on moto, the API real HTTP)


def gateway_release(aws: Any, stubber: Stubber, client: Any) -> None:
    """Plan, registration, update and the follow until green takes production traffic."""
    push_image(aws, "api-gateway", "abc")
    stub_ecs(aws, client)
    expect_plan(stubber, "api-gateway", "BLUE_GREEN")
    expect_update(stubber, "api-gateway", 2, "ecs-svc/gateway-new")
    expect_found(stubber)
    expect_stage(stubber, "IN_PROGRESS", "BAKE_TIME")


def release(aws: Any, out: io.StringIO, bake_s: float) -> int:
    options = DeployOptions(
        tag="abc",
        services=["api-gateway"],
        poll_seconds=0.01,
        timeout_s=5,
        bake_s=bake_s,
        frontend_build=NO_FRONTEND_BUILD,
    )
    return deploy(aws, options, Progress(9, out))


def expect_withdrawn(stubber: Stubber) -> None:
    stubber.add_response(
        "deregister_task_definition",
        {"taskDefinition": {"taskDefinitionArn": arn("api-gateway", 2), "status": "INACTIVE"}},
        {"taskDefinition": arn("api-gateway", 2)},
    )


def test_blue_green_release_bakes_then_succeeds(
    aws: Any, platform: dict[str, Any], ecs: tuple[Any, Stubber]
) -> None:
    client, stubber = ecs
    gateway_release(aws, stubber, client)
    expect_stage(stubber, "SUCCESSFUL", "CLEAN_UP")  # the bake: ECS finished it
    out = io.StringIO()
    assert release(aws, out, bake_s=0) == 0
    text = out.getvalue()
    assert "roll out, new revision: blue/green, bake 10 min" in text
    assert "ok api-gateway: :2 takes production traffic" in text
    assert text.index("takes production traffic") < text.index("[6/9] Smoke")
    assert "ok /status operational" in text
    assert "ok api-gateway: bake done, blue removed" in text
    assert text.rstrip().endswith(
        "verdict: released abc (blue/green: api-gateway; smoke passed, bake passed)"
    )


def test_an_alarm_during_the_bake_has_ecs_shift_back_to_blue_and_the_release_fails(
    aws: Any, platform: dict[str, Any], ecs: tuple[Any, Stubber]
) -> None:
    client, stubber = ecs
    gateway_release(aws, stubber, client)
    # In the bake, ECS saw the 5xx-rate alarm fire and is shifting production back to blue.
    triggered = {
        "status": "TRIGGERED",
        "alarmNames": list(catalog.DEPLOYMENT_ALARMS),
        "triggeredAlarmNames": ["ticketing-api-gateway-5xx-rate"],
    }
    expect_stage(stubber, "ROLLBACK_IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", alarms=triggered)
    # The rollback: ECS is on it already (nothing to stop); wait until it is done.
    expect_stage(stubber, "ROLLBACK_IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", alarms=triggered)
    expect_stage(stubber, "ROLLBACK_SUCCESSFUL", "CLEAN_UP", alarms=triggered)
    expect_withdrawn(stubber)  # and no update_service, no stop: the Stubber refuses them
    out = io.StringIO()
    assert release(aws, out, bake_s=600) == 1  # the alarm ends the bake, not its 10 minutes
    text = out.getvalue()
    assert "FAILED api-gateway: ROLLBACK_IN_PROGRESS: alarm ticketing-api-gateway-5xx-rate" in text
    assert "api-gateway: rolling back to blue (production traffic shift)" in text
    assert (
        text.index("[7/9] Bake")
        < text.index("ROLLBACK_IN_PROGRESS")
        < text.index("bake failed (api-gateway): rolling back")
    )
    assert "ok api-gateway: back on :1" in text
    assert "deregistered ticketing-api-gateway:2" in text
    assert text.rstrip().endswith(
        "verdict: release abc FAILED (bake failed (api-gateway)); rolled back"
    )


def test_a_failed_smoke_stops_the_baking_deployment_back_to_blue(
    aws: Any, platform: dict[str, Any], production_api: Any, ecs: tuple[Any, Stubber]
) -> None:
    client, stubber = ecs
    production_api.failing = {"/api/v1/bookings/tickets/public-key"}
    gateway_release(aws, stubber, client)
    # Green takes production traffic and bakes; the smoke fails: blue is still up, so ECS is
    # asked to stop the deployment with ROLLBACK (traffic straight back to blue).
    expect_stage(stubber, "IN_PROGRESS", "BAKE_TIME")
    stubber.add_response(
        "stop_service_deployment",
        {"serviceDeploymentArn": DEPLOYMENT_ARN},
        {"serviceDeploymentArn": DEPLOYMENT_ARN, "stopType": "ROLLBACK"},
    )
    expect_stage(stubber, "ROLLBACK_IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT")
    expect_stage(stubber, "ROLLBACK_SUCCESSFUL", "CLEAN_UP")
    expect_withdrawn(stubber)
    out = io.StringIO()
    assert release(aws, out, bake_s=600) == 1
    text = out.getvalue()
    assert "FAILED GET /api/v1/bookings/tickets/public-key: 503" in text
    assert "api-gateway: traffic back to blue (:1)" in text
    assert "ok api-gateway: back on :1" in text
    assert "[7/9] Bake" not in text
    assert text.rstrip().endswith(
        "verdict: release abc FAILED (production smoke failed); rolled back"
    )
