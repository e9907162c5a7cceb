/** The endpoints of the organizer console, the door and the admin and status pages, typed, over
 * the app's one ApiClient (the same tokens, timeouts and problem+json errors). */
import type { ApiClient } from "../api/client";
import type {
  Booking,
  BookingStatus,
  Event,
  EventStatus,
  Page,
  PriceTier,
  User,
  Venue,
  WaitingRoomSettings,
  WaitingRoomSettingsIn,
} from "../api/types";
import type { DoorApi, ServerScanResult } from "../door/queue";
import type { FirstScan, PublicKeyDocument } from "../door/verify";

const id = encodeURIComponent;

export type SeatedSectionIn = { section_id: string; name: string; kind: "seated"; rows: { label: string; seats: number }[] };
export type StandingSectionIn = { section_id: string; name: string; kind: "standing"; capacity: number };
export interface VenueIn {
  name: string;
  city: string;
  country: string;
  address: string;
  timezone: string;
  sections: (SeatedSectionIn | StandingSectionIn)[];
}
export type ManagedVenue = Venue & { in_use: boolean };

export interface EventIn {
  venue_id: string;
  title: string;
  description: string;
  category: string;
  starts_at: string;
  ends_at: string | null;
  price_tiers: PriceTier[];
  section_tiers: Record<string, string>;
}

export interface SalesSummary {
  event_id: string;
  currency: string | null;
  generated_at: string;
  sections: { section_id: string; capacity: number; available: number; held: number; sold: number }[];
  seats: { capacity: number; available: number; held: number; sold: number };
  revenue_cents: number;
  refunded_cents: number;
  tickets_sold: number;
  checked_in: number;
  bookings: Record<BookingStatus, number>;
  sales_over_time: {
    interval: "minute" | "hour" | "day";
    buckets: { start: string; bookings: number; tickets: number; revenue_cents: number }[];
  };
}

export type Role = User["role"] | "staff";
export type ConsoleUser = Omit<User, "role"> & { role: Role; organizer_id?: string | null };

export type ComponentState = "operational" | "degraded" | "outage";
export interface StatusReport {
  status: ComponentState;
  checked_at: string;
  upstreams: {
    service: string | null;
    routes: string[];
    status: "ready" | "not-ready" | "unreachable";
    latency_ms: number;
    checks: Record<string, { status: string }> | null;
  }[];
  rate_limiter: { redis: "ok" | "unreachable"; failing_open: boolean };
}
export interface StatusHistory {
  since: string;
  until: string;
  bucket_minutes: number;
  components: {
    name: string;
    kind: "gateway" | "service" | "store";
    service: string | null;
    uptime: number | null;
    buckets: {
      start: string;
      status: ComponentState | "no_data";
      samples: number;
      operational: number;
      degraded: number;
      outage: number;
    }[];
  }[];
}

export interface ManagedEventsQuery {
  status?: EventStatus;
  q?: string;
  organizer_id?: string;
  cursor?: string;
  limit?: number;
}

