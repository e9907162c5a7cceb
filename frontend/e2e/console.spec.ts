/** The organizer console, the door, the admin page and the status page, in Chromium against
 * `make dev`: an organizer builds a venue and an event, publishes it, watches a sale arrive,
 * exports the bookings and refunds one; the door scans a ticket with the camera (valid, then
 * already used), refuses a refunded one after syncing, and keeps scanning with the network cut. */
import { expect, test } from "@playwright/test";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { API_URL, WEB_URL } from "../playwright.config";
import { browserWithCamera, buy, GUEST, organizerToken, qrVideo, signIn } from "./console-fixtures";
import { apiToken, expectAccessible, ORGANIZER, PASSWORD, publishedEvent, screenshots, uniqueEmail } from "./fixtures";

test("an organizer creates a venue and an event, sees a sale arrive, exports it and refunds it", async ({ page, request }) => {
  test.setTimeout(180_000);
  const stamp = Date.now();
  await signIn(page, ORGANIZER.email, ORGANIZER.password);
  await page.getByRole("link", { name: "Organizer console" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Organizer console" })).toBeVisible();
  await expectAccessible(page, "the console's home");

  // A venue: the API's validation error lands on the field it concerns.
  await page.getByRole("link", { name: "Add a venue" }).click();
  await page.getByRole("textbox", { name: "Venue name" }).fill(`E2E Hall ${stamp}`);
  await page.getByRole("textbox", { name: "City" }).fill("Seoul");
  await page.getByRole("textbox", { name: "Country" }).fill("KR");
  await page.getByRole("textbox", { name: "Address" }).fill("1 Sejong-daero");
  await page.getByRole("textbox", { name: "Time zone" }).fill("Asia/Seoul");
  const seats = page.getByRole("spinbutton", { name: "Seats in row" }).first();
  await seats.fill("0");
  await page.getByRole("button", { name: "Save venue" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(seats).toHaveAttribute("aria-invalid", "true");
  await expect(seats).toHaveAccessibleDescription("Must be at least 1."); // pydantic's check, in the page's words
  await seats.fill("8");
  await page.getByRole("button", { name: "Add a row" }).click();
  await expect(page.getByText("Stalls (A): 2 rows, 16 seats")).toBeVisible(); // the live preview
  await expect(page.getByText("1 section, 16 places", { exact: true })).toBeVisible();
  await expectAccessible(page, "the venue editor");
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshots(page, "console-venue");
  await page.getByRole("button", { name: "Save venue" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Organizer console" })).toBeVisible();

  // An event on it: a draft, then published.
  await page.getByRole("link", { name: "Create an event" }).click();
  await page.getByRole("combobox", { name: "Venue", exact: true }).selectOption({ label: `E2E Hall ${stamp} (Seoul)` });
  await page.getByRole("textbox", { name: "Title" }).fill(`E2E Night ${stamp}`);
  await page.getByRole("textbox", { name: "Starts (venue's local time)" }).fill("2027-06-01T19:30");
  await page.getByRole("textbox", { name: "Price", exact: true }).fill("45");
  await expectAccessible(page, "the event editor");
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshots(page, "console-event");
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.getByRole("heading", { level: 1, name: `Sales: E2E Night ${stamp}` })).toBeVisible();
  await expect(page.getByText("Draft", { exact: true })).toBeVisible();
  await expect(page.getByText(/Tue, Jun 1, 7:30\sPM · Seoul/)).toBeVisible(); // the venue's local time, wherever the organizer is
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByText("The event is on sale.")).toBeVisible();
  const eventId = page.url().split("/").pop()!;

  // A customer buys through the API; the dashboard shows it within seconds.
  const { bookingId, email } = await buy(request, eventId, ["A-1-1", "A-1-2"]);
  await expect(page.getByTestId("tickets-sold")).toHaveText("2", { timeout: 15_000 });
  await expect(page.getByTestId("revenue")).toHaveText("€90");
  await expect(page.getByRole("cell", { name: "A-1-1, A-1-2" })).toBeVisible();
  await expectAccessible(page, "the sales dashboard");
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshots(page, "console-dashboard");

  // CSV export.
  const downloading = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export CSV" }).click();
  const csv = readFileSync((await (await downloading).path())!, "utf8");
  const [header, ...rows] = csv.trimEnd().split("\r\n");
  const columns = header!.split(",");
  expect(columns.slice(0, 5)).toEqual(["booking_id", "status", "created_at", "customer_name", "customer_email"]);
  expect(rows).toHaveLength(1);
  const row = Object.fromEntries(rows[0]!.split(",").map((value, i) => [columns[i], value]));
  expect(row).toMatchObject({
    booking_id: bookingId,
    status: "confirmed",
    customer_name: GUEST,
    customer_email: email,
    seats: "A-1-1 A-1-2",
    quantity: "2",
    amount: "90.00",
    currency: "EUR",
  });

  // Refund, after a confirmation.
  await page.getByRole("button", { name: `Refund booking ${bookingId.slice(0, 8)}` }).click();
  const dialog = page.getByRole("dialog", { name: "Refund" });
  await expect(dialog).toContainText("€90");
  await dialog.getByRole("button", { name: "Yes, refund" }).click();
  await expect(page.getByText(`Booking ${bookingId.slice(0, 8)} is refunded.`)).toBeVisible();
  await expect(page.getByTestId("tickets-sold")).toHaveText("0", { timeout: 15_000 });

  // The dashboard in Korean, as accessible.
  await page.getByRole("combobox", { name: "Language" }).selectOption("ko");
  await expect(page.getByRole("heading", { level: 1, name: `판매 현황: E2E Night ${stamp}` })).toBeVisible();
  await expect(page.getByRole("button", { name: "CSV 내보내기" })).toBeVisible();
  await expectAccessible(page, "the sales dashboard in Korean");
  await page.getByRole("combobox", { name: "언어" }).selectOption("en");

  // Cancelling says every booking will be refunded.
  await page.getByRole("button", { name: "Cancel event" }).click();
  const cancel = page.getByRole("dialog", { name: "Cancel this event?" });
  await expect(cancel).toContainText("refunds every booking");
  await cancel.getByRole("button", { name: "Keep it" }).click();
  await expect(cancel).toBeHidden();
});

test("door staff scan with the camera, refuse a used and a refunded ticket, and keep working offline", async ({ page, request }) => {
  test.setTimeout(180_000);
  const title = `Door Night ${Date.now()}`;
  const eventId = await publishedEvent(request, title, [{ id: "D", rows: 1, seats: 6 }]);
  const first = await buy(request, eventId, ["D-1-1", "D-1-2"]);
  const second = await buy(request, eventId, ["D-1-3"]);
  const video = join(tmpdir(), `ticket-${Date.now()}.y4m`);
  await qrVideo(page, first.tickets[0]!.qr_svg, video);

  // The organizer puts someone with an account on the door staff.
  const staffEmail = uniqueEmail("door");
  const keeper = `Door Keeper ${Date.now()}`;
  const registered = await request.post(`${API_URL}/api/v1/auth/register`, {
    data: { email: staffEmail, password: PASSWORD, name: keeper },
  });
  expect(registered.status(), await registered.text()).toBe(201);
  await signIn(page, ORGANIZER.email, ORGANIZER.password);
  await page.getByRole("link", { name: "Organizer console" }).click();
  await page.getByRole("link", { name: "Door staff" }).click();
  await page.getByRole("textbox", { name: "Their account's email" }).fill(staffEmail);
  await page.getByRole("button", { name: "Add to door staff" }).click();
  await expect(page.getByRole("status").filter({ hasText: `${keeper} is on your door staff.` })).toBeVisible();
  await expect(page.getByRole("button", { name: `Remove ${keeper}` })).toBeVisible();
  await expectAccessible(page, "the door staff page");

  const browser = await browserWithCamera(video);
  try {
    const context = await browser.newContext({ baseURL: WEB_URL, locale: "en-GB" });
    await context.grantPermissions(["camera"], { origin: WEB_URL });
    const door = await context.newPage();
    await signIn(door, staffEmail, PASSWORD);
    await door.getByRole("link", { name: "Door check-in" }).click();
    await door.getByRole("link", { name: title, exact: true }).click(); // their organizer's events on sale
    await expect(door.getByRole("heading", { level: 1, name: `Check-in: ${title}` })).toBeVisible();
    const verdict = door.getByRole("status", { name: "Scan result" });
    await expect(verdict).toHaveText("Ready to scan");

    await door.getByRole("button", { name: "Start camera" }).click();
    await expect(verdict).toContainText("Valid — let them in", { timeout: 20_000 });
    await expect(verdict).toContainText("Seat D-1-1");
    await expectAccessible(door, "the door after a valid scan");
    await screenshots(door, "door-valid");
    await door.getByRole("button", { name: "Scan next ticket" }).click();
    await expect(verdict).toContainText("Already used — do not admit", { timeout: 20_000 });
    await screenshots(door, "door-used");
    await door.getByRole("button", { name: "Stop camera" }).click();

    // A refund reaches the door at its next sync.
    const token = await organizerToken(request);
    const refunded = await request.post(`${API_URL}/api/v1/bookings/${second.bookingId}/refund`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(refunded.status(), await refunded.text()).toBe(200);
    await expect(door.getByText("Refunded or cancelled tickets known here: 0")).toBeVisible();
    await door.getByRole("button", { name: "Sync now" }).click();
    await expect(door.getByText("Refunded or cancelled tickets known here: 1")).toBeVisible();
    await door.getByRole("textbox", { name: "Ticket code" }).fill(second.tickets[0]!.secret);
    await door.getByRole("button", { name: "Check ticket" }).click();
    await expect(verdict).toContainText("Refunded or cancelled — do not admit");
    await expect(door.getByText(/^0 scans waiting to sync/)).toBeVisible(); // synced at once, online

    // The network goes: scans are still decided, and queued.
    await context.setOffline(true);
    await door.getByRole("button", { name: "Scan next ticket" }).click();
    await door.getByRole("textbox", { name: "Ticket code" }).fill(first.tickets[1]!.secret);
    await door.getByRole("button", { name: "Check ticket" }).click();
    await expect(verdict).toContainText("Valid — let them in");
    await expect(door.getByText(/Offline: scans are checked on this device/)).toBeVisible();
    await expect(door.getByText("1 scan waiting to sync")).toBeVisible();
    await door.getByRole("button", { name: "Scan next ticket" }).click();
    await door.getByRole("textbox", { name: "Ticket code" }).fill("forged.ticket");
    await door.getByRole("button", { name: "Check ticket" }).click();
    await expect(verdict).toContainText("Not a valid ticket — do not admit");
    await screenshots(door, "door-offline");

    // ... and synced when it returns.
    await context.setOffline(false);
    await expect(door.getByText("0 scans waiting to sync")).toBeVisible({ timeout: 20_000 });
    const checkins = await request.get(`${API_URL}/api/v1/bookings/events/${eventId}/checkins`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const ids = ((await checkins.json()).items as { ticket_id: string }[]).map((item) => item.ticket_id);
    expect(ids.sort()).toEqual([first.tickets[0]!.ticket_id, first.tickets[1]!.ticket_id].sort());
    await context.close();
  } finally {
    await browser.close();
  }

  // The organizer takes them off the door staff again.
  await page.getByRole("button", { name: `Remove ${keeper}` }).click();
  await expect(page.getByRole("button", { name: `Remove ${keeper}` })).toBeHidden();
});

test("the status page shows every component now and its last 24 hours, in English and Korean", async ({ page }) => {
  await page.goto("/status");
  await expect(page.getByRole("heading", { level: 1, name: "Platform status" })).toBeVisible();
  await expect(page.getByText(/All systems operational|Some systems are degraded|Major outage/)).toBeVisible();
  await expect(page.getByRole("heading", { level: 3, name: /API gateway/ })).toBeVisible();
  // Every service, each a heading of its own (its stores follow as "booking: redis: …").
  for (const service of ["auth", "events", "inventory", "booking", "payment", "search", "notification"]) {
    await expect(page.getByRole("heading", { level: 3, name: new RegExp(`^${service}: [^:]+$`) })).toBeVisible();
  }
  await expect(page.getByRole("heading", { level: 3, name: /^booking: redis: / })).toBeVisible();
  await expect(page.getByRole("list", { name: "API gateway, last 24 hours" })).toBeVisible();
  await expectAccessible(page, "the status page");
  await screenshots(page, "status");
  await page.getByRole("combobox", { name: "Language" }).selectOption("ko");
  await expect(page.getByRole("heading", { level: 1, name: "서비스 상태" })).toBeVisible();
  await page.getByRole("combobox", { name: "언어" }).selectOption("en");
});

test("the admin finds a user, makes them door staff of an organizer, and sees every event and the platform", async ({ page, request }) => {
  const email = uniqueEmail("door-staff");
  const registered = await request.post(`${API_URL}/api/v1/auth/register`, { data: { email, password: PASSWORD, name: "Door Staffer" } });
  expect(registered.status(), await registered.text()).toBe(201);
  const organizer = await request.get(`${API_URL}/api/v1/auth/me`, {
    headers: { Authorization: `Bearer ${await organizerToken(request)}` },
  });
  const organizerId = (await organizer.json()).id as string;

  await signIn(page, "admin@ticketing.dev", "Admin-demo-2026");
  await page.getByRole("link", { name: "Admin" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Admin" })).toBeVisible();
  const users = page.getByRole("search", { name: "Users" });
  await users.getByRole("searchbox", { name: "Search by email or name" }).fill(email);
  await users.getByRole("button", { name: "Search" }).click();
  const form = page.getByRole("form", { name: "Change role of Door Staffer" });
  await expect(page.getByRole("form", { name: /Change role of/ })).toHaveCount(1);
  await form.getByRole("combobox", { name: "Role" }).selectOption({ label: "Door staff" });
  const worksFor = form.getByRole("textbox", { name: "Organizer they work for" });
  await expect(worksFor).toHaveAccessibleDescription("For door staff: the organizer's account id.");
  await worksFor.fill(organizerId);
  await form.getByRole("button", { name: "Change role" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Door Staffer is now Door staff." })).toBeVisible();
  // Their next login carries the role, and the organizer sees them on the team.
  const me = await request.get(`${API_URL}/api/v1/auth/me`, {
    headers: { Authorization: `Bearer ${await apiToken(request, email, PASSWORD)}` },
  });
  expect(await me.json()).toMatchObject({ role: "staff", organizer_id: organizerId });
  const removed = await request.delete(`${API_URL}/api/v1/auth/staff/${(await me.json()).id}`, {
    headers: { Authorization: `Bearer ${await organizerToken(request)}` },
  }); // not left on the demo organizer's team
  expect(removed.status()).toBe(204);

  await expect(page.getByRole("heading", { level: 2, name: "Every event" })).toBeVisible();
  await expect(page.getByRole("heading", { level: 2, name: "Platform status" })).toBeVisible();
  await expectAccessible(page, "the admin page");
  await screenshots(page, "admin");
});
