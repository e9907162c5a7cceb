/** What every page may use: the runtime config, the typed API, the session. Created once in
 * main.tsx (or by a test with a fake fetch), handed down through one context. */
import { createContext, useContext, type ReactNode } from "react";
import { ApiClient } from "../api/client";
import { endpoints, type Api } from "../api/endpoints";
import { Session } from "../auth/session";
import type { RuntimeConfig } from "../config";
import { ADMISSION_CHANNEL, Admissions } from "../features/waitingRoom/admissions";

export interface Services {
  config: RuntimeConfig;
  api: Api;
  session: Session;
  admissions: Admissions;
}

/** `tabs` carries admissions to the app's other tabs (null: this tab keeps them to itself). */
export function createServices(
  config: RuntimeConfig,
  storage: Storage = localStorage,
  tabs: BroadcastChannel | null = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel(ADMISSION_CHANNEL),
): Services {
  const client = new ApiClient(config.apiBaseUrl);
  const admissions = new Admissions(sessionStorage, tabs);
  const api = endpoints(client, admissions);
  const session = new Session((token) => api.refresh(token), storage);
  client.useTokens(session);
  session.subscribe(() => {
    if (!session.hasRefreshToken) admissions.clear();
  });
  return { config, api, session, admissions };
}

const ServicesContext = createContext<Services | null>(null);

export function ServicesProvider({ services, children }: { services: Services; children: ReactNode }) {
  return <ServicesContext.Provider value={services}>{children}</ServicesContext.Provider>;
}

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error("useServices outside ServicesProvider");
  return services;
}

export const useApi = (): Api => useServices().api;
