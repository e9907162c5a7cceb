"""What the OpenSearch backend sends, checked as data.

Layer 1: the index definition and the request bodies (pure functions). Layer 2: the real
opensearch-py client driven by the backend against a recording HTTP server that answers like
OpenSearch, so paths, parameters and bodies are checked as they go over the wire. The same
backend runs against a real OpenSearch in the behavioural suite when OPENSEARCH_URL is set."""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from ticketing_devkit.processes import serve_app
from ticketing_search import opensearch_bodies as bodies
from ticketing_search.backend import DocumentRejected, ReindexFailed, SearchUnavailable
from ticketing_search.model import SearchDocument, SearchQuery
from ticketing_search.opensearch_backend import OpenSearchBackend

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def document(**overrides: Any) -> SearchDocument:
    fields: dict[str, Any] = {
        "event_id": "e1",
        "title": "Metallica World Tour",
        "category": "concert",
        "venue_name": "Olympiastadion",
        "city": "Berlin",
        "starts_at": NOW + timedelta(days=30),
        "min_price_cents": 5000,
        "currency": "EUR",
        "status": "on_sale",
    }
    return SearchDocument(**(fields | overrides))


# --- layer 1: the index and the bodies ----------------------------------------------------


def test_title_venue_and_city_have_explicit_analyzers() -> None:
    properties = bodies.MAPPINGS["properties"]
    assert bodies.MAPPINGS["dynamic"] == "strict"
    assert properties["title"]["analyzer"] == "event_text"
    assert properties["venue_name"]["analyzer"] == "place_name"
    assert properties["city"]["analyzer"] == "place_name"
    analyzers = bodies.ANALYSIS["analyzer"]
    assert {"lowercase", "asciifolding"} <= set(analyzers["event_text"]["filter"])
    assert "english_light" in analyzers["event_text"]["filter"]  # titles are stemmed
    assert "english_light" not in analyzers["place_name"]["filter"]  # names are not
    for name in ("title", "description", "venue_name", "city", "category"):
        assert properties[name]["copy_to"] == "search_all"


def test_suggestions_use_edge_ngrams_at_index_time_only() -> None:
    suggest = bodies.MAPPINGS["properties"]["title"]["fields"]["suggest"]
    assert suggest["analyzer"] == "title_prefixes"
    assert suggest["search_analyzer"] == "place_name"  # the typed text is not n-grammed
    assert "word_prefixes" in bodies.ANALYSIS["analyzer"]["title_prefixes"]["filter"]
    assert bodies.ANALYSIS["filter"]["word_prefixes"]["type"] == "edge_ngram"


def test_facets_and_filters_use_keyword_fields() -> None:
    properties = bodies.MAPPINGS["properties"]
    assert properties["city"]["fields"]["raw"] == {"type": "keyword"}
    assert properties["city"]["fields"]["folded"]["normalizer"] == "folded"
    assert properties["category"]["type"] == "keyword"
    assert properties["starts_at"]["type"] == "date"
    assert properties["min_price_cents"]["type"] == "integer"
    body = bodies.index_body(shards=3, replicas=2)
    assert body["settings"]["index"] == {"number_of_shards": 3, "number_of_replicas": 2}
    assert body["mappings"]["_meta"]["mapping_version"] == bodies.MAPPING_VERSION


def test_a_full_search_body() -> None:
    query = SearchQuery(
        starts_from=NOW,
        q="metalica berlin",
        city="berlin",
        category="concert",
        starts_until=NOW + timedelta(days=60),
        price_max_cents=8000,
        limit=10,
        offset=20,
    )
    body = bodies.search_body(query)
    boolean = body["query"]["bool"]
    assert boolean["filter"] == [
        {"term": {"listed": True}},
        {"range": {"starts_at": {"gte": NOW.isoformat(), "lte": query.starts_until.isoformat()}}},
        {"range": {"min_price_cents": {"lte": 8000}}},
    ]
    match = boolean["must"][0]["match"]["search_all"]
    assert match == {
        "query": "metalica berlin",
        "operator": "and",
        "fuzziness": "AUTO",
        "prefix_length": 1,
        "max_expansions": 50,
    }
    assert {"match_phrase": {"title": {"query": "metalica berlin", "boost": 4}}} in boolean[
        "should"
    ]
    city = {"term": {"city.folded": "berlin"}}
    category = {"term": {"category.folded": "concert"}}
    # Facet filters narrow the hits after aggregating; each facet ignores its own filter.
    assert body["post_filter"] == {"bool": {"filter": [city, category]}}
    assert body["aggs"]["city"]["filter"] == category
    assert body["aggs"]["city"]["aggs"]["names"]["terms"]["field"] == "city.raw"
    assert body["aggs"]["category"]["filter"] == city
    assert body["sort"] == [{"_score": "desc"}, {"starts_at": "asc"}, {"event_id": "asc"}]
    assert (body["from"], body["size"], body["track_total_hits"]) == (20, 10, True)
    assert body["_source"] == bodies.HIT_FIELDS


