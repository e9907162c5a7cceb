/** The public API's shapes (../shared/design/API.md; field names are the contract's). */

export type Role = "customer" | "organizer" | "admin" | "staff";

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  created_at: string;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: "Bearer";
  expires_in: number;
}

export interface PriceTier {
  tier: string;
  price_cents: number;
  currency: string;
}

export type EventStatus = "draft" | "on_sale" | "cancelled";

export interface Event {
  event_id: string;
  organizer_id: string;
  venue_id: string;
  title: string;
  description: string;
  category: string;
  starts_at: string;
  ends_at: string | null;
  price_tiers: PriceTier[];
  section_tiers: Record<string, string>;
  status: EventStatus;
  city: string;
  created_at: string;
}

export interface SeatedSection {
  section_id: string;
  name: string;
  kind: "seated";
  rows: { label: string; seats: number }[];
  capacity: number;
}

export interface StandingSection {
  section_id: string;
  name: string;
  kind: "standing";
  capacity: number;
}

export type Section = SeatedSection | StandingSection;

export interface Venue {
  venue_id: string;
  organizer_id: string;
  name: string;
  city: string;
  country: string;
  address: string;
  timezone: string;
  sections: Section[];
  capacity: number;
  created_at: string;
}

export type SeatStatus = "available" | "held" | "sold";

/** GET /api/v1/events/{id}/layout: the seats without their status, each with its bit in the
 * availability bitmaps; immutable once published (cached for a year, ETag). */
export interface EventLayout {
  event_id: string;
  venue_id: string;
  version: string;
  price_tiers: PriceTier[];
  seat_count: number;
  sections: {
    section_id: string;
    name: string;
    kind: "seated" | "standing";
    price_tier: string;
    capacity: number;
    rows?: { label: string; seats: { seat_id: string; number: number; bit: number }[] }[] | null;
  }[];
}

export interface SectionAvailability {
  section_id: string;
  kind?: "seated" | "standing";
  capacity: number;
  available: number;
  held: number;
  sold: number;
}

export interface Availability {
  event_id: string;
  status?: "open" | "closed";
  sections: SectionAvailability[];
  seats?: Record<string, SeatStatus>;
}

/** GET /api/v1/inventory/events/{id}/availability/bits: the counts, and every seat's state as two
 * base64 bitmaps (bit i = the layout's seat with `bit` i; most significant bit of byte 0 first). */
export interface AvailabilityBits {
  event_id: string;
  status: "open" | "closed";
  sections: SectionAvailability[];
  seat_count: number;
  sold: string;
  held: string;
}

export interface Hold {
  hold_id: string;
  event_id: string;
  user_id: string;
  seat_ids: string[];
  section_id: string | null;
  quantity: number;
  expires_at: string;
  status?: "held" | "expired" | "released" | "confirmed";
}

export type BookingStatus =
  | "pending_payment"
  | "confirmed"
  | "cancelled"
  | "expired"
  | "refunded"
  | "failed";

export interface Booking {
  booking_id: string;
  user_id: string;
  event_id: string;
  seat_ids: string[];
  section_id?: string | null;
  quantity: number;
  status: BookingStatus;
  amount_cents: number;
  currency: string;
  hold_expires_at: string;
  created_at: string;
  reason?: string | null;
  payment: { payment_id: string; provider: string; client_secret: string } | null;
}

export interface Ticket {
  ticket_id: string;
  seat_id: string;
  secret: string;
  qr_svg: string;
}

export type PaymentStatus = "creating" | "requires_payment" | "succeeded" | "failed" | "refunded";

export interface Payment {
  payment_id: string;
  booking_id: string;
  status: PaymentStatus;
  amount_cents: number;
  currency: string;
  provider: string;
}

export interface SearchHit {
  event_id: string;
  title: string;
  venue_name: string;
  city: string;
  category: string;
  starts_at: string;
  min_price_cents: number;
  currency: string;
}

export interface SearchPage {
  items: SearchHit[];
  total: number;
  facets: { city: Record<string, number>; category: Record<string, number> };
  next_cursor: string | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** RFC 9457 problem details, as every service answers errors. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  errors?: { loc: (string | number)[]; msg: string; type: string }[];
  unavailable?: string[];
  [extension: string]: unknown;
}

/** An event's waiting room as its organizer set it (public: the app asks before the seat map). */
export interface WaitingRoomSettings {
  event_id: string;
  enabled: boolean;
  opens_at: string | null;
  admission_per_minute: number;
  max_shoppers: number;
  shopping_minutes: number;
}

export type WaitingRoomSettingsIn = Omit<WaitingRoomSettings, "event_id">;

/** One account's place in an event's waiting room. */
export interface RoomState {
  event_id: string;
  state: "off" | "waiting" | "admitted" | "expired";
  opens_at: string | null;
  /** 1-based among those still waiting; null before the opening (the order is drawn then). */
  position: number | null;
  people_ahead: number | null;
  estimated_wait_seconds: number | null;
  admission_token: string | null;
  admitted_until: string | null;
  poll_after_seconds: number;
  /** While waiting: the place, signed by the gateway; sent back (X-Queue-Receipt) so a room that
   * lost its state gives the place back. */
  receipt?: string | null;
}
