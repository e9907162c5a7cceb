import { describe, expect, it } from "vitest";
import { en } from "./en";
import { formatCountdown, formatMoney, minorDigits } from "./format";
import { ko } from "./ko";

function keys(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null) return [prefix];
  return Object.entries(value).flatMap(([key, inner]) => keys(inner, prefix ? `${prefix}.${key}` : key));
}

describe("messages", () => {
  it("Korean has every English message and no other", () => {
    expect(keys(ko).sort()).toEqual(keys(en).sort());
  });
});

describe("formatting", () => {
  it("formats minor units by the currency's own digits and the locale", () => {
    expect(minorDigits("EUR")).toBe(2);
    expect(minorDigits("KRW")).toBe(0);
    expect(formatMoney(4500, "EUR", "en")).toBe("€45");
    expect(formatMoney(4550, "EUR", "en")).toBe("€45.50");
    expect(formatMoney(55000, "KRW", "ko")).toBe("₩55,000");
    expect(formatMoney(6500, "GBP", "ko")).toBe("£65");
  });

  it("counts down in minutes and seconds, never below zero", () => {
    expect(formatCountdown(600_000)).toBe("10:00");
    expect(formatCountdown(59_001)).toBe("1:00");
    expect(formatCountdown(5_000)).toBe("0:05");
    expect(formatCountdown(-3)).toBe("0:00");
  });
});
