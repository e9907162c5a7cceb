/** The visible countdown to a hold's `expires_at`. The clock text is not live (a screen reader
 * would hear every second); one minute before the end a polite announcement says so. */
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { formatCountdown } from "../../i18n/format";

export function useRemaining(expiresAt: string, now: () => number = Date.now): number {
  const deadline = Date.parse(expiresAt);
  const [remaining, setRemaining] = useState(() => deadline - now());
  useEffect(() => {
    const timer = setInterval(() => setRemaining(deadline - now()), 250);
    return () => clearInterval(timer);
  }, [deadline, now]);
  return Math.max(0, remaining);
}

export function HoldTimer({ expiresAt, onExpired }: { expiresAt: string; onExpired: () => void }) {
  const { t } = useTranslation();
  const remaining = useRemaining(expiresAt);
  const fired = useRef(false);
  useEffect(() => {
    if (remaining <= 0 && !fired.current) {
      fired.current = true;
      onExpired();
    }
  }, [remaining, onExpired]);
  const urgent = remaining <= 60_000;
  return (
    <div className={urgent ? "hold-timer urgent" : "hold-timer"}>
      <span role="timer" aria-label={t("hold.timerLabel")}>
        <span aria-hidden="true">⏱ </span>
        {t("hold.timer", { time: formatCountdown(remaining) })}
      </span>
      <span className="visually-hidden" role="status" aria-live="polite">
        {urgent && remaining > 0 ? t("hold.minuteLeft") : ""}
      </span>
    </div>
  );
}
