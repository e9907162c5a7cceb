/** Live availability, cheaply: inventory's bitmaps (two bits per seat, a few kB even for a
 * stadium; never cached) every few seconds, laid over the immutable layout. */
import { useQuery } from "@tanstack/react-query";
import { useCallback, useMemo } from "react";
import type { SectionAvailability } from "../../api/types";
import { useApi } from "../../app/services";
import { decodeBits } from "./layout";

export const POLL_MS = 4000;

export function useLiveAvailability(eventId: string, seatOfBit: readonly string[] | null) {
  const api = useApi();
  const bits = useQuery({
    queryKey: ["availability-bits", eventId],
    queryFn: ({ signal }) => api.availabilityBits(eventId, signal),
    // An event with no seats in inventory (a draft) answers 404: asking again will not help.
    refetchInterval: (query) => ((query.state.error as { status?: number } | null)?.status === 404 ? false : POLL_MS),
    staleTime: 0,
    retry: 1,
  });
  const counts = useMemo(
    () => new Map<string, SectionAvailability>(bits.data?.sections.map((s) => [s.section_id, s]) ?? []),
    [bits.data],
  );
  const statuses = useMemo(
    () => (bits.data && seatOfBit ? decodeBits(bits.data, seatOfBit) : undefined),
    [bits.data, seatOfBit],
  );
  const { refetch } = bits;
  const refresh = useCallback(async () => {
    await refetch();
  }, [refetch]);
  return {
    counts,
    statuses,
    closed: bits.data?.status === "closed",
    updatedAt: bits.dataUpdatedAt,
    error: bits.error,
    refresh,
  };
}
