"""`ticketing-infra deploy` end to end against a real moto server process (ECR, ECS, CloudWatch
Logs, Secrets Manager, SSM, STS, EC2; S3 and CloudFront for the frontend; RDS and DynamoDB for
backups). moto's ECS completes every deployment, so this is the path where everything works; the
failure branches are in test_deploy_failures.py."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fake_api import FakeApi
from ticketing_infra import catalog
from ticketing_infra.aws import Aws
from ticketing_infra.backup import take_backups

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's
SERVICES = catalog.discover()


def registry_log(path: str) -> list[list[str]]:
    log = Path(path)
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def revisions(aws: Aws, spec: catalog.ServiceSpec) -> list[str]:
    arns: list[str] = aws.ecs.list_task_definitions(familyPrefix=spec.family, status="ACTIVE")[
        "taskDefinitionArns"
    ]
    return arns


def migration_tasks(aws: Aws) -> dict[str, list[str]]:
    arns = aws.ecs.list_tasks(cluster="ticketing-cluster", startedBy="ticketing-deploy")["taskArns"]
    if not arns:
        return {}
    tasks = aws.ecs.describe_tasks(cluster="ticketing-cluster", tasks=arns)["tasks"]
    return {
        t["overrides"]["containerOverrides"][0]["name"]: t["overrides"]["containerOverrides"][0][
            "command"
        ]
        for t in tasks
    }


def test_first_install_then_release_then_nothing_to_do(
    aws: Aws,
    platform: dict[str, Any],
    production_api: FakeApi,
    create_services: Callable[[], None],
    run_deploy: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    log_path = os.environ["FAKE_REGISTRY_LOG"]

    # First install: no services yet (TicketingServices needs the families to exist), so no
    # API to check either.
    assert run_deploy("1111111") == 0
    out = capsys.readouterr().out
    assert "nothing rolled out: no smoke" in out
    assert production_api.requests == []
    assert out.index("[1/9] Plan") < out.index("build + push") < out.index("[2/9] Images")
    assert out.count("register only (service not created yet)") == len(SERVICES)
    built = registry_log(log_path)
    assert sorted(entry[1].rsplit("/", 1)[1] for entry in built if entry[0] == "build") == sorted(
        f"{spec.name}:1111111" for spec in SERVICES
    )
    # One Dockerfile; the service it builds is named by the build argument.
    assert all(
        entry[2] == str(catalog.REPO_ROOT / "Dockerfile")
        and entry[4] == entry[1].split("/")[-1].split(":")[0]
        for entry in built
        if entry[0] == "build"
    )
    secret_arns = {
        s["Name"]: s["ARN"] for s in aws.client("secretsmanager").list_secrets()["SecretList"]
    }
    for spec in SERVICES:
        [arn] = revisions(aws, spec)
        definition = aws.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        app = next(c for c in definition["containerDefinitions"] if c["name"] == spec.name)
        assert app["image"] == (
            f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/ticketing/{spec.name}:1111111"
        )
        for secret in app["secrets"]:  # names resolved to full ARNs
            assert secret["valueFrom"] in secret_arns.values()
        assert (
            definition["executionRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/ticketing-ecs-execution"
        )
    assert migration_tasks(aws) == {
        spec.name: ["python", "-m", spec.package, "migrate"]
        for spec in SERVICES
        if spec.owns_database
    }

    # `cdk deploy TicketingServices`, then the next release rolls every service forward.
    create_services()
    assert run_deploy("2222222") == 0
    out = capsys.readouterr().out
    assert out.count("roll out, new revision") == len(SERVICES)
    assert "auth: image 1111111 -> 2222222" in out
    for spec in SERVICES:
        [service] = aws.ecs.describe_services(cluster="ticketing-cluster", services=[spec.name])[
            "services"
        ]
        assert service["taskDefinition"].endswith(f"task-definition/{spec.family}:2")
        assert f"{spec.name}: :1 -> :2" in out
        assert f"ok {spec.name}: :2 rolled out" in out
    # The plan said how each service deploys: moto's services say nothing, so ECS rolls them;
    # the gateway's line says the CDK app wants blue/green for it.
    assert re.search(
        r"auth +image: build \+ push; roll out, new revision: rolling, circuit breaker\n", out
    )
    assert re.search(
        r"api-gateway +image: build \+ push; roll out, new revision: rolling, circuit breaker "
        r"\(the CDK app declares blue/green: `cdk deploy TicketingServices` first\)\n",
        out,
    )
    assert f"after the rollout: smoke against {platform['api_url']}" in out
    # The smoke ran against the API, each read past any cache, and passed.
    for line in (
        "ok /status operational (2 services ready)",
        "ok /api/v1/events lists 3 events (2 on sale)",
        "ok /api/v1/search/events?q=Midnight finds 1",
        "ok /api/v1/auth/jwks publishes 1 key(s)",
        "ok /api/v1/bookings/tickets/public-key: Ed25519 key t1",
        "ok bake passed: no alarm fired",
        "the API answered without a CDN in front: nothing to warm",
    ):
        assert line in out
    assert out.index("[5/9] Services") < out.index("[6/9] Smoke") < out.index("[7/9] Bake")
    assert production_api.paths() == [
        "/status",
        "/api/v1/events",
        "/api/v1/search/events",
        "/api/v1/auth/jwks",
        "/api/v1/bookings/tickets/public-key",
    ]
    for request in production_api.requests:
        assert len(request.query["smoke"][0]) == 12
        assert request.headers["Cache-Control"] == "no-cache"
    assert out.rstrip().endswith(
        "verdict: released 2222222 (rolling: "
        + ", ".join(spec.name for spec in SERVICES)
        + "; smoke passed, bake passed)"
    )

    # The same release again: nothing to build, register, roll out or check.
    before = len(registry_log(log_path))
    production_api.requests.clear()
    assert run_deploy("2222222") == 0
    out = capsys.readouterr().out
    assert out.count("unchanged") == len(SERVICES)
    assert "nothing rolled out: no smoke" in out
    assert production_api.requests == []
    assert len(registry_log(log_path)) == before
    assert all(len(revisions(aws, spec)) == 2 for spec in SERVICES)


def test_dry_run_changes_nothing(
    aws: Aws,
    platform: dict[str, Any],
    run_deploy: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_deploy("3333333", "--dry-run", "--service", "auth") == 0
    out = capsys.readouterr().out
    assert "auth" in out
    assert "build + push" in out
    assert "migrations: auth" in out
    assert "booking" not in out  # only the service asked for
    assert "dry run: nothing changed" in out
    assert registry_log(os.environ["FAKE_REGISTRY_LOG"]) == []
    assert all(revisions(aws, spec) == [] for spec in SERVICES)


def test_missing_secret_stops_before_anything_changes(
    aws: Aws,
    platform: dict[str, Any],
    run_deploy: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    aws.client("secretsmanager").delete_secret(
        SecretId="ticketing/payment/stripe-secret-key", ForceDeleteWithoutRecovery=True
    )
    assert run_deploy("4444444") == 2
    assert "secret ticketing/payment/stripe-secret-key does not exist" in capsys.readouterr().err
    assert all(revisions(aws, spec) == [] for spec in SERVICES)


def test_failed_build_stops_before_any_registration(
    aws: Aws,
    platform: dict[str, Any],
    run_deploy: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_REGISTRY_FAIL_BUILD", "booking:5555555")
    assert run_deploy("5555555") == 2
    err = capsys.readouterr().err
    assert "exited 1" in err
    assert "uv sync failed" in err
    assert all(revisions(aws, spec) == [] for spec in SERVICES)


def test_frontend_is_published_with_cache_headers_and_invalidated(
    aws: Aws, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ticketing_infra import frontend
    from ticketing_infra.progress import Progress

    s3 = aws.client("s3")
    s3.create_bucket(Bucket="frontend", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="frontend", Key="assets/old-1a2b.js", Body=b"old")
    cloudfront = aws.client("cloudfront")
    distribution = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "test",
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "s3",
                        "DomainName": "frontend.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "s3",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
            },
        }
    )["Distribution"]["Id"]
    build = tmp_path / "dist"
    (build / "assets").mkdir(parents=True)
    (build / "index.html").write_text("<script src='/assets/app-9f8e.js'></script>")
    (build / "assets" / "app-9f8e.js").write_text("console.log('hi')")

    (build / "config.json").write_text('{"apiBaseUrl": "http://localhost:8000"}')  # dev's

    config = frontend.web_config("https://api.ticketing-pro.com/", None)
    frontend.publish(s3, cloudfront, build, "frontend", distribution, Progress(6), config)

    # The environment's config, not the build's, cached like index.html (never for a year).
    published = s3.get_object(Bucket="frontend", Key="config.json")
    assert json.loads(published["Body"].read()) == {
        "apiBaseUrl": "https://api.ticketing-pro.com",
        "stripePublishableKey": None,
    }
    assert published["CacheControl"] == "max-age=300, public"
    assert published["ContentType"] == "application/json"
    index = s3.head_object(Bucket="frontend", Key="index.html")
    asset = s3.head_object(Bucket="frontend", Key="assets/app-9f8e.js")
    assert (index["CacheControl"], index["ContentType"]) == ("max-age=300, public", "text/html")
    assert asset["CacheControl"] == "max-age=31536000, public"
    assert asset["ContentType"] in {"text/javascript", "application/javascript"}
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="frontend")["Contents"]]
    # the stale asset is gone
    assert sorted(keys) == ["assets/app-9f8e.js", "config.json", "index.html"]
    invalidations = cloudfront.list_invalidations(DistributionId=distribution)
    assert invalidations["InvalidationList"]["Quantity"] == 1
    assert "invalidated /*" in capsys.readouterr().out


def test_backup_takes_an_rds_snapshot_and_a_dynamodb_backup(aws: Aws) -> None:
    rds = aws.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier="ticketing-postgres",
        DBInstanceClass="db.r6g.xlarge",
        Engine="postgres",
        MasterUsername="ticketing",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=100,
    )
    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(
        TableName="ticketing-bookings",
        KeySchema=[{"AttributeName": "booking_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "booking_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    backups = take_backups(aws, now=datetime(2026, 11, 26, 3, 0, tzinfo=UTC))
    assert backups.rds_snapshot == "ticketing-postgres-20261126-030000"
    snapshots = rds.describe_db_snapshots(
        DBInstanceIdentifier="ticketing-postgres", SnapshotType="manual"
    )["DBSnapshots"]
    assert [s["DBSnapshotIdentifier"] for s in snapshots] == [backups.rds_snapshot]
    listed = dynamodb.list_backups(TableName="ticketing-bookings")["BackupSummaries"]
    assert [b["BackupName"] for b in listed] == ["ticketing-bookings-20261126-030000"]
    assert listed[0]["BackupArn"] == backups.dynamodb_backup_arn


def test_unknown_service_is_refused(
    platform: dict[str, Any], run_deploy: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_deploy("6666666", "--service", "ticket-office") == 2
    assert "unknown service(s): ticket-office" in capsys.readouterr().err


# -- after the rollout: the smoke, the bake, the cache ---------------------------------------


# The gateway (the edge) and booking (internal, no migration): a release of both, kept small.
RELEASED = ("api-gateway", "booking")
ONLY_RELEASED = [arg for name in RELEASED for arg in ("--service", name)]


@pytest.fixture
def installed(
    platform: dict[str, Any],
    create_services: Callable[..., None],
    run_deploy: Callable[..., int],
    production_api: FakeApi,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., int]:
    """Revision 1 of the gateway and booking running; returns `deploy` of a release of both."""
    assert run_deploy("1111111", *ONLY_RELEASED) == 0
    create_services(RELEASED)
    capsys.readouterr()
    production_api.requests.clear()
    return lambda tag, *extra: run_deploy(tag, *ONLY_RELEASED, *extra)


def running_revisions(aws: Aws) -> dict[str, str]:
    found = aws.ecs.describe_services(cluster="ticketing-cluster", services=list(RELEASED))
    return {s["serviceName"]: s["taskDefinition"].rsplit(":", 1)[1] for s in found["services"]}


def assert_rolled_back(aws: Aws, out: str, tag: str, why: str) -> None:
    assert running_revisions(aws) == dict.fromkeys(RELEASED, "1")
    for spec in (s for s in SERVICES if s.name in RELEASED):
        # The release's revisions withdrawn: revision 1 is the latest again.
        assert [arn.rsplit(":", 1)[1] for arn in revisions(aws, spec)] == ["1"]
        assert f"{spec.name}: :2 -> :1" in out
        assert f"deregistered ticketing-{spec.name}:2" in out
    assert out.rstrip().endswith(f"verdict: release {tag} FAILED ({why}); rolled back")
    assert "[8/9] Frontend" not in out


def test_an_alarm_that_fires_during_the_bake_rolls_the_release_back(
    aws: Aws,
    installed: Callable[..., int],
    production_api: FakeApi,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cloudwatch = aws.client("cloudwatch")
    alarm = catalog.DEPLOYMENT_ALARMS[0]

    def fire_after_the_smoke(request: Any) -> None:
        # The last smoke check has been answered: the bake is about to begin. The edge's 5xx
        # rate crosses its threshold a moment into it.
        if request.path == "/api/v1/bookings/tickets/public-key":

            def fire() -> None:
                time.sleep(0.5)
                cloudwatch.set_alarm_state(
                    AlarmName=alarm,
                    StateValue="ALARM",
                    StateReason="Threshold Crossed: 2 datapoints [4.2, 3.9] > 1.0",
                )

            threading.Thread(target=fire).start()

    production_api.on_request = fire_after_the_smoke
    started = time.monotonic()
    assert installed("2222222", "--bake-minutes", "1") == 1
    assert time.monotonic() - started < 40  # the alarm ended the bake, not its minute
    out = capsys.readouterr().out
    assert "watching ticketing-api-gateway-5xx-rate, ticketing-api-gateway-p99-latency" in out
    assert f"FAILED alarm {alarm}: Threshold Crossed: 2 datapoints [4.2, 3.9] > 1.0" in out
    assert out.index("[7/9] Bake") < out.index("bake failed") < out.index("rolling back")
    assert_rolled_back(aws, out, "2222222", "bake failed (api-gateway, booking)")


def test_an_alarm_already_firing_when_the_bake_starts_does_not_fail_it(
    aws: Aws,
    installed: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The release that fixes an ongoing incident must not be rolled back for that incident.
    aws.client("cloudwatch").set_alarm_state(
        AlarmName=catalog.DEPLOYMENT_ALARMS[1], StateValue="ALARM", StateReason="p99 2.1 s"
    )
    assert installed("2222222", "--bake-minutes", "0.02") == 0
    assert "verdict: released 2222222" in capsys.readouterr().out


def test_a_failing_smoke_rolls_the_release_back(
    aws: Aws,
    installed: Callable[..., int],
    production_api: FakeApi,
    capsys: pytest.CaptureFixture[str],
) -> None:
    production_api.status = "degraded"  # search does not come up on the new release
    assert installed("2222222") == 1
    out = capsys.readouterr().out
    assert "FAILED /status is 'degraded', not operational (not ready: search unreachable)" in out
    assert production_api.paths() == ["/status"]  # the first failure ends the smoke
    assert "[7/9] Bake" not in out
    assert_rolled_back(aws, out, "2222222", "production smoke failed")


def test_a_smoke_check_that_keeps_failing_is_retried_then_fails(
    aws: Aws,
    installed: Callable[..., int],
    production_api: FakeApi,
    capsys: pytest.CaptureFixture[str],
) -> None:
    production_api.failing = {"/api/v1/auth/jwks"}
    assert installed("2222222") == 1
    out = capsys.readouterr().out
    assert "FAILED GET /api/v1/auth/jwks: 503" in out
    assert "(after 3 attempts)" in out
    assert production_api.paths().count("/api/v1/auth/jwks") == 3
    assert_rolled_back(aws, out, "2222222", "production smoke failed")


def test_behind_a_cdn_the_event_list_and_on_sale_layouts_are_warmed(
    installed: Callable[..., int],
    production_api: FakeApi,
    capsys: pytest.CaptureFixture[str],
) -> None:
    production_api.cdn = True
    production_api.layouts = False  # a release whose API has no layout endpoint (yet)
    assert installed("2222222") == 0
    out = capsys.readouterr().out
    warmed = [r for r in production_api.requests if "smoke" not in r.query]
    # Exactly what buyers ask for first, through the CDN and without cache-busting; only the
    # on-sale events (evt-3 is cancelled).
    assert [r.path for r in warmed] == [
        "/api/v1/events",
        "/api/v1/events/evt-1",
        "/api/v1/events/evt-1/layout",
        "/api/v1/events/evt-2",
        "/api/v1/events/evt-2/layout",
    ]
    assert all("Cache-Control" not in r.headers for r in warmed)
    assert f"CloudFront in front of {production_api.url}" in out
    assert "ok warmed 3 of 5 paths through the CDN" in out
    assert "skipped /api/v1/events/evt-1/layout: 404" in out
    assert "verdict: released 2222222" in out


def test_warm_up_list() -> None:
    from ticketing_infra.warmup import MAX_EVENTS, warm_up_paths

    assert warm_up_paths([]) == ["/api/v1/events"]
    assert warm_up_paths(["a", "b", "a"]) == [
        "/api/v1/events",
        "/api/v1/events/a",
        "/api/v1/events/a/layout",
        "/api/v1/events/b",
        "/api/v1/events/b/layout",
    ]
    assert len(warm_up_paths([f"e{i}" for i in range(200)])) == 1 + 2 * MAX_EVENTS


def test_the_plan_warns_when_the_bake_would_watch_missing_alarms(
    aws: Aws,
    installed: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    aws.client("cloudwatch").delete_alarms(AlarmNames=[catalog.DEPLOYMENT_ALARMS[1]])
    assert installed("2222222", "--dry-run") == 0
    assert (
        f"WARNING: alarm(s) {catalog.DEPLOYMENT_ALARMS[1]} do not exist: the bake cannot see "
        "them fire (`cdk deploy TicketingServices` creates them)"
    ) in capsys.readouterr().out


def test_the_smoke_runs_on_its_own(
    production_api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    from ticketing_infra.cli import main

    assert main(["smoke", "--api-url", production_api.url]) == 0
    assert capsys.readouterr().out.rstrip().endswith("smoke passed")
    production_api.status = "outage"
    assert main(["smoke", "--api-url", production_api.url]) == 1
    out = capsys.readouterr().out
    assert "FAILED /status is 'outage', not operational" in out
    assert out.rstrip().endswith("smoke FAILED")
