/** /events/{event_id} (in the first bundle: on-sale links lead straight here): the event's details in the venue's time zone, its prices, the seat-map
 * picker with live availability, and the customer's hold with its countdown. */
import { useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, Navigate, useLocation, useNavigate, useParams, useSearchParams } from "react-router";
import { ApiError } from "../api/client";
import type { HoldRequest } from "../api/endpoints";
import { describeError } from "../api/problems";
import type { Event, Venue } from "../api/types";
import { useApi } from "../app/services";
import { useAuth } from "../auth/AuthProvider";
import { ErrorMessage } from "../components/ErrorMessage";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { HoldPanel } from "../features/holds/HoldPanel";
import { useHold } from "../features/holds/HoldProvider";
import { buildLayout, stillAvailable, statusOf, toggleSeat, type Layout } from "../features/seatmap/layout";
import { SeatMap, useTierPrice } from "../features/seatmap/SeatMap";
import { useLiveAvailability } from "../features/seatmap/useLiveAvailability";
import type { Admission } from "../features/waitingRoom/admissions";
import { ShoppingTime } from "../features/waitingRoom/ShoppingTime";
import {
  isWaitingRoomRequired,
  useAdmission,
  useBackToQueue,
  useQueueRedirect,
  useWaitingRoomOn,
  waitingRoomPath,
} from "../features/waitingRoom/useWaitingRoom";
import { formatDateTime, formatMoney, formatTime } from "../i18n/format";

export function EventPage() {
  const { eventId = "" } = useParams();
  const api = useApi();
  const { t } = useTranslation();
  // Event, layout and live availability at once (none waits for another); the venue (address,
  // time zone) follows the event but holds up nothing.
  const event = useQuery({ queryKey: ["event", eventId], queryFn: ({ signal }) => api.event(eventId, signal) });
  const seats = useQuery({
    queryKey: ["layout", eventId],
    queryFn: ({ signal }) => api.layout(eventId, signal),
    staleTime: Infinity, // immutable once published
    retry: 1,
  });
  const layout = useMemo(() => (seats.data ? buildLayout(seats.data) : null), [seats.data]);
  const live = useLiveAvailability(eventId, layout?.seatOfBit ?? null);
  const venue = useQuery({
    queryKey: ["venue", event.data?.venue_id],
    queryFn: ({ signal }) => api.venue(event.data!.venue_id, signal),
    enabled: !!event.data,
    staleTime: 5 * 60_000,
  });
  // An event selling through a waiting room: a signed-in customer shops once the room let them in
  // (the waiting page says "off" when the room turned out not to be on after all).
  const { status } = useAuth();
  const location = useLocation();
  const roomOn = useWaitingRoomOn(eventId);
  const admission = useAdmission(eventId);
  const queue = useQueueRedirect(eventId);
  const queued = roomOn === true && (location.state as { roomOff?: boolean } | null)?.roomOff !== true;
  if (queued && status === "signedIn" && !admission) return <Navigate to={queue.to} state={queue.state} replace />;
  if (event.isError) {
    const missing = event.error instanceof ApiError && event.error.status === 404;
    return (
      <Page title={missing ? t("notFound.title") : t("errors.unexpected")}>
        <ErrorMessage error={event.error} onRetry={missing ? undefined : () => void event.refetch()} />
        <Link to="/">{t("notFound.home")}</Link>
      </Page>
    );
  }
  if (!event.data || roomOn === undefined || (queued && status === "restoring")) return <Loading />;
  return (
    <EventView
      event={event.data}
      venue={venue.data}
      layout={layout}
      layoutError={seats.error}
      live={live}
      room={queued ? { admission } : null}
    />
  );
}

