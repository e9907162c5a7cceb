/** A place in an event's waiting room, kept up to date: join once (the same account keeps its
 * place, from any tab), then poll as often as the room says (`Retry-After`, else the body's
 * `poll_after_seconds`), so the room's load stays what the room chose. Errors back off (or wait
 * for the Retry-After they carry) and never drop the place. Polling stops once the answer is
 * not "waiting". */
import { useCallback, useEffect, useState } from "react";
import { ApiError, retryAfterSeconds } from "../../api/client";
import type { RoomState } from "../../api/types";
import { useServices } from "../../app/services";

const MIN_DELAY_S = 1;
const MAX_DELAY_S = 600;
const FIRST_BACKOFF_S = 5;
const MAX_BACKOFF_S = 60;

export interface Room {
  room: RoomState | null;
  /** The last failure, until an answer comes (the page says we keep trying). */
  error: unknown;
  updatedAt: number;
  /** Leave and join again at the back of the queue (after the shopping time ended). */
  rejoin(): Promise<void>;
}

export function useRoom(eventId: string): Room {
  const { api, admissions } = useServices();
  const [room, setRoom] = useState<RoomState | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [updatedAt, setUpdatedAt] = useState(0);
  const [round, setRound] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let joined = false;
    let failures = 0;
    const poll = async () => {
      let delayS: number;
      try {
        const { body, headers } = joined
          ? await api.roomState(eventId, controller.signal)
          : await api.joinRoom(eventId, controller.signal);
        if (controller.signal.aborted) return;
        joined = true;
        failures = 0;
        // Kept while waiting (a reload, or a room that lost its state, gives the place back).
        admissions.keepReceipt(eventId, body.state === "waiting" ? (body.receipt ?? admissions.receipt(eventId)) : null);
        setRoom(body);
        setError(null);
        setUpdatedAt(Date.now());
        if (body.state !== "waiting") return;
        delayS = retryAfterSeconds(headers) ?? body.poll_after_seconds;
      } catch (caught) {
        if (controller.signal.aborted) return;
        if (caught instanceof ApiError && caught.slug === "not-in-queue" && joined) {
          joined = false; // the room no longer knows this account: join again (its rules say where)
          delayS = MIN_DELAY_S;
        } else if (caught instanceof ApiError && caught.status === 401) {
          setError(caught); // signed out meanwhile: the page asks to sign in
          return;
        } else {
          failures += 1;
          setError(caught);
          delayS =
            (caught instanceof ApiError ? caught.retryAfterS : null) ??
            Math.min(FIRST_BACKOFF_S * 2 ** (failures - 1), MAX_BACKOFF_S);
        }
      }
      timer = setTimeout(() => void poll(), Math.min(Math.max(delayS, MIN_DELAY_S), MAX_DELAY_S) * 1000);
    };
    void poll();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [api, admissions, eventId, round]);

  const rejoin = useCallback(async () => {
    await api.leaveRoom(eventId).catch(() => undefined); // gone already is fine
    admissions.keepReceipt(eventId, null);
    setRoom(null);
    setRound((value) => value + 1);
  }, [api, admissions, eventId]);

  return { room, error, updatedAt, rejoin };
}
