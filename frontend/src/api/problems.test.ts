import { describe, expect, it } from "vitest";
import { setupI18n } from "../i18n";
import { ApiError } from "./client";
import { describeError } from "./problems";

const en = setupI18n("en");
const ko = setupI18n("ko");
const problem = (status: number, body: Record<string, unknown>, retryAfterS: number | null = null) =>
  new ApiError("problem", { status, problem: { status, ...body }, retryAfterS });

describe("describeError", () => {
  it("names the seats someone else just took", () => {
    const error = problem(409, {
      type: "https://ticketing-pro.com/problems/seats-unavailable",
      unavailable: ["A-3-12", "A-3-13"],
    });
    expect(describeError(error, en.t, "en").message).toBe(
      "Sorry, A-3-12 and A-3-13 were just taken by someone else. The map is refreshed: please choose other seats.",
    );
    expect(describeError(error, ko.t, "ko").message).toContain("A-3-12 및 A-3-13");
  });

  it("says how many standing places are left", () => {
    const error = problem(409, { type: "https://ticketing-pro.com/problems/seats-unavailable", unavailable: ["FLOOR"], available: 2 });
    expect(describeError(error, en.t, "en").message).toContain("only 2 now");
  });

  it("turns a weak password's 422 into field messages in the reader's language", () => {
    const error = problem(422, {
      type: "https://ticketing-pro.com/problems/weak-password",
      errors: [{ loc: ["body", "password"], msg: "must be at least 8 characters", type: "weak_password" }],
    });
    const described = describeError(error, ko.t, "ko");
    expect(described.fields.password).toBe("8자 이상 입력해 주세요.");
    expect(described.message).toContain("올바르지 않은");
  });

  it("tells wrong credentials at sign-in from an ended session elsewhere", () => {
    const error = problem(401, { title: "Unauthorized" });
    expect(describeError(error, en.t, "en", "signIn").message).toMatch(/email or password is not right/);
    expect(describeError(error, en.t, "en").message).toMatch(/session has ended/);
  });

  it("says how long to wait when rate limited", () => {
    const error = problem(429, { type: "https://ticketing-pro.com/problems/rate-limited" }, 7);
    expect(describeError(error, en.t, "en").message).toBe("Too many attempts in a short time. Please wait 7 seconds and try again.");
  });

  it("has a sentence for the network, timeouts, and statuses it has never seen", () => {
    expect(describeError(new ApiError("offline"), en.t, "en").message).toMatch(/offline/);
    expect(describeError(new ApiError("network"), en.t, "en").message).toMatch(/could not reach/);
    expect(describeError(new ApiError("timeout"), en.t, "en").message).toMatch(/too long/);
    expect(describeError(problem(418, {}), en.t, "en").message).toBe("Something went wrong on our side. Please try again in a moment.");
    expect(describeError(problem(503, {}), en.t, "en").message).toMatch(/temporarily unavailable/);
    expect(describeError(new TypeError("boom"), en.t, "en").message).not.toMatch(/boom|TypeError|503/);
  });

  it("never shows a bare status code", () => {
    for (const status of [400, 401, 403, 404, 409, 413, 422, 429, 500, 502, 503, 504]) {
      const message = describeError(problem(status, {}), en.t, "en").message;
      expect(message).not.toMatch(/\d{3}/);
      expect(message.length).toBeGreaterThan(20);
    }
  });
});
