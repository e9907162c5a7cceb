/** /bookings/{booking_id}: status, seats, amount; a pending booking can be paid; a confirmed one
 * shows its tickets (printable) and can be cancelled, after which the refund is shown. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useReducer, useRef } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import type { Booking } from "../api/types";
import { useApi } from "../app/services";
import { RequireAuth } from "../auth/RequireAuth";
import { ErrorMessage } from "../components/ErrorMessage";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { checkoutReducer, fromBooking } from "../features/checkout/machine";
import { PaymentStep } from "../features/checkout/PaymentStep";
import { TicketList } from "../features/checkout/TicketList";
import { formatDateTime, formatMoney } from "../i18n/format";

export function Component() {
  return (
    <RequireAuth>
      <BookingDetails />
    </RequireAuth>
  );
}

function BookingDetails() {
  const { bookingId = "" } = useParams();
  const { t } = useTranslation();
  const api = useApi();
  const booking = useQuery({ queryKey: ["me", "booking", bookingId], queryFn: () => api.booking(bookingId), staleTime: 0 });
  if (booking.isError) {
    return (
      <Page title={t("bookings.booking")}>
        <ErrorMessage error={booking.error} onRetry={() => void booking.refetch()} />
        <Link to="/bookings">{t("bookings.title")}</Link>
      </Page>
    );
  }
  if (!booking.data) return <Loading />;
  return <BookingView booking={booking.data} />;
}

function BookingView({ booking }: { booking: Booking }) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const api = useApi();
  const queryClient = useQueryClient();
  const event = useQuery({ queryKey: ["event", booking.event_id], queryFn: ({ signal }) => api.event(booking.event_id, signal) });
  const venue = useQuery({
    queryKey: ["venue", event.data?.venue_id],
    queryFn: ({ signal }) => api.venue(event.data!.venue_id, signal),
    enabled: !!event.data,
    staleTime: 5 * 60_000,
  });
  const tickets = useQuery({
    queryKey: ["me", "tickets", booking.booking_id],
    queryFn: () => api.tickets(booking.booking_id),
    enabled: booking.status === "confirmed",
  });
  const payment = useQuery({
    queryKey: ["me", "payment", booking.payment?.payment_id],
    queryFn: () => api.payment(booking.payment!.payment_id),
    enabled: booking.status === "refunded" && !!booking.payment,
  });
  const [state, dispatch] = useReducer(checkoutReducer, booking, fromBooking);
  useEffect(() => {
    if (state.step === "confirmed" || state.step === "failed") {
      queryClient.setQueryData(["me", "booking", booking.booking_id], state.booking);
    }
  }, [state, booking.booking_id, queryClient]);

  const cancel = useMutation({
    mutationFn: () => api.cancelBooking(booking.booking_id),
    onSuccess: (updated) => {
      queryClient.setQueryData(["me", "booking", booking.booking_id], updated);
      void queryClient.invalidateQueries({ queryKey: ["me", "bookings"] });
      dialog.current?.close();
    },
  });
  const dialog = useRef<HTMLDialogElement>(null);
  const amount = formatMoney(booking.amount_cents, booking.currency, locale);
  const title = event.data?.title ?? t("bookings.booking");
  const paid = booking.status === "confirmed";
  const cancellable = booking.status === "confirmed" || booking.status === "pending_payment";

  return (
    <Page title={title}>
      <dl className="booking-facts">
        <dt>{t("bookings.booking")}</dt>
        <dd>
          <span className={`status status-${booking.status}`}>{t(`bookings.status.${booking.status}`)}</span>
          {booking.reason && booking.status === "failed" && <> · {t("bookings.reason", { reason: booking.reason })}</>}
        </dd>
        {event.data && (
          <>
            <dt>{t("event.when")}</dt>
            <dd>{formatDateTime(event.data.starts_at, locale, venue.data?.timezone)}</dd>
          </>
        )}
        {venue.data && (
          <>
            <dt>{t("event.where")}</dt>
            <dd>{venue.data.name}</dd>
          </>
        )}
        <dt>{t("bookings.seats")}</dt>
        <dd>{booking.section_id ? t("bookings.places", { count: booking.quantity }) : booking.seat_ids.join(", ")}</dd>
        <dt>{t("bookings.amount")}</dt>
        <dd>{amount}</dd>
      </dl>

      {booking.status === "refunded" && (
        <div className="notice notice-success" role="status">
          <p>{t("bookings.refunded", { amount })}</p>
          {payment.data && (
            <p>{t("bookings.refundStatus", { status: t(`bookings.paymentStatus.${payment.data.status}`) })}</p>
          )}
        </div>
      )}
      {booking.status === "cancelled" && <p className="notice">{t("bookings.cancelled")}</p>}

      {booking.status === "pending_payment" && <PaymentStep state={state} dispatch={dispatch} />}
      {state.step === "failed" && booking.status === "pending_payment" && (
        <p className="notice notice-error" role="alert">
          {state.booking.reason ? t("checkout.failed", { reason: state.booking.reason }) : t("checkout.failedNoReason")}
        </p>
      )}

      {paid && (
        <section aria-labelledby="tickets-heading">
          <div className="section-head">
            <h2 id="tickets-heading">{t("bookings.tickets")}</h2>
            <button type="button" className="button secondary no-print" onClick={() => window.print()}>
              {t("bookings.print")}
            </button>
          </div>
          {tickets.isPending && <Loading />}
          {tickets.isError && <ErrorMessage error={tickets.error} onRetry={() => void tickets.refetch()} />}
          {tickets.data && <TicketList tickets={tickets.data} title={title} />}
        </section>
      )}

      {cancellable && (
        <div className="no-print">
          <button type="button" className="button danger" onClick={() => dialog.current?.showModal()}>
            {t("bookings.cancel")}
          </button>
          <dialog ref={dialog} aria-labelledby="cancel-title" className="dialog">
            <h2 id="cancel-title">{t("bookings.cancelTitle")}</h2>
            <p>{paid ? t("bookings.cancelPaid", { amount }) : t("bookings.cancelUnpaid")}</p>
            {cancel.isError && <ErrorMessage error={cancel.error} />}
            <div className="actions">
              <button type="button" className="button danger" disabled={cancel.isPending} onClick={() => cancel.mutate()}>
                {cancel.isPending ? t("bookings.cancelling") : t("bookings.cancelConfirm")}
              </button>
              <button type="button" className="button secondary" onClick={() => dialog.current?.close()}>
                {t("bookings.cancelKeep")}
              </button>
            </div>
          </dialog>
        </div>
      )}
      <p className="no-print">
        <Link to="/bookings">{t("bookings.title")}</Link>
      </p>
    </Page>
  );
}