function EventView({
  event,
  venue,
  layout,
  layoutError,
  live,
  room,
}: {
  event: Event;
  venue: Venue | undefined;
  layout: Layout | null;
  layoutError: unknown;
  live: ReturnType<typeof useLiveAvailability>;
  /** The event's waiting room, when it is on: this customer's admission (null: not admitted). */
  room: { admission: Admission | null } | null;
}) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const [params] = useSearchParams();
  const zoomed = params.get("section");
  const onSale = event.status === "on_sale";
  const backToQueue = useBackToQueue(event.event_id);
  const timeUp = useCallback(() => backToQueue("timeUp"), [backToQueue]);

  return (
    <Page title={event.title} wide>
      {room?.admission && onSale && <ShoppingTime until={room.admission.until} onEnded={timeUp} />}
      {room && !room.admission && onSale && (
        <div className="notice">
          <p>{t("shop.roomOn")}</p>
          <Link className="button" to={`/signin?next=${encodeURIComponent(waitingRoomPath(event.event_id))}`}>
            {t("room.signIn")}
          </Link>
        </div>
      )}
      <div className="event-layout">
        <section className="event-details" aria-label={t("event.when")}>
          <dl>
            <dt>{t("event.when")}</dt>
            <dd>
              <time dateTime={event.starts_at}>{formatDateTime(event.starts_at, locale, venue?.timezone)}</time>
            </dd>
            <dt>{t("event.where")}</dt>
            <dd>
              {venue ? (
                <>
                  {venue.name}
                  <br />
                  {venue.address}
                </>
              ) : (
                <>
                  {event.city}
                  <br />
                  {"\u00a0"}
                </>
              )}
            </dd>
            <dt>{t("event.prices")}</dt>
            <dd>
              <ul className="tiers">
                {event.price_tiers.map((tier) => (
                  <li key={tier.tier}>
                    {tier.tier.charAt(0).toUpperCase() + tier.tier.slice(1)}: {formatMoney(tier.price_cents, tier.currency, locale)}
                  </li>
                ))}
              </ul>
            </dd>
          </dl>
          {event.description && <p>{event.description}</p>}
        </section>
        {event.status === "cancelled" && <p className="notice notice-error" role="alert">{t("event.cancelled")}</p>}
        {event.status === "draft" && <p className="notice">{t("event.notOnSale")}</p>}
        {onSale && layoutError ? <ErrorMessage error={layoutError} onRetry={() => window.location.reload()} /> : null}
        {onSale && !layout && !layoutError && (
          <div className="picker-placeholder">
            <Loading />
          </div>
        )}
        {onSale && layout && <Picker event={event} layout={layout} zoomed={zoomed} live={live} admitted={!!room?.admission} />}
      </div>
    </Page>
  );
}

