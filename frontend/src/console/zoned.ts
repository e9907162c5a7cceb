/** Wall-clock times in a venue's time zone ↔ UTC instants (an organizer types the local time of
 * the venue, wherever they are). */
function offsetMs(utcMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  return Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second")) - utcMs;
}

/** "2026-12-24T19:30" in `timeZone` → an RFC 3339 UTC instant. */
export function zonedToUtc(local: string, timeZone: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local);
  if (!match) throw new Error(`not a local date-time: ${local}`);
  const [, y, m, d, hh, mm] = match.map(Number) as [number, number, number, number, number, number];
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  let guess = wall - offsetMs(wall, timeZone);
  guess = wall - offsetMs(guess, timeZone); // once more across a DST change
  return new Date(guess).toISOString();
}

/** An instant → "YYYY-MM-DDTHH:mm" on the wall clocks of `timeZone` (for datetime-local). */
export function utcToZoned(iso: string, timeZone: string): string {
  const at = Date.parse(iso);
  const local = new Date(at + offsetMs(at, timeZone));
  return local.toISOString().slice(0, 16);
}
