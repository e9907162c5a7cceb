import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import type { Booking } from "../api/types";
import { useApi } from "../app/services";
import { RequireAuth } from "../auth/RequireAuth";
import { ErrorMessage } from "../components/ErrorMessage";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { formatDate, formatMoney } from "../i18n/format";

export function Component() {
  return (
    <RequireAuth>
      <Bookings />
    </RequireAuth>
  );
}

function Bookings() {
  const { t } = useTranslation();
  const api = useApi();
  const list = useInfiniteQuery({
    queryKey: ["me", "bookings"],
    queryFn: ({ pageParam }) => api.bookings(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    staleTime: 0,
  });
  const items = (list.data?.pages.flatMap((page) => page.items) ?? []).sort((a, b) => b.created_at.localeCompare(a.created_at));
  return (
    <Page title={t("bookings.title")}>
      {list.isPending && <Loading />}
      {list.isError && <ErrorMessage error={list.error} onRetry={() => void list.refetch()} />}
      {list.data && items.length === 0 && (
        <p>
          {t("bookings.empty")} <Link to="/">{t("bookings.browse")}</Link>
        </p>
      )}
      <ul className="booking-list">
        {items.map((booking) => (
          <BookingRow key={booking.booking_id} booking={booking} />
        ))}
      </ul>
      {list.hasNextPage && (
        <button type="button" className="button secondary" onClick={() => void list.fetchNextPage()}>
          {t("home.more")}
        </button>
      )}
    </Page>
  );
}

function BookingRow({ booking }: { booking: Booking }) {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const event = useQuery({ queryKey: ["event", booking.event_id], queryFn: ({ signal }) => api.event(booking.event_id, signal), staleTime: 5 * 60_000 });
  const title = event.data?.title ?? booking.event_id;
  return (
    <li className="booking-row">
      <h2>
        <Link to={`/bookings/${booking.booking_id}`} aria-label={t("bookings.open", { title })}>
          {title}
        </Link>
      </h2>
      <p>
        <span className={`status status-${booking.status}`}>{t(`bookings.status.${booking.status}`)}</span>
        {" · "}
        {booking.section_id ? t("bookings.places", { count: booking.quantity }) : booking.seat_ids.join(", ")}
        {" · "}
        {formatMoney(booking.amount_cents, booking.currency, i18n.language)}
        {" · "}
        {t("bookings.bookedOn", { date: formatDate(booking.created_at, i18n.language) })}
      </p>
    </li>
  );
}
