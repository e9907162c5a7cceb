"""A moto server that keeps the guarantees of DynamoDB that code under test relies on.

python -m ticketing_devkit.moto_server --port 8010

Plain `moto_server` breaks two of them when requests overlap, as a service's requests, consumers
and background loops do:
- its backends are shared by the server's request threads without a lock, so a conditional write
  is a check and then a write that another request can slip between;
- TransactWriteItems rolls a failed transaction back by putting back a deep copy of the whole
  table taken when the transaction began, which erases every write other requests committed in
  the meantime. A booking confirmed while another transaction failed quietly went back to
  `pending_payment`. The copy also makes every transaction cost time in proportion to the table.

This serves moto's own application with four changes: one request at a time (every operation is
atomic, as on AWS); a transaction that saves, and on failure puts back, only the items it
touches rather than the whole table; reads answered as JSON without moto's generic serializer;
and a query of an index that reads only the items with the queried key. moto's `Table.query`
sorts every item of the table on every query (O(n log n) comparisons in Python), so once the
table held thousands of items each of a service's background queries (booking's outbox relay
and sweeper, several a second) took tens of milliseconds, and with one request at a time every
other call waited behind them: the stand-in, not the service, set booking's figures. DynamoDB
reads an index partition in proportion to its size.

It serves it with gevent's WSGI server: one thread, connections kept alive, each request run to
the end before the next (the application never waits on the network). werkzeug's development
server answers every request with `Connection: close`, so each DynamoDB call of a service paid
for a new TCP connection (a third of booking's CPU in `make dev`); waitress keeps connections
alive, but its threads fight over the GIL with its socket loop, and a GetItem's throughput fell
from about 870 a second at one connection to 210 at 64 (wrk, one thread running the application).
DynamoDB serves many connections at once.
"""

from __future__ import annotations

import argparse
import copy
import inspect
import io
import json
import signal
import socket
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gevent.lock import BoundedSemaphore
from gevent.pywsgi import WSGIServer
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoResult
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

_ABSENT = object()


class _CopyModule:
    """Stands in for the `copy` module inside moto's DynamoDB backend: while a transaction runs
    (under the request lock), a "deep copy" of a table is the table itself, because the items the
    transaction touches were saved separately (see `_transact_write_items`)."""

    def __init__(self) -> None:
        self.tables_by_reference = False

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        if self.tables_by_reference and isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)

    def copy(self, value: Any) -> Any:
        return copy.copy(value)


_copies = _CopyModule()
_moto_transact_write_items = DynamoDBBackend.transact_write_items


@dataclass(frozen=True)
class _Saved:
    """An item as it was before a transaction (or `_ABSENT`), and its table's stream length."""

    table: Table
    hash_key: DynamoType
    item: Any
    stream_length: int

    def put_back(self) -> None:
        if self.item is _ABSENT:
            self.table.items.pop(self.hash_key, None)
        else:
            self.table.items[self.hash_key] = self.item
        if self.table.stream_shard:
            del self.table.stream_shard.items[self.stream_length :]


