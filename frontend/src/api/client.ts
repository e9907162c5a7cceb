/** The one way the app talks to the gateway: JSON in and out, problem+json turned into an
 * ApiError, the access token attached (and refreshed once on a 401), a timeout on every call. */
import type { Problem } from "./types";

export type ApiErrorKind = "problem" | "network" | "offline" | "timeout" | "unexpected";

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status: number | null;
  readonly problem: Problem | null;
  readonly retryAfterS: number | null;

  constructor(
    kind: ApiErrorKind,
    options: { status?: number | null; problem?: Problem | null; retryAfterS?: number | null } = {},
  ) {
    super(options.problem?.detail ?? options.problem?.title ?? kind);
    this.name = "ApiError";
    this.kind = kind;
    this.status = options.status ?? null;
    this.problem = options.problem ?? null;
    this.retryAfterS = options.retryAfterS ?? null;
  }

  /** The last part of the problem's `type` (https://ticketing-pro.com/problems/seats-unavailable). */
  get slug(): string | null {
    const type = this.problem?.type;
    if (!type || type === "about:blank") return null;
    return type.slice(type.lastIndexOf("/") + 1) || null;
  }
}

/** Where the client gets a bearer token; `renewed` is asked after a 401 (null: signed out). */
export interface TokenSource {
  current(): Promise<string | null>;
  renewed(rejected: string): Promise<string | null>;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  method?: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  query?: Query;
  body?: unknown;
  /** "required": send the bearer token (a 401 then refreshes once); "none": anonymous, so public
   * reads stay cacheable at the edge. */
  auth?: "required" | "none";
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Outlives the page (a hold released as the tab closes). */
  keepalive?: boolean;
}

export const DEFAULT_TIMEOUT_MS = 15_000;

export class ApiClient {
  readonly baseUrl: string;
  private tokens: TokenSource | null = null;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  useTokens(tokens: TokenSource | null): void {
    this.tokens = tokens;
  }

  url(path: string, query?: Query): string {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.exchange<T>(path, options)).body;
  }

  /** The body and the answer's headers (a poll reads its Retry-After). */
  async exchange<T>(path: string, options: RequestOptions = {}): Promise<{ body: T; headers: Headers }> {
    const auth = options.auth ?? "none";
    let token: string | null = null;
    if (auth === "required") {
      token = (await this.tokens?.current()) ?? null;
      if (token === null) throw new ApiError("problem", { status: 401, problem: { status: 401, type: "unauthorized" } });
    }
    let response = await this.send(path, options, token);
    if (response.status === 401 && token !== null && this.tokens) {
      const renewed = await this.tokens.renewed(token);
      if (renewed !== null) response = await this.send(path, options, renewed);
    }
    return { body: await this.read<T>(response), headers: response.headers };
  }

  private async send(path: string, options: RequestOptions, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    try {
      return await fetch(this.url(path, options.query), {
        method: options.method ?? "GET",
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal,
        keepalive: options.keepalive,
        credentials: "omit", // bearer tokens only: no cookie ever rides along (no CSRF)
      });
    } catch (error) {
      if (options.signal?.aborted) throw error; // the caller gave up (navigation): not a failure
      if (timeout.aborted) throw new ApiError("timeout");
      throw new ApiError(typeof navigator !== "undefined" && !navigator.onLine ? "offline" : "network");
    }
  }

  private async read<T>(response: Response): Promise<T> {
    const type = response.headers.get("Content-Type") ?? "";
    const json = /json/.test(type);
    let body: unknown = undefined;
    if (response.status !== 204 && json) {
      try {
        body = await response.json();
      } catch {
        throw new ApiError("unexpected", { status: response.status });
      }
    }
    if (response.ok) return body as T;
    const problem: Problem =
      typeof body === "object" && body !== null ? (body as Problem) : { status: response.status };
    throw new ApiError("problem", {
      status: response.status,
      problem,
      retryAfterS: retryAfterSeconds(response.headers),
    });
  }
}

/** Retry-After in seconds (it may be a number of seconds or an HTTP date); null when absent. */
export function retryAfterSeconds(headers: Headers, now: number = Date.now()): number | null {
  const value = headers.get("Retry-After")?.trim();
  if (!value) return null;
  const seconds = /^\d+$/.test(value) ? Number(value) : Math.ceil((Date.parse(value) - now) / 1000);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : null;
}