function Picker({
  event,
  layout,
  zoomed,
  live,
  admitted,
}: {
  event: Event;
  layout: Layout;
  zoomed: string | null;
  live: ReturnType<typeof useLiveAvailability>;
  /** Let in by the event's waiting room: one hold per turn (releasing it ends the turn). */
  admitted: boolean;
}) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const { status } = useAuth();
  const holds = useHold();
  const navigate = useNavigate();
  const location = useLocation();
  const backToQueue = useBackToQueue(event.event_id);
  const tierPrice = useTierPrice();
  const [picked, setPicked] = useState<string[]>([]);
  const [message, setMessage] = useState<{ text: string; kind: "error" | "info" } | null>(null);
  const [holding, setHolding] = useState(false);

  const hold = holds.hold?.event_id === event.event_id ? holds.hold : null;
  const mine = useMemo(() => new Set(hold?.seat_ids ?? []), [hold]);
  // Seats someone else took since they were picked leave the selection by themselves.
  const selection = useMemo(() => stillAvailable(picked, live.statuses), [picked, live.statuses]);
  const selected = useMemo(() => new Set(selection), [selection]);

  const onToggle = useCallback(
    (id: string) => {
      if (mine.has(id)) return;
      setPicked((current) => {
        const next = toggleSeat(stillAvailable(current, live.statuses), id, statusOf(live.statuses, id));
        setMessage(next.limited ? { text: t("event.maxSeats", { max: 10 }), kind: "info" } : null);
        return next.selection;
      });
    },
    [live.statuses, mine, t],
  );

  const requestHold = async (request: HoldRequest) => {
    if (status !== "signedIn") {
      navigate(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
      return;
    }
    setHolding(true);
    setMessage(null);
    try {
      await holds.create(event.event_id, request);
      setPicked([]);
      await live.refresh();
    } catch (error) {
      if (isWaitingRoomRequired(error)) {
        backToQueue("required");
        return;
      }
      setMessage({ text: describeError(error, t, locale).message, kind: "error" });
      if (error instanceof ApiError && error.status === 409) {
        const taken = error.problem?.unavailable ?? [];
        setPicked((current) => current.filter((id) => !taken.includes(id)));
        await live.refresh();
      }
    } finally {
      setHolding(false);
    }
  };

  // Stable, so a re-render of the page (the venue arriving, a poll with no change) does not
  // re-render thousands of seats.
  const holdRef = useRef(requestHold);
  useEffect(() => {
    holdRef.current = requestHold;
  });
  const onHoldStanding = useCallback(
    (sectionId: string, quantity: number) => void holdRef.current({ section_id: sectionId, quantity }),
    [],
  );

  const total = selection.reduce((sum, id) => sum + (layout.sectionOfSeat(id)?.price?.price_cents ?? 0), 0);
  const currency = event.price_tiers[0]?.currency ?? "EUR";

  return (
    <div className="picker">
      <section className="picker-map" aria-labelledby="choose-seats">
        <h2 id="choose-seats">{t("event.chooseSeats")}</h2>
        {live.updatedAt > 0 && (
          <p className="live-note">
            <span className="live-dot" aria-hidden="true" />
            {t("event.liveUpdated", { time: formatTime(new Date(live.updatedAt), locale) })}
          </p>
        )}
        {live.error && !live.counts.size ? <ErrorMessage error={live.error} onRetry={() => void live.refresh()} /> : null}
        {live.statuses || live.error ? (
          <SeatMap
            layout={layout}
            counts={live.counts}
            statuses={live.statuses}
            selected={selected}
            mine={mine}
            zoomed={zoomed}
            onToggle={onToggle}
            onHoldStanding={onHoldStanding}
            holding={holding}
          />
        ) : (
          <div className="picker-placeholder">
            <Loading />
          </div>
        )}
      </section>
      <aside className="picker-side" aria-labelledby="selection-heading">
        {message && (
          <div className={message.kind === "error" ? "notice notice-error" : "notice"} role="alert">
            <p>{message.text}</p>
          </div>
        )}
        {hold && (
          <HoldPanel
            hold={hold}
            event={event}
            layout={layout}
            onEnded={(text) => setMessage({ text, kind: "info" })}
            endsTurn={admitted}
          />
        )}
        <h2 id="selection-heading">{t("event.selection")}</h2>
        {selection.length === 0 ? (
          <p>{t("event.selectionEmpty")}</p>
        ) : (
          <>
            <ul className="selection">
              {selection.map((id) => {
                const section = layout.sectionOfSeat(id);
                return (
                  <li key={id}>
                    <span>
                      {id} · {section ? tierPrice(section).text : ""}
                    </span>
                    <button type="button" className="link-button" onClick={() => onToggle(id)} aria-label={t("event.removeSeat", { seat: id })}>
                      ✕
                    </button>
                  </li>
                );
              })}
            </ul>
            <p className="selection-total">
              {t("event.selectionCount", { count: selection.length, total: formatMoney(total, currency, locale) })}
            </p>
          </>
        )}
        {status !== "signedIn" && selection.length > 0 ? (
          <Link className="button" to={`/signin?next=${encodeURIComponent(location.pathname + location.search)}`}>
            {t("event.signInToHold")}
          </Link>
        ) : (
          <button
            type="button"
            className="button"
            disabled={selection.length === 0 || holding || (admitted && !!hold)}
            aria-describedby={admitted && hold ? "hold-once" : undefined}
            onClick={() => void requestHold({ seat_ids: selection })}
          >
            {holding ? t("event.holding") : t("event.holdSeats", { count: selection.length || 1 })}
          </button>
        )}
        {admitted && hold && (
          <p id="hold-once" className="hint">
            {t("shop.holdOnce")}
          </p>
        )}
      </aside>
    </div>
  );
}
