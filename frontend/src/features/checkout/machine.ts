/** Checkout as a state machine: review the hold → book it (once: the step guards a double click,
 * the Idempotency-Key a retry) → pay → wait for the booking to settle → confirmed or failed.
 * Pure, so every transition is unit tested; the page only dispatches and renders. */
import type { Booking } from "../../api/types";

export type CheckoutState =
  | { step: "review"; error: unknown }
  | { step: "booking" }
  | { step: "payment"; booking: Booking; error: unknown }
  | { step: "paying"; booking: Booking }
  | { step: "settling"; booking: Booking }
  | { step: "confirmed"; booking: Booking }
  | { step: "failed"; booking: Booking }
  | { step: "expired" };

export type CheckoutAction =
  | { type: "book" }
  | { type: "booked"; booking: Booking }
  | { type: "bookFailed"; error: unknown; holdGone?: boolean }
  | { type: "pay" }
  | { type: "paymentSent" }
  | { type: "payFailed"; error: unknown }
  | { type: "bookingUpdated"; booking: Booking }
  | { type: "holdExpired" }
  /** The hold's time ran out while paying: look at the booking again (it expires, or a payment
   * that just arrived confirms it). */
  | { type: "recheck" };

export const initialCheckout: CheckoutState = { step: "review", error: null };

/** Where a booking the API returns puts the checkout. */
export function fromBooking(booking: Booking): CheckoutState {
  switch (booking.status) {
    case "confirmed":
      return { step: "confirmed", booking };
    case "pending_payment":
      return { step: "payment", booking, error: null };
    default: // failed, expired, cancelled, refunded
      return { step: "failed", booking };
  }
}

export function checkoutReducer(state: CheckoutState, action: CheckoutAction): CheckoutState {
  switch (action.type) {
    case "book":
      return state.step === "review" ? { step: "booking" } : state;
    case "booked":
      return state.step === "booking" || state.step === "review" ? fromBooking(action.booking) : state;
    case "bookFailed":
      if (state.step !== "booking") return state;
      return action.holdGone ? { step: "expired" } : { step: "review", error: action.error };
    case "pay":
      return state.step === "payment" ? { step: "paying", booking: state.booking } : state;
    case "paymentSent":
      return state.step === "paying" ? { step: "settling", booking: state.booking } : state;
    case "payFailed":
      return state.step === "paying" ? { step: "payment", booking: state.booking, error: action.error } : state;
    case "bookingUpdated": {
      if (state.step !== "settling" && state.step !== "payment" && state.step !== "paying") return state;
      const next = fromBooking(action.booking);
      // Still pending while we wait for the webhook: keep waiting, with the fresher booking.
      if (next.step === "payment" && state.step !== "payment") return { ...state, booking: action.booking };
      if (next.step === "payment" && state.step === "payment") return { ...state, booking: action.booking };
      return next;
    }
    case "recheck":
      return state.step === "payment" ? { step: "settling", booking: state.booking } : state;
    case "holdExpired":
      return state.step === "review" || state.step === "booking" ? { step: "expired" } : state;
  }
}
