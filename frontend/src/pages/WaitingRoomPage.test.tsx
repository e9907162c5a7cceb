import { act, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes, useLocation } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HoldProvider } from "../features/holds/HoldProvider";
import { fakeGateway, roomState, type Call } from "../test/fakeFetch";
import { jsonResponse, renderWithApp } from "../test/render";
import { Component as WaitingRoomPage } from "./WaitingRoomPage";

const EVENT = {
  event_id: "e1", organizer_id: "o", venue_id: "v", title: "Big Show", description: "", category: "concert",
  starts_at: "2030-01-01T19:00:00Z", ends_at: null, status: "on_sale", city: "Seoul", created_at: "",
  price_tiers: [{ tier: "standard", price_cents: 4500, currency: "EUR" }], section_tiers: { A: "standard" },
};
const ROOM = "/api/v1/waiting-room/e1";


function EventStandIn() {
  const location = useLocation();
  return <p>Event page {location.pathname}</p>;
}

function open(language: "en" | "ko" = "en") {
  return renderWithApp(
    <HoldProvider>
      <Routes>
        <Route path="/events/:eventId/waiting-room" element={<WaitingRoomPage />} />
        <Route path="/events/:eventId" element={<EventStandIn />} />
      </Routes>
    </HoldProvider>,
    { path: "/events/e1/waiting-room", language },
  );
}

const polls = (calls: Call[]) => calls.filter((c) => c.path === ROOM || c.path === `${ROOM}/join`);

/** Let the timers run for `ms` (fetches resolve on the way). */
const wait = (ms: number) => act(() => vi.advanceTimersByTimeAsync(ms));

afterEach(() => vi.useRealTimers());

