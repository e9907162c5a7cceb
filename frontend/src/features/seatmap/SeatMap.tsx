/** The seat-map picker. A hall (≤ HALL_VIEW_MAX_SEATS seats) is drawn whole; a larger venue
 * shows an overview of its sections and one section at a time (`?section=` in the URL). */
import { memo, useEffect, useMemo } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import type { SectionAvailability } from "../../api/types";
import { formatMoney } from "../../i18n/format";
import { HALL_VIEW_MAX_SEATS, type Layout, type SectionModel, type SeatStatuses } from "./layout";
import { SectionSeats, type SeatLabels } from "./SectionSeats";
import { StandingPicker } from "./StandingPicker";

export interface SeatMapProps {
  layout: Layout;
  counts: Map<string, SectionAvailability>;
  statuses: SeatStatuses;
  selected: ReadonlySet<string>;
  mine: ReadonlySet<string>;
  zoomed: string | null;
  onToggle: (seatId: string) => void;
  onHoldStanding: (sectionId: string, quantity: number) => void;
  holding: boolean;
}

export function useTierPrice() {
  const { i18n } = useTranslation();
  return (section: SectionModel) => {
    const tier = section.tier ? section.tier.charAt(0).toUpperCase() + section.tier.slice(1) : "";
    const price = section.price ? formatMoney(section.price.price_cents, section.price.currency, i18n.language) : "";
    return { tier, price, text: `${tier} ${price}`.trim() };
  };
}

/** Marks the moment the seats on screen are drawn with their live statuses and answer clicks (the
 * browser tests read it: a 4,000-seat hall must get there within a second). */
export const INTERACTIVE_MARK = "seatmap-interactive";

export const SeatMap = memo(function SeatMap(props: SeatMapProps) {
  const { layout, zoomed, statuses } = props;
  const hall = layout.seatedCapacity <= HALL_VIEW_MAX_SEATS;
  const { t } = useTranslation();
  useEffect(() => {
    if (statuses && performance.getEntriesByName(INTERACTIVE_MARK).length === 0) performance.mark(INTERACTIVE_MARK);
  }, [statuses]);
  if (hall) {
    return (
      <div className="seat-map">
        <Legend />
        <p className="stage" aria-hidden="true">
          {t("event.stage")}
        </p>
        {layout.sections.map((section) => (
          <SectionBlock key={section.sectionId} section={section} {...props} />
        ))}
      </div>
    );
  }
  const section = layout.sections.find((s) => s.sectionId === zoomed);
  if (!section) return <Overview {...props} />;
  return (
    <div className="seat-map">
      <Link to="?" className="back-link" replace>
        ← {t("event.backToSections")}
      </Link>
      <Legend />
      <p className="stage" aria-hidden="true">
        {t("event.stage")}
      </p>
      <SectionBlock section={section} {...props} />
    </div>
  );
});

function SectionBlock({ section, counts, statuses, selected, mine, onToggle, onHoldStanding, holding }: SeatMapProps & { section: SectionModel }) {
  const { t } = useTranslation();
  const tierPrice = useTierPrice()(section);
  const labels: SeatLabels = useMemo(
    () => ({
      tierPrice: tierPrice.text,
      status: {
        available: t("event.status.available"),
        held: t("event.status.held"),
        sold: t("event.status.sold"),
        yours: t("event.status.yours"),
      },
    }),
    [t, tierPrice.text],
  );
  const count = counts.get(section.sectionId);
  const headingId = `section-${section.sectionId}`;
  return (
    <section className="section-block" aria-labelledby={headingId}>
      <h3 id={headingId}>
        {t("event.sectionTitle", { name: section.name, tier: tierPrice.tier, price: tierPrice.price })}
        {count && (
          <span className="section-count">
            {" "}
            · {count.available > 0 ? t("event.availableCount", { available: count.available, capacity: count.capacity }) : t("event.soldOut")}
          </span>
        )}
      </h3>
      {section.kind === "standing" ? (
        <StandingPicker section={section} available={count?.available ?? section.capacity} onHold={onHoldStanding} holding={holding} />
      ) : (
        <div className="seat-scroll">
          <SectionSeats section={section} statuses={statuses} selected={selected} mine={mine} labels={labels} onToggle={onToggle} />
        </div>
      )}
    </section>
  );
}

function Overview({ layout, counts }: SeatMapProps) {
  const { t } = useTranslation();
  const tierPrice = useTierPrice();
  return (
    <div className="seat-map">
      <p>{t("event.zoomHint")}</p>
      <ul className="section-overview" aria-label={t("event.sections")}>
        {layout.sections.map((section) => {
          const count = counts.get(section.sectionId);
          const available = count?.available ?? section.capacity;
          const share = section.capacity ? available / section.capacity : 0;
          const { tier, price } = tierPrice(section);
          return (
            <li key={section.sectionId}>
              <Link
                to={`?section=${encodeURIComponent(section.sectionId)}`}
                className={available === 0 ? "section-tile sold-out" : "section-tile"}
                aria-label={t("event.sectionSummary", { name: section.name, available, capacity: section.capacity, tier, price })}
              >
                <span className="tile-name">{section.name}</span>
                <span className="tile-price">
                  {tier} {price}
                </span>
                <span className="tile-count">{available === 0 ? t("event.soldOut") : t("event.availableCount", { available, capacity: section.capacity })}</span>
                <span className="meter" aria-hidden="true">
                  <span style={{ width: `${Math.round(share * 100)}%` }} />
                </span>
              </Link>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

export function Legend() {
  const { t } = useTranslation();
  const items = [
    ["available", t("event.status.available"), "7"],
    ["selected", t("event.status.selected"), "✓"],
    ["yours", t("event.status.yours"), "7"],
    ["held", t("event.status.held"), "7"],
    ["sold", t("event.status.sold"), "×"],
  ] as const;
  return (
    <div className="legend">
      <h3 className="visually-hidden">{t("event.legend")}</h3>
      <ul>
        {items.map(([kind, label, mark]) => (
          <li key={kind}>
            <span className={`seat seat-${kind === "selected" ? "available" : kind} ${kind === "selected" ? "seat-selected" : ""}`} aria-hidden="true">
              <span>{mark}</span>
            </span>
            {label}
          </li>
        ))}
      </ul>
    </div>
  );
}
