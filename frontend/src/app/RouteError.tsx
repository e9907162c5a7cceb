import { useTranslation } from "react-i18next";
import { isRouteErrorResponse, Link, useRouteError } from "react-router";
import { ErrorMessage } from "../components/ErrorMessage";
import { Page } from "../components/Page";

/** What a page that failed to render (or to load its code) shows: a sentence, never a blank. */
export function RouteError() {
  const error = useRouteError();
  const { t } = useTranslation();
  if (isRouteErrorResponse(error) && error.status === 404) {
    return (
      <Page title={t("notFound.title")}>
        <p>{t("notFound.body")}</p>
        <Link to="/">{t("notFound.home")}</Link>
      </Page>
    );
  }
  return (
    <Page title={t("errors.unexpected")}>
      <ErrorMessage error={error} onRetry={() => window.location.reload()} />
    </Page>
  );
}
