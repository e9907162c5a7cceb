/** One section's seats: a button per seat, named "A-3-12, available, Standard €45", pressed when
 * selected. One seat is in the tab order (roving tabindex); arrow keys move between seats and
 * rows, Home/End to a row's ends, so a keyboard crosses 4,000 seats without 4,000 tab stops. */
import { memo, useCallback, useRef, useState, type KeyboardEvent } from "react";
import { useTranslation } from "react-i18next";
import type { SeatStatus } from "../../api/types";
import { statusOf, type SectionModel, type SeatStatuses } from "./layout";

export interface SeatLabels {
  /** The "Standard €45" part, per section. */
  tierPrice: string;
  status: Record<SeatStatus | "yours", string>;
}

interface SeatProps {
  id: string;
  number: string;
  status: SeatStatus | "yours";
  selected: boolean;
  tabbable: boolean;
  label: string;
}

const Seat = memo(function Seat({ id, number, status, selected, tabbable, label }: SeatProps) {
  return (
    <button
      type="button"
      className={`seat seat-${status}`}
      data-seat={id}
      aria-label={label}
      aria-pressed={selected}
      aria-disabled={status !== "available" && !selected ? true : undefined}
      tabIndex={tabbable ? 0 : -1}
    >
      <span aria-hidden="true">{selected ? "✓" : status === "sold" ? "×" : number}</span>
    </button>
  );
});

export function SectionSeats({
  section,
  statuses,
  selected,
  mine,
  labels,
  onToggle,
}: {
  section: SectionModel;
  statuses: SeatStatuses;
  selected: ReadonlySet<string>;
  mine: ReadonlySet<string>;
  labels: SeatLabels;
  onToggle: (seatId: string) => void;
}) {
  const { t } = useTranslation();
  const grid = useRef<HTMLDivElement>(null);
  const [focusId, setFocusId] = useState<string | null>(null);
  const first = section.rows[0]?.seatIds[0] ?? null;
  const tabbableId = focusId ?? first;

  const moveTo = useCallback((id: string | undefined) => {
    if (!id) return;
    setFocusId(id);
    grid.current?.querySelector<HTMLButtonElement>(`[data-seat="${CSS.escape(id)}"]`)?.focus();
  }, []);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const id = (event.target as HTMLElement).dataset.seat;
    if (!id) return;
    const rowIndex = section.rows.findIndex((row) => row.seatIds.includes(id));
    const row = section.rows[rowIndex];
    if (!row) return;
    const index = row.seatIds.indexOf(id);
    const at = (r: number, i: number) => {
      const target = section.rows[r];
      return target?.seatIds[Math.min(i, target.seatIds.length - 1)];
    };
    const moves: Record<string, () => string | undefined> = {
      ArrowRight: () => row.seatIds[index + 1],
      ArrowLeft: () => row.seatIds[index - 1],
      ArrowDown: () => at(rowIndex + 1, index),
      ArrowUp: () => at(rowIndex - 1, index),
      Home: () => row.seatIds[0],
      End: () => row.seatIds[row.seatIds.length - 1],
    };
    const move = moves[event.key];
    if (move) {
      event.preventDefault();
      moveTo(move());
    }
  };

  return (
    <div
      className="seat-grid"
      ref={grid}
      onKeyDown={onKeyDown}
      onClick={(event) => {
        const button = (event.target as HTMLElement).closest<HTMLButtonElement>("[data-seat]");
        const id = button?.dataset.seat;
        if (id) {
          setFocusId(id);
          onToggle(id);
        }
      }}
      role="presentation"
    >
      {section.rows.map((row) => (
        <div key={row.label} className="seat-row" role="group" aria-label={t("event.row", { label: row.label })}>
          <span className="row-label" aria-hidden="true">
            {row.label}
          </span>
          {row.seatIds.map((id) => {
            const own = mine.has(id);
            const status = own ? "yours" : statusOf(statuses, id);
            const isSelected = selected.has(id);
            const statusText = isSelected ? labels.status.available : labels.status[status];
            return (
              <Seat
                key={id}
                id={id}
                number={id.slice(id.lastIndexOf("-") + 1)}
                status={status}
                selected={isSelected}
                tabbable={id === tabbableId}
                label={`${id}, ${statusText}, ${labels.tierPrice}`}
              />
            );
          })}
        </div>
      ))}
    </div>
  );
}
