"""Search's own cost with the backend production uses: the service on its OpenSearch backend
(opensearch-py), against a stand-in that replays OpenSearch's answers, next to a bare-ASGI
hello-world (../shared/bench/ratio beside the repository root: the service pinned to core 1, wrk
on core 0), with requests per CPU-second of the service.

    uv run python services/search/bench/opensearch_replay.py [--seconds 8]

The stand-in (a bare ASGI app on core 0 beside wrk) answers the alias check and every
`_search` with a recorded answer of OpenSearch's shape: 20 hits of event documents, the exact
total and the city and category facets for search; 10 titles for suggest. The service does all
of its own work (parsing and validating the query, building the OpenSearch body, opensearch-py's
request and parsing, the answer's model, ETag): only OpenSearch's cost is out of the figure.
Scenarios: `GET /api/v1/search/events?q=final&limit=20` and `GET /api/v1/search/suggest?q=fin`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from ticketing_devkit.bench import asgi_on_core, run_ratio
from ticketing_devkit.processes import free_port, uvicorn_command
from ticketing_devkit.stores import temporary_redis_db

HERE = Path(__file__).resolve().parent


def recorded_answers() -> dict[str, bytes]:
    """OpenSearch's answers, as its REST API shapes them."""
    starts = datetime(2030, 6, 1, 19, 0, tzinfo=UTC)
    hits = [
        {
            "_index": "events-v3-20301201",
            "_id": f"event-{n}",
            "_score": 7.5 - n / 10,
            "_source": {
                "event_id": f"event-{n}",
                "title": f"Cup Final {n}",
                "category": "sport",
                "venue_name": f"Arena {n % 7}",
                "city": ["London", "Berlin", "Seoul"][n % 3],
                "starts_at": (starts + timedelta(days=n)).isoformat(),
                "min_price_cents": 4500 + 100 * n,
                "currency": "GBP",
                "status": "on_sale",
                "listed": True,
            },
        }
        for n in range(20)
    ]
    search = {
        "took": 3,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": 137, "relation": "eq"}, "max_score": 7.5, "hits": hits},
        "aggregations": {
            "city": {
                "doc_count": 137,
                "names": {
                    "buckets": [
                        {"key": city, "doc_count": count}
                        for city, count in (("London", 61), ("Berlin", 44), ("Seoul", 32))
                    ]
                },
            },
            "category": {
                "doc_count": 137,
                "names": {"buckets": [{"key": "sport", "doc_count": 137}]},
            },
        },
    }
    suggest = {
        "took": 1,
        "timed_out": False,
        "hits": {
            "total": {"value": 10, "relation": "eq"},
            "hits": [
                {"_id": f"event-{n}", "_source": {"title": f"Final Night {n}"}} for n in range(10)
            ],
        },
    }
    return {"search": orjson.dumps(search), "suggest": orjson.dumps(suggest)}


STAND_IN = """
SEARCH, SUGGEST = @SEARCH@, @SUGGEST@
HEADERS = [(b"content-type", b"application/json; charset=UTF-8")]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if scope["path"].endswith("/_search"):
        answer = SUGGEST if b"collapse" in body else SEARCH
    else:
        answer = b"{}"  # HEAD /_alias/events and the like: 200
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": answer})
"""


@contextmanager
def replaying_opensearch() -> Iterator[str]:
    """The stand-in on core 0, until the block ends; yields its URL (OPENSEARCH_URL)."""
    answers = recorded_answers()
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "opensearch_stand_in.py").write_text(
            STAND_IN.replace("@SEARCH@", repr(answers["search"])).replace(
                "@SUGGEST@", repr(answers["suggest"])
            )
        )
        with asgi_on_core("opensearch_stand_in:app", 0, folder) as url:
            yield url


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    with replaying_opensearch() as opensearch, temporary_redis_db() as redis_url:
        env: dict[str, Any] = {
            **os.environ,
            "OPENSEARCH_URL": opensearch,
            "REDIS_URL": redis_url,
            "LOG_LEVEL": "WARNING",
            "ENVIRONMENT": "test",
        }
        for label, path in (
            ("search/events", "/api/v1/search/events?q=final&limit=20"),
            ("search/suggest", "/api/v1/search/suggest?q=fin"),
        ):
            service_port = free_port()
            result = run_ratio(
                server=uvicorn_command("ticketing_search.main:create_app", service_port),
                port=service_port,
                path=path,
                seconds=args.seconds,
                env=env,
            )
            print(f"== {label} (OpenSearch backend, replayed answers)\n  {result.line()}")


if __name__ == "__main__":
    main()
