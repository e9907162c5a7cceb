"""DynamoDB's JSON protocol on long-lived keep-alive connections: the booking hot path's client.

Every booking request is DynamoDB calls, and through aiobotocore each cost about 2 ms of this
process's CPU (request serialisation through the service model, signing, the user agent,
response parsing; aiobotocore #1132). This client speaks the same protocol (a POST of the
operation's JSON with `X-Amz-Target`, SigV4-signed) with orjson and a signing key derived once a
day, on ticketing_common.http1's connections (aiohttp's client cost 3-4 times the CPU per call),
and answers the same shapes and errors as aiobotocore's client (botocore's `ClientError`),
so the store does not know which one it has. `bench/dynamodb_clients.py` measures the choice.

What botocore would do and this keeps: credentials from botocore's chain (the task role's, kept
fresh), a `ClientRequestToken` on every TransactWriteItems (a retried transaction is applied
once), retries of throttling, 5xx and lost connections with jittered back-off (botocore's
standard mode: 3 attempts). aioboto3 stays the SDK for everything else (table setup, backups,
deploy).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import time
import uuid
from typing import Any

import orjson
from aiobotocore.session import AioSession
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import ClientError
from ticketing_common.http1 import Http1Client, Origin, Timeout, UpstreamError

TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)
MAX_ATTEMPTS = 3


class Credentials:
    """Static keys (a local endpoint), or botocore's provider chain (AWS: the task role)."""

    def __init__(self, access_key: str | None = None, secret_key: str | None = None) -> None:
        self._static = ReadOnlyCredentials(access_key, secret_key, None) if access_key else None
        self._chain: Any = None

    async def current(self) -> ReadOnlyCredentials:
        if self._static is not None:
            return self._static
        if self._chain is None:
            self._chain = await AioSession().get_credentials()
            if self._chain is None:
                raise RuntimeError("no AWS credentials found for DynamoDB")
        frozen: ReadOnlyCredentials = await self._chain.get_frozen_credentials()
        return frozen


class Signer:
    """AWS Signature Version 4 for DynamoDB POSTs to `/` with no query string."""

    def __init__(self, region: str, host: str) -> None:
        self.region = region
        self.host = host
        self._keys: dict[tuple[str, str], bytes] = {}

    def _key(self, secret: str, day: str) -> bytes:
        key = self._keys.get((secret, day))
        if key is None:
            key = f"AWS4{secret}".encode()
            for part in (day, self.region, "dynamodb", "aws4_request"):
                key = hmac.digest(key, part.encode(), "sha256")
            self._keys = {(secret, day): key}  # one day's key at a time
        return key

    def headers(
        self, target: str, payload: bytes, credentials: ReadOnlyCredentials, now: float
    ) -> dict[str, str]:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        day = stamp[:8]
        headers = {
            "content-type": CONTENT_TYPE,
            "host": self.host,
            "x-amz-date": stamp,
            "x-amz-target": target,
        }
        if credentials.token:
            headers["x-amz-security-token"] = credentials.token
        names = sorted(headers)
        signed = ";".join(names)
        canonical = "POST\n/\n\n{}\n{}\n{}".format(
            "".join(f"{name}:{headers[name]}\n" for name in names),
            signed,
            hashlib.sha256(payload).hexdigest(),
        )
        scope = f"{day}/{self.region}/dynamodb/aws4_request"
        to_sign = (
            f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        )
        signature = hmac.digest(self._key(credentials.secret_key, day), to_sign.encode(), "sha256")
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature.hex()}"
        )
        del headers["host"]  # the client sends it from the origin; it was signed as the same value
        return headers


class DynamoHttp:
    """The DynamoDB operations booking uses, with aiobotocore's argument and answer shapes."""

    def __init__(
        self,
        client: Http1Client,
        endpoint: str,
        region: str,
        credentials: Credentials,
        timeouts: Timeout,
    ) -> None:
        self.client = client
        self.origin = Origin.of(endpoint)
        self.signer = Signer(region, self.origin.host_header)
        self.credentials = credentials
        self.timeouts = timeouts

    async def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = orjson.dumps(body)
        target = TARGET_PREFIX + operation
        for attempt in range(1, MAX_ATTEMPTS + 1):
            credentials = await self.credentials.current()
            headers = self.signer.headers(target, payload, credentials, time.time())
            try:
                reply = await self.client.request(
                    "POST", self.origin, "/", headers.items(), timeouts=self.timeouts, body=payload
                )
                try:
                    status, data = reply.status, await reply.read()
                finally:
                    reply.release()
            except (UpstreamError, TimeoutError):
                if attempt == MAX_ATTEMPTS:
                    raise
                await _back_off(attempt)
                continue
            if status == 200:
                answer: dict[str, Any] = orjson.loads(data)
                return answer
            error = _error(status, data)
            if attempt < MAX_ATTEMPTS and (
                status >= 500 or error["Error"]["Code"] in RETRYABLE_CODES
            ):
                await _back_off(attempt)
                continue
            raise ClientError(error, operation)
        raise AssertionError("unreachable")

    async def get_item(self, **arguments: Any) -> dict[str, Any]:
        return await self.call("GetItem", arguments)

    async def put_item(self, **arguments: Any) -> dict[str, Any]:
        return await self.call("PutItem", arguments)

    async def delete_item(self, **arguments: Any) -> dict[str, Any]:
        return await self.call("DeleteItem", arguments)

    async def query(self, **arguments: Any) -> dict[str, Any]:
        return await self.call("Query", arguments)

    async def describe_table(self, **arguments: Any) -> dict[str, Any]:
        return await self.call("DescribeTable", arguments)

    async def transact_write_items(self, **arguments: Any) -> dict[str, Any]:
        # As botocore does (the parameter is an idempotency token): a retry of a transaction
        # that did commit is recognised by DynamoDB and not applied again.
        arguments.setdefault("ClientRequestToken", str(uuid.uuid4()))
        return await self.call("TransactWriteItems", arguments)


def _error(status: int, data: bytes) -> dict[str, Any]:
    """botocore's error response shape from DynamoDB's JSON error body."""
    try:
        body = orjson.loads(data) if data else {}
    except orjson.JSONDecodeError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("__type", "") or f"HTTP{status}").rsplit("#", 1)[-1]
    error: dict[str, Any] = {
        "Error": {"Code": code, "Message": str(body.get("message") or body.get("Message") or "")},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    if "CancellationReasons" in body:
        error["CancellationReasons"] = body["CancellationReasons"]
    return error


async def _back_off(attempt: int) -> None:
    await asyncio.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 - jitter, not security