export function consoleEndpoints(client: ApiClient) {
  const get = <T>(path: string, query?: Record<string, string | number | undefined>) =>
    client.request<T>(path, { auth: "required", query });
  const send = <T>(method: "POST" | "PUT" | "PATCH" | "DELETE", path: string, body?: unknown) =>
    client.request<T>(path, { method, body, auth: "required" });
  return {
    // venues and events
    venues: (cursor?: string) => get<Page<ManagedVenue>>("/api/v1/venues", { cursor, limit: 100 }),
    venue: (venueId: string) => client.request<ManagedVenue>(`/api/v1/venues/${id(venueId)}`),
    createVenue: (body: VenueIn) => send<ManagedVenue>("POST", "/api/v1/venues", body),
    replaceVenue: (venueId: string, body: VenueIn) => send<ManagedVenue>("PUT", `/api/v1/venues/${id(venueId)}`, body),
    managedEvents: (query: ManagedEventsQuery = {}) =>
      get<Page<Event>>("/api/v1/events/managed", { limit: 50, ...query }),
    event: (eventId: string) => get<Event>(`/api/v1/events/${id(eventId)}`),
    createEvent: (body: EventIn) => send<Event>("POST", "/api/v1/events", body),
    updateEvent: (eventId: string, body: Partial<EventIn>) => send<Event>("PATCH", `/api/v1/events/${id(eventId)}`, body),
    publishEvent: (eventId: string) => send<Event>("POST", `/api/v1/events/${id(eventId)}/publish`),
    cancelEvent: (eventId: string) => send<Event>("POST", `/api/v1/events/${id(eventId)}/cancel`),
    // A draft's room is its owner's to read: asked with the token (an event on sale's is public).
    waitingRoom: (eventId: string) => get<WaitingRoomSettings>(`/api/v1/events/${id(eventId)}/waiting-room`),
    saveWaitingRoom: (eventId: string, body: WaitingRoomSettingsIn) =>
      send<WaitingRoomSettings>("PUT", `/api/v1/events/${id(eventId)}/waiting-room`, body),
    // sales
    sales: (eventId: string, interval: "minute" | "hour" | "day") =>
      get<SalesSummary>(`/api/v1/bookings/events/${id(eventId)}/sales`, { interval }),
    eventBookings: (eventId: string, filters: { status?: string; seat_id?: string; cursor?: string }) =>
      get<Page<Booking>>("/api/v1/bookings", { event_id: eventId, limit: 50, ...filters }),
    exportUrl: (eventId: string, status?: string) =>
      client.url(`/api/v1/bookings/events/${id(eventId)}/export`, { status }),
    refund: (bookingId: string, reason?: string) =>
      send<Booking>("POST", `/api/v1/bookings/${id(bookingId)}/refund`, reason ? { reason } : undefined),
    // people
    users: (query: { q?: string; role?: string; cursor?: string }) =>
      get<Page<ConsoleUser>>("/api/v1/auth/users", { limit: 20, ...query }),
    changeRole: (userId: string, role: Role, organizer_id?: string) =>
      send<ConsoleUser>("PATCH", `/api/v1/auth/users/${id(userId)}/role`, organizer_id ? { role, organizer_id } : { role }),
    staff: () => get<Page<ConsoleUser>>("/api/v1/auth/staff", { limit: 100 }),
    addStaff: (email: string) => send<ConsoleUser>("POST", "/api/v1/auth/staff", { email }),
    removeStaff: (userId: string) => send<void>("DELETE", `/api/v1/auth/staff/${id(userId)}`),
    // the door
    publicKey: () => client.request<PublicKeyDocument>("/api/v1/bookings/tickets/public-key"),
    // the platform's status (public)
    status: () => client.request<StatusReport>("/status"),
    statusHistory: (bucketMinutes: number) =>
      client.request<StatusHistory>("/status/history", { query: { bucket_minutes: bucketMinutes } }),
  };
}

export function doorApi(client: ApiClient): DoorApi {
  return {
    checkIn: async (eventId, scans) =>
      (
        await client.request<{ results: ServerScanResult[] }>(`/api/v1/bookings/events/${id(eventId)}/checkins`, {
          method: "POST",
          body: { scans },
          auth: "required",
          timeoutMs: 30_000,
        })
      ).results,
    revocations: (eventId) =>
      client.request<{ tickets: { ticket_id: string }[] }>(`/api/v1/bookings/events/${id(eventId)}/revocations`, {
        auth: "required",
      }),
    checkins: (eventId, cursor) =>
      client.request<{ items: ({ ticket_id: string } & FirstScan)[]; next_cursor: string | null }>(
        `/api/v1/bookings/events/${id(eventId)}/checkins`,
        { auth: "required", query: { cursor, limit: 1000 } },
      ),
  };
}

export type ConsoleApi = ReturnType<typeof consoleEndpoints>;
