"""A small stand-in for the platform behind the gateway, for the test that runs Locust for real:
the public and internal paths the load test uses, with in-memory seats that can be contested
(409) and a fault switch that makes one path answer 500. It keeps what it answered, so the test
can compare Locust's counts with the server's."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class Platform:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users: dict[str, str] = {  # email -> password: the demo accounts of `make dev`
            "organizer@ticketing.dev": "Organizer-demo-2026",
            "admin@ticketing.dev": "Admin-demo-2026",
        }
        self.venues: dict[str, Any] = {}
        self.events: dict[str, Any] = {}
        self.seats: dict[str, dict[str, str]] = {}  # event -> seat -> status
        self.standing: dict[str, dict[str, list[int]]] = {}  # event -> section -> [cap, held, sold]
        self.holds: dict[str, Any] = {}
        self.bookings: dict[str, Any] = {}
        self.payments: dict[str, Any] = {}
        self.answers: Counter[tuple[str, int]] = Counter()  # (route, status) -> count
        self.fail_every: dict[str, int] = {}  # route -> answer 500 to every n-th request
        self.contest_every = 0  # answer every n-th hold 409, as if someone had been faster
        self.seen: Counter[str] = Counter()
        # Waiting rooms: event -> settings; everyone who joins is admitted at once, in order.
        self.rooms: dict[str, Any] = {}
        self.admitted: list[str] = []
        self.admission = ""  # the X-Admission-Token of the request being answered
        self.refused_without_admission = 0

    # --- routing --------------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: Any,
        user: str | None,
        admission: str = "",
    ):
        parts = [p for p in path.split("/") if p]
        route = (
            method
            + " "
            + "/".join("{}" if len(p) >= 20 or p.startswith("h-") else p for p in parts)
        )
        with self.lock:
            self.seen[route] += 1
            every = self.fail_every.get(route)
            if every and self.seen[route] % every == 0:
                return route, 500, {"type": "about:blank", "title": "boom", "status": 500}
            self.admission = admission
            status, answer = self.dispatch(method, parts, query, body, user)
        return route, status, answer

    def dispatch(self, method: str, p: list[str], q: dict[str, str], body: Any, user: str | None):
        if p[:3] == ["api", "v1", "auth"]:
            if p[3] == "register":
                if body["email"] in self.users:
                    return 409, {"title": "taken"}
                self.users[body["email"]] = body["password"]
                return 201, {"id": uuid.uuid4().hex, "email": body["email"]}
            if p[3] == "login":
                if self.users.get(body["email"]) != body["password"]:
                    return 401, {"title": "no"}
                return 200, {"access_token": "t-" + body["email"], "token_type": "Bearer"}
        if p == ["api", "v1", "venues"]:
            venue_id = uuid.uuid4().hex
            self.venues[venue_id] = body
            return 201, {"venue_id": venue_id}
        if p[:3] == ["api", "v1", "events"]:
            return self.events_api(method, p[3:], q, body)
        if p[:3] == ["api", "v1", "waiting-room"]:
            return self.room_api(method, p[3:], user)
        if p[:3] == ["api", "v1", "search"]:
            items = [self.listing(e) for e in self.events.values()]
            if p[3] == "suggest":
                return 200, {"suggestions": [e["title"] for e in items][:5]}
            return 200, {"items": items, "total": len(items), "facets": {}}
        if p[:3] == ["api", "v1", "inventory"]:
            return self.inventory_api(method, p[3:], q, body, user)
        if p[:3] == ["api", "v1", "bookings"]:
            return self.bookings_api(method, p[3:], q, body, user)
        if p[:3] == ["api", "v1", "payments"]:
            payment = self.payments.get(p[3])
            if payment is None:
                return 404, {"title": "unknown"}
            if method == "GET":
                return 200, payment
            return self.simulate(payment, body["outcome"])
        if p[:2] == ["internal", "events"] and p[3] == "sold":
            sold = [
                {k: b[k] for k in ("booking_id", "seat_ids", "section_id", "quantity")}
                for b in self.bookings.values()
                if b["event_id"] == p[2] and b["status"] == "confirmed"
            ]
            return 200, {"sold": sold}
        return 404, {"title": "no route"}

    # --- events and inventory -------------------------------------------------------------------

    def events_api(self, method: str, p: list[str], q: dict[str, str], body: Any):
        if not p:
            if method == "POST":
                event_id = uuid.uuid4().hex
                venue = self.venues[body["venue_id"]]
                self.events[event_id] = {**body, "event_id": event_id, "status": "draft"}
                self.seats[event_id] = {
                    f"{s['section_id']}-{row['label']}-{n}": "available"
                    for s in venue["sections"]
                    if s["kind"] == "seated"
                    for row in s["rows"]
                    for n in range(1, row["seats"] + 1)
                }
                self.standing[event_id] = {
                    s["section_id"]: [s["capacity"], 0, 0]
                    for s in venue["sections"]
                    if s["kind"] == "standing"
                }
                return 201, self.events[event_id]
            items = [self.listing(e) for e in self.events.values() if e["status"] == "on_sale"]
            return 200, {"items": items, "next_cursor": None}
        event = self.events.get(p[0])
        if event is None:
            return 404, {"title": "unknown event"}
        if p[1:] == ["publish"]:
            event["status"] = "on_sale"
            return 200, event
        if p[1:] == ["seatmap"]:
            return 200, self.seatmap(p[0])
        if p[1:] == ["waiting-room"] and method == "PUT":
            self.rooms[p[0]] = {**body, "event_id": p[0]}
            return 200, self.rooms[p[0]]
        return 200, event

    def room_api(self, method: str, p: list[str], user: str | None):
        event_id = p[0]
        if event_id not in self.rooms:
            return 200, {"event_id": event_id, "state": "off", "poll_after_seconds": 30}
        if method == "DELETE":
            return 204, None
        if user not in self.admitted:
            if method == "GET":
                return 404, {"title": "not in queue"}
            self.admitted.append(user or "")
        sequence = self.admitted.index(user or "") + 1
        claims = {"sub": user, "evt": event_id, "jti": f"e-{sequence}", "iat": 1, "exp": 2}
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        return 200, {
            "event_id": event_id,
            "state": "admitted",
            "admission_token": f"h.{payload}.s",
            "poll_after_seconds": 1,
            "receipt": None,
        }

    def guarded(self, event_id: str) -> bool:
        """A hold or booking of a roomed event without its token (the gateway's 403)."""
        if event_id in self.rooms and not self.admission:
            self.refused_without_admission += 1
            return True
        return False

    def listing(self, event: dict[str, Any]) -> dict[str, Any]:
        return {"event_id": event["event_id"], "title": event["title"]}

    def sections(self, event_id: str) -> list[dict[str, Any]]:
        counts: dict[str, Counter[str]] = {}
        for seat, status in self.seats[event_id].items():
            counts.setdefault(seat.split("-")[0], Counter())[status] += 1
        sections = [
            {
                "section_id": sid,
                "capacity": sum(c.values()),
                "available": c["available"],
                "held": c["held"],
                "sold": c["sold"],
            }
            for sid, c in counts.items()
        ]
        for sid, (capacity, held, sold) in self.standing[event_id].items():
            sections.append(
                {
                    "section_id": sid,
                    "capacity": capacity,
                    "available": capacity - held - sold,
                    "held": held,
                    "sold": sold,
                }
            )
        return sections

    def seatmap(self, event_id: str) -> dict[str, Any]:
        out = []
        for section in self.sections(event_id):
            sid = section["section_id"]
            if sid in self.standing[event_id]:
                out.append({**section, "kind": "standing"})
                continue
            rows: dict[str, list[dict[str, Any]]] = {}
            for seat, status in self.seats[event_id].items():
                if seat.split("-")[0] == sid:
                    rows.setdefault(seat.split("-")[1], []).append(
                        {"seat_id": seat, "status": status}
                    )
            out.append(
                {
                    **section,
                    "kind": "seated",
                    "rows": [{"label": k, "seats": v} for k, v in rows.items()],
                }
            )
        return {"event_id": event_id, "sections": out}

    def inventory_api(self, method: str, p: list[str], q: dict[str, str], body: Any, user):
        if p[0] == "holds":
            hold = self.holds.get(p[1])
            if hold is None or hold["user_id"] != user:
                return 404, {"title": "unknown hold"}
            if method == "DELETE":
                self.release(hold)
                return 204, None
            return 200, hold
        event_id = p[1]
        if p[2] == "holds" and self.guarded(event_id):
            return 403, {"title": "Join the waiting room"}
        if p[2] == "availability":
            answer: dict[str, Any] = {"event_id": event_id, "sections": self.sections(event_id)}
            if q.get("seats") == "true":
                answer["seats"] = dict(self.seats[event_id])
            return 200, answer
        seats = self.seats[event_id]
        hold_id = "h-" + uuid.uuid4().hex
        self.seen["holds"] += 1
        if self.contest_every and self.seen["holds"] % self.contest_every == 0:
            return 409, {"title": "taken", "unavailable": body.get("seat_ids") or []}
        if body.get("seat_ids"):
            taken = [s for s in body["seat_ids"] if seats.get(s) != "available"]
            if taken:
                return 409, {"title": "taken", "unavailable": taken}
            for seat in body["seat_ids"]:
                seats[seat] = "held"
            hold = {
                "seat_ids": body["seat_ids"],
                "section_id": None,
                "quantity": len(body["seat_ids"]),
            }
        else:
            counts = self.standing[event_id][body["section_id"]]
            if counts[0] - counts[1] - counts[2] < body["quantity"]:
                return 409, {"title": "sold out", "unavailable": []}
            counts[1] += body["quantity"]
            hold = {"seat_ids": [], "section_id": body["section_id"], "quantity": body["quantity"]}
        hold |= {"hold_id": hold_id, "event_id": event_id, "user_id": user, "state": "held"}
        self.holds[hold_id] = hold
        return 201, hold

    def release(self, hold: dict[str, Any], to: str = "available") -> None:
        if hold["state"] != "held":
            return
        hold["state"] = to
        if hold["seat_ids"]:
            for seat in hold["seat_ids"]:
                self.seats[hold["event_id"]][seat] = "sold" if to == "sold" else "available"
        else:
            counts = self.standing[hold["event_id"]][hold["section_id"]]
            counts[1] -= hold["quantity"]
            if to == "sold":
                counts[2] += hold["quantity"]

    # --- bookings and payments ------------------------------------------------------------------

    def bookings_api(self, method: str, p: list[str], q: dict[str, str], body: Any, user):
        if not p and method == "POST":
            hold = self.holds.get(body["hold_id"])
            if hold is not None and self.guarded(hold["event_id"]):
                return 403, {"title": "Join the waiting room"}
            if hold is None or hold["user_id"] != user or hold["state"] != "held":
                return 409, {"title": "hold not bookable"}
            booking_id, payment_id = uuid.uuid4().hex, uuid.uuid4().hex
            booking = {
                "booking_id": booking_id,
                "user_id": user,
                "event_id": hold["event_id"],
                "hold_id": hold["hold_id"],
                "seat_ids": hold["seat_ids"],
                "section_id": hold["section_id"],
                "quantity": hold["quantity"],
                "status": "pending_payment",
                "amount_cents": 4500 * hold["quantity"],
                "payment": {"payment_id": payment_id, "provider": "local", "client_secret": "s"},
            }
            self.bookings[booking_id] = booking
            self.payments[payment_id] = {
                "payment_id": payment_id,
                "booking_id": booking_id,
                "status": "requires_payment",
                "amount_cents": booking["amount_cents"],
            }
            return 201, booking
        if not p:
            mine = [
                b
                for b in self.bookings.values()
                if (b["event_id"] == q["event_id"] if "event_id" in q else b["user_id"] == user)
            ]
            return 200, {"items": mine, "next_cursor": None}
        booking = self.bookings.get(p[0])
        if booking is None:
            return 404, {"title": "unknown booking"}
        if p[1:] == ["tickets"]:
            if booking["status"] != "confirmed":
                return 409, {"title": "not confirmed"}
            return 200, [{"ticket_id": "t", "seat_id": s} for s in booking["seat_ids"]]
        if p[1:] == ["cancel"]:
            payment = self.payments[booking["payment"]["payment_id"]]
            if booking["status"] == "confirmed":
                booking["status"], payment["status"] = "refunded", "refunded"
                self.release_sold(booking)
            elif booking["status"] == "pending_payment":
                booking["status"] = "cancelled"
                self.release(self.holds[booking["hold_id"]])
            else:
                return 409, {"title": "not cancellable"}
        return 200, booking

    def release_sold(self, booking: dict[str, Any]) -> None:
        if booking["seat_ids"]:
            for seat in booking["seat_ids"]:
                self.seats[booking["event_id"]][seat] = "available"
        else:
            self.standing[booking["event_id"]][booking["section_id"]][2] -= booking["quantity"]

    def simulate(self, payment: dict[str, Any], outcome: str):
        booking = self.bookings[payment["booking_id"]]
        if outcome == "succeeded":
            payment["status"], booking["status"] = "succeeded", "confirmed"
            self.release(self.holds[booking["hold_id"]], to="sold")
        else:
            payment["status"], booking["status"] = "failed", "failed"
            self.release(self.holds[booking["hold_id"]])
        return 202, {"payment_id": payment["payment_id"], "outcome": outcome}


def serve(platform: Platform) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            auth = self.headers.get("Authorization", "")
            user = auth.removeprefix("Bearer t-") if auth.startswith("Bearer t-") else None
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            admission = self.headers.get("X-Admission-Token", "")
            route, status, answer = platform.handle(method, url.path, query, body, user, admission)
            with platform.lock:
                platform.answers[(route, status)] += 1
            payload = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def do_DELETE(self) -> None:
            self._answer("DELETE")

        def do_PUT(self) -> None:
            self._answer("PUT")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
