/** An event's live sales: seats per section, revenue, sales over time, refreshed every few
 * seconds; its bookings (filtered) with a CSV export and a refund per booking; publish and
 * cancel. */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useLocation, useParams } from "react-router";
import type { Booking, BookingStatus } from "../api/types";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { formatMoney, formatShortDateTime } from "../i18n/format";
import { Confirm } from "./Confirm";
import { StatusBadge } from "./ConsoleHome";
import { Problem, RequireRole, useConsole, VenueTime } from "./shared";
import "./console.css";

const REFRESH_MS = 3_000;
const STATUSES: BookingStatus[] = ["confirmed", "pending_payment", "refunded", "cancelled", "expired", "failed"];

export function Component() {
  return (
    <RequireRole roles={["organizer", "admin"]}>
      <Dashboard />
    </RequireRole>
  );
}

function Dashboard() {
  const { eventId } = useParams() as { eventId: string };
  const { t, api } = useConsole();
  const location = useLocation();
  const queryClient = useQueryClient();
  const [notice, setNotice] = useState<string | null>((location.state as { notice?: string } | null)?.notice ?? null);
  const [cancelling, setCancelling] = useState(false);
  const event = useQuery({ queryKey: ["event", eventId], queryFn: () => api.event(eventId) });
  const publish = useMutation({
    mutationFn: () => api.publishEvent(eventId),
    onSuccess: (saved) => {
      queryClient.setQueryData(["event", eventId], saved);
      setNotice(t("event.published"));
    },
  });
  const cancel = useMutation({
    mutationFn: () => api.cancelEvent(eventId),
    onSuccess: (saved) => {
      queryClient.setQueryData(["event", eventId], saved);
      setCancelling(false);
      setNotice(t("event.cancelled"));
    },
  });
  if (event.isPending) return <Loading />;
  if (event.error) return <Problem error={event.error} />;
  const current = event.data;
  return (
    <Page title={t("sales.title", { title: current.title })} wide>
      <p>
        <StatusBadge status={current.status} />{" "}
        <span className="muted"><VenueTime iso={current.starts_at} venueId={current.venue_id} /> · {current.city}</span>
      </p>
      {notice && (
        <p className="notice notice-success" role="status">
          {notice}
        </p>
      )}
      <div className="console-actions">
        {current.status === "draft" && (
          <>
            <Link className="button secondary" to={`/console/events/${eventId}/edit`}>
              {t("sales.edit")}
            </Link>
            <button type="button" className="button" onClick={() => publish.mutate()} disabled={publish.isPending}>
              {t("event.publish")}
            </button>
          </>
        )}
        {current.status === "on_sale" && (
          <Link className="button secondary" to={`/console/events/${eventId}/edit#waiting-room`}>
            {t("room.link")}
          </Link>
        )}
        {current.status !== "cancelled" && (
          <button type="button" className="button danger" onClick={() => setCancelling(true)}>
            {t("event.cancelEvent")}
          </button>
        )}
      </div>
      <Problem error={publish.error ?? cancel.error} />
      <Confirm
        open={cancelling}
        title={t("event.cancelConfirmTitle")}
        message={t("event.cancelConfirm", { title: current.title })}
        confirmLabel={t("event.cancelYes")}
        onConfirm={() => cancel.mutate()}
        onClose={() => setCancelling(false)}
        busy={cancel.isPending}
      />
      {current.status !== "draft" && (
        <>
          <Sales eventId={eventId} />
          <Bookings eventId={eventId} />
        </>
      )}
    </Page>
  );
}

