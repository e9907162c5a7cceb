import { describe, expect, it } from "vitest";
import type { Booking } from "../../api/types";
import { checkoutReducer, fromBooking, initialCheckout, type CheckoutState } from "./machine";

const booking = (status: Booking["status"], reason: string | null = null): Booking => ({
  booking_id: "b1",
  user_id: "u1",
  event_id: "e1",
  seat_ids: ["A-1-1", "A-1-2"],
  quantity: 2,
  status,
  amount_cents: 9000,
  currency: "EUR",
  hold_expires_at: "2030-01-01T00:00:00Z",
  created_at: "2029-12-31T23:50:00Z",
  reason,
  payment: { payment_id: "p1", provider: "local", client_secret: "s" },
});

const run = (state: CheckoutState, ...actions: Parameters<typeof checkoutReducer>[1][]) =>
  actions.reduce(checkoutReducer, state);

describe("checkout", () => {
  it("goes review → booking → payment → paying → settling → confirmed", () => {
    let state = run(initialCheckout, { type: "book" });
    expect(state.step).toBe("booking");
    state = run(state, { type: "booked", booking: booking("pending_payment") });
    expect(state.step).toBe("payment");
    state = run(state, { type: "pay" }, { type: "paymentSent" });
    expect(state.step).toBe("settling");
    state = run(state, { type: "bookingUpdated", booking: booking("pending_payment") });
    expect(state.step).toBe("settling"); // the webhook has not arrived yet
    state = run(state, { type: "bookingUpdated", booking: booking("confirmed") });
    expect(state).toMatchObject({ step: "confirmed", booking: { status: "confirmed" } });
  });

  it("books once however often Book is pressed", () => {
    const state = run(initialCheckout, { type: "book" }, { type: "book" });
    expect(state).toEqual({ step: "booking" });
    expect(run(state, { type: "booked", booking: booking("pending_payment") }, { type: "book" }).step).toBe("payment");
  });

  it("pays once however often Pay is pressed", () => {
    const paying = run(fromBooking(booking("pending_payment")), { type: "pay" });
    expect(run(paying, { type: "pay" })).toBe(paying);
  });

  it("a failed payment ends failed with the booking's reason", () => {
    const state = run(fromBooking(booking("pending_payment")), { type: "pay" }, { type: "paymentSent" }, { type: "bookingUpdated", booking: booking("failed", "card declined") });
    expect(state).toMatchObject({ step: "failed", booking: { reason: "card declined" } });
  });

  it("a payment request that fails returns to payment with the error", () => {
    const error = new Error("network");
    const state = run(fromBooking(booking("pending_payment")), { type: "pay" }, { type: "payFailed", error });
    expect(state).toMatchObject({ step: "payment", error });
  });

  it("an expired hold ends the review; a booking error lets the customer try again", () => {
    expect(run(initialCheckout, { type: "holdExpired" }).step).toBe("expired");
    expect(run(initialCheckout, { type: "book" }, { type: "bookFailed", error: "x", holdGone: true }).step).toBe("expired");
    expect(run(initialCheckout, { type: "book" }, { type: "bookFailed", error: "x" })).toEqual({ step: "review", error: "x" });
  });

  it("when the hold runs out during payment, the booking is read again", () => {
    const state = run(fromBooking(booking("pending_payment")), { type: "recheck" });
    expect(state.step).toBe("settling");
    expect(run(state, { type: "bookingUpdated", booking: booking("expired") }).step).toBe("failed");
  });

  it("a booking read back after a reload resumes where it is", () => {
    expect(fromBooking(booking("confirmed")).step).toBe("confirmed");
    expect(fromBooking(booking("pending_payment")).step).toBe("payment");
    expect(fromBooking(booking("expired")).step).toBe("failed");
  });
});