describe("the waiting page", () => {
  it("asks a signed-out visitor to sign in to join the queue, and brings them back here", async () => {
    const calls = fakeGateway({ "GET /api/v1/events/e1": jsonResponse(200, EVENT) }, { signedIn: false });
    open();
    const link = await screen.findByRole("link", { name: "Sign in to join the queue" });
    expect(link).toHaveAttribute("href", `/signin?next=${encodeURIComponent("/events/e1/waiting-room")}`);
    expect(screen.getByRole("heading", { level: 1, name: "Waiting room: Big Show" })).toBeInTheDocument();
    expect(polls(calls)).toEqual([]);
  });

  it("joins, shows the place, the people ahead, the wait and a named progress bar that fills as people go in", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: false });
    let answer = roomState({});
    const calls = fakeGateway({
      "GET /api/v1/events/e1": jsonResponse(200, EVENT),
      [`POST ${ROOM}/join`]: () => jsonResponse(200, answer, { "Retry-After": String(answer.poll_after_seconds) }),
      [`GET ${ROOM}`]: () => jsonResponse(200, answer, { "Retry-After": String(answer.poll_after_seconds) }),
    });
    open();
    await wait(0);
    expect(screen.getByText("You are number 12 in the queue.")).toBeInTheDocument();
    expect(screen.getByText("11 people are ahead of you.")).toBeInTheDocument();
    expect(screen.getByText("Estimated wait: about 3 minutes.")).toBeInTheDocument();
    const bar = screen.getByRole("progressbar", { name: "Your place in the queue" });
    expect(bar).toHaveAttribute("aria-valuenow", "0");
    expect(calls.filter((c) => c.path === `${ROOM}/join`)).toHaveLength(1);
    expect(calls.find((c) => c.path === `${ROOM}/join`)!.headers.get("Authorization")).toBe("Bearer a");

    answer = roomState({ position: 2, people_ahead: 1, estimated_wait_seconds: 20 });
    await wait(5_000);
    expect(screen.getByText("You are number 2 in the queue.")).toBeInTheDocument();
    expect(screen.getByText("1 person is ahead of you.")).toBeInTheDocument();
    expect(screen.getByText("Estimated wait: less than a minute.")).toBeInTheDocument();
    expect(bar).toHaveAttribute("aria-valuenow", "91");
    expect(bar).toHaveAttribute("aria-valuetext", "Number 2 in the queue, 91% of the way");
    expect(calls.filter((c) => c.path === `${ROOM}/join`)).toHaveLength(1); // joined once, then polled
    expect(calls.filter((c) => c.method === "GET" && c.path === ROOM)).toHaveLength(1);
  });

  it("polls when the room says: Retry-After first, else poll_after_seconds, and waits out a failure's Retry-After", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: false });
    const answers: Response[] = [
      jsonResponse(200, roomState({ poll_after_seconds: 3 }), { "Retry-After": "7" }),
      jsonResponse(503, { type: "https://ticketing-pro.com/problems/upstream-unavailable", status: 503 }, { "Retry-After": "20" }),
      jsonResponse(200, roomState({ poll_after_seconds: 4 })),
      jsonResponse(200, roomState({ poll_after_seconds: 4 })),
    ];
    const calls = fakeGateway({
      "GET /api/v1/events/e1": jsonResponse(200, EVENT),
      [`POST ${ROOM}/join`]: () => answers.shift()!,
      [`GET ${ROOM}`]: () => answers.shift()!,
    });
    open();
    await wait(0);
    const start = Date.now();
    expect(polls(calls)).toHaveLength(1);
    await wait(6_900);
    expect(polls(calls)).toHaveLength(1); // Retry-After 7 beats the body's 3
    await wait(100);
    expect(polls(calls)).toHaveLength(2);
    expect(screen.getByRole("alert")).toHaveTextContent("Part of the service is temporarily unavailable.");
    expect(screen.getByText("We keep trying by ourselves; you keep your place.")).toBeInTheDocument();
    expect(screen.getByText("You are number 12 in the queue.")).toBeInTheDocument(); // the last place stays shown
    await wait(19_900);
    expect(polls(calls)).toHaveLength(2); // the failure's Retry-After: 20
    await wait(100);
    expect(polls(calls)).toHaveLength(3);
    expect(screen.queryByRole("alert")).toBeNull();
    await wait(3_900);
    expect(polls(calls)).toHaveLength(3);
    await wait(100);
    expect(polls(calls)).toHaveLength(4); // no header: the body's poll_after_seconds
    expect(polls(calls).map((c) => c.at - start)).toEqual([0, 7_000, 27_000, 31_000]);
  });

  it("sends the place's receipt back on every poll and after a reload, so a room that lost its state gives the place back", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: false });
    const answers = [
      jsonResponse(200, roomState({ receipt: "receipt-1", poll_after_seconds: 2 })),
      jsonResponse(404, { type: "https://ticketing-pro.com/problems/not-in-queue", status: 404 }),
      jsonResponse(200, roomState({ receipt: "receipt-2", poll_after_seconds: 2 })),
    ];
    const calls = fakeGateway({
      "GET /api/v1/events/e1": jsonResponse(200, EVENT),
      [`POST ${ROOM}/join`]: () => answers.shift()!,
      [`GET ${ROOM}`]: () => answers.shift()!,
    });
    const first = open();
    await wait(2_000);
    await wait(1_000); // not in the queue (the room lost it): join again, with the receipt
    const sent = polls(calls).map((c) => [c.method, c.headers.get("X-Queue-Receipt")]);
    expect(sent).toEqual([
      ["POST", null],
      ["GET", "receipt-1"],
      ["POST", "receipt-1"],
    ]);
    expect(screen.getByText("You are number 12 in the queue.")).toBeInTheDocument();
    first.unmount();
    answers.push(jsonResponse(200, roomState({ receipt: "receipt-2" })));
    open(); // a reload
    await wait(0);
    expect(polls(calls).at(-1)!.headers.get("X-Queue-Receipt")).toBe("receipt-2");
  });

  it("before the opening, says the order is drawn then and refreshing does not help", async () => {
    fakeGateway({
      "GET /api/v1/events/e1": jsonResponse(200, EVENT),
      [`POST ${ROOM}/join`]: jsonResponse(200, roomState({
        opens_at: "2099-06-01T11:00:00Z", position: null, people_ahead: null, estimated_wait_seconds: null, poll_after_seconds: 30,
      })),
    });
    open();
    expect(await screen.findByText(/^The queue opens at .*2099/)).toBeInTheDocument();
    expect(screen.getByText(/in an order drawn at random when it opens\. Refreshing this page or arriving earlier does not change your place/)).toBeInTheDocument();
    const bar = screen.getByRole("progressbar", { name: "Your place in the queue" });
    expect(bar).not.toHaveAttribute("aria-valuenow");
    expect(bar).toHaveAttribute("aria-valuetext", "Waiting for the queue to open");
    expect(screen.queryByText(/in the queue\.$/)).toBeNull();
  });

  it("moves on to the event page by itself when admitted, keeping the token for that event", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: false });
    const until = new Date(Date.now() + 600_000).toISOString();
    const answers = [
      jsonResponse(200, roomState({ position: 1, people_ahead: 0, estimated_wait_seconds: 5, poll_after_seconds: 2 })),
      jsonResponse(200, roomState({ state: "admitted", position: null, people_ahead: null, admission_token: "tok-e1", admitted_until: until })),
    ];
    fakeGateway({
      "GET /api/v1/events/e1": jsonResponse(200, EVENT),
      [`POST ${ROOM}/join`]: () => answers.shift()!,
      [`GET ${ROOM}`]: () => answers.shift()!,
    });
    const { services } = open();
    await wait(0);
    expect(screen.getByText("Nobody is ahead of you: you are next.")).toBeInTheDocument();
    // Nobody ahead, a slot to wait for: the bar follows the wait, it is not full yet.
    expect(screen.getByRole("progressbar", { name: "Your place in the queue" })).toHaveAttribute("aria-valuenow", "0");
    await wait(2_000);
    expect(screen.getByText("Event page /events/e1")).toBeInTheDocument();
    expect(services.admissions.get("e1")).toEqual({ token: "tok-e1", until });
    expect(JSON.parse(sessionStorage.getItem("ticketing.admission.e1")!).token).toBe("tok-e1");
  });

  it("goes straight to the event page when the room is off", async () => {
    fakeGateway({
      "GET /api/v1/events/e1": jsonResponse(200, EVENT),
      [`POST ${ROOM}/join`]: jsonResponse(200, roomState({ state: "off", position: null, people_ahead: null })),
    });
    open();
    expect(await screen.findByText("Event page /events/e1")).toBeInTheDocument();
  });

  it("after the shopping time, says so and joins again at the back when asked", async () => {
    const answers = [
      jsonResponse(200, roomState({ state: "expired", position: null, people_ahead: null })),
      jsonResponse(200, roomState({ position: 40, people_ahead: 39 })),
    ];
    const calls = fakeGateway({
      "GET /api/v1/events/e1": jsonResponse(200, EVENT),
      [`POST ${ROOM}/join`]: () => answers.shift()!,
      [`DELETE ${ROOM}`]: jsonResponse(204, null),
    });
    open();
    expect(await screen.findByText("Your time to shop has ended.")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Join the queue again" }));
    expect(await screen.findByText("You are number 40 in the queue.")).toBeInTheDocument();
    expect(calls.filter((c) => c.path.startsWith(ROOM)).map((c) => c.method)).toEqual(["POST", "DELETE", "POST"]);
  });

  it("speaks Korean", async () => {
    fakeGateway({
      "GET /api/v1/events/e1": jsonResponse(200, EVENT),
      [`POST ${ROOM}/join`]: jsonResponse(200, roomState({})),
    });
    open("ko");
    expect(await screen.findByText("대기 순서 12번입니다.")).toBeInTheDocument();
    expect(screen.getByText("앞에 11명이 있습니다.")).toBeInTheDocument();
    expect(screen.getByRole("progressbar", { name: "대기열에서 내 순서" })).toBeInTheDocument();
  });
});
