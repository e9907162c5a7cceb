"""Shared by the deploy tests: a moto server process, clients pointed at it, the resources the
TicketingPlatform stack would have created, and a way to run `ticketing-infra deploy`."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# jsii warns on every start that Node 20 is past its end of life; the synth works the same.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's
FAKE_REGISTRY = Path(__file__).with_name("fake_registry.py")
sys.path.insert(0, str(Path(__file__).parent))  # the fakes beside this file
from fake_api import FakeApi, serve  # noqa: E402

CLUSTER = "ticketing-cluster"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer
    from ticketing_devkit.processes import free_port

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per AWS call
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Clients on a freshly reset moto server."""
    import requests
    from ticketing_infra.aws import Aws

    requests.post(f"{moto_url}/moto-api/reset", timeout=10)
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        # moto's ECS reports this many running tasks, so services are stable and deployments
        # COMPLETED (the server runs in this process, so it reads this environment).
        "MOTO_ECS_SERVICE_RUNNING": "2",
        "FAKE_REGISTRY_LOG": str(tmp_path / "registry.log"),
        "FAKE_REGISTRY_ECR": moto_url,
    }.items():
        monkeypatch.setenv(key, value)
    return Aws(region=REGION, endpoint_url=moto_url)


@pytest.fixture
def production_api() -> Iterator[FakeApi]:
    """The deployed API the smoke and the warm-up talk to (real HTTP on 127.0.0.1)."""
    api = FakeApi()
    server = serve(api)
    yield api
    server.shutdown()
    server.server_close()


@pytest.fixture
def platform(aws: Any, production_api: FakeApi) -> dict[str, Any]:
    """What the TicketingPlatform (and TicketingServices) stacks leave behind, as far as deploy
    is concerned; returns the deploy parameter's value (where tasks run, the API's URL)."""
    from ticketing_infra import catalog

    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # as the CDK VPC
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{az}")[
            "Subnet"
        ]["SubnetId"]
        for i, az in ((11, "a"), (12, "b"))
    ]
    group = ec2.create_security_group(GroupName="ticketing-ecs-sg", Description="tasks", VpcId=vpc)
    placement = {
        "cluster": CLUSTER,
        "subnets": subnets,
        "security_groups": [group["GroupId"]],
        "api_url": production_api.url,
    }
    aws.ecs.create_cluster(clusterName=CLUSTER)
    aws.client("ssm").put_parameter(
        Name=catalog.DEPLOY_PARAMETER, Value=json.dumps(placement), Type="String"
    )
    services = catalog.discover()
    secrets = aws.client("secretsmanager")
    for name in sorted({n for spec in services for n in spec.secret_names}):
        secrets.create_secret(Name=name, SecretString="value-set-by-the-platform")
    for spec in services:
        aws.ecr.create_repository(repositoryName=spec.repository)
        aws.logs.create_log_group(logGroupName=spec.log_group)
    for alarm in catalog.DEPLOYMENT_ALARMS:  # TicketingServices' edge alarms, quiet
        aws.client("cloudwatch").put_metric_alarm(
            AlarmName=alarm,
            Namespace="AWS/ApplicationELB",
            MetricName="HTTPCode_Target_5XX_Count",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=2,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
    return placement


@pytest.fixture
def create_services(aws: Any, platform: dict[str, Any]) -> Callable[..., None]:
    """What `cdk deploy TicketingServices` does: services that name their family only."""
    from ticketing_infra import catalog

    def create(names: tuple[str, ...] = ()) -> None:
        for spec in catalog.discover():
            if names and spec.name not in names:
                continue
            aws.ecs.create_service(
                cluster=CLUSTER,
                serviceName=spec.name,
                taskDefinition=spec.family,
                desiredCount=2,
                launchType="FARGATE",
                networkConfiguration={
                    "awsvpcConfiguration": {
                        "subnets": platform["subnets"],
                        "securityGroups": platform["security_groups"],
                    }
                },
                deploymentConfiguration={
                    "deploymentCircuitBreaker": {"enable": True, "rollback": True}
                },
            )

    return create


@pytest.fixture
def run_deploy(aws: Any) -> Callable[..., int]:
    """`ticketing-infra deploy --tag TAG ...` with the fake registry as builder."""
    from ticketing_infra.cli import main

    def run(tag: str, *extra: str) -> int:
        fake = f"{sys.executable} {FAKE_REGISTRY}"
        return main(
            [
                "--region",
                REGION,
                "--endpoint-url",
                aws.endpoint_url,
                "deploy",
                "--tag",
                tag,
                "--build-command",
                f"{fake} build {{image}} {{dockerfile}} {{context}} {{service}}",
                "--push-command",
                f"{fake} push {{image}}",
                "--poll-seconds",
                "0.05",
                "--timeout-minutes",
                "1",
                "--frontend",
                "/nonexistent",
                "--bake-minutes",
                "0",
                *extra,
            ]
        )

    return run
