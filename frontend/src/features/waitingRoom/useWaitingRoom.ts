/** What the event and checkout pages need of the waiting room: whether it is on for the event
 * (its public settings), this tab's admission to it, and the way back to the queue when the
 * shopping time ends or the gateway refuses the token. The waiting page itself loads lazily. */
import { useQuery } from "@tanstack/react-query";
import { useCallback, useSyncExternalStore } from "react";
import { useNavigate } from "react-router";
import { ApiError } from "../../api/client";
import { useApi, useServices } from "../../app/services";
import type { Admission } from "./admissions";

export const waitingRoomPath = (eventId: string) => `/events/${encodeURIComponent(eventId)}/waiting-room`;

/** Why the customer is back in the queue: said on the waiting page in a sentence. */
export type QueueNotice = "timeUp" | "required" | "released";

/** The gateway's answer to a hold or booking without a valid admission token. */
export function isWaitingRoomRequired(error: unknown): boolean {
  return error instanceof ApiError && error.status === 403 && error.slug === "waiting-room-required";
}

/** Whether the event sells through a waiting room. Unknown (still loading) is `undefined`; a
 * failed read counts as off: the gateway enforces the room anyway, and its 403 leads to the queue. */
export function useWaitingRoomOn(eventId: string): boolean | undefined {
  const api = useApi();
  const settings = useQuery({
    queryKey: ["waiting-room", eventId],
    queryFn: ({ signal }) => api.waitingRoom(eventId, signal),
    staleTime: 30_000,
  });
  if (settings.isPending) return undefined;
  return settings.data?.enabled === true;
}

/** This tab's admission to the event's room, while its shopping time lasts. */
export function useAdmission(eventId: string): Admission | null {
  const { admissions } = useServices();
  const subscribe = useCallback((listener: () => void) => admissions.subscribe(listener), [admissions]);
  return useSyncExternalStore(subscribe, () => admissions.get(eventId));
}

/** Forget the admission and go back to the queue, saying why (the event page's own redirect,
 * which the forgetting sets off, says the same). */
export function useBackToQueue(eventId: string): (notice: QueueNotice) => void {
  const { admissions } = useServices();
  const navigate = useNavigate();
  return useCallback(
    (notice: QueueNotice) => {
      admissions.forget(eventId, notice);
      navigate(waitingRoomPath(eventId), { state: { notice } });
    },
    [admissions, eventId, navigate],
  );
}

/** Where a customer not (or no longer) admitted goes: the queue, told why when they were let in
 * before. */
export function useQueueRedirect(eventId: string): { to: string; state: { notice?: QueueNotice } } {
  const { admissions } = useServices();
  return { to: waitingRoomPath(eventId), state: { notice: admissions.endedBecause(eventId) as QueueNotice | undefined } };
}
