import { useTranslation } from "react-i18next";
import { describeError, type ErrorContext } from "../api/problems";

/** An error as a sentence (role="alert", so screen readers hear it), with a retry when one helps. */
export function ErrorMessage({
  error,
  onRetry,
  context,
}: {
  error: unknown;
  onRetry?: () => void;
  context?: ErrorContext;
}) {
  const { t, i18n } = useTranslation();
  const { message } = describeError(error, t, i18n.language, context);
  return (
    <div className="notice notice-error" role="alert">
      <p>{message}</p>
      {onRetry && (
        <button type="button" className="button secondary" onClick={onRetry}>
          {t("app.retry")}
        </button>
      )}
    </div>
  );
}
