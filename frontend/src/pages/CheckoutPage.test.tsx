import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { REFRESH_KEY } from "../auth/session";
import { HoldProvider } from "../features/holds/HoldProvider";
import { jsonResponse, renderWithApp } from "../test/render";
import { Component as CheckoutPage } from "./CheckoutPage";

const HOLD = {
  hold_id: "h1", event_id: "e1", user_id: "u1", seat_ids: ["A-1-1", "A-1-2"], section_id: null, quantity: 2,
  expires_at: new Date(Date.now() + 600_000).toISOString(), status: "held",
};
const EVENT = {
  event_id: "e1", organizer_id: "o", venue_id: "v", title: "Show", description: "", category: "concert",
  starts_at: "2030-01-01T19:00:00Z", ends_at: null, status: "on_sale", city: "Seoul", created_at: "",
  price_tiers: [{ tier: "standard", price_cents: 4500, currency: "EUR" }], section_tiers: { A: "standard" },
};
const booking = (status: string) => ({
  booking_id: "b1", user_id: "u1", event_id: "e1", seat_ids: HOLD.seat_ids, quantity: 2, status, amount_cents: 9000,
  currency: "EUR", hold_expires_at: HOLD.expires_at, created_at: "", payment: { payment_id: "p1", provider: "local", client_secret: "s" },
});

describe("checkout", () => {
  it("books once however often Book is pressed, pays with the simulator, and settles", async () => {
    localStorage.setItem(REFRESH_KEY, "r1");
    const posts: { url: string; key: string | null }[] = [];
    let paid = false;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = String(input);
      const method = init?.method ?? "GET";
      if (url.endsWith("/auth/refresh")) return jsonResponse(200, { access_token: "a", refresh_token: "r2", token_type: "Bearer", expires_in: 900 });
      if (url.endsWith("/auth/me")) return jsonResponse(200, { id: "u1", email: "c@example.com", name: "C", role: "customer", created_at: "" });
      if (url.endsWith("/inventory/holds/h1")) return jsonResponse(200, HOLD);
      if (url.endsWith("/events/e1")) return jsonResponse(200, EVENT);
      if (method === "POST") posts.push({ url, key: new Headers(init?.headers).get("Idempotency-Key") });
      if (url.endsWith("/api/v1/bookings") && method === "POST") {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return jsonResponse(201, booking("pending_payment"));
      }
      if (url.endsWith("/payments/p1/simulate")) {
        paid = true;
        return jsonResponse(202, { payment_id: "p1", outcome: "succeeded" });
      }
      if (url.endsWith("/bookings/b1")) return jsonResponse(200, booking(paid ? "confirmed" : "pending_payment"));
      return jsonResponse(404, { status: 404 });
    });
    renderWithApp(
      <HoldProvider>
        <Routes>
          <Route path="/checkout/:holdId" element={<CheckoutPage />} />
        </Routes>
      </HoldProvider>,
      { path: "/checkout/h1" },
    );
    expect(await screen.findByRole("timer")).toHaveTextContent(/Held for (9|10):\d\d/);
    expect(screen.getByText("€90")).toBeInTheDocument();
    await userEvent.dblClick(screen.getByRole("button", { name: "Book and go to payment" }));
    await userEvent.click(await screen.findByRole("button", { name: "Pay €90 (test payment)" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Payment received. Your booking is confirmed!" }, { timeout: 5000 })).toBeInTheDocument();
    const bookings = posts.filter((p) => p.url.endsWith("/api/v1/bookings"));
    expect(bookings).toHaveLength(1);
    expect(bookings[0]!.key).toBe(sessionStorage.getItem("ticketing.booking-key.h1"));
    expect(screen.getByRole("link", { name: "View your tickets" })).toHaveAttribute("href", "/bookings/b1");
  });
});
