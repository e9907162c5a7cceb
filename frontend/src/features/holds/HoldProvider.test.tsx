import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { Link, Route, Routes } from "react-router";
import { REFRESH_KEY } from "../../auth/session";
import { jsonResponse, renderWithApp } from "../../test/render";
import { useHold } from "./HoldProvider";
import { HoldProvider } from "./HoldProvider";

const HOLD = {
  hold_id: "h1",
  event_id: "e1",
  user_id: "u1",
  seat_ids: ["A-1-1", "A-1-2"],
  section_id: null,
  quantity: 2,
  expires_at: new Date(Date.now() + 600_000).toISOString(),
};

function EventPageStandIn() {
  const { hold, create } = useHold();
  return (
    <>
      <button type="button" onClick={() => void create("e1", { seat_ids: ["A-1-1", "A-1-2"] })}>
        Hold
      </button>
      <p>{hold ? `held ${hold.seat_ids.join(" ")}` : "nothing held"}</p>
      <Link to="/checkout/h1">Checkout</Link>
      <Link to="/">Home</Link>
    </>
  );
}

function fakeApi() {
  const calls: { method: string; url: string; headers: Headers }[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = String(input);
    const method = init?.method ?? "GET";
    calls.push({ method, url, headers: new Headers(init?.headers) });
    if (url.endsWith("/auth/refresh")) return jsonResponse(200, { access_token: "a", refresh_token: "r2", token_type: "Bearer", expires_in: 900 });
    if (url.endsWith("/auth/me")) return jsonResponse(200, { id: "u1", email: "c@example.com", name: "C", role: "customer", created_at: "" });
    if (url.includes("/holds") && method === "POST") return jsonResponse(201, HOLD);
    if (url.includes("/holds/h1") && method === "DELETE") return jsonResponse(204, null);
    return jsonResponse(404, { status: 404 });
  });
  return calls;
}

describe("the hold", () => {
  it("is asked for with an Idempotency-Key, kept on its event and checkout pages, and released on leaving them", async () => {
    localStorage.setItem(REFRESH_KEY, "r1");
    const calls = fakeApi();
    renderWithApp(
      <HoldProvider>
        <Routes>
          <Route path="/events/e1" element={<EventPageStandIn />} />
          <Route path="/checkout/h1" element={<EventPageStandIn />} />
          <Route path="/" element={<EventPageStandIn />} />
        </Routes>
      </HoldProvider>,
      { path: "/events/e1" },
    );
    await userEvent.click(screen.getByRole("button", { name: "Hold" }));
    expect(await screen.findByText("held A-1-1 A-1-2")).toBeInTheDocument();
    const post = calls.find((c) => c.method === "POST" && c.url.includes("/holds"))!;
    expect(post.headers.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{36}$/);
    expect(post.headers.get("Authorization")).toBe("Bearer a");
    expect(JSON.parse(sessionStorage.getItem("ticketing.hold")!).hold_id).toBe("h1"); // a reload keeps it

    await userEvent.click(screen.getByRole("link", { name: "Checkout" }));
    expect(screen.getByText("held A-1-1 A-1-2")).toBeInTheDocument();
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);

    await act(async () => {
      await userEvent.click(screen.getByRole("link", { name: "Home" }));
    });
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE" && c.url.endsWith("/holds/h1"))).toBe(true));
    expect(screen.getByText("nothing held")).toBeInTheDocument();
    expect(sessionStorage.getItem("ticketing.hold")).toBeNull();
  });
});
