import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import type { Event, SeatStatus, SectionAvailability, Venue } from "../../api/types";
import { renderWithApp } from "../../test/render";
import { buildLayout, statusOf, toggleSeat } from "./layout";
import { SeatMap } from "./SeatMap";

function venue(sections: Venue["sections"]): Venue {
  return {
    venue_id: "v1", organizer_id: "o1", name: "Hall", city: "Seoul", country: "KR", address: "1 Road",
    timezone: "Asia/Seoul", sections, capacity: 0, created_at: "2026-01-01T00:00:00Z",
  };
}
function event(sectionTiers: Record<string, string>): Event {
  return {
    event_id: "e1", organizer_id: "o1", venue_id: "v1", title: "Show", description: "", category: "concert",
    starts_at: "2030-01-01T19:00:00Z", ends_at: null, status: "on_sale", city: "Seoul", created_at: "2026-01-01T00:00:00Z",
    price_tiers: [{ tier: "standard", price_cents: 4500, currency: "EUR" }, { tier: "floor", price_cents: 3000, currency: "EUR" }],
    section_tiers: sectionTiers,
  };
}

const hall = buildLayout(
  event({ A: "standard", F: "floor" }),
  venue([
    { section_id: "A", name: "Stalls", kind: "seated", rows: [{ label: "3", seats: 12 }, { label: "4", seats: 12 }], capacity: 24 },
    { section_id: "F", name: "Floor", kind: "standing", capacity: 100 },
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
    const sections = Array.from({ length: 40 }, (_, i) => ({
      section_id: `S${i}`, name: `Stand ${i}`, kind: "seated" as const, rows: Array.from({ length: 30 }, (_, r) => ({ label: String(r + 1), seats: 50 })), capacity: 1500,
    }));
    const stadium = buildLayout(event(Object.fromEntries(sections.map((s) => [s.section_id, "standard"]))), venue(sections));
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
});
