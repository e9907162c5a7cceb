/** The seat map's model, from the event's layout (sections → rows → seats, each seat with its bit
 * in inventory's availability bitmaps) and its price tiers. Statuses come separately, live. */
import type { AvailabilityBits, EventLayout, PriceTier, SeatStatus } from "../../api/types";

export interface RowModel {
  label: string;
  seatIds: string[];
}

export interface SectionModel {
  sectionId: string;
  name: string;
  kind: "seated" | "standing";
  tier: string;
  price: PriceTier | null;
  capacity: number;
  rows: RowModel[]; // empty for standing sections
}

export interface Layout {
  sections: SectionModel[];
  seatedCapacity: number;
  /** bit index → seat id (the bitmaps' order) */
  seatOfBit: string[];
  /** seat id → its section (for labels and price) */
  sectionOfSeat: (seatId: string) => SectionModel | undefined;
}

/** Up to this many seats, the whole hall is drawn at once; above it, an overview of sections
 * and one section at a time (a 100,000-seat stadium never puts 100,000 buttons in the page). */
export const HALL_VIEW_MAX_SEATS = 5000;
/** The inventory's per-hold limit (API.md: default 10). */
export const MAX_SEATS_PER_HOLD = 10;

export function sectionIdOfSeat(id: string): string {
  return id.slice(0, id.indexOf("-"));
}

export function buildLayout(layout: EventLayout): Layout {
  const tiers = new Map(layout.price_tiers.map((tier) => [tier.tier, tier]));
  const seatOfBit: string[] = new Array(layout.seat_count);
  const sections: SectionModel[] = layout.sections.map((section) => ({
    sectionId: section.section_id,
    name: section.name,
    kind: section.kind,
    tier: section.price_tier,
    price: tiers.get(section.price_tier) ?? null,
    capacity: section.capacity,
    rows: (section.rows ?? []).map((row) => ({
      label: row.label,
      seatIds: row.seats.map((seat) => {
        seatOfBit[seat.bit] = seat.seat_id;
        return seat.seat_id;
      }),
    })),
  }));
  const byId = new Map(sections.map((section) => [section.sectionId, section]));
  return {
    sections,
    seatedCapacity: sections.filter((s) => s.kind === "seated").reduce((sum, s) => sum + s.capacity, 0),
    seatOfBit,
    sectionOfSeat: (id) => byId.get(sectionIdOfSeat(id)),
  };
}

/** Seat id → status for the seats that are not available (a seat with no entry is available). */
export type SeatStatuses = Record<string, SeatStatus> | undefined;

function bytes(base64: string): Uint8Array {
  const text = atob(base64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** The availability bitmaps laid over the layout. Only set bits cost anything: a 100,000-seat
 * stadium's answer is 25 kB, decoded in a few milliseconds. */
export function decodeBits(bits: AvailabilityBits, seatOfBit: readonly string[]): Record<string, SeatStatus> {
  const statuses: Record<string, SeatStatus> = {};
  for (const [field, status] of [
    ["held", "held"],
    ["sold", "sold"],
  ] as const) {
    const map = bytes(bits[field]);
    for (let byte = 0; byte < map.length; byte++) {
      const value = map[byte]!;
      if (value === 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        if (value & (0x80 >> bit)) {
          const seat = seatOfBit[byte * 8 + bit];
          if (seat) statuses[seat] = status;
        }
      }
    }
  }
  return statuses;
}

export function statusOf(statuses: SeatStatuses, id: string): SeatStatus {
  return statuses?.[id] ?? "available";
}

/** Toggling a seat: only available seats join; at most MAX_SEATS_PER_HOLD. Returns the new
 * selection and whether the limit stopped it. */
export function toggleSeat(
  selection: readonly string[],
  id: string,
  status: SeatStatus,
  max = MAX_SEATS_PER_HOLD,
): { selection: string[]; limited: boolean } {
  if (selection.includes(id)) return { selection: selection.filter((s) => s !== id), limited: false };
  if (status !== "available") return { selection: [...selection], limited: false };
  if (selection.length >= max) return { selection: [...selection], limited: true };
  return { selection: [...selection, id], limited: false };
}

/** The selection without seats that are no longer available (someone else took them). */
export function stillAvailable(selection: readonly string[], statuses: SeatStatuses, mine: readonly string[] = []) {
  return selection.filter((id) => statusOf(statuses, id) === "available" || mine.includes(id));
}
