/** The customer's current hold, across the event page and checkout. It survives a reload
 * (sessionStorage) and is released when the customer leaves both pages for anywhere else in
 * the app or signs out; a closed tab leaves it to expire at `expires_at` (a reload cannot be told
 * from a close, and a reload must keep the seats). */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { useLocation } from "react-router";
import type { HoldRequest } from "../../api/endpoints";
import type { Hold } from "../../api/types";
import { useServices } from "../../app/services";
import { useAuth } from "../../auth/AuthProvider";

const STORAGE_KEY = "ticketing.hold";

export interface HoldState {
  hold: Hold | null;
  create(eventId: string, request: HoldRequest): Promise<Hold>;
  release(): Promise<void>;
  /** The hold became a booking: forget it without releasing it. */
  consumed(): void;
  expired(): void;
}

const HoldContext = createContext<HoldState | null>(null);

function stored(): Hold | null {
  try {
    const hold = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "null") as Hold | null;
    return hold && Date.parse(hold.expires_at) > Date.now() ? hold : null;
  } catch {
    return null;
  }
}

/** The pages a hold belongs to: its event's page and its checkout. */
export function holdPages(hold: Hold): string[] {
  return [`/events/${hold.event_id}`, `/checkout/${hold.hold_id}`];
}

export function HoldProvider({ children }: { children: ReactNode }) {
  const { api, admissions } = useServices();
  const { status } = useAuth();
  const location = useLocation();
  const [hold, setHold] = useState<Hold | null>(stored);
  // The hold as of now, for callbacks that run after awaits (state would be a stale copy).
  const current = useRef(hold);

  const remember = useCallback((next: Hold | null) => {
    current.current = next;
    if (next) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(next));
    else sessionStorage.removeItem(STORAGE_KEY);
    setHold(next);
  }, []);

  const release = useCallback(async () => {
    const held = current.current;
    if (!held) return;
    remember(null);
    // Already gone (expired, booked) is fine: the seats are not ours either way.
    await api.releaseHold(held.hold_id).catch(() => undefined);
    // A waiting room counts a released hold as the shopper leaving: their turn is over.
    admissions.forget(held.event_id, "released");
  }, [api, admissions, remember]);

  const create = useCallback(
    async (eventId: string, request: HoldRequest) => {
      if (current.current) await release(); // one hold at a time: the new choice replaces it
      const created = await api.createHold(eventId, request, crypto.randomUUID());
      remember(created);
      return created;
    },
    [api, release, remember],
  );

  useEffect(() => {
    if (hold && !holdPages(hold).includes(location.pathname)) void release();
  }, [location.pathname, hold, release]);

  useEffect(() => {
    if (status === "signedOut" && current.current) remember(null);
  }, [status, remember]);

  const value = useMemo<HoldState>(
    () => ({ hold, create, release, consumed: () => remember(null), expired: () => remember(null) }),
    [hold, create, release, remember],
  );
  return <HoldContext.Provider value={value}>{children}</HoldContext.Provider>;
}

export function useHold(): HoldState {
  const state = useContext(HoldContext);
  if (!state) throw new Error("useHold outside HoldProvider");
  return state;
}
