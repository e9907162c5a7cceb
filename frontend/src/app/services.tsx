/** What every page may use: the runtime config, the typed API, the session. Created once in
 * main.tsx (or by a test with a fake fetch), handed down through one context. */
import { createContext, useContext, type ReactNode } from "react";
import { ApiClient } from "../api/client";
import { endpoints, type Api } from "../api/endpoints";
import { Session } from "../auth/session";
import type { RuntimeConfig } from "../config";

export interface Services {
  config: RuntimeConfig;
  api: Api;
  session: Session;
}

export function createServices(config: RuntimeConfig, storage: Storage = localStorage): Services {
  const client = new ApiClient(config.apiBaseUrl);
  const api = endpoints(client);
  const session = new Session((token) => api.refresh(token), storage);
  client.useTokens(session);
  return { config, api, session };
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
