import { describe, expect, it } from "vitest";
import { en, ko } from "./messages";
import { utcToZoned, zonedToUtc } from "./zoned";

function keys(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null) return [prefix];
  return Object.entries(value).flatMap(([key, inner]) => keys(inner, prefix ? `${prefix}.${key}` : key));
}

describe("the console's messages", () => {
  it("Korean has every English message and no other", () => {
    expect(keys(ko).sort()).toEqual(keys(en).sort());
  });
});

describe("venue-local times", () => {
  it("reads a wall-clock time in the venue's zone, both ways, across DST", () => {
    expect(zonedToUtc("2026-12-24T19:30", "Asia/Seoul")).toBe("2026-12-24T10:30:00.000Z");
    expect(zonedToUtc("2026-07-01T20:00", "Europe/London")).toBe("2026-07-01T19:00:00.000Z");
    expect(zonedToUtc("2026-01-01T20:00", "Europe/London")).toBe("2026-01-01T20:00:00.000Z");
    expect(utcToZoned("2026-12-24T10:30:00Z", "Asia/Seoul")).toBe("2026-12-24T19:30");
    expect(utcToZoned(zonedToUtc("2026-03-29T12:00", "Europe/Berlin"), "Europe/Berlin")).toBe("2026-03-29T12:00");
  });
});
