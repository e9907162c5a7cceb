"""The frontend's release, per the seed: hashed assets cached for a year, index.html for five
minutes, then a CloudFront invalidation. The environment's runtime config (`config.json`: the
API's URL, Stripe's publishable key) replaces the build's dev one and is cached like index.html,
so one build serves every environment and a changed setting reaches browsers within minutes.

Order matters for people mid-visit: assets first, config.json and index.html (which names them)
after, the invalidation next, and only then are files that the new build no longer has deleted.
"""

from __future__ import annotations

import json
import mimetypes
import time
from pathlib import Path
from typing import Any

from ticketing_infra.progress import Progress

ASSET_CACHE = "max-age=31536000, public"
INDEX_CACHE = "max-age=300, public"
INDEX = "index.html"
CONFIG = "config.json"


def web_config(api_url: str, stripe_publishable_key: str | None) -> dict[str, Any]:
    """What the web app reads at start (frontend/src/config.ts)."""
    return {
        "apiBaseUrl": api_url.rstrip("/"),
        "stripePublishableKey": stripe_publishable_key or None,
    }


def publish(
    s3: Any,
    cloudfront: Any,
    build_dir: Path,
    bucket: str,
    distribution_id: str,
    progress: Progress,
    config: dict[str, Any] | None = None,
) -> str:
    """Upload `build_dir` to `bucket` (with `config` as config.json), invalidate the
    distribution; returns the invalidation id."""
    files = sorted(p for p in build_dir.rglob("*") if p.is_file())
    keys = {path.relative_to(build_dir).as_posix(): path for path in files}
    if INDEX not in keys:
        raise FileNotFoundError(f"{build_dir / INDEX} is missing: is this a frontend build?")
    for key, path in keys.items():
        if key not in (INDEX, CONFIG):
            _upload(s3, bucket, key, path, ASSET_CACHE)
    if config is not None:
        s3.put_object(
            Bucket=bucket,
            Key=CONFIG,
            Body=json.dumps(config).encode(),
            CacheControl=INDEX_CACHE,
            ContentType="application/json",
        )
        keys.setdefault(CONFIG, build_dir / CONFIG)
    elif CONFIG in keys:
        _upload(s3, bucket, CONFIG, keys[CONFIG], INDEX_CACHE)
    _upload(s3, bucket, INDEX, keys[INDEX], INDEX_CACHE)
    progress.ok(f"uploaded {len(keys)} files to s3://{bucket}")
    invalidation = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/*"]},
            "CallerReference": f"ticketing-deploy-{time.time_ns()}",
        },
    )["Invalidation"]["Id"]
    progress.ok(f"invalidated /* on {distribution_id} ({invalidation})")
    stale = [key for key in _keys(s3, bucket) if key not in keys]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(
            Bucket=bucket,
            Delete={"Objects": [{"Key": key} for key in stale[start : start + 1000]]},
        )
    if stale:
        progress.item(f"deleted {len(stale)} files the new build no longer has")
    invalidation_id: str = invalidation
    return invalidation_id


def _upload(s3: Any, bucket: str, key: str, path: Path, cache_control: str) -> None:
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    with path.open("rb") as body:
        s3.put_object(
            Bucket=bucket, Key=key, Body=body, CacheControl=cache_control, ContentType=content_type
        )


def _keys(s3: Any, bucket: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys
