import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

const SLOW_AFTER_MS = 3000;

/** A loading state that says so, and says more once it has been slow for a while. */
export function Loading({ label }: { label?: string }) {
  const { t } = useTranslation();
  const [slow, setSlow] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setSlow(true), SLOW_AFTER_MS);
    return () => clearTimeout(timer);
  }, []);
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{slow ? t("app.slow") : (label ?? t("app.loading"))}</span>
    </div>
  );
}
