"""The moto server tests and `make dev` use for DynamoDB keeps DynamoDB's atomicity when requests
overlap (plain moto_server loses committed writes there; see ticketing_devkit.moto_server)."""

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from ticketing_devkit.services import moto_server

TABLE = "things"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    # The server stops with exit status 0 once the module is done (services.moto_server).
    with moto_server() as url:
        dynamodb(url).create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        yield url


def dynamodb(url: str, service: str = "dynamodb") -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def put(key: str, **attributes: str) -> dict[str, Any]:
    item = {"k": {"S": key}} | {name: {"S": value} for name, value in attributes.items()}
    return {"Put": {"TableName": TABLE, "Item": item}}


def put_new(key: str) -> dict[str, Any]:
    operation = put(key)
    operation["Put"]["ConditionExpression"] = "attribute_not_exists(k)"
    return operation


def value(client: Any, key: str, attribute: str = "v") -> str | None:
    item = client.get_item(TableName=TABLE, Key={"k": {"S": key}}).get("Item")
    return item[attribute]["S"] if item else None


def test_a_failed_transaction_leaves_no_trace_and_a_good_one_applies_whole(endpoint: str) -> None:
    client = dynamodb(endpoint)
    client.transact_write_items(
        TransactItems=[put("t-kept", v="1"), put("t-doomed", v="1"), put("t-taken", v="1")]
    )
    stream = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    records_before = stream_records(endpoint, stream)
    with pytest.raises(ClientError) as refused:
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"k": {"S": "t-kept"}},
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"S": "2"}},
                    }
                },
                put("t-new", v="1"),
                {"Delete": {"TableName": TABLE, "Key": {"k": {"S": "t-doomed"}}}},
                put_new("t-taken"),  # fails: every change above must be undone
            ]
        )
    error = refused.value.response["Error"]
    assert error["Code"] == "TransactionCanceledException"
    assert error["Message"].endswith("[None, None, None, ConditionalCheckFailed]")
    assert (value(client, "t-kept"), value(client, "t-new"), value(client, "t-doomed")) == (
        "1",
        None,
        "1",
    )
    assert stream_records(endpoint, stream) == records_before

    client.transact_write_items(TransactItems=[put("t-kept", v="3"), put_new("t-new")])
    assert value(client, "t-kept") == "3"
    assert client.get_item(TableName=TABLE, Key={"k": {"S": "t-new"}})["Item"]


