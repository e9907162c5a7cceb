import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import type { EventLayout, SeatStatus, SectionAvailability } from "../../api/types";
import { renderWithApp } from "../../test/render";
import { buildLayout, decodeBits, statusOf, toggleSeat } from "./layout";
import { SeatMap } from "./SeatMap";

type SectionSpec =
  | { id: string; name: string; tier: string; rows: [string, number][] }
  | { id: string; name: string; tier: string; standing: number };

/** An event's layout as GET /events/{id}/layout answers it (bits in seat order). */
function eventLayout(sections: SectionSpec[]): EventLayout {
  let bit = 0;
  return {
    event_id: "e1",
    venue_id: "v1",
    version: "1",
    price_tiers: [
      { tier: "standard", price_cents: 4500, currency: "EUR" },
      { tier: "floor", price_cents: 3000, currency: "EUR" },
    ],
    seat_count: 0,
    sections: sections.map((section) =>
      "standing" in section
        ? { section_id: section.id, name: section.name, kind: "standing" as const, price_tier: section.tier, capacity: section.standing }
        : {
            section_id: section.id,
            name: section.name,
            kind: "seated" as const,
            price_tier: section.tier,
            capacity: section.rows.reduce((sum, [, seats]) => sum + seats, 0),
            rows: section.rows.map(([label, seats]) => ({
              label,
              seats: Array.from({ length: seats }, (_, i) => ({ seat_id: `${section.id}-${label}-${i + 1}`, number: i + 1, bit: bit++ })),
            })),
          },
    ),
  };
}

const hall = buildLayout(
  eventLayout([
    { id: "A", name: "Stalls", tier: "standard", rows: [["3", 12], ["4", 12]] },
    { id: "F", name: "Floor", tier: "floor", standing: 100 },
  ]),
);

function Picker({ statuses, zoomed = null, layout = hall }: { statuses: Record<string, SeatStatus>; zoomed?: string | null; layout?: typeof hall }) {
  const [selection, setSelection] = useState<string[]>([]);
  return (
    <SeatMap
      layout={layout}
      counts={new Map<string, SectionAvailability>()}
      statuses={statuses}
      selected={new Set(selection)}
      mine={new Set(["A-4-1"])}
      zoomed={zoomed}
      onToggle={(id) => setSelection((current) => toggleSeat(current, id, statusOf(statuses, id)).selection)}
      onHoldStanding={() => undefined}
      holding={false}
    />
  );
}

describe("the seat picker", () => {
  it("names every seat by id, status, tier and price", () => {
    renderWithApp(<Picker statuses={{ "A-3-2": "sold", "A-3-3": "held" }} />);
    expect(screen.getByRole("button", { name: "A-3-12, available, Standard €45" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "A-3-2, sold, Standard €45" })).toHaveAttribute("aria-disabled", "true");
    expect(screen.getByRole("button", { name: "A-3-3, held by someone else, Standard €45" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "A-4-1, held by you, Standard €45" })).toBeInTheDocument();
    expect(screen.getAllByRole("group", { name: /^Row / })).toHaveLength(2);
  });

  it("selects available seats (pressed, with a check mark: not colour alone) and ignores taken ones", async () => {
    const user = userEvent.setup();
    renderWithApp(<Picker statuses={{ "A-3-2": "sold" }} />);
    const seat = screen.getByRole("button", { name: /^A-3-12,/ });
    await user.click(seat);
    expect(seat).toHaveAttribute("aria-pressed", "true");
    expect(seat).toHaveTextContent("✓");
    const sold = screen.getByRole("button", { name: /^A-3-2,/ });
    await user.click(sold);
    expect(sold).toHaveAttribute("aria-pressed", "false");
    expect(sold).toHaveTextContent("×");
    await user.click(seat);
    expect(seat).toHaveAttribute("aria-pressed", "false");
  });

  it("is one tab stop; arrow keys move between seats and rows", async () => {
    const user = userEvent.setup();
    renderWithApp(<Picker statuses={{}} />);
    const first = screen.getByRole("button", { name: /^A-3-1,/ });
    expect(first).toHaveAttribute("tabindex", "0");
    expect(screen.getByRole("button", { name: /^A-3-2,/ })).toHaveAttribute("tabindex", "-1");
    first.focus();
    await user.keyboard("{ArrowRight}");
    expect(screen.getByRole("button", { name: /^A-3-2,/ })).toHaveFocus();
    await user.keyboard("{ArrowDown}");
    expect(screen.getByRole("button", { name: /^A-4-2,/ })).toHaveFocus();
    await user.keyboard("{End}");
    expect(screen.getByRole("button", { name: /^A-4-12,/ })).toHaveFocus();
    await user.keyboard(" ");
    expect(screen.getByRole("button", { name: /^A-4-12,/ })).toHaveAttribute("aria-pressed", "true");
  });

  it("stops at ten seats", () => {
    let selection: string[] = [];
    for (let n = 1; n <= 11; n++) selection = toggleSeat(selection, `A-3-${n}`, "available").selection;
    expect(selection).toHaveLength(10);
    expect(toggleSeat(selection, "A-3-11", "available").limited).toBe(true);
  });

  it("offers standing sections by quantity", () => {
    renderWithApp(<Picker statuses={{}} />);
    expect(screen.getByLabelText("Number of places")).toHaveValue(1);
    expect(screen.getByRole("button", { name: "Hold 1 place" })).toBeEnabled();
  });

  it("shows a stadium as an overview of sections, and one section's seats when zoomed", () => {
    const stadium = buildLayout(
      eventLayout(
        Array.from({ length: 40 }, (_, i) => ({
          id: `S${i}`,
          name: `Stand ${i}`,
          tier: "standard",
          rows: Array.from({ length: 30 }, (_, r): [string, number] => [String(r + 1), 50]),
        })),
      ),
    );
    const { unmount } = renderWithApp(<Picker statuses={{}} layout={stadium} />);
    const overview = screen.getByRole("list", { name: "Sections" });
    expect(within(overview).getAllByRole("link")).toHaveLength(40);
    expect(within(overview).getByRole("link", { name: /^Stand 7: 1500 of 1500 available, Standard €45/ })).toBeInTheDocument();
    expect(document.querySelectorAll("[data-seat]")).toHaveLength(0);
    unmount();
    renderWithApp(<Picker statuses={{}} layout={stadium} zoomed="S7" />);
    // (By role, jsdom would compute 1,500 accessible names per query: slow. By label and by id.)
    expect(document.querySelectorAll("[data-seat]")).toHaveLength(1500);
    expect(document.querySelectorAll('[data-seat^="S7-"]')).toHaveLength(1500);
    expect(screen.getByLabelText("S7-30-50, available, Standard €45").tagName).toBe("BUTTON");
    expect(screen.getByRole("link", { name: /All sections/ })).toBeInTheDocument();
  });

  it("lays inventory's bitmaps over the layout: bit i is the seat whose layout bit is i", () => {
    // Seats A-3-1..12 are bits 0..11, A-4-1..12 bits 12..23. Held: bit 1; sold: bits 8 and 23.
    const bitmap = (set: number[]) => {
      const bytes = new Uint8Array(3);
      for (const bit of set) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
      return btoa(String.fromCharCode(...bytes));
    };
    const statuses = decodeBits(
      { event_id: "e1", status: "open", sections: [], seat_count: 24, held: bitmap([1]), sold: bitmap([8, 23]) },
      hall.seatOfBit,
    );
    expect(statuses).toEqual({ "A-3-2": "held", "A-3-9": "sold", "A-4-12": "sold" });
    expect(statusOf(statuses, "A-3-1")).toBe("available");
  });
});
