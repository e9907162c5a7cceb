/** The event page and checkout of an event selling through a waiting room. */
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";
import { HoldProvider } from "../features/holds/HoldProvider";
import { fakeGateway, roomState } from "../test/fakeFetch";
import { jsonResponse, renderWithApp } from "../test/render";
import { Component as CheckoutPage } from "./CheckoutPage";
import { EventPage } from "./EventPage";
import { Component as WaitingRoomPage } from "./WaitingRoomPage";

const EVENT = {
  event_id: "e1", organizer_id: "o", venue_id: "v", title: "Big Show", description: "", category: "concert",
  starts_at: "2030-01-01T19:00:00Z", ends_at: null, status: "on_sale", city: "Seoul", created_at: "",
  price_tiers: [{ tier: "standard", price_cents: 4500, currency: "EUR" }], section_tiers: { A: "standard" },
};
const LAYOUT = {
  event_id: "e1", venue_id: "v", version: "1", price_tiers: EVENT.price_tiers, seat_count: 2,
  sections: [{
    section_id: "A", name: "Stalls", kind: "seated", price_tier: "standard", capacity: 2,
    rows: [{ label: "1", seats: [{ seat_id: "A-1-1", number: 1, bit: 0 }, { seat_id: "A-1-2", number: 2, bit: 1 }] }],
  }],
};
const BITS = {
  event_id: "e1", status: "open", seat_count: 2, sold: "AA==", held: "AA==",
  sections: [{ section_id: "A", capacity: 2, available: 2, held: 0, sold: 0 }],
};
const VENUE = {
  venue_id: "v", organizer_id: "o", name: "Hall", city: "Seoul", country: "KR", address: "1 Road", timezone: "Asia/Seoul",
  sections: [], capacity: 2, created_at: "",
};
const settings = (enabled: boolean) => ({
  event_id: "e1", enabled, opens_at: "2020-01-01T00:00:00Z", admission_per_minute: 60, max_shoppers: 100, shopping_minutes: 10,
});
const HOLD = {
  hold_id: "h1", event_id: "e1", user_id: "u1", seat_ids: ["A-1-1"], section_id: null, quantity: 1,
  expires_at: new Date(Date.now() + 600_000).toISOString(), status: "held",
};
const REQUIRED = {
  type: "https://ticketing-pro.com/problems/waiting-room-required", title: "Join the waiting room", status: 403,
  detail: "This event sells through a waiting room.", event_id: "e1", join: "/api/v1/waiting-room/e1/join",
};

function eventRoutes(enabled: boolean, extra: Parameters<typeof fakeGateway>[0] = {}) {
  return {
    "GET /api/v1/events/e1": jsonResponse(200, EVENT),
    "GET /api/v1/events/e1/layout": jsonResponse(200, LAYOUT),
    "GET /api/v1/inventory/events/e1/availability/bits": jsonResponse(200, BITS),
    "GET /api/v1/venues/v": jsonResponse(200, VENUE),
    "GET /api/v1/events/e1/waiting-room": jsonResponse(200, settings(enabled)),
    "POST /api/v1/waiting-room/e1/join": jsonResponse(200, roomState({ position: 7, people_ahead: 6 })),
    ...extra,
  };
}

function open(path = "/events/e1") {
  return renderWithApp(
    <HoldProvider>
      <Routes>
        <Route path="/events/:eventId" element={<EventPage />} />
        <Route path="/events/:eventId/waiting-room" element={<WaitingRoomPage />} />
        <Route path="/checkout/:holdId" element={<CheckoutPage />} />
      </Routes>
    </HoldProvider>,
    { path },
  );
}

const admit = (msLeft: number) =>
  sessionStorage.setItem(
    "ticketing.admission.e1",
    JSON.stringify({ token: "tok-e1", until: new Date(Date.now() + msLeft).toISOString() }),
  );

