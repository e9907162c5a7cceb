"""The hot path's DynamoDB client: its SigV4 signature is botocore's, byte for byte, and its
errors are botocore's ClientError with the same shape (the store reads codes and cancellation
reasons from it). Its round trips against a real endpoint run in every other booking test."""

import datetime
from unittest import mock

import orjson
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from ticketing_booking.dynamo_http import CONTENT_TYPE, Signer, _error

NOW = datetime.datetime(2026, 12, 1, 20, 15, 30, tzinfo=datetime.UTC)


@pytest.mark.parametrize("token", [None, "session-token-of-a-task-role"])
def test_the_signature_is_botocores(token: str | None) -> None:
    credentials = ReadOnlyCredentials(
        "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token
    )
    payload = orjson.dumps({"TableName": "ticketing-bookings", "Key": {"booking_id": {"S": "b1"}}})
    host = "dynamodb.eu-west-1.amazonaws.com"
    ours = Signer("eu-west-1", host).headers(
        "DynamoDB_20120810.GetItem", payload, credentials, NOW.timestamp()
    )

    request = AWSRequest(
        method="POST",
        url=f"https://{host}/",
        data=payload,
        headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": "DynamoDB_20120810.GetItem"},
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        SigV4Auth(credentials, "dynamodb", "eu-west-1").add_auth(request)
    assert ours["authorization"] == request.headers["Authorization"]
    assert ours["x-amz-date"] == request.headers["X-Amz-Date"] == "20261201T201530Z"
    assert ours.get("x-amz-security-token") == request.headers.get("X-Amz-Security-Token")


def test_errors_have_botocores_shape() -> None:
    cancelled = _error(
        400,
        orjson.dumps(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "Message": "Transaction cancelled [None, ConditionalCheckFailed]",
                "CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}],
            }
        ),
    )
    assert cancelled["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in cancelled["CancellationReasons"]] == [
        "None",
        "ConditionalCheckFailed",
    ]
    assert _error(502, b"<html>bad gateway</html>")["Error"]["Code"] == "HTTP502"


def test_attribute_values_are_boto3s() -> None:
    from decimal import Decimal

    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
    from ticketing_booking.dynamo import from_attributes, to_attributes

    item = {
        "booking_id": "b1",
        "quantity": 2,
        "amount": Decimal("90.5"),
        "paid": True,
        "refund_id": None,
        "seat_ids": ["A-1-1", "A-1-2"],
        "payment": {"payment_id": "p1", "attempts": 3, "nested": [{"ok": False}]},
        "tags": {"x", "y"},  # a set: boto3's own serializer
    }
    ours = to_attributes(item)
    assert ours == {key: TypeSerializer().serialize(value) for key, value in item.items()}
    assert from_attributes(ours) == {
        key: TypeDeserializer().deserialize(value) for key, value in ours.items()
    }
