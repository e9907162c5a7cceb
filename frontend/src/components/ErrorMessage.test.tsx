import { act, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import { renderWithApp } from "../test/render";
import { ErrorMessage } from "./ErrorMessage";
import { Loading } from "./Loading";
import { OfflineBanner } from "./OfflineBanner";

describe("error display", () => {
  it("shows a problem as a sentence, announced, with a retry", async () => {
    const retry = vi.fn();
    const error = new ApiError("problem", { status: 409, problem: { type: "https://ticketing-pro.com/problems/too-many-holds", limit: 3 } });
    renderWithApp(<ErrorMessage error={error} onRetry={retry} />);
    expect(screen.getByRole("alert")).toHaveTextContent(
      "You already have 3 holds on this event. Release one or let it expire before holding more.",
    );
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(retry).toHaveBeenCalledOnce();
  });

  it("speaks Korean when the reader does", () => {
    renderWithApp(<ErrorMessage error={new ApiError("timeout")} />, { language: "ko" });
    expect(screen.getByRole("alert")).toHaveTextContent("티케팅 서비스의 응답이 너무 늦습니다");
  });

  it("says when the connection is gone and when it is back", () => {
    renderWithApp(<OfflineBanner />);
    expect(screen.getByRole("status")).toHaveTextContent("");
    act(() => {
      vi.spyOn(navigator, "onLine", "get").mockReturnValue(false);
      window.dispatchEvent(new Event("offline"));
    });
    expect(screen.getByRole("status")).toHaveTextContent("You are offline.");
    act(() => window.dispatchEvent(new Event("online")));
    expect(screen.getByRole("status")).toHaveTextContent("");
  });

  it("says so when loading is slow", () => {
    vi.useFakeTimers();
    renderWithApp(<Loading />);
    expect(screen.getByRole("status")).toHaveTextContent("Loading…");
    act(() => vi.advanceTimersByTime(3100));
    expect(screen.getByRole("status")).toHaveTextContent("This is taking longer than usual.");
    vi.useRealTimers();
  });
});