function Sales({ eventId }: { eventId: string }) {
  const { t, api, locale } = useConsole();
  const [interval, setBucketInterval] = useState<"minute" | "hour" | "day">("hour");
  const sales = useQuery({
    queryKey: ["sales", eventId, interval],
    queryFn: () => api.sales(eventId, interval),
    refetchInterval: REFRESH_MS,
    placeholderData: keepPreviousData,
  });
  if (sales.isPending) return <Loading />;
  if (sales.error && !sales.data) return <Problem error={sales.error} />;
  const summary = sales.data!;
  const currency = summary.currency ?? "EUR";
  const money = (cents: number) => formatMoney(cents, currency, locale);
  const peak = Math.max(1, ...summary.sales_over_time.buckets.map((bucket) => bucket.tickets));
  const when = (iso: string) =>
    new Intl.DateTimeFormat(locale, {
      month: "short",
      day: "numeric",
      hour: interval === "day" ? undefined : "numeric",
      minute: interval === "minute" ? "2-digit" : undefined,
    }).format(new Date(iso));
  return (
    <section aria-labelledby="sales-figures">
      <h2 id="sales-figures">{t("sales.live")}</h2>
      <p className="muted">{t("common.updated", { time: new Date(summary.generated_at).toLocaleTimeString(locale) })}</p>
      <dl className="console-grid">
        <div className="stat">
          <dt>{t("sales.revenue")}</dt>
          <dd>
            <strong data-testid="revenue">{money(summary.revenue_cents)}</strong>
          </dd>
        </div>
        <div className="stat">
          <dt>{t("sales.ticketsSold")}</dt>
          <dd>
            <strong data-testid="tickets-sold">{summary.tickets_sold}</strong>
          </dd>
        </div>
        <div className="stat">
          <dt>{t("sales.checkedIn")}</dt>
          <dd>
            <strong>{summary.checked_in}</strong>
          </dd>
        </div>
        <div className="stat">
          <dt>{t("sales.refunded")}</dt>
          <dd>
            <strong>{money(summary.refunded_cents)}</strong>
          </dd>
        </div>
      </dl>
      <h2>{t("sales.seats")}</h2>
      <table className="console-table">
        <thead>
          <tr>
            <th scope="col">{t("sales.section")}</th>
            <th scope="col">{t("sales.capacity")}</th>
            <th scope="col">{t("sales.available")}</th>
            <th scope="col">{t("sales.held")}</th>
            <th scope="col">{t("sales.sold")}</th>
            <th scope="col">
              <span className="visually-hidden">{t("sales.sold")}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {summary.sections.map((section) => (
            <tr key={section.section_id}>
              <th scope="row">{section.section_id}</th>
              <td>{section.capacity}</td>
              <td>{section.available}</td>
              <td>{section.held}</td>
              <td>{section.sold}</td>
              <td aria-hidden="true">
                <div className="meter">
                  <span className="sold" style={{ width: `${(100 * section.sold) / Math.max(1, section.capacity)}%` }} />
                  <span className="held" style={{ width: `${(100 * section.held) / Math.max(1, section.capacity)}%` }} />
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{t("sales.overTime")}</h2>
      <label className="console-actions">
        <span>{t("sales.interval")}</span>
        <select value={interval} onChange={(event) => setBucketInterval(event.target.value as "minute" | "hour" | "day")}>
          <option value="minute">{t("sales.minute")}</option>
          <option value="hour">{t("sales.hour")}</option>
          <option value="day">{t("sales.day")}</option>
        </select>
      </label>
      {summary.sales_over_time.buckets.length === 0 ? (
        <p>{t("sales.noSales")}</p>
      ) : (
        <>
          <div className="chart" aria-hidden="true">
            {summary.sales_over_time.buckets.map((bucket) => (
              <span key={bucket.start} style={{ height: `${(100 * bucket.tickets) / peak}%` }} title={when(bucket.start)} />
            ))}
          </div>
          <table className="console-table">
            <caption className="visually-hidden">{t("sales.overTime")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("sales.time")}</th>
                <th scope="col">{t("sales.ticketsSold")}</th>
                <th scope="col">{t("sales.revenue")}</th>
              </tr>
            </thead>
            <tbody>
              {summary.sales_over_time.buckets.slice(-24).map((bucket) => (
                <tr key={bucket.start}>
                  <td>{when(bucket.start)}</td>
                  <td>{bucket.tickets}</td>
                  <td>{money(bucket.revenue_cents)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function Bookings({ eventId }: { eventId: string }) {
  const { t, api, locale, services, describe } = useConsole();
  const queryClient = useQueryClient();
  const [filters, setFilters] = useState<{ status?: string; seat_id?: string }>({});
  const [status, setStatus] = useState("");
  const [seat, setSeat] = useState("");
  const [refunding, setRefunding] = useState<Booking | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [exportError, setExportError] = useState<unknown>(null);
  const bookings = useQuery({
    queryKey: ["event-bookings", eventId, filters],
    queryFn: () => api.eventBookings(eventId, filters),
    refetchInterval: REFRESH_MS,
    placeholderData: keepPreviousData,
  });
  const refund = useMutation({
    mutationFn: (booking: Booking) => api.refund(booking.booking_id),
    onSuccess: async (booking) => {
      setRefunding(null);
      setMessage(t("sales.refundDone", { id: booking.booking_id.slice(0, 8) }));
      await queryClient.invalidateQueries({ queryKey: ["event-bookings", eventId] });
      await queryClient.invalidateQueries({ queryKey: ["sales", eventId] });
    },
  });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilters({ status: status || undefined, seat_id: seat.trim() || undefined });
  };
  const download = async () => {
    setExportError(null);
    try {
      const token = await services.session.current();
      const response = await fetch(api.exportUrl(eventId, filters.status), {
        headers: { Authorization: `Bearer ${token}` },
        credentials: "omit",
      });
      if (!response.ok) throw new Error(String(response.status));
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = `bookings-${eventId}.csv`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setMessage(t("sales.exported"));
    } catch (error) {
      setExportError(error);
    }
  };
  return (
    <section aria-labelledby="sales-bookings">
      <h2 id="sales-bookings">{t("sales.bookings")}</h2>
      <form className="console-actions" onSubmit={apply}>
        <label>
          {t("sales.statusFilter")}{" "}
          <select value={status} onChange={(event) => setStatus(event.target.value)}>
            <option value="">{t("sales.anyStatus")}</option>
            {STATUSES.map((each) => (
              <option key={each} value={each}>
                {t(`bookingStatus.${each}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("sales.seatFilter")} <input value={seat} onChange={(event) => setSeat(event.target.value)} size={10} />
        </label>
        <button type="submit" className="button secondary">
          {t("sales.apply")}
        </button>
        <button type="button" className="button secondary" onClick={() => void download()}>
          {t("sales.export")}
        </button>
      </form>
      {message && (
        <p className="notice notice-success" role="status">
          {message}
        </p>
      )}
      {exportError !== null && (
        <p className="notice notice-error" role="alert">
          {describe(exportError).message}
        </p>
      )}
      <Problem error={refund.error} />
      {bookings.isPending && <Loading />}
      {bookings.data?.items.length === 0 && <p>{t("sales.noBookings")}</p>}
      {bookings.data && bookings.data.items.length > 0 && (
        <table className="console-table">
          <thead>
            <tr>
              <th scope="col">{t("sales.booking")}</th>
              <th scope="col">{t("sales.created")}</th>
              <th scope="col">{t("sales.seatsCol")}</th>
              <th scope="col">{t("sales.amount")}</th>
              <th scope="col">{t("sales.statusCol")}</th>
              <th scope="col">{t("sales.actions")}</th>
            </tr>
          </thead>
          <tbody>
            {bookings.data.items.map((booking) => (
              <tr key={booking.booking_id}>
                <td>
                  <code>{booking.booking_id.slice(0, 8)}</code>
                </td>
                <td>{formatShortDateTime(booking.created_at, locale)}</td>
                <td>{booking.seat_ids.length ? booking.seat_ids.join(", ") : t("sales.standing", { count: booking.quantity })}</td>
                <td>{formatMoney(booking.amount_cents, booking.currency, locale)}</td>
                <td>{t(`bookingStatus.${booking.status}`)}</td>
                <td>
                  {booking.status === "confirmed" && (
                    <button
                      type="button"
                      className="button secondary"
                      aria-label={t("sales.refundLabel", { id: booking.booking_id.slice(0, 8) })}
                      onClick={() => setRefunding(booking)}
                    >
                      {t("sales.refund")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Confirm
        open={refunding !== null}
        title={t("sales.refund")}
        message={
          refunding
            ? t("sales.refundConfirm", {
                id: refunding.booking_id.slice(0, 8),
                amount: formatMoney(refunding.amount_cents, refunding.currency, locale),
              })
            : ""
        }
        confirmLabel={t("sales.refundYes")}
        onConfirm={() => refunding && refund.mutate(refunding)}
        onClose={() => setRefunding(null)}
        busy={refund.isPending}
      />
    </section>
  );
}