def test_a_search_without_text_or_facet_filters() -> None:
    body = bodies.search_body(SearchQuery(starts_from=NOW))
    assert "must" not in body["query"]["bool"]
    assert "post_filter" not in body
    assert body["aggs"]["city"]["filter"] == {"match_all": {}}
    assert body["sort"] == [{"starts_at": "asc"}, {"event_id": "asc"}]


def test_a_suggest_body() -> None:
    body = bodies.suggest_body("Metal", 5, NOW)
    boolean = body["query"]["bool"]
    assert boolean["must"][0]["match"]["title.suggest"]["fuzziness"] == "AUTO"
    assert boolean["must"][0]["match"]["title.suggest"]["operator"] == "and"
    assert {"prefix": {"title.folded": {"value": "metal", "boost": 3}}} in boolean["should"]
    assert boolean["filter"][0] == {"term": {"listed": True}}
    assert body["collapse"] == {"field": "title.raw"}
    assert body["size"] == 5


def test_reading_a_search_response() -> None:
    response = {
        "hits": {
            "total": {"value": 42, "relation": "eq"},
            "hits": [{"_id": "e1", "_score": 3.2, "_source": {"event_id": "e1"}}],
        },
        "aggregations": {
            "city": {"doc_count": 42, "names": {"buckets": [{"key": "Berlin", "doc_count": 40}]}},
            "category": {"doc_count": 42, "names": {"buckets": []}},
        },
    }
    assert bodies.read_search(response) == (
        [{"event_id": "e1"}],
        42,
        {"city": {"Berlin": 40}, "category": {}},
    )


def test_the_alias_swap_is_one_atomic_update() -> None:
    assert bodies.swap_actions("events", "events-v1-new", ["events-v1-old"]) == {
        "actions": [
            {"add": {"index": "events-v1-new", "alias": "events"}},
            {"remove": {"index": "events-v1-old", "alias": "events"}},
            {"remove": {"index": "events-v1-new", "alias": "events-building"}},
        ]
    }


def test_versions_order_writes_by_fact_time() -> None:
    assert bodies.version_of(NOW) < bodies.version_of(NOW + timedelta(microseconds=1))
    assert bodies.index_name("events", NOW) == "events-v1-20261126120000000000"


# --- layer 2: the client on the wire ------------------------------------------------------


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeOpenSearch:
    """Records requests; answers from `routes` ({(method, path): (status, body)}), else 200 {}."""

    routes: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def app(self) -> Starlette:
        async def handle(request: Request) -> Response:
            call = Call(
                request.method,
                request.url.path,
                dict(request.query_params),
                (await request.body()).decode(),
            )
            self.calls.append(call)
            status, body = self.routes.get((call.method, call.path), (200, {}))
            if callable(body):
                body = body(call)
            return JSONResponse(body, status_code=status)

        methods = ["GET", "PUT", "POST", "DELETE", "HEAD"]
        return Starlette(routes=[Route("/{path:path}", handle, methods=methods)])

    def paths(self) -> list[tuple[str, str]]:
        return [(c.method, c.path) for c in self.calls]


@pytest.fixture
def fake() -> Iterator[tuple[FakeOpenSearch, str]]:
    recorder = FakeOpenSearch()
    with serve_app(recorder.app()) as url:
        yield recorder, url


@pytest.fixture
async def backend(fake: tuple[FakeOpenSearch, str]) -> Any:
    client = OpenSearchBackend(fake[1], alias="events", timeout_s=5, replicas=0)
    await client.start()
    yield client
    await client.stop()


MISSING = (404, {"error": "alias [x] missing", "status": 404})


async def test_migrate_creates_a_versioned_index_behind_the_alias(
    fake: tuple[FakeOpenSearch, str], backend: OpenSearchBackend
) -> None:
    recorder, _ = fake
    recorder.routes[("GET", "/_alias/events")] = MISSING
    name = await backend.migrate()
    assert name.startswith("events-v1-")
    assert recorder.paths() == [
        ("GET", "/_alias/events"),
        ("PUT", f"/{name}"),
        ("PUT", f"/{name}/_alias/events"),
    ]
    assert recorder.calls[1].json() == bodies.index_body(shards=1, replicas=0)