describe("an event with a waiting room", () => {
  it("sends a signed-in customer who was not let in yet to the queue", async () => {
    const calls = fakeGateway(eventRoutes(true));
    open();
    expect(await screen.findByText("You are number 7 in the queue.")).toBeInTheDocument();
    expect(screen.getByRole("heading", { level: 1, name: "Waiting room: Big Show" })).toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST" && c.path === "/api/v1/waiting-room/e1/join")).toBe(true);
  });

  it("shows a signed-out visitor the event and a way to sign in to join the queue", async () => {
    fakeGateway(eventRoutes(true), { signedIn: false });
    open();
    expect(await screen.findByRole("heading", { level: 1, name: "Big Show" })).toBeInTheDocument();
    expect(screen.getByText("Tickets for this event are sold through a waiting room.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Sign in to join the queue" })).toHaveAttribute(
      "href",
      `/signin?next=${encodeURIComponent("/events/e1/waiting-room")}`,
    );
  });

  it("lets an admitted customer shop with the time left in view, the token on the hold and the booking", async () => {
    admit(9 * 60_000 + 31_600);
    const calls = fakeGateway(
      eventRoutes(true, {
        "POST /api/v1/inventory/events/e1/holds": jsonResponse(201, HOLD),
        "GET /api/v1/inventory/holds/h1": jsonResponse(200, HOLD),
        "POST /api/v1/bookings": jsonResponse(403, REQUIRED),
      }),
    );
    open();
    const timer = await screen.findByRole("timer", { name: "Time left to shop" });
    expect(timer).toHaveTextContent(/^You have 9:3[12] left to shop$/);
    await userEvent.click(await screen.findByRole("button", { name: "A-1-1, available, Standard €45" }));
    await userEvent.click(screen.getByRole("button", { name: "Hold 1 seat" }));
    await userEvent.click(await screen.findByRole("link", { name: "Continue to checkout" }));
    expect(await screen.findByRole("timer", { name: "Time left to shop" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Book and go to payment" }));

    const hold = calls.find((c) => c.method === "POST" && c.path.endsWith("/holds"))!;
    const booking = calls.find((c) => c.method === "POST" && c.path === "/api/v1/bookings")!;
    expect(hold.headers.get("X-Admission-Token")).toBe("tok-e1");
    expect(booking.headers.get("X-Admission-Token")).toBe("tok-e1");
    // The gateway refused the booking (the time had run out there): back to the queue, told why.
    expect(await screen.findByText("Your time to shop has ended or has not begun yet, so you are back in the queue.")).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("you are back in the queue");
    expect(await screen.findByText("You are number 7 in the queue.")).toBeInTheDocument();
    expect(sessionStorage.getItem("ticketing.admission.e1")).toBeNull();
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE" && c.path === "/api/v1/inventory/holds/h1")).toBe(true));
  });

  it("uses the admission up with the booking (the gateway ends it), so the countdown goes", async () => {
    admit(5 * 60_000);
    const booking = {
      booking_id: "b1", user_id: "u1", event_id: "e1", seat_ids: ["A-1-1"], quantity: 1, status: "pending_payment",
      amount_cents: 4500, currency: "EUR", hold_expires_at: HOLD.expires_at, created_at: "",
      payment: { payment_id: "p1", provider: "local", client_secret: "s" },
    };
    fakeGateway(
      eventRoutes(true, {
        "GET /api/v1/inventory/holds/h1": jsonResponse(200, HOLD),
        "POST /api/v1/bookings": jsonResponse(201, booking),
        "GET /api/v1/bookings/b1": jsonResponse(200, booking),
      }),
    );
    open("/checkout/h1");
    expect(await screen.findByRole("timer", { name: "Time left to shop" })).toHaveTextContent(/^You have (4:5\d|5:00) left to shop$/);
    await userEvent.click(screen.getByRole("button", { name: "Book and go to payment" }));
    expect(await screen.findByRole("button", { name: "Pay €45 (test payment)" })).toBeInTheDocument();
    expect(screen.queryByRole("timer", { name: "Time left to shop" })).toBeNull();
    expect(sessionStorage.getItem("ticketing.admission.e1")).toBeNull();
  });

  it("after a reload of a booked checkout, reads the booking instead of booking again (the admission is used up)", async () => {
    const booking = {
      booking_id: "b1", user_id: "u1", event_id: "e1", seat_ids: ["A-1-1"], quantity: 1, status: "pending_payment",
      amount_cents: 4500, currency: "EUR", hold_expires_at: HOLD.expires_at, created_at: "",
      payment: { payment_id: "p1", provider: "local", client_secret: "s" },
    };
    sessionStorage.setItem("ticketing.booking-key.h1", "k1");
    sessionStorage.setItem("ticketing.booking-of.h1", "b1");
    const calls = fakeGateway(
      eventRoutes(true, {
        "GET /api/v1/inventory/holds/h1": jsonResponse(200, HOLD),
        "POST /api/v1/bookings": jsonResponse(403, REQUIRED),
        "GET /api/v1/bookings/b1": jsonResponse(200, booking),
      }),
    );
    open("/checkout/h1");
    expect(await screen.findByRole("button", { name: "Pay €45 (test payment)" })).toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST" && c.path === "/api/v1/bookings")).toBe(false);
    expect(screen.queryByText(/back in the queue/)).toBeNull();
  });

  it("holds once per turn: releasing the seats ends the turn, said before and after", async () => {
    admit(5 * 60_000);
    const calls = fakeGateway(
      eventRoutes(true, {
        "POST /api/v1/inventory/events/e1/holds": jsonResponse(201, HOLD),
        "DELETE /api/v1/inventory/holds/h1": jsonResponse(204, null),
      }),
    );
    open();
    await userEvent.click(await screen.findByRole("button", { name: "A-1-1, available, Standard €45" }));
    await userEvent.click(screen.getByRole("button", { name: "Hold 1 seat" }));
    expect(await screen.findByText("Releasing your seats ends your turn to shop: you would queue again.")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "A-1-2, available, Standard €45" }));
    const holdAgain = screen.getByRole("button", { name: "Hold 1 seat" });
    expect(holdAgain).toBeDisabled();
    expect(holdAgain).toHaveAccessibleDescription("Check out the seats you hold, or release them first (which ends your turn to shop).");

    await userEvent.click(screen.getByRole("button", { name: "Release seats" }));
    expect(await screen.findByText("Your held seats were released, which ended your turn to shop, so you are back in the queue.")).toBeInTheDocument();
    expect(await screen.findByRole("progressbar", { name: "Your place in the queue" })).toBeInTheDocument();
    expect(calls.filter((c) => c.method === "POST" && c.path.endsWith("/holds"))).toHaveLength(1);
    expect(calls.some((c) => c.method === "DELETE" && c.path === "/api/v1/inventory/holds/h1")).toBe(true);
  });

  it("sends the customer back to the queue when a hold is refused for want of a valid token", async () => {
    admit(5 * 60_000);
    fakeGateway(eventRoutes(true, { "POST /api/v1/inventory/events/e1/holds": jsonResponse(403, REQUIRED) }));
    open();
    await userEvent.click(await screen.findByRole("button", { name: "A-1-1, available, Standard €45" }));
    await userEvent.click(screen.getByRole("button", { name: "Hold 1 seat" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Your time to shop has ended or has not begun yet, so you are back in the queue.",
    );
    expect(await screen.findByRole("progressbar", { name: "Your place in the queue" })).toBeInTheDocument();
  });

  it("says so and goes back to the queue when the shopping time ends", async () => {
    admit(1_200);
    fakeGateway(eventRoutes(true));
    open();
    expect(await screen.findByRole("timer", { name: "Time left to shop" })).toHaveTextContent("You have 0:02 left to shop");
    expect(await screen.findByText("Your time to shop has ended, so you are back in the queue.", {}, { timeout: 4_000 })).toBeInTheDocument();
    expect(await screen.findByText("You are number 7 in the queue.")).toBeInTheDocument();
  });
});

describe("an event without a waiting room", () => {
  it("is shopped directly, with no countdown and no token", async () => {
    const calls = fakeGateway(eventRoutes(false, { "POST /api/v1/inventory/events/e1/holds": jsonResponse(201, HOLD) }));
    open();
    await userEvent.click(await screen.findByRole("button", { name: "A-1-1, available, Standard €45" }));
    expect(screen.queryByRole("timer", { name: "Time left to shop" })).toBeNull();
    await userEvent.click(screen.getByRole("button", { name: "Hold 1 seat" }));
    expect(await screen.findByRole("heading", { name: "Your seats are held" })).toBeInTheDocument();
    expect(calls.some((c) => c.path.startsWith("/api/v1/waiting-room"))).toBe(false);
    expect(calls.find((c) => c.path.endsWith("/holds"))!.headers.get("X-Admission-Token")).toBeNull();
  });
});
