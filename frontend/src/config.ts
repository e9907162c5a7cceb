/** The runtime settings: one build serves every environment, each with its own /config.json
 * (written by `make deploy`, by the `web` container at start, or public/config.json in dev). */
export interface RuntimeConfig {
  /** The gateway's origin, e.g. https://api.ticketing-pro.com (no trailing slash). */
  apiBaseUrl: string;
  /** Stripe's publishable key; null: payments go through the local simulator. */
  stripePublishableKey: string | null;
}

export class ConfigError extends Error {}

export function parseConfig(raw: unknown): RuntimeConfig {
  if (typeof raw !== "object" || raw === null) throw new ConfigError("config.json is not an object");
  const { apiBaseUrl, stripePublishableKey } = raw as Record<string, unknown>;
  if (typeof apiBaseUrl !== "string" || !/^https?:\/\/[^/]+/.test(apiBaseUrl)) {
    throw new ConfigError("config.json needs apiBaseUrl, an http(s) origin");
  }
  if (stripePublishableKey != null && typeof stripePublishableKey !== "string") {
    throw new ConfigError("config.json's stripePublishableKey must be a string or null");
  }
  return {
    apiBaseUrl: apiBaseUrl.replace(/\/+$/, ""),
    stripePublishableKey: stripePublishableKey || null,
  };
}

export async function loadConfig(): Promise<RuntimeConfig> {
  // Same request as index.html's preload, so the browser reuses that response.
  const response = await fetch("/config.json", { credentials: "same-origin" });
  if (!response.ok) throw new ConfigError(`config.json answered ${response.status}`);
  return parseConfig(await response.json());
}