async def test_migrate_leaves_a_current_index_alone(
    fake: tuple[FakeOpenSearch, str], backend: OpenSearchBackend
) -> None:
    recorder, _ = fake
    recorder.routes[("GET", "/_alias/events")] = (200, {"events-v1-a": {"aliases": {}}})
    recorder.routes[("GET", "/events-v1-a/_mapping")] = (
        200,
        {"events-v1-a": {"mappings": {"_meta": {"mapping_version": 1}}}},
    )
    assert await backend.migrate() == "events-v1-a"
    assert [m for m, _ in recorder.paths()] == ["GET", "GET"]


async def test_migrate_moves_an_older_mapping_to_a_new_index(
    fake: tuple[FakeOpenSearch, str], backend: OpenSearchBackend
) -> None:
    recorder, _ = fake
    recorder.routes[("GET", "/_alias/events")] = (200, {"events-v0-a": {"aliases": {}}})
    recorder.routes[("GET", "/_alias/events-building")] = MISSING
    recorder.routes[("GET", "/events-v0-a/_mapping")] = (200, {"events-v0-a": {"mappings": {}}})
    recorder.routes[("POST", "/_reindex")] = (200, {"created": 7, "updated": 0})
    name = await backend.migrate()
    copy = next(c for c in recorder.calls if c.path == "/_reindex")
    assert copy.json() == {
        "source": {"index": "events"},
        "dest": {"index": name, "version_type": "external"},
        "conflicts": "proceed",
    }
    swap = next(c for c in recorder.calls if c.path == "/_aliases")
    assert swap.json() == bodies.swap_actions("events", name, ["events-v0-a"])
    assert recorder.paths()[-1] == ("DELETE", "/events-v0-a")


async def test_a_write_carries_the_fact_time_as_external_version(
    fake: tuple[FakeOpenSearch, str], backend: OpenSearchBackend
) -> None:
    recorder, _ = fake
    recorder.routes[("HEAD", "/_alias/events-building")] = (404, {})
    await backend.upsert(document(), NOW)
    await backend.remove("e2", NOW)
    upsert, remove = (c for c in recorder.calls if c.method == "PUT")
    assert upsert.path == "/events/_doc/e1"
    assert upsert.params == {
        "version": str(bodies.version_of(NOW)),
        "version_type": "external_gte",
        "require_alias": "true",
    }
    assert upsert.json() == document().model_dump(mode="json") | {"listed": True}
    assert remove.path == "/events/_doc/e2"
    assert remove.json() == {"event_id": "e2", "listed": False}


async def test_during_a_rebuild_writes_go_to_both_indices_and_older_ones_are_ignored(
    fake: tuple[FakeOpenSearch, str], backend: OpenSearchBackend
) -> None:
    recorder, _ = fake
    recorder.routes[("HEAD", "/_alias/events-building")] = (200, {})
    conflict = {"error": {"type": "version_conflict_engine_exception"}, "status": 409}
    recorder.routes[("PUT", "/events/_doc/e1")] = (409, conflict)
    await backend.upsert(document(), NOW)  # a conflict on one index is not an error
    writes = [c.path for c in recorder.calls if c.method == "PUT"]
    assert writes == ["/events/_doc/e1", "/events-building/_doc/e1"]


async def test_a_document_the_index_refuses_is_rejected(
    fake: tuple[FakeOpenSearch, str], backend: OpenSearchBackend
) -> None:
    recorder, _ = fake
    recorder.routes[("HEAD", "/_alias/events-building")] = (404, {})
    bad = {"error": {"type": "mapper_parsing_exception"}, "status": 400}
    recorder.routes[("PUT", "/events/_doc/e1")] = (400, bad)
    with pytest.raises(DocumentRejected):
        await backend.upsert(document(), NOW)


async def pages(*documents: SearchDocument) -> Any:
    for each in documents:
        yield [each]


def bulk_answer(conflicting: set[str], failing: set[str] = frozenset()) -> Any:  # type: ignore[assignment]
    def answer(call: Call) -> dict[str, Any]:
        lines = [json.loads(line) for line in call.body.splitlines() if line]
        items = []
        for action in lines[0::2]:
            doc_id = action["index"]["_id"]
            status = 409 if doc_id in conflicting else 400 if doc_id in failing else 201
            item: dict[str, Any] = {"_id": doc_id, "status": status}
            if status >= 400:
                item["error"] = {"type": "x"}
            items.append({"index": item})
        return {"errors": bool(conflicting or failing), "items": items}

    return answer


