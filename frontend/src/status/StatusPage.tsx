/** The public status page: each component's state now (the gateway's /status) and its last 24
 * hours as a bar of hourly segments (/status/history, samples the platform records itself).
 * Colour is never the only signal: every state is also a word, and each segment names its hour
 * and state to screen readers and on hover. */
import { useQuery } from "@tanstack/react-query";
import { Page } from "../components/Page";
import { Loading } from "../components/Loading";
import { useConsole } from "../console/shared";
import type { ComponentState, StatusHistory, StatusReport } from "../console/api";
import "../console/console.css";

const REFRESH_MS = 30_000;

export function Component() {
  return <StatusBoard />;
}

/** Names the /status report's components as the history does (service, `service/check`). */
function currentStates(report: StatusReport): Map<string, ComponentState> {
  const states = new Map<string, ComponentState>([
    ["api-gateway", "operational"],
    ["api-gateway/redis", report.rate_limiter.redis === "ok" ? "operational" : "outage"],
  ]);
  for (const upstream of report.upstreams) {
    const name = upstream.service ?? upstream.routes[0]?.split("/").pop() ?? "unknown";
    states.set(name, upstream.status === "ready" ? "operational" : upstream.status === "not-ready" ? "degraded" : "outage");
    for (const [check, detail] of Object.entries(upstream.checks ?? {})) {
      states.set(`${name}/${check}`, detail.status === "ok" ? "operational" : "outage");
    }
  }
  return states;
}

export function StatusBoard({ embedded = false }: { embedded?: boolean }) {
  const { t, api, locale } = useConsole();
  const report = useQuery({ queryKey: ["status"], queryFn: api.status, refetchInterval: REFRESH_MS, retry: 1 });
  const history = useQuery({
    queryKey: ["status-history"],
    queryFn: () => api.statusHistory(60),
    refetchInterval: REFRESH_MS,
    retry: 1,
  });
  const states = report.data ? currentStates(report.data) : new Map<string, ComponentState>();
  const names = history.data?.components.map((component) => component.name) ?? [...states.keys()];
  const body = (
    <>
      {report.isPending && <Loading />}
      {report.error && (
        <div className="notice notice-error" role="alert">
          <p>{t("statusPage.unavailable")}</p>
        </div>
      )}
      {report.data && (
        <p className={`status-overall state-${report.data.status}`} role="status">
          {t(`statusPage.overall.${report.data.status}`)}{" "}
          <span className="muted">
            · {t("statusPage.checkedAt", { time: new Date(report.data.checked_at).toLocaleTimeString(locale) })}
          </span>
        </p>
      )}
      <section aria-labelledby="status-components">
        <h2 id="status-components">{t("statusPage.components")}</h2>
        <p className="muted">{t("statusPage.legend")}</p>
        {history.error && <p className="notice">{t("statusPage.historyUnavailable")}</p>}
        <ul className="console-list status-components">
          {names.map((name) => (
            <ComponentRow key={name} name={name} state={states.get(name)} history={history.data} />
          ))}
        </ul>
      </section>
    </>
  );
  return embedded ? body : <Page title={t("statusPage.title")}>{body}</Page>;
}

function label(name: string, t: (key: string, options?: Record<string, unknown>) => string): string {
  if (name === "api-gateway") return t("statusPage.gateway");
  const [service, check] = name.split("/");
  return check ? t("statusPage.store", { service, check }) : (service ?? name);
}

function ComponentRow({
  name,
  state,
  history,
}: {
  name: string;
  state: ComponentState | undefined;
  history: StatusHistory | undefined;
}) {
  const { t, locale } = useConsole();
  const component = history?.components.find((item) => item.name === name);
  const title = label(name, t);
  const hour = new Intl.DateTimeFormat(locale, { hour: "numeric", minute: "2-digit" });
  return (
    <li className={name.includes("/") ? "component component-store" : "component"}>
      <h3>
        {title}:{" "}
        <span className={state ? `state-${state}` : "muted"}>{t(`statusPage.state.${state ?? "no_data"}`)}</span>
      </h3>
      {component && (
        <>
          <ul className="bars" aria-label={t("statusPage.bar", { component: title })}>
            {component.buckets.map((bucket) => {
              const text = t("statusPage.bucket", {
                time: hour.format(new Date(bucket.start)),
                state: t(`statusPage.state.${bucket.status}`),
              });
              return (
                // A focusable segment, so keyboard users can read each hour as mouse users hover it.
                // eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex
                <li key={bucket.start} className={`bar-${bucket.status}`} title={text} tabIndex={0}>
                  <span className="visually-hidden">{text}</span>
                </li>
              );
            })}
          </ul>
          <p className="muted">
            {component.uptime === null
              ? t("statusPage.noUptime")
              : t("statusPage.uptime", {
                  percent: new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 2 }).format(
                    component.uptime,
                  ),
                })}
          </p>
        </>
      )}
    </li>
  );
}
