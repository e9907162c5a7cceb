/** Live availability, cheaply: the per-section counts every few seconds (a few hundred bytes),
 * and every seat's status only when the counts of the sections on screen have changed since the
 * statuses were read (or when asked, after a 409). */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef } from "react";
import type { SectionAvailability } from "../../api/types";
import { useApi } from "../../app/services";

export const POLL_MS = 4000;

export function useLiveAvailability(eventId: string, visibleSections: string[] | null, enabled: boolean) {
  const api = useApi();
  const queryClient = useQueryClient();
  const counts = useQuery({
    queryKey: ["availability", eventId],
    queryFn: ({ signal }) => api.availability(eventId, false, signal),
    refetchInterval: POLL_MS,
    staleTime: 0,
    enabled,
  });
  const wantSeats = enabled && visibleSections !== null && visibleSections.length > 0;
  const seats = useQuery({
    queryKey: ["seats", eventId],
    queryFn: ({ signal }) => api.availability(eventId, true, signal),
    enabled: wantSeats,
    staleTime: Infinity, // refreshed below, when the counts say something moved
  });

  const byId = useMemo(
    () => new Map<string, SectionAvailability>((counts.data ?? seats.data)?.sections.map((s) => [s.section_id, s]) ?? []),
    [counts.data, seats.data],
  );

  const signature = (sections: SectionAvailability[] | undefined) =>
    (sections ?? [])
      .filter((s) => visibleSections?.includes(s.section_id))
      .map((s) => `${s.section_id}:${s.held}:${s.sold}`)
      .join("|");
  const seen = useRef<string | null>(null);
  const now = signature(counts.data?.sections);
  const read = signature(seats.data?.sections);
  useEffect(() => {
    if (!wantSeats || !counts.data || !seats.data || seats.isFetching) return;
    if (now !== read && seen.current !== now) {
      seen.current = now;
      void seats.refetch();
    }
  }, [now, read, wantSeats, counts.data, seats]);

  const refresh = useCallback(async () => {
    await Promise.all([
      queryClient.refetchQueries({ queryKey: ["availability", eventId] }),
      wantSeats ? queryClient.refetchQueries({ queryKey: ["seats", eventId] }) : Promise.resolve(),
    ]);
  }, [queryClient, eventId, wantSeats]);

  return {
    counts: byId,
    statuses: seats.data?.seats,
    closed: (counts.data ?? seats.data)?.status === "closed",
    updatedAt: counts.dataUpdatedAt || seats.dataUpdatedAt,
    error: counts.error ?? seats.error,
    refresh,
  };
}
