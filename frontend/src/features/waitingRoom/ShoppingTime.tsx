/** "You have 9:32 left to shop": the countdown to the end of an admitted customer's shopping time.
 * Like the hold's timer, the clock text is not live (a screen reader would hear every second);
 * one minute before the end a polite announcement says so. At the end, back to the queue. */
import { useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";
import { formatCountdown } from "../../i18n/format";
import { useRemaining } from "../holds/HoldTimer";

export function ShoppingTime({ until, onEnded }: { until: string; onEnded: () => void }) {
  const { t } = useTranslation();
  const remaining = useRemaining(until);
  const ended = useRef(false);
  useEffect(() => {
    if (remaining <= 0 && !ended.current) {
      ended.current = true;
      onEnded();
    }
  }, [remaining, onEnded]);
  const urgent = remaining <= 60_000;
  return (
    <div className={urgent ? "shopping-time urgent" : "shopping-time"}>
      <span role="timer" aria-label={t("shop.timerLabel")}>
        {t("shop.timeLeft", { time: formatCountdown(remaining) })}
      </span>
      <span className="visually-hidden" role="status" aria-live="polite">
        {urgent && remaining > 0 ? t("shop.minuteLeft") : ""}
      </span>
    </div>
  );
}
