/** /events/{event_id}/waiting-room: the customer's place in the event's queue — position, people
 * ahead, the estimated wait and a progress bar — kept up to date at the pace the room asks for;
 * moves on to the event page by itself when admitted. Before the opening it says the order is
 * drawn then (refreshing buys nothing). Signed out: a way to sign in and come back. */
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, Navigate, useLocation, useNavigate, useParams } from "react-router";
import { ApiError } from "../api/client";
import { useApi, useServices } from "../app/services";
import { useAuth } from "../auth/AuthProvider";
import { ErrorMessage } from "../components/ErrorMessage";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { useRoom } from "../features/waitingRoom/useRoom";
import { useAdmission, type QueueNotice } from "../features/waitingRoom/useWaitingRoom";
import { formatDateTime, formatTime } from "../i18n/format";

export function Component() {
  const { eventId = "" } = useParams();
  const { t } = useTranslation();
  const api = useApi();
  const { status } = useAuth();
  const location = useLocation();
  const event = useQuery({ queryKey: ["event", eventId], queryFn: ({ signal }) => api.event(eventId, signal) });
  const admission = useAdmission(eventId);
  const notice = (location.state as { notice?: QueueNotice } | null)?.notice;
  const title = t("room.title", { title: event.data?.title ?? "" });

  if (admission) return <Navigate to={`/events/${encodeURIComponent(eventId)}`} replace />; // admitted (maybe in another tab)
  if (status === "restoring" || (event.isPending && !event.isError)) return <Loading />;
  if (event.isError) {
    const missing = event.error instanceof ApiError && event.error.status === 404;
    return (
      <Page title={missing ? t("notFound.title") : t("errors.unexpected")}>
        <ErrorMessage error={event.error} onRetry={missing ? undefined : () => void event.refetch()} />
        <Link to="/">{t("notFound.home")}</Link>
      </Page>
    );
  }
  return (
    <Page title={title}>
      {notice && (
        <div className="notice" role="alert">
          <p>{t(`room.${notice}`)}</p>
        </div>
      )}
      {status === "signedOut" ? (
        <>
          <p>{t("room.signInIntro")}</p>
          <Link className="button" to={`/signin?next=${encodeURIComponent(location.pathname)}`}>
            {t("room.signIn")}
          </Link>
        </>
      ) : (
        <Queue eventId={eventId} />
      )}
    </Page>
  );
}

function Queue({ eventId }: { eventId: string }) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const { admissions } = useServices();
  const navigate = useNavigate();
  const { room, error, updatedAt, rejoin } = useRoom(eventId);
  const [rejoining, setRejoining] = useState(false);
  // The most people ever ahead of this customer, and the longest wait since the order was drawn:
  // the bar fills as those ahead are let in (or, with nobody ahead, as a shopping slot nears).
  const [start, setStart] = useState({ ahead: 0, wait: 0 });
  const drawnWait = room?.position != null ? (room.estimated_wait_seconds ?? 0) : 0;
  if ((room?.people_ahead ?? 0) > start.ahead || drawnWait > start.wait) {
    setStart({ ahead: Math.max(start.ahead, room?.people_ahead ?? 0), wait: Math.max(start.wait, drawnWait) });
  }

  useEffect(() => {
    if (room?.state === "admitted" && room.admission_token && room.admitted_until) {
      admissions.admit(eventId, { token: room.admission_token, until: room.admitted_until });
      navigate(`/events/${encodeURIComponent(eventId)}`, { replace: true });
    } else if (room?.state === "off") {
      navigate(`/events/${encodeURIComponent(eventId)}`, { replace: true, state: { roomOff: true } });
    }
  }, [room, admissions, eventId, navigate]);

  const signedOut = error instanceof ApiError && error.status === 401;
  if (!room) {
    return error && !signedOut ? <QueueError error={error} /> : <Loading />;
  }
  if (room.state === "expired") {
    return (
      <div className="room">
        <p>{t("room.expired")}</p>
        <button
          type="button"
          className="button"
          disabled={rejoining}
          onClick={async () => {
            setRejoining(true);
            await rejoin();
            setRejoining(false);
          }}
        >
          {rejoining ? t("room.joining") : t("room.rejoin")}
        </button>
      </div>
    );
  }
  if (room.state !== "waiting") {
    return (
      <div className="room">
        <p role="status">{t("room.admitted")}</p>
        <Link to={`/events/${encodeURIComponent(eventId)}`} replace>
          {t("room.goToEvent")}
        </Link>
      </div>
    );
  }
  const drawn = room.position !== null;
  const ahead = room.people_ahead ?? 0;
  const wait = room.estimated_wait_seconds ?? 0;
  const share = start.ahead > 0 ? (start.ahead - ahead) / start.ahead : start.wait > 0 ? (start.wait - wait) / start.wait : 1;
  const percent = Math.round(Math.min(1, Math.max(0, share)) * 100);
  const beforeOpening = !drawn && room.opens_at !== null;
  return (
    <div className="room">
      <p>{t("room.intro")}</p>
      <ProgressBar percent={drawn ? percent : null} text={drawn ? t("room.progressText", { position: room.position, percent }) : t("room.progressWaiting")} />
      {drawn ? (
        <ul className="room-facts">
          <li>
            <strong>{t("room.position", { position: room.position })}</strong>
          </li>
          <li>{ahead > 0 ? t("room.ahead", { count: ahead }) : t("room.next")}</li>
          <li>
            {room.estimated_wait_seconds === null
              ? t("room.waitUnknown")
              : t("room.wait", { time: waitText(room.estimated_wait_seconds, t) })}
          </li>
        </ul>
      ) : (
        <div className="room-facts">
          <p>
            <strong>
              {beforeOpening && Date.parse(room.opens_at!) > updatedAt
                ? t("room.opensAt", { time: formatDateTime(room.opens_at!, locale, localZone()) })
                : t("room.opensSoon")}
            </strong>
          </p>
          <p>{t("room.draw")}</p>
        </div>
      )}
      {error ? <QueueError error={error} /> : null}
      {updatedAt > 0 && <p className="muted">{t("room.updated", { time: formatTime(new Date(updatedAt), locale) })}</p>}
    </div>
  );
}

function localZone(): string | undefined {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

function waitText(seconds: number, t: (key: string, options?: Record<string, unknown>) => string): string {
  if (seconds < 60) return t("room.lessThanMinute");
  return t("room.minutes", { count: Math.round(seconds / 60) });
}

/** How far along the queue, for eyes and for screen readers (role progressbar, named; no value
 * before the order is drawn). */
function ProgressBar({ percent, text }: { percent: number | null; text: string }) {
  const { t } = useTranslation();
  return (
    <div
      className={percent === null ? "room-progress indeterminate" : "room-progress"}
      role="progressbar"
      aria-label={t("room.progressLabel")}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent ?? undefined}
      aria-valuetext={text}
    >
      <div className="room-progress-fill" style={{ width: `${percent ?? 100}%` }} />
    </div>
  );
}

function QueueError({ error }: { error: unknown }) {
  const { t } = useTranslation();
  return (
    <div className="room-error">
      <ErrorMessage error={error} />
      <p>{t("room.stillTrying")}</p>
    </div>
  );
}
