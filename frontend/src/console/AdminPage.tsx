/** The admin's view: find users and change their role (door staff name their organizer), every
 * event of every organizer, and the platform's status. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { StatusBoard } from "../status/StatusPage";
import type { ConsoleUser, Role } from "./api";
import { StatusBadge } from "./ConsoleHome";
import { Problem, RequireRole, useConsole, VenueTime } from "./shared";
import "./console.css";

const ROLES: Role[] = ["customer", "organizer", "staff", "admin"];

export function Component() {
  return (
    <RequireRole roles={["admin"]}>
      <Admin />
    </RequireRole>
  );
}

function Admin() {
  const { t } = useConsole();
  return (
    <Page title={t("admin.title")} wide>
      <Users />
      <Events />
      <section aria-labelledby="admin-status">
        <h2 id="admin-status">{t("admin.platform")}</h2>
        <StatusBoard embedded />
      </section>
    </Page>
  );
}

function Users() {
  const { t, api } = useConsole();
  const [q, setQ] = useState("");
  const [role, setRole] = useState("");
  const [query, setQuery] = useState<{ q?: string; role?: string }>({});
  const users = useQuery({ queryKey: ["admin-users", query], queryFn: () => api.users(query) });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setQuery({ q: q.trim() || undefined, role: role || undefined });
  };
  return (
    <section aria-labelledby="admin-users">
      <h2 id="admin-users">{t("admin.users")}</h2>
      <form className="console-actions" onSubmit={submit} role="search" aria-labelledby="admin-users">
        <label>
          {t("admin.search")} <input type="search" value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
        <label>
          {t("admin.role")}{" "}
          <select value={role} onChange={(e) => setRole(e.target.value)}>
            <option value="">{t("admin.anyRole")}</option>
            {ROLES.map((each) => (
              <option key={each} value={each}>
                {t(`admin.roles.${each}`)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="button secondary">
          {t("admin.find")}
        </button>
      </form>
      {users.isPending && <Loading />}
      <Problem error={users.error} />
      {users.data?.items.length === 0 && <p>{t("admin.noUsers")}</p>}
      <ul className="console-list">
        {users.data?.items.map((user) => <UserRow key={user.id} user={user} />)}
      </ul>
    </section>
  );
}

function UserRow({ user }: { user: ConsoleUser }) {
  const { t, api } = useConsole();
  const queryClient = useQueryClient();
  const [role, setRole] = useState<Role>(user.role);
  const [organizer, setOrganizer] = useState(user.organizer_id ?? "");
  const [notice, setNotice] = useState<string | null>(null);
  const change = useMutation({
    mutationFn: () => api.changeRole(user.id, role, role === "staff" ? organizer.trim() : undefined),
    onSuccess: async (changed) => {
      setNotice(t("admin.changed", { name: changed.name, role: t(`admin.roles.${changed.role}`) }));
      await queryClient.invalidateQueries({ queryKey: ["admin-users"] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    change.mutate();
  };
  const roleId = `role-${user.id}`;
  const organizerId = `organizer-${user.id}`;
  return (
    <li>
      <strong>{user.name}</strong> <span className="muted">{user.email}</span> · {t(`admin.roles.${user.role}`)}
      <form className="console-actions" onSubmit={submit} aria-label={t("admin.changeRole", { name: user.name })}>
        <label htmlFor={roleId}>{t("admin.role")}</label>
        <select id={roleId} value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((each) => (
            <option key={each} value={each}>
              {t(`admin.roles.${each}`)}
            </option>
          ))}
        </select>
        {role === "staff" && (
          <>
            <label htmlFor={organizerId}>{t("admin.organizer")}</label>
            <input
              id={organizerId}
              value={organizer}
              onChange={(e) => setOrganizer(e.target.value)}
              aria-describedby={`${organizerId}-hint`}
              autoComplete="off"
              spellCheck={false}
            />
            <span id={`${organizerId}-hint`} className="hint">
              {t("admin.organizerHint")}
            </span>
          </>
        )}
        <button type="submit" className="button secondary" disabled={change.isPending}>
          {t("admin.apply")}
        </button>
      </form>
      {notice && (
        <p className="notice notice-success" role="status">
          {notice}
        </p>
      )}
      <Problem error={change.error} />
    </li>
  );
}

function Events() {
  const { t, api } = useConsole();
  const [q, setQ] = useState("");
  const [search, setSearch] = useState("");
  const events = useQuery({ queryKey: ["admin-events", search], queryFn: () => api.managedEvents({ q: search || undefined }) });
  return (
    <section aria-labelledby="admin-events">
      <h2 id="admin-events">{t("admin.events")}</h2>
      <form
        className="console-actions"
        role="search"
        aria-labelledby="admin-events"
        onSubmit={(event) => {
          event.preventDefault();
          setSearch(q.trim());
        }}
      >
        <label>
          {t("event.title")} <input type="search" value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
        <button type="submit" className="button secondary">
          {t("admin.find")}
        </button>
      </form>
      {events.isPending && <Loading />}
      <Problem error={events.error} />
      <ul className="console-list">
        {events.data?.items.map((event) => (
          <li key={event.event_id}>
            <StatusBadge status={event.status} /> <Link to={`/console/events/${event.event_id}`}>{event.title}</Link>{" "}
            <span className="muted">
              <VenueTime iso={event.starts_at} venueId={event.venue_id} /> · {event.city} · {t("admin.organizerId")}{" "}
              <code>{event.organizer_id.slice(0, 8)}</code>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
