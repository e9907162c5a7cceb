/** What the browser tests share: accessibility checks (axe-core, WCAG 2.2 A/AA), screenshots for
 * the README (desktop and phone, with SCREENSHOTS=1), and API helpers for what a test sets up around the browser. */
import AxeBuilder from "@axe-core/playwright";
import { expect, type APIRequestContext, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { API_URL } from "../playwright.config";

export const SCREENSHOTS = new URL("../docs/screenshots/", import.meta.url).pathname;
const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"];

export async function expectAccessible(page: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  const summary = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("\n    ")}`,
  );
  expect(summary, `axe found WCAG 2.2 A/AA violations on ${what}`).toEqual([]);
}

/** A screenshot at the current size and one at a phone's width, for frontend/README.md — only
 * when asked (`SCREENSHOTS=1 npx playwright test`): the PNGs are tracked, and a run that merely
 * tests must leave the tree clean. */
export async function screenshots(page: Page, name: string): Promise<void> {
  if (process.env.SCREENSHOTS !== "1") return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  const size = page.viewportSize();
  await page.evaluate(() => window.getSelection()?.removeAllRanges()); // a double click selects text
  await page.screenshot({ path: `${SCREENSHOTS}${name}-desktop.png` });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(150);
  await page.screenshot({ path: `${SCREENSHOTS}${name}-phone.png` });
  if (size) await page.setViewportSize(size);
}

export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

export const PASSWORD = "Tickets-e2e-2026!";

export async function apiToken(request: APIRequestContext, email: string, password: string): Promise<string> {
  const response = await request.post(`${API_URL}/api/v1/auth/login`, { data: { email, password } });
  expect(response.status(), await response.text()).toBe(200);
  return (await response.json()).access_token as string;
}

export async function apiCustomer(request: APIRequestContext, name: string): Promise<string> {
  const email = uniqueEmail(name);
  const created = await request.post(`${API_URL}/api/v1/auth/register`, { data: { email, password: PASSWORD, name } });
  expect(created.status(), await created.text()).toBe(201);
  return apiToken(request, email, PASSWORD);
}

export const ORGANIZER = { email: "organizer@ticketing.dev", password: "Organizer-demo-2026" };
export const CUSTOMER = { email: "customer@ticketing.dev", password: "Customer-demo-2026" };

/** A published event in a venue of the given seated sections (rows x seats), made by the demo
 * organizer through the API. */
export async function publishedEvent(
  request: APIRequestContext,
  title: string,
  sections: { id: string; rows: number; seats: number }[],
): Promise<string> {
  const token = await apiToken(request, ORGANIZER.email, ORGANIZER.password);
  const headers = { Authorization: `Bearer ${token}` };
  const venue = await request.post(`${API_URL}/api/v1/venues`, {
    headers,
    data: {
      name: `${title} Hall`,
      city: "Seoul",
      country: "KR",
      address: "1 Test-ro, Jung-gu",
      timezone: "Asia/Seoul",
      sections: sections.map((s) => ({
        section_id: s.id,
        name: `Section ${s.id}`,
        kind: "seated",
        rows: Array.from({ length: s.rows }, (_, r) => ({ label: String(r + 1), seats: s.seats })),
      })),
    },
  });
  expect(venue.status(), await venue.text()).toBe(201);
  const venueId = (await venue.json()).venue_id as string;
  const startsAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const event = await request.post(`${API_URL}/api/v1/events`, {
    headers,
    data: {
      venue_id: venueId,
      title,
      description: "Made by the browser tests.",
      category: "concert",
      starts_at: startsAt,
      price_tiers: [{ tier: "standard", price_cents: 55000, currency: "KRW" }],
      section_tiers: Object.fromEntries(sections.map((s) => [s.id, "standard"])),
    },
  });
  expect(event.status(), await event.text()).toBe(201);
  const eventId = (await event.json()).event_id as string;
  const published = await request.post(`${API_URL}/api/v1/events/${eventId}/publish`, { headers });
  expect(published.status(), await published.text()).toBe(200);
  return eventId;
}

/** The demo event of this title (from search, as a customer finds it). */
export async function demoEventId(request: APIRequestContext, title: string): Promise<string> {
  const response = await request.get(`${API_URL}/api/v1/search/events`, { params: { q: title } });
  const hit = (await response.json()).items.find((item: { title: string }) => item.title === title);
  expect(hit, `demo event ${title}`).toBeTruthy();
  return hit.event_id as string;
}

/** Two adjacent seats that are free now, in a random row of the section (tests running again, or
 * alongside others, do not collide). */
export async function adjacentFreeSeats(request: APIRequestContext, eventId: string, section: string): Promise<[string, string]> {
  const response = await request.get(`${API_URL}/api/v1/inventory/events/${eventId}/availability`, { params: { seats: "true" } });
  const seats = (await response.json()).seats as Record<string, string>;
  const free = new Set(Object.keys(seats).filter((id) => id.startsWith(`${section}-`) && seats[id] === "available"));
  const pairs = [...free].filter((id) => {
    const [s, row, n] = id.split("-");
    return free.has(`${s}-${row}-${Number(n) + 1}`);
  });
  expect(pairs.length).toBeGreaterThan(0);
  const first = pairs[Math.floor(Math.random() * pairs.length)]!;
  const [s, row, n] = first.split("-");
  return [first, `${s}-${row}-${Number(n) + 1}`];
}
