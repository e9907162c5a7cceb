import uuid
from collections.abc import Iterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends
from pydantic import BaseModel
from ticketing_common.app import create_service_app
from ticketing_common.idempotency import Idempotency, idempotency
from ticketing_common.problems import Problem
from ticketing_common.redis import RedisClient
from ticketing_common.security import StaticKeySource, TokenVerifier
from ticketing_common.settings import ServiceSettings
from ticketing_devkit.processes import serve_app
from ticketing_devkit.pytest_plugin import assert_problem
from ticketing_devkit.tokens import FakeIssuer

ISSUER = FakeIssuer("k1")
JWKS = ISSUER.jwks()
calls: list[str] = []


class Order(BaseModel):
    item: str
    quantity: int


class Placed(BaseModel):
    order_id: str
    item: str


router = APIRouter()
Idem = Annotated[Idempotency, Depends(idempotency(201))]


@router.post("/orders", status_code=201)
async def place(order: Order, idem: Idem) -> Placed:
    async def work() -> Placed:
        calls.append(order.item)
        if order.item == "sold-out":
            raise Problem(409, "Sold out", slug="sold-out")
        if order.item == "crash":
            raise Problem(503, "Try later")
        return Placed(order_id=uuid.uuid4().hex, item=order.item)

    return await idem.run(work)  # type: ignore[return-value]


def token(sub: str) -> dict[str, str]:
    return ISSUER.headers(sub, ttl_s=300)


@pytest.fixture(scope="module")
def base_url(redis_url: str) -> Iterator[str]:
    app = create_service_app(
        ServiceSettings(service_name="t"),
        title="t",
        routers=[router],
        resources=[
            RedisClient(redis_url),
            TokenVerifier(
                StaticKeySource(lambda: JWKS), issuer="ticketing-auth", audience="ticketing"
            ),
        ],
    )
    with serve_app(app) as url:
        yield url


@pytest.fixture(scope="module")
def cluster_base_url(redis_cluster_url: str) -> Iterator[str]:
    app = create_service_app(
        ServiceSettings(service_name="t"),
        title="t",
        routers=[router],
        resources=[
            RedisClient(redis_cluster_url, cluster=True),
            TokenVerifier(
                StaticKeySource(lambda: JWKS), issuer="ticketing-auth", audience="ticketing"
            ),
        ],
    )
    with serve_app(app) as url:
        yield url


def test_keys_replay_on_a_redis_cluster_too(cluster_base_url: str) -> None:
    headers = token("carol") | {"Idempotency-Key": "cluster-1"}
    body = {"item": "scarf", "quantity": 1}
    first = httpx.post(f"{cluster_base_url}/orders", json=body, headers=headers)
    second = httpx.post(f"{cluster_base_url}/orders", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert calls.count("scarf") == 1
    other = httpx.post(f"{cluster_base_url}/orders", json=body | {"quantity": 2}, headers=headers)
    assert_problem(other, 422)


def test_same_key_and_body_replays_the_first_response(base_url: str) -> None:
    headers = token("alice") | {"Idempotency-Key": "order-1"}
    first = httpx.post(f"{base_url}/orders", json={"item": "tee", "quantity": 1}, headers=headers)
    second = httpx.post(f"{base_url}/orders", json={"item": "tee", "quantity": 1}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert calls.count("tee") == 1


def test_same_key_with_a_different_body_is_422(base_url: str) -> None:
    headers = token("alice") | {"Idempotency-Key": "order-2"}
    httpx.post(f"{base_url}/orders", json={"item": "mug", "quantity": 1}, headers=headers)
    response = httpx.post(
        f"{base_url}/orders", json={"item": "mug", "quantity": 2}, headers=headers
    )
    assert_problem(response, 422)


def test_keys_are_scoped_to_the_caller(base_url: str) -> None:
    body = {"item": "cap", "quantity": 1}
    alice = httpx.post(
        f"{base_url}/orders", json=body, headers=token("alice") | {"Idempotency-Key": "k"}
    )
    bob = httpx.post(
        f"{base_url}/orders", json=body, headers=token("bob") | {"Idempotency-Key": "k"}
    )
    assert alice.json()["order_id"] != bob.json()["order_id"]


def test_without_a_key_every_request_runs(base_url: str) -> None:
    for _ in range(2):
        httpx.post(
            f"{base_url}/orders", json={"item": "pen", "quantity": 1}, headers=token("alice")
        )
    assert calls.count("pen") == 2


def test_a_definite_refusal_is_replayed_but_a_transient_failure_is_not(base_url: str) -> None:
    headers = token("alice") | {"Idempotency-Key": "sold-out-1"}
    for _ in range(2):
        assert_problem(
            httpx.post(
                f"{base_url}/orders", json={"item": "sold-out", "quantity": 1}, headers=headers
            ),
            409,
        )
    assert calls.count("sold-out") == 1
    headers = token("alice") | {"Idempotency-Key": "crash-1"}
    for _ in range(2):
        assert_problem(
            httpx.post(
                f"{base_url}/orders", json={"item": "crash", "quantity": 1}, headers=headers
            ),
            503,
        )
    assert calls.count("crash") == 2


def test_malformed_key_is_400(base_url: str) -> None:
    headers = token("alice") | {"Idempotency-Key": "x" * 300}
    assert_problem(
        httpx.post(f"{base_url}/orders", json={"item": "a", "quantity": 1}, headers=headers), 400
    )
