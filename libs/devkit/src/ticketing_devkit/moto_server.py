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

This serves moto's own application with two changes: one request at a time (every operation is
atomic, as on AWS), and a transaction that saves, and on failure puts back, only the items it
touches rather than the whole table. It serves it with waitress, not werkzeug's development server,
because werkzeug answers every request with `Connection: close`: each DynamoDB call of a service
then paid for a new TCP connection, which was about a third of booking's CPU in `make dev` and made
the capacity model measure the stand-in rather than the service (DynamoDB keeps connections alive).
"""

from __future__ import annotations

import argparse
import copy
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import waitress
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
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


def patch_dynamodb() -> None:
    """Make moto's DynamoDB transactions save only the items they touch (call once, before
    serving, in the server process)."""
    dynamodb_models.copy = _copies  # type: ignore[attr-defined,assignment]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def one_at_a_time(app: WSGIApp) -> WSGIApp:
    """A WSGI application that serves one request at a time: the response is produced (and the
    backends changed) entirely under one lock."""
    lock = threading.Lock()

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            response = app(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()

    return serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ticketing_devkit.moto_server")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=8010)
    args = parser.parse_args(argv)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # requests wait on the lock
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    patch_dynamodb()
    app = one_at_a_time(DomainDispatcherApplication(create_backend_app))
    print(f"moto server (one request at a time) on http://{args.host}:{args.port}", flush=True)
    # Threads only read and write sockets: the lock serves one request at a time anyway.
    waitress.serve(app, host=args.host, port=args.port, threads=8, ident="moto")


if __name__ == "__main__":
    main()
