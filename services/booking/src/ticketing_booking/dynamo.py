"""DynamoDB access, in one module: the table's definition and indexes, its setup command
(aioboto3), the client resource the service's requests use (dynamo_http: the same protocol
without aiobotocore's per-call cost), attribute-value conversion and page cursors.

The table is the seed's `ticketing-bookings` (hash key `booking_id`; GSIs `user-index` and
`event-index`; streams with new and old images). Besides bookings it holds the items that make
the saga durable, each keyed by a prefix in `booking_id` (see store.py).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import zlib
from decimal import Decimal
from typing import Any

import aioboto3
import orjson
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from ticketing_common.errors import InvalidCursor
from ticketing_common.http1 import Http1Client, Timeout
from ticketing_common.resources import Resource

from ticketing_booking.dynamo_http import Credentials, DynamoHttp
from ticketing_booking.settings import BookingSettings

log = logging.getLogger(__name__)

USER_INDEX = "user-index"  # bookings by user_id
EVENT_INDEX = "event-index"  # bookings by event_id, and reserved partitions (outbox, deadlines)
TABLE_DEFINITION: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": "booking_id", "AttributeType": "S"},
        {"AttributeName": "user_id", "AttributeType": "S"},
        {"AttributeName": "event_id", "AttributeType": "S"},
    ],
    "KeySchema": [{"AttributeName": "booking_id", "KeyType": "HASH"}],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": USER_INDEX,
            "KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        },
        {
            "IndexName": EVENT_INDEX,
            "KeySchema": [{"AttributeName": "event_id", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        },
    ],
    "BillingMode": "PAY_PER_REQUEST",
    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
}


def session_arguments(settings: BookingSettings) -> dict[str, Any]:
    arguments: dict[str, Any] = {"region_name": settings.aws_region}
    if settings.dynamodb_endpoint_url:
        arguments["endpoint_url"] = settings.dynamodb_endpoint_url
    if settings.aws_access_key_id and settings.aws_secret_access_key:
        arguments["aws_access_key_id"] = settings.aws_access_key_id
        arguments["aws_secret_access_key"] = settings.aws_secret_access_key.get_secret_value()
    return arguments


class DynamoDB(Resource):
    name = "dynamodb"

    def __init__(self, settings: BookingSettings) -> None:
        self.table = settings.dynamodb_table
        self.endpoint = (
            settings.dynamodb_endpoint_url
            or f"https://dynamodb.{settings.aws_region}.amazonaws.com"
        )
        self.region = settings.aws_region
        secret = settings.aws_secret_access_key
        self.credentials = Credentials(
            settings.aws_access_key_id, secret.get_secret_value() if secret else None
        )
        self.pool_size = settings.dynamodb_pool_size
        self.timeouts = Timeout(settings.dynamodb_timeout_s, min(2.0, settings.dynamodb_timeout_s))
        self._connections: Http1Client | None = None
        self._client: DynamoHttp | None = None

    @property
    def client(self) -> DynamoHttp:
        if self._client is None:
            raise RuntimeError("dynamodb is not started")
        return self._client

    async def start(self) -> None:
        # Idle connections reused for 15 s, as aiohttp's connector did here; a request on one
        # DynamoDB closed meanwhile is retried, as a lost connection is (dynamo_http).
        self._connections = Http1Client(limit_per_origin=self.pool_size, keepalive_s=15.0)
        self._client = DynamoHttp(
            self._connections, self.endpoint, self.region, self.credentials, self.timeouts
        )

    async def stop(self) -> None:
        if self._connections is not None:
            self._connections.close()

    async def check(self) -> None:
        await self.client.describe_table(TableName=self.table)


async def create_table(settings: BookingSettings, timeout_s: float = 120.0) -> bool:
    """Create the table if it does not exist and wait until it is active. Safe to re-run.
    Returns whether it was created now."""
    async with aioboto3.Session().client("dynamodb", **session_arguments(settings)) as client:
        created = False
        try:
            await client.create_table(TableName=settings.dynamodb_table, **TABLE_DEFINITION)
            created = True
            log.info("created table", extra={"table": settings.dynamodb_table})
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
            log.info("table exists", extra={"table": settings.dynamodb_table})
        waited = 0.0
        while True:
            table = (await client.describe_table(TableName=settings.dynamodb_table))["Table"]
            indexes = table.get("GlobalSecondaryIndexes", [])
            if table["TableStatus"] == "ACTIVE" and all(
                index.get("IndexStatus", "ACTIVE") == "ACTIVE" for index in indexes
            ):
                return created
            if waited > timeout_s:
                raise TimeoutError(f"table {settings.dynamodb_table} did not become active")
            await asyncio.sleep(1.0)
            waited += 1.0


serializer = TypeSerializer()
deserializer = TypeDeserializer()


# DynamoDB's attribute values for the types booking stores, converted directly: boto3's
# TypeSerializer/TypeDeserializer (still used for anything else: sets, binary) cost a list of 20
# bookings ~0.3 ms of CPU, more than the rest of the request. Same results as boto3's.


def _attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):  # before int: a bool is an int
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, list):
        return {"L": [_attribute(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {k: _attribute(v) for k, v in value.items()}}
    serialized: dict[str, Any] = serializer.serialize(value)
    return serialized


def _plain(attribute: dict[str, Any]) -> Any:
    ((kind, raw),) = attribute.items()
    if kind == "S":
        return raw
    if kind == "N":
        return Decimal(raw)
    if kind == "BOOL":
        return raw
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: _plain(v) for k, v in raw.items()}
    if kind == "L":
        return [_plain(v) for v in raw]
    return deserializer.deserialize(attribute)


def to_attributes(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _attribute(value) for key, value in item.items()}


def from_attributes(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _plain(value) for key, value in item.items()}


def shard_of(key: str, shards: int) -> int:
    return zlib.crc32(key.encode()) % shards


def encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode()


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise InvalidCursor(cursor) from exc
    if not isinstance(key, dict):
        raise InvalidCursor(cursor)
    return key
