"""The on-sale traffic as data: the flows a customer runs, how often, which public requests each
flow sends, and which services each public request reaches (the fan-out).

The locustfile takes its task weights from FLOWS, and the capacity model turns the same tables
into requests per second per service operation, so the load test and the model describe one mix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ticketing_devkit.stack import discover

# The seed's ECS services (production-deployment-guide.md): tasks of 0.5 vCPU, min-max each, as
# each service's pyproject declares them (its `tasks`, which the deploy scales by too).
TASK_VCPU = 0.5
SEED_TASKS: Mapping[str, tuple[int, int]] = {
    spec.name: (spec.scaling.min_tasks, spec.scaling.max_tasks) for spec in discover()
}


@dataclass(frozen=True)
class Flow:
    """One thing a customer does. `requests`: public request kind -> how many one run of the
    flow sends on average (the locustfile sends these; retries on contested seats included)."""

    name: str
    weight: int
    requests: Mapping[str, float]
    in_locust: bool = True  # False: happens once per simulated user (on_start), not as a task


# A customer session runs about 50 flows after one login; browsing and searching dominate.
FLOWS: tuple[Flow, ...] = (
    Flow("browse", 40, {"events.list": 1, "events.get": 2}),
    Flow("search", 30, {"search.suggest": 1, "search.events": 1, "events.get": 1}),
    Flow("seatmap", 12, {"events.seatmap": 1, "inventory.availability": 1}),
    Flow(
        "purchase",
        10,
        {
            "events.seatmap": 1,
            "inventory.hold": 1.3,
            "booking.create": 1,
            "payment.simulate": 1,
            "booking.get": 2,
            "booking.tickets": 0.9,
        },
    ),
    Flow(
        "abandon",
        5,
        {"events.seatmap": 1, "inventory.hold": 1, "inventory.release": 1},
    ),
    Flow("cancel", 3, {"booking.list": 1, "booking.cancel": 1}),
    Flow("login", 2, {"auth.login": 1}, in_locust=False),
)


@dataclass(frozen=True)
class Call:
    """One unit of work a public request causes in a service. `measured_as` names the operation
    whose measured cost stands for this one when it cannot be measured on its own (README)."""

    service: str
    operation: str
    measured_as: str | None = None


@dataclass(frozen=True)
class PublicRequest:
    method: str
    path: str
    calls: tuple[Call, ...] = field(default=())
    # Answered with Cache-Control public (anonymous): a CDN in front serves a share of them
    # (infra's CloudFront behaviours), and only the misses reach the gateway and the services.
    edge_cacheable: bool = False


GATEWAY = Call("api-gateway", "proxy")

# Every public request passes the gateway; the rest is what the owning service does, and what it
# asks other services for (synchronously, or from the bus for the payment's consequences).
PUBLIC_REQUESTS: Mapping[str, PublicRequest] = {
    "events.list": PublicRequest(
        "GET", "/api/v1/events", (GATEWAY, Call("events", "list")), edge_cacheable=True
    ),
    "events.get": PublicRequest(
        "GET", "/api/v1/events/{id}", (GATEWAY, Call("events", "get")), edge_cacheable=True
    ),
    "events.seatmap": PublicRequest(
        "GET",
        "/api/v1/events/{id}/seatmap",
        (GATEWAY, Call("events", "seatmap"), Call("inventory", "availability-seats")),
    ),
    "search.events": PublicRequest(
        "GET", "/api/v1/search/events", (GATEWAY, Call("search", "events")), edge_cacheable=True
    ),
    "search.suggest": PublicRequest(
        "GET", "/api/v1/search/suggest", (GATEWAY, Call("search", "suggest")), edge_cacheable=True
    ),
    "inventory.availability": PublicRequest(
        "GET",
        "/api/v1/inventory/events/{id}/availability",
        (GATEWAY, Call("inventory", "availability")),
    ),
    "inventory.hold": PublicRequest(
        "POST", "/api/v1/inventory/events/{id}/holds", (GATEWAY, Call("inventory", "hold"))
    ),
    "inventory.release": PublicRequest(
        "DELETE",
        "/api/v1/inventory/holds/{id}",
        (GATEWAY, Call("inventory", "release", measured_as="inventory/hold")),
    ),
    "booking.create": PublicRequest(
        "POST",
        "/api/v1/bookings",
        (
            GATEWAY,
            Call("booking", "create"),
            # Booking prices the hold itself, at prices it asks events for once per event.
            Call("inventory", "hold-get"),
            Call("payment", "create"),
        ),
    ),
    "payment.simulate": PublicRequest(
        "POST",
        "/api/v1/payments/{id}/simulate",
        (
            GATEWAY,
            # The load test pays through the local provider's simulate; in production the card
            # is confirmed at Stripe, which then posts its webhook: that is what payment serves.
            Call("payment", "webhook"),
            # From the bus: booking confirms the paid booking (inventory confirm + a DynamoDB
            # transaction), notification mails the tickets (asks auth for the address and
            # events for the event).
            Call("booking", "confirm"),
            Call("inventory", "confirm", measured_as="inventory/hold"),
            Call("notification", "send"),
            Call("auth", "user-get"),
            Call("events", "internal-get"),
        ),
    ),
    "booking.get": PublicRequest("GET", "/api/v1/bookings/{id}", (GATEWAY, Call("booking", "get"))),
    "booking.list": PublicRequest("GET", "/api/v1/bookings", (GATEWAY, Call("booking", "list"))),
    "booking.tickets": PublicRequest(
        "GET", "/api/v1/bookings/{id}/tickets", (GATEWAY, Call("booking", "tickets"))
    ),
    "booking.cancel": PublicRequest(
        "POST",
        "/api/v1/bookings/{id}/cancel",
        (
            GATEWAY,
            Call("booking", "cancel", measured_as="booking/create"),
            Call("inventory", "release", measured_as="inventory/hold"),
            Call("notification", "send"),
            Call("auth", "user-get"),
            Call("events", "internal-get"),
        ),
    ),
    "auth.login": PublicRequest("POST", "/api/v1/auth/login", (GATEWAY, Call("auth", "login"))),
}


def locust_weights() -> dict[str, int]:
    """Task weights of the flows the locustfile runs as tasks."""
    return {flow.name: flow.weight for flow in FLOWS if flow.in_locust}


def request_shares(flows: tuple[Flow, ...] = FLOWS) -> dict[str, float]:
    """Each public request kind's share of all public requests (sums to 1)."""
    counts: dict[str, float] = {}
    for flow in flows:
        for kind, per_run in flow.requests.items():
            counts[kind] = counts.get(kind, 0.0) + flow.weight * per_run
    total = sum(counts.values())
    if total <= 0:
        raise ValueError("the mix sends no requests")
    return {kind: count / total for kind, count in counts.items()}


def operation_rates(
    total_rps: float,
    shares: Mapping[str, float],
    requests: Mapping[str, PublicRequest] = PUBLIC_REQUESTS,
    edge_hit_ratio: float = 0.0,
) -> dict[tuple[str, str], float]:
    """Requests per second each (service, operation) receives when the public requests arrive
    at `total_rps` in the given shares: the fan-out, made explicit. With a CDN in front, the
    edge-cacheable requests reach the origin only on a miss (1 - `edge_hit_ratio`)."""
    if not 0 <= edge_hit_ratio < 1:
        raise ValueError("the edge hit ratio is in [0, 1)")
    rates: dict[tuple[str, str], float] = {}
    for kind, share in shares.items():
        if kind not in requests:
            raise KeyError(f"no fan-out declared for public request {kind!r}")
        request = requests[kind]
        reaching = total_rps * share * (1 - edge_hit_ratio if request.edge_cacheable else 1)
        for call in request.calls:
            key = (call.service, call.operation)
            rates[key] = rates.get(key, 0.0) + reaching
    return rates