def stream_records(url: str, stream_arn: str) -> int:
    streams = dynamodb(url, "dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return len(streams.get_records(ShardIterator=iterator, Limit=1000)["Records"])


def test_writes_committed_while_other_transactions_fail_are_kept(endpoint: str) -> None:
    """Plain moto_server puts back a copy of the whole table when a transaction fails, erasing
    what other requests committed meanwhile; with a few thousand items that copy takes long
    enough for a run like this one to lose writes every time."""
    client = dynamodb(endpoint)
    for start in range(0, 2000, 25):
        client.batch_write_item(
            RequestItems={
                TABLE: [
                    {"PutRequest": {"Item": {"k": {"S": f"filler-{n}"}, "v": {"S": "x" * 100}}}}
                    for n in range(start, start + 25)
                ]
            }
        )
    client.put_item(TableName=TABLE, Item={"k": {"S": "taken"}, "v": {"S": "1"}})
    stop = threading.Event()
    unexpected: list[str] = []

    def fail_repeatedly() -> None:
        own = dynamodb(endpoint)
        while not stop.is_set():
            try:
                own.transact_write_items(TransactItems=[put("filler-1", v="y"), put_new("taken")])
                unexpected.append("a transaction on a taken key committed")
            except ClientError:
                pass

    committed: list[str] = []

    def commit(writer: int) -> None:
        own = dynamodb(endpoint)
        for n in range(40):
            own.transact_write_items(TransactItems=[put_new(f"w{writer}-{n}")])
            committed.append(f"w{writer}-{n}")

    failers = [threading.Thread(target=fail_repeatedly) for _ in range(2)]
    writers = [threading.Thread(target=commit, args=(w,)) for w in range(3)]
    for thread in failers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in failers:
        thread.join()
    assert len(committed) == 120
    assert [key for key in committed if value(client, key, "k") is None] == []
    assert value(client, "filler-1") == "x" * 100
    assert unexpected == []


def test_one_of_many_concurrent_conditional_claims_wins(endpoint: str) -> None:
    winners: list[int] = []
    refusals: list[str] = []
    barrier = threading.Barrier(8)

    def claim(contender: int) -> None:
        own = dynamodb(endpoint)
        barrier.wait()
        try:
            own.transact_write_items(TransactItems=[put_new("seat-1")])
            winners.append(contender)
        except ClientError as exc:
            refusals.append(exc.response["Error"]["Code"])

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    assert refusals == ["TransactionCanceledException"] * 7


INDEXED = "indexed"


def indexed_table(client: Any) -> None:
    client.create_table(
        TableName=INDEXED,
        AttributeDefinitions=[
            {"AttributeName": "k", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def pages(client: Any, group: str, values: dict[str, Any] | None = None, **extra: Any) -> list[Any]:
    """Every page of a group's query, two items a page, as DynamoDB answered them."""
    answers, start = [], None
    values = {":g": {"S": group}} | (values or {})
    while True:
        arguments = {
            "TableName": INDEXED,
            "IndexName": "by-g",
            "KeyConditionExpression": "g = :g",
            "ExpressionAttributeValues": values,
            "Limit": 2,
        } | extra
        if start:
            arguments["ExclusiveStartKey"] = start
        page = client.query(**arguments)
        answers.append((page["Items"], page.get("LastEvaluatedKey"), page["Count"]))
        start = page.get("LastEvaluatedKey")
        if not start:
            return answers


def test_index_queries_answer_as_plain_moto_after_every_kind_of_write(endpoint: str) -> None:
    """The server answers a query of an index from the queried partition only, kept between
    writes: after puts, an UpdateItem that moves an item to another partition in place, deletes,
    and a failed transaction's rollback, every page matches plain moto's (in this process)."""
    from moto import mock_aws

    served = dynamodb(endpoint)
    indexed_table(served)
    with mock_aws():
        plain = dynamodb("https://dynamodb.us-east-1.amazonaws.com")
        indexed_table(plain)

        def both(operation: str, **arguments: Any) -> None:
            for client in (served, plain):
                getattr(client, operation)(**arguments)

        def both_refused(**arguments: Any) -> None:
            for client in (served, plain):
                with pytest.raises(ClientError, match="TransactionCanceledException"):
                    client.transact_write_items(**arguments)

        def same_answers(step: str) -> None:
            for key in ("i00", "i01", "i02", "i04", "absent"):
                read = {"TableName": INDEXED, "Key": {"k": {"S": key}}, "ConsistentRead": True}
                assert without_metadata(served.get_item(**read)) == without_metadata(
                    plain.get_item(**read)
                ), (step, key)
            for group in ("a", "b", "c", "none"):
                assert pages(served, group) == pages(plain, group), (step, group)
                filtered = {"FilterExpression": "v >= :v", "values": {":v": {"S": "5"}}}
                assert pages(served, group, **filtered) == pages(plain, group, **filtered), (
                    step,
                    group,
                    "filtered",
                )

        for n in range(12):
            both("put_item", TableName=INDEXED, Item=item(f"i{n:02}", "abc"[n % 3], str(n % 10)))
        same_answers("puts")
        both(
            "update_item",
            TableName=INDEXED,
            Key={"k": {"S": "i00"}},
            UpdateExpression="SET g = :g",
            ExpressionAttributeValues={":g": {"S": "b"}},
        )
        same_answers("an update moving an item to another partition")
        both("delete_item", TableName=INDEXED, Key={"k": {"S": "i04"}})
        same_answers("a delete")
        both_refused(
            TransactItems=[
                {"Put": {"TableName": INDEXED, "Item": item("i01", "c", "9")}},
                {
                    "Put": {
                        "TableName": INDEXED,
                        "Item": item("i02", "a", "1"),
                        "ConditionExpression": "attribute_not_exists(k)",  # fails: rolled back
                    }
                },
            ],
        )
        same_answers("a failed transaction")
        both("put_item", TableName=INDEXED, Item=item("i01", "c", "7"))
        same_answers("a put replacing an item")
        assert [len(p[0]) for p in pages(served, "c")] == [2, 2, 1]


def without_metadata(answer: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answer.items() if key != "ResponseMetadata"}


def item(key: str, group: str, v: str) -> dict[str, Any]:
    """An item with the kinds of attribute values booking stores."""
    return {
        "k": {"S": key},
        "g": {"S": group},
        "v": {"S": v},
        "n": {"N": f"{v}.50"},
        "seats": {"L": [{"S": f"A-{v}"}, {"M": {"paid": {"BOOL": True}, "none": {"NULL": True}}}]},
    }