def _save_touched(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[_Saved]:
    saved = []
    for operation in transact_items:
        for kind, request in operation.items():
            table = backend.tables.get(request.get("TableName", ""))
            if table is None:
                continue  # moto reports the unknown table itself
            attributes = request.get("Item" if kind == "Put" else "Key") or {}
            if table.hash_key_attr not in attributes:
                continue  # malformed: moto rejects it before writing anything
            hash_key = DynamoType(attributes[table.hash_key_attr])
            current = table.items.get(hash_key, _ABSENT)
            saved.append(
                _Saved(
                    table,
                    hash_key,
                    current if current is _ABSENT else copy.deepcopy(current),
                    len(table.stream_shard.items) if table.stream_shard else 0,
                )
            )
    return saved


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    saved = _save_touched(self, transact_items)
    _copies.tables_by_reference = True
    try:
        _moto_transact_write_items(self, transact_items)
    except Exception:
        # moto "restored its copy", which is the live table itself: undo the changes here.
        for entry in reversed(saved):
            entry.put_back()
        raise
    finally:
        _copies.tables_by_reference = False


# DynamoDB operations that change nothing: any other request (an unknown one too) may have
# changed items, so what was derived from them is derived again.
READ_ONLY_TARGETS = frozenset(
    f"DynamoDB_20120810.{operation}"
    for operation in (
        "BatchGetItem",
        "DescribeContinuousBackups",
        "DescribeTable",
        "DescribeTimeToLive",
        "GetItem",
        "ListTables",
        "ListTagsOfResource",
        "Query",
        "Scan",
        "TransactGetItems",
    )
)


class _IndexPartitions:
    """Each table's items grouped by the value of one attribute, each group in the order of
    moto's `all_items` (by the table's hash key), kept until the next request that may write
    (`forget`). While a query of an index runs, `all_items` answers only the group of the queried
    key: moto still checks every condition on those items, sorts and pages them as before, so
    the answer is the same."""

    def __init__(self) -> None:
        self._groups: dict[tuple[int, str], dict[DynamoType, list[Item]]] = {}
        self.narrow: tuple[Table, str, DynamoType] | None = None

    def forget(self) -> None:
        self._groups.clear()

    def group(self, table: Table, attribute: str, value: DynamoType) -> list[Item]:
        groups = self._groups.get((id(table), attribute))
        if groups is None:
            groups = {}
            for item in _moto_all_items(table):
                key = item.attrs.get(attribute)
                if key is not None:
                    groups.setdefault(key, []).append(item)
            self._groups[(id(table), attribute)] = groups
        return list(groups.get(value, ()))


_partitions = _IndexPartitions()
_moto_query = Table.query
_moto_all_items = Table.all_items
_QUERY_PARAMETERS = inspect.signature(_moto_query)


def _query(self: Table, *args: Any, **kwargs: Any) -> Any:
    arguments = _QUERY_PARAMETERS.bind(self, *args, **kwargs).arguments
    conditions = arguments.get("hash_key_conditions")
    if arguments.get("index_name") and conditions and not self.range_key_attr:
        attribute, value = conditions[0]
        _partitions.narrow = (self, attribute, value)
    try:
        return _moto_query(self, *args, **kwargs)
    finally:
        _partitions.narrow = None


def _all_items(self: Table) -> list[Item]:
    narrow = _partitions.narrow
    if narrow is not None and narrow[0] is self:
        return _partitions.group(self, narrow[1], narrow[2])
    return _moto_all_items(self)


# Reads whose answer is the result as it stands (items already in DynamoDB's JSON): moto's
# generic serializer walks each answer against the service model, 60 % of a GetItem of a booking
# here, to produce the same JSON.
PLAIN_JSON_ANSWERS = frozenset({"GetItem", "Query"})
_moto_execute_result = DynamoResult.execute_result


def _execute_result(self: DynamoResult, context: Any) -> Any:
    if context.operation_model.name in PLAIN_JSON_ANSWERS:
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(self.result)
    return _moto_execute_result(self, context)


def patch_dynamodb() -> None:
    """Make moto's DynamoDB transactions save only the items they touch, its queries of an index
    read only the queried partition, and its reads answer without the generic serializer (call
    once, before serving, in the server process)."""
    dynamodb_models.copy = _copies  # type: ignore[attr-defined,assignment]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    Table.query = _query  # type: ignore[method-assign]
    Table.all_items = _all_items  # type: ignore[method-assign]
    DynamoResult.execute_result = _execute_result  # type: ignore[method-assign,assignment]


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def one_at_a_time(app: WSGIApp) -> WSGIApp:
    """A WSGI application that serves one request at a time: the response is produced (and the
    backends changed) entirely under one lock. The body is read before the lock is taken: that
    read may wait on the network, and under the lock nothing may wait but the application."""
    lock = BoundedSemaphore()

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read())
        with lock:
            if environ.get("HTTP_X_AMZ_TARGET") not in READ_ONLY_TARGETS:
                _partitions.forget()
            response = app(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()

    return serve


def by_target(fallback: WSGIApp) -> WSGIApp:
    """DynamoDB's and DynamoDB Streams' requests straight to moto's application for each;
    anything else through moto's dispatcher, which finds the service from the host or the
    signature on every request (listing moto's package directory each time: an eighth of a
    GetItem's time here)."""
    apps = {
        "DynamoDB_20120810.": create_backend_app("dynamodb"),
        "DynamoDBStreams_20120810.": create_backend_app("dynamodbstreams"),
    }

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        prefix, dot, _ = environ.get("HTTP_X_AMZ_TARGET", "").partition(".")
        app = apps.get(prefix + dot, fallback)
        result: Iterable[bytes] = app(environ, start_response)
        return result

    return serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ticketing_devkit.moto_server")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=8010)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    patch_dynamodb()
    app = one_at_a_time(by_target(DomainDispatcherApplication(create_backend_app)))
    print(f"moto server (one request at a time) on http://{args.host}:{args.port}", flush=True)
    server = WSGIServer((args.host, args.port), app, log=None, backlog=1024)
    server.init_socket()
    # Inherited by every accepted connection: gevent writes a response's head and body apart,
    # and with Nagle's algorithm a client waiting for the body waited 40 ms for the delayed ACK.
    server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    server.serve_forever()


if __name__ == "__main__":
    main()
