"""What the OpenSearch backend sends, as plain data: the index definition (analyzers, mappings)
and the request bodies of searches, suggestions and alias swaps. Kept free of IO so it can be
read and checked on its own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ticketing_search.model import SearchDocument, SearchQuery

# Bump when ANALYSIS or MAPPINGS change: `migrate` then builds an index of the new version,
# copies the documents over and swaps the alias to it.
MAPPING_VERSION = 1
FACET_SIZE = 50
HIT_FIELDS = [
    "event_id",
    "title",
    "venue_name",
    "city",
    "category",
    "starts_at",
    "min_price_cents",
    "currency",
]

ANALYSIS: dict[str, Any] = {
    "filter": {
        "english_possessive": {"type": "stemmer", "language": "possessive_english"},
        "english_light": {"type": "stemmer", "language": "light_english"},
        # Every prefix of every word, so "metal" finds "Metallica" as it is being typed.
        "word_prefixes": {"type": "edge_ngram", "min_gram": 1, "max_gram": 20},
    },
    "analyzer": {
        # Titles and descriptions: words folded to lower-case ASCII ("Zürich" = "zurich"),
        # lightly stemmed ("concerts" = "concert").
        "event_text": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["lowercase", "asciifolding", "english_possessive", "english_light"],
        },
        # Names of venues and cities: folded, never stemmed.
        "place_name": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["lowercase", "asciifolding"],
        },
        "title_prefixes": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["lowercase", "asciifolding", "word_prefixes"],
        },
    },
    "normalizer": {"folded": {"type": "custom", "filter": ["lowercase", "asciifolding"]}},
}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"mapping_version": MAPPING_VERSION},
    "properties": {
        "event_id": {"type": "keyword"},
        # False for tombstones: cancelled or unlisted events keep a versioned stub so a late
        # fact cannot bring them back; searches filter on this.
        "listed": {"type": "boolean"},
        "title": {
            "type": "text",
            "analyzer": "event_text",
            "copy_to": "search_all",
            "fields": {
                "suggest": {
                    "type": "text",
                    "analyzer": "title_prefixes",
                    "search_analyzer": "place_name",
                },
                "raw": {"type": "keyword", "ignore_above": 512},
                "folded": {"type": "keyword", "normalizer": "folded", "ignore_above": 512},
            },
        },
        "description": {"type": "text", "analyzer": "event_text", "copy_to": "search_all"},
        "venue_name": {"type": "text", "analyzer": "place_name", "copy_to": "search_all"},
        "city": {
            "type": "text",
            "analyzer": "place_name",
            "copy_to": "search_all",
            "fields": {
                "raw": {"type": "keyword"},  # facet names as written
                "folded": {"type": "keyword", "normalizer": "folded"},  # filters
            },
        },
        "category": {
            "type": "keyword",
            "copy_to": "search_all",
            "fields": {"folded": {"type": "keyword", "normalizer": "folded"}},
        },
        "country": {"type": "keyword"},
        "starts_at": {"type": "date"},
        "min_price_cents": {"type": "integer"},
        "currency": {"type": "keyword", "index": False},
        # Every searchable word of the event in one field, so all the words of a query must
        # match somewhere in the event (title, venue, city, ...) rather than all in one field.
        "search_all": {"type": "text", "analyzer": "event_text"},
    },
}


def index_body(shards: int, replicas: int) -> dict[str, Any]:
    return {
        "settings": {
            "index": {"number_of_shards": shards, "number_of_replicas": replicas},
            "analysis": ANALYSIS,
        },
        "mappings": MAPPINGS,
    }


def index_name(alias: str, created_at: datetime) -> str:
    """Concrete indices are versioned and stamped; only the alias is ever queried."""
    return f"{alias}-v{MAPPING_VERSION}-{created_at:%Y%m%d%H%M%S%f}"


def building_alias(alias: str) -> str:
    """Points at an index being built, so facts arriving meanwhile are written there too."""
    return f"{alias}-building"


def version_of(moment: datetime) -> int:
    """External document version: the fact's time in microseconds (newer facts win)."""
    return int(moment.timestamp() * 1_000_000)


def source_of(document: SearchDocument) -> dict[str, Any]:
    return {**document.model_dump(mode="json"), "listed": document.listed}


def tombstone(event_id: str) -> dict[str, Any]:
    return {"event_id": event_id, "listed": False}


def _time(moment: datetime) -> str:
    return moment.isoformat()


