"""The branches moto's ECS cannot reach (it neither creates nor fails deployments): a circuit
breaker that rolled a service back, a deployment that never settles, a migration that exits
non-zero. ECS is botocore's Stubber, which also checks every request and canned response
against the ECS model."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber
from ticketing_infra import catalog
from ticketing_infra.deploy import DeployOptions, deploy
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
    values = {"ACCOUNT_ID": ACCOUNT, "REGION": REGION, "IMAGE": image}
    definition = render(spec.task_definition, values, lambda n: f"arn:aws:secretsmanager:::{n}")
    return ServicePlan(
        spec=spec,
        image=image,
        image_present=True,
        definition=definition,
        digest="new",
        service_exists=True,
        current_arn=arn(name, 1),
        current_definition=None,
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
    return Rollout(aws, PLACEMENT, Progress(6, out), poll_seconds=0.01, timeout_s=timeout_s)


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
    expect_describe(stubber, settled)  # services_stable waiter: stable at the first look
    expect_describe(stubber, settled)  # the rolloutState check

    steps = rollout(FakeAws(client), out)
    steps.update([auth, booking])
    failed = steps.wait_and_verify([auth, booking])

    assert [p.name for p in failed] == ["booking"]
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
    assert steps.rollback([auth, booking]) is True
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
    for _ in range(2):  # the waiter polls twice (its MaxAttempts) and gives up: two deployments
        expect_describe(stubber, rolling_back)
    expect_describe(stubber, rolling_back)

    steps = rollout(FakeAws(client), out, timeout_s=0.02)
    steps.update([booking])
    assert [p.name for p in steps.wait_and_verify([booking])] == ["booking"]
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
    for _ in range(3):
        expect_describe(stubber, stuck)

    steps = rollout(FakeAws(client), out, timeout_s=0.02)
    steps.update([events])
    assert [p.name for p in steps.wait_and_verify([events])] == ["events"]
    assert "FAILED events: rolloutState IN_PROGRESS: not stable within 0s" in out.getvalue()


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
            {"name": "xray-daemon", "lastStatus": "STOPPED", "exitCode": 0},
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


def expect_plan(stubber: Stubber, name: str) -> None:
    expect_describe(
        stubber,
        [service(name, arn(name, 1), deployment("d-1", arn(name, 1), "PRIMARY", "COMPLETED"))],
    )
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

    assert deploy(aws, options, Progress(6, out)) == 1
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
    for _ in range(3):  # stable (after the circuit breaker), verify, rollback check
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

    assert deploy(aws, options, Progress(6, out)) == 1
    text = out.getvalue()
    assert text.index("[1/6] Plan") < text.index("[5/6] Services") < text.index("rolling back")
    assert "booking: already back on :1" in text
    assert "deregistered ticketing-booking:2" in text
    assert "[6/6]" not in text  # nothing after a failed rollout
