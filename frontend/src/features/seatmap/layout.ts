/** The seat map's model: the venue's sections → rows → seats (seat ids derived as the API does,
 * `{section}-{row}-{number}`), each section's tier and price. Statuses come separately, live. */
import type { Event, PriceTier, SeatStatus, Venue } from "../../api/types";

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
  /** seat id → its section (for labels and price) */
  sectionOfSeat: (seatId: string) => SectionModel | undefined;
}

/** Up to this many seats, the whole hall is drawn at once; above it, an overview of sections
 * and one section at a time (a 100,000-seat stadium never puts 100,000 buttons in the page). */
export const HALL_VIEW_MAX_SEATS = 5000;
/** The inventory's per-hold limit (API.md: default 10). */
export const MAX_SEATS_PER_HOLD = 10;

export function seatId(sectionId: string, row: string, number: number): string {
  return `${sectionId}-${row}-${number}`;
}

export function sectionIdOfSeat(id: string): string {
  return id.slice(0, id.indexOf("-"));
}

export function buildLayout(event: Event, venue: Venue): Layout {
  const tiers = new Map(event.price_tiers.map((tier) => [tier.tier, tier]));
  const sections: SectionModel[] = venue.sections.map((section) => {
    const tier = event.section_tiers[section.section_id] ?? "";
    return {
      sectionId: section.section_id,
      name: section.name,
      kind: section.kind,
      tier,
      price: tiers.get(tier) ?? null,
      capacity: section.capacity,
      rows:
        section.kind === "seated"
          ? section.rows.map((row) => ({
              label: row.label,
              seatIds: Array.from({ length: row.seats }, (_, i) => seatId(section.section_id, row.label, i + 1)),
            }))
          : [],
    };
  });
  const byId = new Map(sections.map((section) => [section.sectionId, section]));
  return {
    sections,
    seatedCapacity: sections.filter((s) => s.kind === "seated").reduce((sum, s) => sum + s.capacity, 0),
    sectionOfSeat: (id) => byId.get(sectionIdOfSeat(id)),
  };
}

export type SeatStatuses = Record<string, SeatStatus> | undefined;

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
