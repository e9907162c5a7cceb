/** What every console, door, admin and status page shares: its messages (namespace "console",
 * registered when the first such page loads), its endpoints, its error sentences, its role gate. */
import { useQuery } from "@tanstack/react-query";
import { useMemo, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../api/client";
import { describeError, type Described } from "../api/problems";
import { useServices } from "../app/services";
import { useAuth } from "../auth/AuthProvider";
import { RequireAuth } from "../auth/RequireAuth";
import { Loading } from "../components/Loading";
import { formatDateTime, formatShortDateTime } from "../i18n/format";
import { consoleEndpoints, doorApi, type Role } from "./api";
import { en, ko } from "./messages";

const NAMESPACE = "console";

// Problems these pages meet that the customer's pages never do.
const SLUGS: Record<string, string> = {
  "venue-in-use": "errors.venueInUse",
  "not-refundable": "errors.notRefundable",
  "not-a-customer": "errors.notACustomer",
  "not-a-draft": "errors.notDraft",
  "event-cancelled": "errors.eventCancelled",
};

export function useConsole() {
  const { t: appT, i18n } = useTranslation();
  if (!i18n.hasResourceBundle("en", NAMESPACE)) {
    i18n.addResourceBundle("en", NAMESPACE, en);
    i18n.addResourceBundle("ko", NAMESPACE, ko);
  }
  const { t } = useTranslation(NAMESPACE);
  const services = useServices();
  const api = useMemo(() => consoleEndpoints(services.api.client), [services]);
  const door = useMemo(() => doorApi(services.api.client), [services]);
  const describe = (error: unknown): Described => {
    const described = describeError(error, appT, i18n.language);
    if (error instanceof ApiError && error.slug) {
      if (SLUGS[error.slug]) return { ...described, message: t(SLUGS[error.slug]!) };
      if (error.slug === "not-found" && error.problem?.detail?.includes("register first")) {
        return { ...described, message: t("errors.noAccount") };
      }
    }
    return described;
  };
  return { t, appT, locale: i18n.language, api, door, describe, services };
}

/** An error as a sentence, announced. */
export function Problem({ error }: { error: unknown }) {
  const { describe } = useConsole();
  if (!error) return null;
  return (
    <div className="notice notice-error" role="alert">
      <p>{describe(error).message}</p>
    </div>
  );
}

/** A page for some roles only: others are asked to sign in (or told it is not for them). */
export function RequireRole({ roles, children }: { roles: Role[]; children: ReactNode }) {
  return (
    <RequireAuth>
      <RoleGate roles={roles}>{children}</RoleGate>
    </RequireAuth>
  );
}

function RoleGate({ roles, children }: { roles: Role[]; children: ReactNode }) {
  const { user } = useAuth();
  const { t } = useConsole();
  if (!user) return <Loading />;
  if (!roles.includes(user.role as Role)) {
    return (
      <div className="page">
        <div className="notice notice-error" role="alert">
          <p>{t("common.forbidden")}</p>
        </div>
      </div>
    );
  }
  return <>{children}</>;
}

/** When an event starts, in its venue's own time zone (as the editor takes it and customers see
 * it, next to the venue's city); nothing until the venue's zone is known. */
export function VenueTime({
  iso,
  venueId,
  long = false,
  say = (date) => date,
}: {
  iso: string;
  venueId: string;
  long?: boolean;
  say?: (date: string) => string;
}) {
  const { api, locale } = useConsole();
  const venue = useQuery({ queryKey: ["venue", venueId], queryFn: () => api.venue(venueId), staleTime: 300_000 });
  if (venue.isPending) return null;
  const zone = venue.data?.timezone;
  return <time dateTime={iso}>{say(long ? formatDateTime(iso, locale, zone) : formatShortDateTime(iso, locale, zone))}</time>;
}
