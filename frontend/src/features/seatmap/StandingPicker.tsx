import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { MAX_SEATS_PER_HOLD, type SectionModel } from "./layout";

/** A standing section is held by quantity, not by seat. */
export function StandingPicker({
  section,
  available,
  onHold,
  holding,
}: {
  section: SectionModel;
  available: number;
  onHold: (sectionId: string, quantity: number) => void;
  holding: boolean;
}) {
  const { t } = useTranslation();
  const id = useId();
  const max = Math.max(1, Math.min(MAX_SEATS_PER_HOLD, available));
  const [quantity, setQuantity] = useState(1);
  return (
    <form
      className="standing"
      onSubmit={(event) => {
        event.preventDefault();
        onHold(section.sectionId, Math.min(quantity, max));
      }}
    >
      <p>{t("event.placesLeft", { count: available })}</p>
      <label htmlFor={id}>{t("event.quantity")}</label>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={1}
        max={max}
        value={quantity}
        onChange={(event) => setQuantity(Math.max(1, Math.min(max, Number(event.target.value) || 1)))}
        disabled={available === 0}
      />
      <button type="submit" className="button" disabled={available === 0 || holding}>
        {t("event.holdPlaces", { count: quantity })}
      </button>
    </form>
  );
}
