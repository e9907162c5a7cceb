/** The organizer console's start: the caller's events (drafts, on sale, cancelled) and venues. */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import type { EventStatus } from "../api/types";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { Problem, RequireRole, useConsole, VenueTime } from "./shared";
import "./console.css";

export function Component() {
  return (
    <RequireRole roles={["organizer", "admin"]}>
      <ConsoleHome />
    </RequireRole>
  );
}

export function StatusBadge({ status }: { status: EventStatus }) {
  const { t } = useConsole();
  return <span className={`badge badge-${status}`}>{t(`status.${status}`)}</span>;
}

function ConsoleHome() {
  const { t, api } = useConsole();
  const [status, setStatus] = useState<EventStatus | "">("");
  const events = useQuery({
    queryKey: ["managed-events", status],
    queryFn: () => api.managedEvents(status ? { status } : {}),
  });
  const venues = useQuery({ queryKey: ["venues"], queryFn: () => api.venues() });
  return (
    <Page title={t("home.title")} wide>
      <div className="console-actions">
        <Link className="button" to="/console/events/new">
          {t("home.newEvent")}
        </Link>
        <Link className="button secondary" to="/console/venues/new">
          {t("home.newVenue")}
        </Link>
        <Link className="button secondary" to="/console/staff">
          {t("home.staff")}
        </Link>
      </div>
      <section aria-labelledby="console-events">
        <h2 id="console-events">{t("home.events")}</h2>
        <label className="console-actions">
          <span>{t("home.filter")}</span>
          <select value={status} onChange={(event) => setStatus(event.target.value as EventStatus | "")}>
            <option value="">{t("home.all")}</option>
            <option value="draft">{t("status.draft")}</option>
            <option value="on_sale">{t("status.on_sale")}</option>
            <option value="cancelled">{t("status.cancelled")}</option>
          </select>
        </label>
        {events.isPending && <Loading />}
        <Problem error={events.error} />
        {events.data?.items.length === 0 && <p>{t("home.noEvents")}</p>}
        <ul className="console-list">
          {events.data?.items.map((event) => (
            <li key={event.event_id}>
              <StatusBadge status={event.status} /> <strong>{event.title}</strong>{" "}
              <span className="muted">
                <VenueTime iso={event.starts_at} venueId={event.venue_id} long say={(date) => t("home.startsAt", { date })} /> ·{" "}
                {event.city}
              </span>
              <div className="console-actions">
                <Link to={`/console/events/${event.event_id}`}>
                  {t("home.dashboard")}
                  <span className="visually-hidden">: {event.title}</span>
                </Link>
                {event.status === "draft" && (
                  <Link to={`/console/events/${event.event_id}/edit`}>
                    {t("home.edit")}
                    <span className="visually-hidden">: {event.title}</span>
                  </Link>
                )}
                {event.status === "on_sale" && (
                  <Link to={`/console/events/${event.event_id}/edit#waiting-room`}>
                    {t("room.link")}
                    <span className="visually-hidden">: {event.title}</span>
                  </Link>
                )}
              </div>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="console-venues">
        <h2 id="console-venues">{t("home.venues")}</h2>
        {venues.isPending && <Loading />}
        <Problem error={venues.error} />
        {venues.data?.items.length === 0 && <p>{t("home.noVenues")}</p>}
        <ul className="console-list">
          {venues.data?.items.map((venue) => (
            <li key={venue.venue_id}>
              <strong>{venue.name}</strong>{" "}
              <span className="muted">
                {venue.city} · {t("home.capacity", { count: venue.capacity })}
                {venue.in_use && ` · ${t("home.inUse")}`}
              </span>{" "}
              {!venue.in_use && (
                <Link to={`/console/venues/${venue.venue_id}`}>
                  {t("home.edit")}
                  <span className="visually-hidden">: {venue.name}</span>
                </Link>
              )}
            </li>
          ))}
        </ul>
      </section>
    </Page>
  );
}
