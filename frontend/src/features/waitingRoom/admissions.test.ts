import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiClient } from "../../api/client";
import { endpoints } from "../../api/endpoints";
import { createServices } from "../../app/services";
import { REFRESH_KEY } from "../../auth/session";
import { fakeGateway } from "../../test/fakeFetch";
import { jsonResponse } from "../../test/render";
import { Admissions } from "./admissions";

const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

/** A tab's own sessionStorage (jsdom has one for the whole test). */
function tabStorage(): Storage {
  const data = new Map<string, string>();
  return {
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    getItem: (key) => data.get(key) ?? null,
    key: (index) => [...data.keys()][index] ?? null,
    removeItem: (key) => void data.delete(key),
    setItem: (key, value) => void data.set(key, value),
  };
}

const channels: BroadcastChannel[] = [];
afterEach(() => {
  while (channels.length) channels.pop()!.close();
});

describe("admissions", () => {
  it("keeps one token per event while its shopping time lasts, across a reload of the tab", () => {
    let now = Date.now();
    const admissions = new Admissions(sessionStorage, null, () => now);
    admissions.admit("e1", { token: "t1", until: new Date(now + 60_000).toISOString() });
    expect(admissions.token("e1")).toBe("t1");
    expect(admissions.token("e2")).toBeNull();
    expect(new Admissions(sessionStorage, null, () => now).token("e1")).toBe("t1"); // a reload
    now += 60_001;
    expect(admissions.get("e1")).toBeNull(); // the shopping time is over
  });

  it("is forgotten when the customer signs out, here or in another tab", () => {
    localStorage.setItem(REFRESH_KEY, "r1");
    const { admissions, session } = createServices({ apiBaseUrl: "http://api.test", stripePublishableKey: null }, localStorage, null);
    admissions.admit("e1", { token: "t1", until: inMinutes(5) });
    session.end();
    expect(admissions.token("e1")).toBeNull();
    expect(Object.keys(sessionStorage).filter((key) => key.startsWith("ticketing.admission."))).toEqual([]);
  });

  it("reaches the other tabs, and a refused token is dropped there too unless they hold a newer one", async () => {
    const name = `test-admissions-${Math.random()}`;
    const open = () => {
      const opened = new BroadcastChannel(name);
      channels.push(opened);
      return opened;
    };
    const first = new Admissions(tabStorage(), open());
    const second = new Admissions(tabStorage(), open());
    const heard = vi.fn();
    second.subscribe(heard);
    first.admit("e1", { token: "t1", until: inMinutes(5) });
    await vi.waitFor(() => expect(second.token("e1")).toBe("t1"));
    expect(heard).toHaveBeenCalled();

    first.forget("e1");
    await vi.waitFor(() => expect(second.token("e1")).toBeNull());

    // A tab refused an old token after this one got a new one: the new one stays.
    second.admit("e1", { token: "t2", until: inMinutes(5) });
    await vi.waitFor(() => expect(first.token("e1")).toBe("t2"));
    open().postMessage({ eventId: "e1", admission: null, forgotten: "t1" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(second.token("e1")).toBe("t2");
    expect(first.token("e1")).toBe("t2");
  });
});

describe("the admission token on requests", () => {
  it("rides on holds and bookings of the admitted event only", async () => {
    localStorage.setItem(REFRESH_KEY, "r1");
    const calls = fakeGateway({
      "POST /api/v1/inventory/events/e1/holds": jsonResponse(201, {}),
      "POST /api/v1/inventory/events/e2/holds": jsonResponse(201, {}),
      "POST /api/v1/bookings": jsonResponse(201, {}),
      "GET /api/v1/inventory/events/e1/availability/bits": jsonResponse(200, {}),
    });
    const admissions = new Admissions(sessionStorage, null);
    const { session } = createServices({ apiBaseUrl: "http://api.test", stripePublishableKey: null }, localStorage, null);
    const client = new ApiClient("http://api.test");
    client.useTokens(session);
    const api = endpoints(client, admissions);
    admissions.admit("e1", { token: "token-for-e1", until: inMinutes(5) });

    await api.createHold("e1", { seat_ids: ["A-1-1"] }, "k1");
    await api.createHold("e2", { seat_ids: ["A-1-1"] }, "k2");
    await api.book({ hold_id: "h1", event_id: "e1" }, "k3");
    await api.book({ hold_id: "h2", event_id: "e2" }, "k4");
    await api.availabilityBits("e1");

    const header = (method: string, path: string, key: string) =>
      calls.find((c) => c.method === method && c.path === path && c.headers.get("Idempotency-Key") === key)!.headers.get("X-Admission-Token");
    expect(header("POST", "/api/v1/inventory/events/e1/holds", "k1")).toBe("token-for-e1");
    expect(header("POST", "/api/v1/inventory/events/e2/holds", "k2")).toBeNull();
    expect(header("POST", "/api/v1/bookings", "k3")).toBe("token-for-e1");
    expect(header("POST", "/api/v1/bookings", "k4")).toBeNull();
    const bits = calls.find((c) => c.path.endsWith("/availability/bits"))!;
    expect(bits.headers.get("X-Admission-Token")).toBeNull(); // public reads carry no token
    expect(bits.headers.get("Authorization")).toBeNull();

    admissions.forget("e1");
    await api.createHold("e1", { seat_ids: ["A-1-2"] }, "k5");
    expect(header("POST", "/api/v1/inventory/events/e1/holds", "k5")).toBeNull();
  });
});
