"""On-demand backups on top of the automatic ones (RDS: 7 days of automated backups;
DynamoDB: point-in-time recovery): an RDS snapshot and a DynamoDB backup, named by date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ticketing_infra import catalog


@dataclass(frozen=True)
class Backups:
    rds_snapshot: str
    dynamodb_backup_arn: str


def take_backups(aws: Any, now: datetime | None = None) -> Backups:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    snapshot = f"{catalog.DB_INSTANCE_ID}-{stamp}"
    aws.client("rds").create_db_snapshot(
        DBInstanceIdentifier=catalog.DB_INSTANCE_ID, DBSnapshotIdentifier=snapshot
    )
    backup = aws.client("dynamodb").create_backup(
        TableName=catalog.BOOKINGS_TABLE, BackupName=f"{catalog.BOOKINGS_TABLE}-{stamp}"
    )
    return Backups(snapshot, backup["BackupDetails"]["BackupArn"])
