"""`ticketing-infra deploy` end to end against a real moto server process (ECR, ECS, CloudWatch
Logs, Secrets Manager, SSM, STS, EC2; S3 and CloudFront for the frontend; RDS and DynamoDB for
backups). moto's ECS completes every deployment, so this is the path where everything works; the
failure branches are in test_deploy_failures.py."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
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
    create_services: Callable[[], None],
    run_deploy: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    log_path = os.environ["FAKE_REGISTRY_LOG"]

    # First install: no services yet (TicketingServices needs the families to exist).
    assert run_deploy("1111111") == 0
    out = capsys.readouterr().out
    assert out.index("[1/6] Plan") < out.index("build + push") < out.index("[2/6] Images")
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
    assert "released 2222222" in out

    # The same release again: nothing to build, register or roll out.
    before = len(registry_log(log_path))
    assert run_deploy("2222222") == 0
    out = capsys.readouterr().out
    assert out.count("unchanged") == len(SERVICES)
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

    frontend.publish(s3, cloudfront, build, "frontend", distribution, Progress(6))

    index = s3.head_object(Bucket="frontend", Key="index.html")
    asset = s3.head_object(Bucket="frontend", Key="assets/app-9f8e.js")
    assert (index["CacheControl"], index["ContentType"]) == ("max-age=300, public", "text/html")
    assert asset["CacheControl"] == "max-age=31536000, public"
    assert asset["ContentType"] in {"text/javascript", "application/javascript"}
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="frontend")["Contents"]]
    assert sorted(keys) == ["assets/app-9f8e.js", "index.html"]  # the stale asset is gone
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
