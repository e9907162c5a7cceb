/** Every public endpoint the app calls, typed: one place to read what the app needs of the API. */
import type { Admissions } from "../features/waitingRoom/admissions";
import type { ApiClient } from "./client";
import type {
  Availability,
  AvailabilityBits,
  Booking,
  Event,
  EventLayout,
  Hold,
  Page,
  Payment,
  RoomState,
  SearchPage,
  Ticket,
  TokenPair,
  User,
  Venue,
  WaitingRoomSettings,
} from "./types";

const id = encodeURIComponent;

export interface SearchParams {
  q?: string;
  city?: string;
  category?: string;
  date_from?: string;
  date_to?: string;
  cursor?: string;
  limit?: number;
}

export type HoldRequest = { seat_ids: string[] } | { section_id: string; quantity: number };

export const ADMISSION_HEADER = "X-Admission-Token";
export const RECEIPT_HEADER = "X-Queue-Receipt";

export function endpoints(client: ApiClient, admissions: Admissions) {
  const post = <T>(path: string, body: unknown, headers?: Record<string, string>) =>
    client.request<T>(path, { method: "POST", body, auth: "required", headers });
  // Holds and bookings of an event whose waiting room let this customer in carry its token
  // (only that event's: a token is bound to one event, and others need none).
  const admitted = (eventId: string, headers: Record<string, string>) => {
    const token = admissions.token(eventId);
    return token ? { ...headers, [ADMISSION_HEADER]: token } : headers;
  };
  const room = (eventId: string) => `/api/v1/waiting-room/${id(eventId)}`;
  const receipt = (eventId: string): Record<string, string> => {
    const kept = admissions.receipt(eventId);
    return kept ? { [RECEIPT_HEADER]: kept } : {};
  };
  return {
    client,
    // auth
    register: (body: { email: string; password: string; name: string }) =>
      client.request<User>("/api/v1/auth/register", { method: "POST", body }),
    login: (body: { email: string; password: string }) =>
      client.request<TokenPair>("/api/v1/auth/login", { method: "POST", body }),
    refresh: (refresh_token: string) =>
      client.request<TokenPair>("/api/v1/auth/refresh", { method: "POST", body: { refresh_token } }),
    logout: (refresh_token: string) =>
      client.request<void>("/api/v1/auth/logout", { method: "POST", body: { refresh_token } }),
    me: () => client.request<User>("/api/v1/auth/me", { auth: "required" }),
    // catalogue (anonymous: cacheable at the edge)
    search: (params: SearchParams, signal?: AbortSignal) =>
      client.request<SearchPage>("/api/v1/search/events", { query: { ...params }, signal }),
    suggest: (q: string, signal?: AbortSignal) =>
      client.request<{ suggestions: string[] }>("/api/v1/search/suggest", { query: { q, limit: 8 }, signal }),
    event: (eventId: string, signal?: AbortSignal) =>
      client.request<Event>(`/api/v1/events/${id(eventId)}`, { signal }),
    venue: (venueId: string, signal?: AbortSignal) =>
      client.request<Venue>(`/api/v1/venues/${id(venueId)}`, { signal }),
    layout: (eventId: string, signal?: AbortSignal) =>
      client.request<EventLayout>(`/api/v1/events/${id(eventId)}/layout`, { signal }),
    availabilityBits: (eventId: string, signal?: AbortSignal) =>
      client.request<AvailabilityBits>(`/api/v1/inventory/events/${id(eventId)}/availability/bits`, { signal }),
    availability: (eventId: string, seats: boolean, signal?: AbortSignal) =>
      client.request<Availability>(`/api/v1/inventory/events/${id(eventId)}/availability`, {
        query: seats ? { seats: true } : {},
        signal,
      }),
    // the waiting room: its settings are public, a place in it is the account's
    waitingRoom: (eventId: string, signal?: AbortSignal) =>
      client.request<WaitingRoomSettings>(`/api/v1/events/${id(eventId)}/waiting-room`, { signal }),
    joinRoom: (eventId: string, signal?: AbortSignal) =>
      client.exchange<RoomState>(`${room(eventId)}/join`, { method: "POST", auth: "required", signal, headers: receipt(eventId) }),
    roomState: (eventId: string, signal?: AbortSignal) =>
      client.exchange<RoomState>(room(eventId), { auth: "required", signal, headers: receipt(eventId) }),
    leaveRoom: (eventId: string) => client.request<void>(room(eventId), { method: "DELETE", auth: "required" }),
    // holds
    createHold: (eventId: string, body: HoldRequest, idempotencyKey: string) =>
      post<Hold>(`/api/v1/inventory/events/${id(eventId)}/holds`, body, admitted(eventId, { "Idempotency-Key": idempotencyKey })),
    hold: (holdId: string) => client.request<Hold>(`/api/v1/inventory/holds/${id(holdId)}`, { auth: "required" }),
    releaseHold: (holdId: string, keepalive = false) =>
      client.request<void>(`/api/v1/inventory/holds/${id(holdId)}`, {
        method: "DELETE",
        auth: "required",
        keepalive,
      }),
    // bookings and payments
    book: (hold: Pick<Hold, "hold_id" | "event_id">, idempotencyKey: string) =>
      post<Booking>("/api/v1/bookings", { hold_id: hold.hold_id }, admitted(hold.event_id, { "Idempotency-Key": idempotencyKey })),
    bookings: (cursor?: string) =>
      client.request<Page<Booking>>("/api/v1/bookings", { auth: "required", query: { cursor, limit: 50 } }),
    booking: (bookingId: string) =>
      client.request<Booking>(`/api/v1/bookings/${id(bookingId)}`, { auth: "required" }),
    cancelBooking: (bookingId: string) => post<Booking>(`/api/v1/bookings/${id(bookingId)}/cancel`, undefined),
    tickets: (bookingId: string) =>
      client.request<Ticket[]>(`/api/v1/bookings/${id(bookingId)}/tickets`, { auth: "required" }),
    payment: (paymentId: string) =>
      client.request<Payment>(`/api/v1/payments/${id(paymentId)}`, { auth: "required" }),
    simulatePayment: (paymentId: string, outcome: "succeeded" | "failed") =>
      post<{ payment_id: string; outcome: string }>(`/api/v1/payments/${id(paymentId)}/simulate`, { outcome }),
  };
}

export type Api = ReturnType<typeof endpoints>;
