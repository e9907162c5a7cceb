"""Warming the edge cache in front of the API after a release, so an on-sale's first thousands of
buyers do not all reach the origin for the same few documents.

What is warmed (`warm_up_paths`) is what the edge caches and buyers ask for first:

- the event listing's first page, exactly as clients ask for it (`/api/v1/events`);
- per on-sale event: the event (`/api/v1/events/{id}`) and its seat layout
  (`/api/v1/events/{id}/layout`: immutable once published, cached long at the edge).

The requests go through the CDN with no cache-busting (the point is to fill it), from where the
deploy runs: they fill the CDN's regional cache and the edge location nearest to it, which the
other edge locations of that region read from. A path the deployed API does not serve (404) is
reported and skipped; warming never fails a release.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ticketing_infra.progress import Progress
from ticketing_infra.smoke import Api, SmokeFailed

EVENT_LISTING = "/api/v1/events"
PER_ON_SALE_EVENT = ("/api/v1/events/{event_id}", "/api/v1/events/{event_id}/layout")
# An on-sale night has a handful of hot events; the listing's first page holds them.
MAX_EVENTS = 50


@dataclass(frozen=True)
class Warmed:
    path: str
    status: int | str  # the HTTP status, or what went wrong
    cache: str  # the CDN's verdict (X-Cache), "" when it gave none


def warm_up_paths(on_sale_event_ids: Sequence[str]) -> list[str]:
    paths = [EVENT_LISTING]
    for event_id in list(dict.fromkeys(on_sale_event_ids))[:MAX_EVENTS]:
        paths.extend(template.format(event_id=event_id) for template in PER_ON_SALE_EVENT)
    return paths


def warm(api_url: str, paths: Sequence[str], progress: Progress) -> list[Warmed]:
    api = Api(api_url, pause_s=0.5)
    warmed = []
    for path in paths:
        try:
            answer = api.get(path, fresh=False)
        except SmokeFailed as failure:
            warmed.append(Warmed(path, str(failure), ""))
            continue
        cache = next((v for k, v in answer.headers.items() if k.lower() == "x-cache"), "")
        warmed.append(Warmed(path, answer.status, cache))
    cached = [w for w in warmed if w.status == 200]
    progress.ok(f"warmed {len(cached)} of {len(warmed)} paths through the CDN")
    for item in warmed:
        if item.status != 200:
            progress.item(f"skipped {item.path}: {item.status}")
    return warmed