def _listed_from(starts_from: datetime, starts_until: datetime | None = None) -> list[Any]:
    starts: dict[str, Any] = {"gte": _time(starts_from)}
    if starts_until is not None:
        starts["lte"] = _time(starts_until)
    return [{"term": {"listed": True}}, {"range": {"starts_at": starts}}]


def search_body(query: SearchQuery) -> dict[str, Any]:
    """Hits, exact total and facets in one request. City and category narrow the hits through
    `post_filter`, so each facet can be counted under every filter except its own."""
    filters = _listed_from(query.starts_from, query.starts_until)
    if query.price_max_cents is not None:
        filters.append({"range": {"min_price_cents": {"lte": query.price_max_cents}}})
    city = {"term": {"city.folded": query.city}} if query.city else None
    category = {"term": {"category.folded": query.category}} if query.category else None

    bool_query: dict[str, Any] = {"filter": filters}
    if query.q:
        # Typo tolerance: AUTO allows one edit in words of 3-5 letters, two from 6; the first
        # letter must be right, which keeps the expansion (and the noise) small.
        bool_query["must"] = [
            {
                "match": {
                    "search_all": {
                        "query": query.q,
                        "operator": "and",
                        "fuzziness": "AUTO",
                        "prefix_length": 1,
                        "max_expansions": 50,
                    }
                }
            }
        ]
        # Ranking: the title counts most, an exact phrase more still.
        bool_query["should"] = [
            {"match_phrase": {"title": {"query": query.q, "boost": 4}}},
            {"match": {"title": {"query": query.q, "fuzziness": "AUTO", "boost": 2}}},
            {"match": {"venue_name": {"query": query.q}}},
            {"match": {"city": {"query": query.q}}},
        ]
        sort: list[Any] = [{"_score": "desc"}, {"starts_at": "asc"}, {"event_id": "asc"}]
    else:
        sort = [{"starts_at": "asc"}, {"event_id": "asc"}]

    def facet(field: str, other: dict[str, Any] | None) -> dict[str, Any]:
        terms = {
            "field": field,
            "size": FACET_SIZE,
            "order": [{"_count": "desc"}, {"_key": "asc"}],
        }
        return {
            "filter": other or {"match_all": {}},
            "aggs": {"names": {"terms": terms}},
        }

    body: dict[str, Any] = {
        "query": {"bool": bool_query},
        "aggs": {"city": facet("city.raw", category), "category": facet("category", city)},
        "sort": sort,
        "from": query.offset,
        "size": query.limit,
        "track_total_hits": True,
        "_source": HIT_FIELDS,
    }
    narrowing = [f for f in (city, category) if f is not None]
    if narrowing:
        body["post_filter"] = {"bool": {"filter": narrowing}}
    return body


def read_search(response: dict[str, Any]) -> tuple[list[dict[str, Any]], int, dict[str, Any]]:
    """(hits, total, facets) out of a search response."""
    hits = [hit["_source"] for hit in response["hits"]["hits"]]
    total = int(response["hits"]["total"]["value"])
    facets = {
        name: {
            bucket["key"]: int(bucket["doc_count"])
            for bucket in response["aggregations"][name]["names"]["buckets"]
        }
        for name in ("city", "category")
    }
    return hits, total, facets


def suggest_body(prefix: str, limit: int, starts_from: datetime) -> dict[str, Any]:
    """Titles whose words start with what was typed (edge n-grams), allowing typos; titles that
    start with it rank first. One suggestion per distinct title (collapse)."""
    return {
        "size": limit,
        "query": {
            "bool": {
                "filter": _listed_from(starts_from),
                "must": [
                    {
                        "match": {
                            "title.suggest": {
                                "query": prefix,
                                "operator": "and",
                                "fuzziness": "AUTO",
                                "prefix_length": 1,
                            }
                        }
                    }
                ],
                "should": [
                    {"prefix": {"title.folded": {"value": prefix.lower(), "boost": 3}}},
                    {"match_phrase_prefix": {"title": {"query": prefix, "boost": 2}}},
                ],
            }
        },
        "collapse": {"field": "title.raw"},
        "sort": [{"_score": "desc"}, {"title.raw": "asc"}],
        "_source": ["title"],
    }


def swap_actions(alias: str, new_index: str, old_indices: list[str]) -> dict[str, Any]:
    """One atomic alias update: searches move from the old indices to the new one at once, and
    the new index stops being the build target."""
    actions: list[dict[str, Any]] = [{"add": {"index": new_index, "alias": alias}}]
    actions += [{"remove": {"index": old, "alias": alias}} for old in old_indices]
    actions.append({"remove": {"index": new_index, "alias": building_alias(alias)}})
    return {"actions": actions}
