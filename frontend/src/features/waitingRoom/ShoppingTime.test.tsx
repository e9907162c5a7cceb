import { act, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { renderWithApp } from "../../test/render";
import { ShoppingTime } from "./ShoppingTime";

describe("the shopping time", () => {
  beforeEach(() => {
    vi.useFakeTimers({ shouldAdvanceTime: false });
    vi.setSystemTime(new Date("2030-01-01T12:00:00Z"));
  });
  afterEach(() => vi.useRealTimers());

  it("says how long is left to shop, warns at one minute, and ends once", () => {
    const onEnded = vi.fn();
    renderWithApp(<ShoppingTime until="2030-01-01T12:09:32Z" onEnded={onEnded} />);
    const timer = screen.getByRole("timer", { name: "Time left to shop" });
    expect(timer).toHaveTextContent("You have 9:32 left to shop");
    act(() => vi.advanceTimersByTime(8 * 60_000 + 33_000));
    expect(timer).toHaveTextContent("You have 0:59 left to shop");
    expect(screen.getByRole("status")).toHaveTextContent("One minute left to shop. Complete your booking now.");
    expect(onEnded).not.toHaveBeenCalled();
    act(() => vi.advanceTimersByTime(60_000));
    expect(timer).toHaveTextContent("You have 0:00 left to shop");
    expect(onEnded).toHaveBeenCalledTimes(1);
    act(() => vi.advanceTimersByTime(5_000));
    expect(onEnded).toHaveBeenCalledTimes(1);
  });

  it("in Korean", () => {
    renderWithApp(<ShoppingTime until="2030-01-01T12:05:00Z" onEnded={() => undefined} />, { language: "ko" });
    expect(screen.getByRole("timer", { name: "남은 예매 가능 시간" })).toHaveTextContent("예매 가능 시간이 5:00 남았습니다");
  });
});
