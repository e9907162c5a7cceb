import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import type { TokenPair } from "../api/types";
import { REFRESH_KEY, Session } from "./session";

const pair = (n: number, expiresIn = 900): TokenPair => ({
  access_token: `access-${n}`,
  refresh_token: `refresh-${n}`,
  token_type: "Bearer",
  expires_in: expiresIn,
});

describe("the session", () => {
  it("keeps the access token in memory only and rotates the refresh token once per refresh", async () => {
    let n = 1;
    const refresher = vi.fn(async (token: string) => {
      expect(token).toBe(`refresh-${n}`);
      n += 1;
      return pair(n);
    });
    const session = new Session(refresher, localStorage);
    session.start(pair(1, 10)); // expires within the early-renewal margin
    expect(localStorage.getItem(REFRESH_KEY)).toBe("refresh-1");
    expect(JSON.stringify(localStorage)).not.toContain("access-1");
    const [a, b] = await Promise.all([session.current(), session.current()]);
    expect(a).toBe("access-2");
    expect(b).toBe("access-2");
    expect(refresher).toHaveBeenCalledTimes(1); // two callers, one rotation
    expect(localStorage.getItem(REFRESH_KEY)).toBe("refresh-2");
    expect(await session.current()).toBe("access-2"); // still fresh: no refresh
  });

  it("a reload starts from the stored refresh token", async () => {
    localStorage.setItem(REFRESH_KEY, "refresh-7");
    const session = new Session(async () => pair(8), localStorage);
    expect(session.hasRefreshToken).toBe(true);
    expect(await session.current()).toBe("access-8");
  });

  it("a refused refresh (revoked, reused) signs out", async () => {
    localStorage.setItem(REFRESH_KEY, "refresh-1");
    const session = new Session(async () => {
      throw new ApiError("problem", { status: 401 });
    }, localStorage);
    const listener = vi.fn();
    session.subscribe(listener);
    expect(await session.current()).toBeNull();
    expect(session.hasRefreshToken).toBe(false);
    expect(listener).toHaveBeenCalled();
  });

  it("a network failure during refresh keeps the refresh token", async () => {
    localStorage.setItem(REFRESH_KEY, "refresh-1");
    const session = new Session(async () => {
      throw new ApiError("network");
    }, localStorage);
    await expect(session.current()).rejects.toThrow();
    expect(localStorage.getItem(REFRESH_KEY)).toBe("refresh-1");
  });

  it("after a 401, a token another call already renewed is reused rather than rotating again", async () => {
    const refresher = vi.fn(async () => pair(3));
    const session = new Session(refresher, localStorage);
    session.start(pair(2));
    expect(await session.renewed("access-1")).toBe("access-2");
    expect(refresher).not.toHaveBeenCalled();
    expect(await session.renewed("access-2")).toBe("access-3");
  });
});