async def test_reindex_builds_a_new_index_and_swaps_the_alias(
    fake: tuple[FakeOpenSearch, str], backend: OpenSearchBackend
) -> None:
    recorder, _ = fake
    recorder.routes[("GET", "/_alias/events-building")] = MISSING
    recorder.routes[("GET", "/_alias/events")] = (200, {"events-v1-old": {"aliases": {}}})
    recorder.routes[("POST", "/_bulk")] = (200, bulk_answer(conflicting={"e2"}))
    draft = document(event_id="e3", status="draft")
    report = await backend.reindex(
        pages(document(), document(event_id="e2"), draft), started_at=NOW
    )
    new = bodies.index_name("events", NOW)
    assert report.target == new
    assert report.indexed == 1  # e2 had a newer fact already; the draft is not listed
    assert recorder.paths() == [
        ("GET", "/_alias/events-building"),
        ("PUT", f"/{new}"),
        ("PUT", f"/{new}/_alias/events-building"),
        ("GET", "/_alias/events"),
        ("POST", "/_bulk"),
        ("POST", f"/{new}/_refresh"),
        ("POST", "/_aliases"),
        ("DELETE", "/events-v1-old"),
    ]
    bulk = next(c for c in recorder.calls if c.path == "/_bulk")
    actions = [json.loads(line) for line in bulk.body.splitlines()][0::2]
    assert actions[0] == {
        "index": {
            "_index": new,
            "_id": "e1",
            "version": bodies.version_of(NOW),
            "version_type": "external",
        }
    }
    assert [a["index"]["_id"] for a in actions] == ["e1", "e2"]
    swap = next(c for c in recorder.calls if c.path == "/_aliases")
    assert swap.json() == bodies.swap_actions("events", new, ["events-v1-old"])


async def test_a_failing_reindex_drops_its_index_and_keeps_the_alias(
    fake: tuple[FakeOpenSearch, str], backend: OpenSearchBackend
) -> None:
    recorder, _ = fake
    recorder.routes[("GET", "/_alias/events-building")] = MISSING
    recorder.routes[("GET", "/_alias/events")] = (200, {"events-v1-old": {"aliases": {}}})
    recorder.routes[("POST", "/_bulk")] = (200, bulk_answer(conflicting=set(), failing={"e1"}))
    with pytest.raises(ReindexFailed):
        await backend.reindex(pages(document()), started_at=NOW)
    new = bodies.index_name("events", NOW)
    assert ("POST", "/_aliases") not in recorder.paths()
    assert recorder.paths()[-1] == ("DELETE", f"/{new}")


async def test_only_one_rebuild_at_a_time(
    fake: tuple[FakeOpenSearch, str], backend: OpenSearchBackend
) -> None:
    recorder, _ = fake
    recorder.routes[("GET", "/_alias/events-building")] = (200, {"events-v1-x": {}})
    with pytest.raises(ReindexFailed, match="another reindex"):
        await backend.reindex(pages(document()), started_at=NOW)
    assert recorder.paths() == [("GET", "/_alias/events-building")]


async def test_search_sends_the_body_and_reads_the_answer(
    fake: tuple[FakeOpenSearch, str], backend: OpenSearchBackend
) -> None:
    recorder, _ = fake
    hit = document().hit() | {"starts_at": document().starts_at.isoformat()}
    recorder.routes[("POST", "/events/_search")] = (
        200,
        {
            "hits": {"total": {"value": 1}, "hits": [{"_source": hit}]},
            "aggregations": {
                "city": {"names": {"buckets": [{"key": "Berlin", "doc_count": 1}]}},
                "category": {"names": {"buckets": [{"key": "concert", "doc_count": 1}]}},
            },
        },
    )
    query = SearchQuery(starts_from=NOW, q="metallica")
    result = await backend.search(query)
    assert recorder.calls[0].json() == bodies.search_body(query)
    assert result.items == [hit]
    assert result.total == 1
    assert result.facets == {"city": {"Berlin": 1}, "category": {"concert": 1}}


async def test_an_unreachable_cluster_is_a_503_problem() -> None:
    backend = OpenSearchBackend("http://127.0.0.1:9", timeout_s=1)
    await backend.start()
    try:
        with pytest.raises(SearchUnavailable) as raised:
            await backend.search(SearchQuery(starts_from=NOW))
        assert raised.value.status == 503
    finally:
        await backend.stop()
