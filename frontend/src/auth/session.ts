/** The signed-in session: the access token lives in memory only; the refresh token in
 * localStorage, so a reload or a second tab stays signed in (README, "Where tokens live").
 *
 * Refresh tokens rotate and reusing a rotated one revokes the whole family, so two tabs must
 * never refresh with the same token: a refresh runs under a Web Lock shared by every tab, and
 * reads the stored token only once it holds the lock (another tab may just have rotated it). */
import type { TokenSource } from "../api/client";
import type { TokenPair } from "../api/types";

export const REFRESH_KEY = "ticketing.refresh-token";
const LOCK = "ticketing.refresh";
const EARLY_MS = 30_000; // renew this long before the access token expires

type Refresher = (refreshToken: string) => Promise<TokenPair>;

export class Session implements TokenSource {
  private access: { token: string; expiresAt: number } | null = null;
  private inFlight: Promise<string | null> | null = null;
  private listeners = new Set<() => void>();
  private readonly storage: Storage;
  private readonly refresher: Refresher;
  private readonly now: () => number;

  constructor(refresher: Refresher, storage: Storage = localStorage, now: () => number = Date.now) {
    this.refresher = refresher;
    this.storage = storage;
    this.now = now;
  }

  /** Another tab signed out (or in): follow it. */
  watchOtherTabs(): () => void {
    const onStorage = (event: StorageEvent) => {
      if (event.key !== REFRESH_KEY) return;
      if (event.newValue === null) this.access = null;
      this.notify();
    };
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get hasRefreshToken(): boolean {
    return this.storage.getItem(REFRESH_KEY) !== null;
  }

  get refreshToken(): string | null {
    return this.storage.getItem(REFRESH_KEY);
  }

  start(pair: TokenPair): void {
    this.accept(pair);
    this.notify();
  }

  end(): void {
    this.access = null;
    this.storage.removeItem(REFRESH_KEY);
    this.notify();
  }

  async current(): Promise<string | null> {
    if (this.access && this.access.expiresAt - EARLY_MS > this.now()) return this.access.token;
    return this.refresh();
  }

  async renewed(rejected: string): Promise<string | null> {
    if (this.access && this.access.token !== rejected) return this.access.token;
    this.access = null;
    return this.refresh();
  }

  /** One refresh at a time in this tab, and across tabs through the lock. */
  refresh(): Promise<string | null> {
    this.inFlight ??= this.withLock(() => this.rotate()).finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async rotate(): Promise<string | null> {
    const stored = this.storage.getItem(REFRESH_KEY);
    if (stored === null) {
      this.access = null;
      return null;
    }
    try {
      const pair = await this.refresher(stored);
      this.accept(pair);
      return pair.access_token;
    } catch (error) {
      // 401: revoked, expired or reused. Only forget the token if nobody replaced it meanwhile.
      if (isUnauthorized(error) && this.storage.getItem(REFRESH_KEY) === stored) this.end();
      else if (!isUnauthorized(error)) throw error;
      return null;
    }
  }

  private accept(pair: TokenPair): void {
    this.access = { token: pair.access_token, expiresAt: this.now() + pair.expires_in * 1000 };
    this.storage.setItem(REFRESH_KEY, pair.refresh_token);
  }

  private withLock<T>(work: () => Promise<T>): Promise<T> {
    const locks = globalThis.navigator?.locks;
    return locks ? (locks.request(LOCK, work) as Promise<T>) : work();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}

function isUnauthorized(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { status?: unknown }).status === 401;
}
