import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import type { Event, Hold } from "../../api/types";
import type { Layout } from "../seatmap/layout";
import { HoldTimer } from "./HoldTimer";
import { useHold } from "./HoldProvider";

/** The customer's hold on the event page: what is held, the countdown, checkout or release. */
export function HoldPanel({
  hold,
  event,
  layout,
  onEnded,
  endsTurn = false,
}: {
  hold: Hold;
  event: Event;
  layout: Layout;
  onEnded: (message: string) => void;
  /** Shopping from a waiting room: releasing ends the customer's turn (said before they do). */
  endsTurn?: boolean;
}) {
  const { t } = useTranslation();
  const holds = useHold();
  const queryClient = useQueryClient();
  const section = hold.section_id ? layout.sections.find((s) => s.sectionId === hold.section_id) : undefined;
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["availability-bits", event.event_id] });
  return (
    <section className="hold-panel" aria-labelledby="hold-heading">
      <h2 id="hold-heading">{t("hold.title")}</h2>
      <p>
        {hold.section_id
          ? t("hold.places", { count: hold.quantity, section: section?.name ?? hold.section_id })
          : hold.seat_ids.join(", ")}
      </p>
      <HoldTimer
        expiresAt={hold.expires_at}
        onExpired={() => {
          holds.expired();
          onEnded(t("hold.expired"));
          void refresh();
        }}
      />
      <div className="actions">
        <Link className="button" to={`/checkout/${encodeURIComponent(hold.hold_id)}`}>
          {t("hold.checkout")}
        </Link>
        <button
          type="button"
          className="button secondary"
          onClick={async () => {
            await holds.release();
            onEnded(t("hold.released"));
            void refresh();
          }}
        >
          {t("hold.release")}
        </button>
      </div>
      {endsTurn && <p className="hint">{t("shop.releaseEndsTurn")}</p>}
    </section>
  );
}
