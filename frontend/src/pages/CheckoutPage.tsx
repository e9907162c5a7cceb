/** /checkout/{hold_id}: the held seats with their prices and countdown, then the booking (one
 * Idempotency-Key per hold, kept across reloads: a double click or a retry never books twice),
 * then payment and the booking settling. Reloadable at every step. */
import { useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useReducer } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { ApiError } from "../api/client";
import type { Booking, Event, Hold } from "../api/types";
import { useApi, useServices } from "../app/services";
import { RequireAuth } from "../auth/RequireAuth";
import { ErrorMessage } from "../components/ErrorMessage";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { checkoutReducer, initialCheckout } from "../features/checkout/machine";
import { PaymentStep } from "../features/checkout/PaymentStep";
import { HoldTimer } from "../features/holds/HoldTimer";
import { useHold } from "../features/holds/HoldProvider";
import { ShoppingTime } from "../features/waitingRoom/ShoppingTime";
import { isWaitingRoomRequired, useAdmission, useBackToQueue } from "../features/waitingRoom/useWaitingRoom";
import { formatMoney } from "../i18n/format";

export function Component() {
  return (
    <RequireAuth>
      <Checkout />
    </RequireAuth>
  );
}

const keyName = (holdId: string) => `ticketing.booking-key.${holdId}`;
// The booking made of this hold, once made: a reload reads it instead of asking to book again
// (which a waiting room would refuse: the booking used the admission up).
const madeName = (holdId: string) => `ticketing.booking-of.${holdId}`;

/** The key for booking this hold: made once, reused by every retry and reload. */
export function bookingKey(holdId: string, storage: Storage = sessionStorage): string {
  const name = keyName(holdId);
  let key = storage.getItem(name);
  if (!key) {
    key = crypto.randomUUID();
    storage.setItem(name, key);
  }
  return key;
}

function Checkout() {
  const { holdId = "" } = useParams();
  const { t } = useTranslation();
  const api = useApi();
  const holds = useHold();
  const known = holds.hold?.hold_id === holdId ? holds.hold : null;
  const hold = useQuery({
    queryKey: ["me", "hold", holdId],
    queryFn: () => api.hold(holdId),
    initialData: known ?? undefined,
    retry: false,
  });
  const event = useQuery({
    queryKey: ["event", hold.data?.event_id],
    queryFn: ({ signal }) => api.event(hold.data!.event_id, signal),
    enabled: !!hold.data,
  });
  if (hold.isError) {
    const gone = hold.error instanceof ApiError && hold.error.status === 404;
    return (
      <Page title={t("checkout.title")}>
        {gone ? <p role="alert">{t("checkout.holdGone")}</p> : <ErrorMessage error={hold.error} onRetry={() => void hold.refetch()} />}
        <Link to="/">{t("notFound.home")}</Link>
      </Page>
    );
  }
  if (!hold.data || !event.data) return event.isError ? <ErrorMessage error={event.error} /> : <Loading />;
  return <CheckoutFlow hold={hold.data} event={event.data} />;
}

function CheckoutFlow({ hold, event }: { hold: Hold; event: Event }) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const api = useApi();
  const holds = useHold();
  const { admissions } = useServices();
  const admission = useAdmission(event.event_id);
  const backToQueue = useBackToQueue(event.event_id);
  const timeUp = useCallback(() => backToQueue("timeUp"), [backToQueue]);
  const [state, dispatch] = useReducer(checkoutReducer, initialCheckout);
  const tiers = new Map(event.price_tiers.map((tier) => [tier.tier, tier]));
  const priceOf = (sectionId: string) => tiers.get(event.section_tiers[sectionId] ?? "");
  const lines = hold.section_id
    ? [{ label: t("hold.places", { count: hold.quantity, section: hold.section_id }), cents: (priceOf(hold.section_id)?.price_cents ?? 0) * hold.quantity }]
    : hold.seat_ids.map((id) => ({ label: id, cents: priceOf(id.split("-")[0] ?? "")?.price_cents ?? 0 }));
  const currency = event.price_tiers[0]?.currency ?? "EUR";
  const booking: Booking | null = "booking" in state ? state.booking : null;
  const total = booking?.amount_cents ?? lines.reduce((sum, line) => sum + line.cents, 0);

  const book = useCallback(async () => {
    dispatch({ type: "book" });
    try {
      const made = sessionStorage.getItem(madeName(hold.hold_id));
      const created = made ? await api.booking(made) : await api.book(hold, bookingKey(hold.hold_id));
      sessionStorage.setItem(madeName(hold.hold_id), created.booking_id);
      holds.consumed(); // the booking owns the seats now: leaving must not release them
      admissions.forget(hold.event_id); // and the waiting room's admission is used up (the gateway ends it)
      dispatch({ type: "booked", booking: created });
    } catch (error) {
      if (isWaitingRoomRequired(error)) {
        backToQueue("required");
        return;
      }
      const slug = error instanceof ApiError ? error.slug : null;
      dispatch({ type: "bookFailed", error, holdGone: slug === "hold-expired" || slug === "hold-released" });
    }
  }, [api, hold, holds, admissions, backToQueue]);

  // Booked before a reload (the key exists) or paid already: that booking, read again (or found by
  // the same key).
  useEffect(() => {
    if (sessionStorage.getItem(keyName(hold.hold_id)) || hold.status === "confirmed") void book();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- on arrival only
  }, []);

  const headingByStep: Record<string, string> = {
    confirmed: t("checkout.confirmed"),
  };

  return (
    <Page title={headingByStep[state.step] ?? t("checkout.title")}>
      <h2 className="event-title">{event.title}</h2>
      <section aria-labelledby="summary-heading" className="summary">
        <h2 id="summary-heading">{t("checkout.summary")}</h2>
        <ul>
          {lines.map((line) => (
            <li key={line.label}>
              <span>{line.label}</span> <span>{formatMoney(line.cents, currency, locale)}</span>
            </li>
          ))}
        </ul>
        <p className="total">
          <span>{t("checkout.total")}</span> <strong>{formatMoney(total, booking?.currency ?? currency, locale)}</strong>
        </p>
      </section>

      {(state.step === "review" || state.step === "booking") && (
        <>
          {admission && <ShoppingTime until={admission.until} onEnded={timeUp} />}
          <HoldTimer expiresAt={hold.expires_at} onExpired={() => dispatch({ type: "holdExpired" })} />
          {state.step === "review" && state.error ? <ErrorMessage error={state.error} /> : null}
          <button type="button" className="button" disabled={state.step === "booking"} onClick={() => void book()}>
            {state.step === "booking" ? t("checkout.booking") : t("checkout.confirm")}
          </button>
        </>
      )}
      {state.step === "expired" && (
        <div className="notice notice-error" role="alert">
          <p>{t("hold.expired")}</p>
          <Link to={`/events/${event.event_id}`}>{t("checkout.backToEvent")}</Link>
        </div>
      )}
      <PaymentStep state={state} dispatch={dispatch} />
      {state.step === "confirmed" && (
        <div className="notice notice-success" role="status">
          <p>{t("checkout.confirmed")}</p>
          <Link className="button" to={`/bookings/${state.booking.booking_id}`}>
            {t("checkout.viewTickets")}
          </Link>
        </div>
      )}
      {state.step === "failed" && (
        <div className="notice notice-error" role="alert">
          <p>
            {state.booking.reason
              ? t("checkout.failed", { reason: state.booking.reason })
              : t("checkout.failedNoReason")}
          </p>
          <Link to={`/events/${event.event_id}`}>{t("checkout.backToEvent")}</Link>
        </div>
      )}
    </Page>
  );
}

