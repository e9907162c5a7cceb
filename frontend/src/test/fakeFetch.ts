/** A fake gateway for unit tests: answers "METHOD /path" from a table (a function may look at
 * the request), records every call, and signs the customer in (refresh + me) unless told not to. */
import { vi } from "vitest";
import type { RoomState } from "../api/types";
import { REFRESH_KEY } from "../auth/session";
import { jsonResponse } from "./render";

export interface Call {
  method: string;
  path: string;
  headers: Headers;
  body: unknown;
  at: number;
}

type Answer = Response | ((call: Call) => Response | Promise<Response>);

export function fakeGateway(
  routes: Record<string, Answer>,
  { role = "customer", signedIn = true }: { role?: string; signedIn?: boolean } = {},
): Call[] {
  if (signedIn) localStorage.setItem(REFRESH_KEY, "r1");
  const calls: Call[] = [];
  const table: Record<string, Answer> = {
    "POST /api/v1/auth/refresh": () =>
      jsonResponse(200, { access_token: "a", refresh_token: "r2", token_type: "Bearer", expires_in: 900 }),
    "GET /api/v1/auth/me": () =>
      jsonResponse(200, { id: "u1", email: "c@example.com", name: "C", role, created_at: "" }),
    ...routes,
  };
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = new URL(String(input));
    const call: Call = {
      method: init?.method ?? "GET",
      path: url.pathname,
      headers: new Headers(init?.headers),
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
      at: Date.now(),
    };
    calls.push(call);
    const answer = table[`${call.method} ${call.path}`];
    if (!answer) return jsonResponse(404, { status: 404, title: "Not Found" });
    return typeof answer === "function" ? answer(call) : answer.clone();
  });
  return calls;
}

/** A waiting room's answer: number 12 of those waiting, unless told otherwise. */
export function roomState(fields: Partial<RoomState>): RoomState {
  return {
    event_id: "e1", state: "waiting", opens_at: "2020-01-01T00:00:00Z", position: 12, people_ahead: 11,
    estimated_wait_seconds: 150, admission_token: null, admitted_until: null, poll_after_seconds: 5, ...fields,
  };
}
