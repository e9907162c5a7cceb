import { act, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { renderWithApp } from "../../test/render";
import { HoldTimer } from "./HoldTimer";

describe("the hold timer", () => {
  beforeEach(() => {
    vi.useFakeTimers({ shouldAdvanceTime: false });
    vi.setSystemTime(new Date("2030-01-01T12:00:00Z"));
  });
  afterEach(() => vi.useRealTimers());

  it("counts down to expires_at, warns at one minute, and says when it ran out", () => {
    const onExpired = vi.fn();
    renderWithApp(<HoldTimer expiresAt="2030-01-01T12:02:00Z" onExpired={onExpired} />);
    const timer = screen.getByRole("timer", { name: "Time left to complete your booking" });
    expect(timer).toHaveTextContent("Held for 2:00");
    expect(screen.getByRole("status")).toHaveTextContent("");
    act(() => vi.advanceTimersByTime(61_000));
    expect(timer).toHaveTextContent("Held for 0:59");
    expect(screen.getByRole("status")).toHaveTextContent("One minute left");
    expect(onExpired).not.toHaveBeenCalled();
    act(() => vi.advanceTimersByTime(60_000));
    expect(timer).toHaveTextContent("Held for 0:00");
    expect(onExpired).toHaveBeenCalledTimes(1);
    act(() => vi.advanceTimersByTime(5_000));
    expect(onExpired).toHaveBeenCalledTimes(1);
  });

  it("follows the server's expires_at, not when the page opened", () => {
    renderWithApp(<HoldTimer expiresAt="2030-01-01T11:59:00Z" onExpired={() => undefined} />);
    expect(screen.getByRole("timer")).toHaveTextContent("Held for 0:00");
  });
});
