/** An on-sale through the waiting room: the organizer turns the room on in the console (one
 * shopper at a time), a customer opening the event is queued behind the one shopping, admitted
 * when that one leaves, shops with the time left in view (the admission token on the hold and the
 * booking) and books. Before an opening, the page says the order is drawn then. Screenshots. */
import { expect, test, type APIRequestContext } from "@playwright/test";
import { API_URL } from "../playwright.config";
import { organizerToken, signIn } from "./console-fixtures";
import { apiCustomer, expectAccessible, ORGANIZER, PASSWORD, publishedEvent, screenshots, uniqueEmail } from "./fixtures";

const ROOM = (eventId: string) => `${API_URL}/api/v1/waiting-room/${eventId}`;

/** "YYYY-MM-DDTHH:mm" on Seoul's clocks (the test venues' zone), `minutes` from now. */
function seoulLocal(minutes: number): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: "Asia/Seoul",
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  }).formatToParts(new Date(Date.now() + minutes * 60_000));
  const get = (type: string) => parts.find((part) => part.type === type)!.value;
  return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}`;
}

/** The gateway follows the events service's settings within seconds: wait until it does. */
async function roomIsOn(request: APIRequestContext, token: string, eventId: string): Promise<void> {
  await expect
    .poll(
      async () => {
        const state = await request.post(`${ROOM(eventId)}/join`, { headers: { Authorization: `Bearer ${token}` } });
        return (await state.json()).state as string;
      },
      { timeout: 60_000, intervals: [500, 1_000, 2_000] },
    )
    .not.toBe("off");
}

test("the organizer turns the room on; a customer is queued, admitted, shops against the clock and books", async ({ page, request }) => {
  const eventId = await publishedEvent(request, "Queue Night", [{ id: "A", rows: 2, seats: 8 }]);

  // The organizer, in the console: one shopper at a time, open since a minute ago.
  await signIn(page, ORGANIZER.email, ORGANIZER.password);
  await page.goto(`/console/events/${eventId}/edit`);
  const room = page.getByRole("region", { name: "Waiting room" });
  await room.getByRole("checkbox", { name: "Use a waiting room" }).check();
  await room.getByRole("button", { name: "Save waiting room" }).click();
  await expect(room.getByLabel("Opens at")).toHaveAccessibleDescription(/Choose when the waiting room opens\./); // said on the field
  await room.getByLabel("Opens at").fill(seoulLocal(-1));
  await room.getByLabel("People admitted per minute").fill("120");
  await room.getByLabel("Most people shopping at once").fill("0");
  await room.getByRole("button", { name: "Save waiting room" }).click();
  await expect(room.getByLabel("Most people shopping at once")).toHaveAccessibleDescription("Enter a whole number from 1 to 1,000,000.");
  await room.getByLabel("Most people shopping at once").fill("1");
  await room.getByLabel("Minutes to shop").fill("10");
  await room.getByRole("button", { name: "Save waiting room" }).click();
  await expect(room.getByRole("status")).toContainText("Saved. The waiting room opens at");
  await expectAccessible(page, "the console's waiting room settings");
  await page.evaluate(() => document.getElementById("waiting-room")?.scrollIntoView());
  await screenshots(page, "console-waiting-room");
  const saved = await (await request.get(`${API_URL}/api/v1/events/${eventId}/waiting-room`)).json();
  expect(saved).toMatchObject({ enabled: true, admission_per_minute: 120, max_shoppers: 1, shopping_minutes: 10 });
  await page.getByRole("button", { name: "Sign out" }).click();

  // Someone else is shopping already: the one slot is taken.
  const first = await apiCustomer(request, "First");
  await roomIsOn(request, first, eventId);
  await expect
    .poll(async () => (await (await request.get(ROOM(eventId), { headers: { Authorization: `Bearer ${first}` } })).json()).state, {
      timeout: 30_000,
    })
    .toBe("admitted");

  // A signed-out visitor is asked to sign in to join the queue.
  await page.goto(`/events/${eventId}`);
  const signInToQueue = page.getByRole("link", { name: "Sign in to join the queue" });
  await expect(signInToQueue).toBeVisible();
  await expectAccessible(page, "the event page of a room, signed out");

  // The customer follows it, registers instead, and lands in the queue.
  const admissionHeaders: string[] = [];
  page.on("request", (sent) => {
    if (sent.method() === "POST" && /\/holds$|\/api\/v1\/bookings$/.test(new URL(sent.url()).pathname)) {
      admissionHeaders.push(`${new URL(sent.url()).pathname} ${sent.headers()["x-admission-token"] ? "token" : "none"}`);
    }
  });
  await signInToQueue.click();
  await page.getByRole("main").getByRole("link", { name: "Register" }).click();
  await page.getByLabel("Your name").fill("Quinn Queue");
  await page.getByLabel("Email").fill(uniqueEmail("queue"));
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Register" }).click();
  await expect(page.getByText("Signed in as Quinn Queue")).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`/events/${eventId}/waiting-room$`));
  const progress = page.getByRole("progressbar", { name: "Your place in the queue" });
  await expect(progress).toBeVisible();
  await expect(page.getByText("You are number 1 in the queue.")).toBeVisible();
  await expect(page.getByText("Nobody is ahead of you: you are next.")).toBeVisible();
  await expect(page.getByText(/^Estimated wait: /)).toBeVisible();
  await expectAccessible(page, "the waiting page");
  await screenshots(page, "waiting-room");

  // A second tab of the same account shares the place.
  const second = await page.context().newPage();
  await second.goto(`/events/${eventId}/waiting-room`);
  await expect(second.getByText("You are number 1 in the queue.")).toBeVisible();

  // The shopper leaves: the slot is free, the customer is let in and moves on by themselves.
  expect((await request.delete(ROOM(eventId), { headers: { Authorization: `Bearer ${first}` } })).status()).toBe(204);
  await expect(page).toHaveURL(new RegExp(`/events/${eventId}$`), { timeout: 30_000 });
  const clock = page.getByRole("timer", { name: "Time left to shop" });
  await expect(clock).toHaveText(/^You have (9:\d\d|10:00) left to shop$/);
  const before = await clock.textContent();
  await expect(clock).not.toHaveText(before ?? ""); // it counts down
  await expect(second).toHaveURL(new RegExp(`/events/${eventId}$`), { timeout: 30_000 }); // the other tab too
  await second.close();

  await page.getByRole("button", { name: /^A-1-3, available/ }).click();
  await page.getByRole("button", { name: /^A-1-4, available/ }).click();
  await expectAccessible(page, "the event page while shopping from the waiting room");
  await screenshots(page, "shopping-time");
  await page.getByRole("button", { name: "Hold 2 seats" }).click();
  await expect(page.getByRole("heading", { name: "Your seats are held" })).toBeVisible();
  await page.getByRole("link", { name: "Continue to checkout" }).click();
  await expect(page.getByRole("timer", { name: "Time left to shop" })).toBeVisible();
  await page.getByRole("button", { name: "Book and go to payment" }).click();
  await page.getByRole("button", { name: /^Pay .* \(test payment\)$/ }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Payment received. Your booking is confirmed!" })).toBeVisible({ timeout: 30_000 });
  expect(admissionHeaders).toEqual([`/api/v1/inventory/events/${eventId}/holds token`, "/api/v1/bookings token"]);

  // The gateway refuses a hold of this event without a token (how the app got one is the only way).
  const bypass = await request.post(`${API_URL}/api/v1/inventory/events/${eventId}/holds`, {
    headers: { Authorization: `Bearer ${first}`, "Idempotency-Key": crypto.randomUUID() },
    data: { seat_ids: ["A-2-1"] },
  });
  expect(bypass.status()).toBe(403);
  expect((await bypass.json()).type).toMatch(/waiting-room-required$/);
});

test("before the opening, the waiting page says the order is drawn then", async ({ page, request }) => {
  const eventId = await publishedEvent(request, "Draw Night", [{ id: "A", rows: 1, seats: 4 }]);
  const organizer = await organizerToken(request);
  const put = await request.put(`${API_URL}/api/v1/events/${eventId}/waiting-room`, {
    headers: { Authorization: `Bearer ${organizer}` },
    data: {
      enabled: true,
      opens_at: new Date(Date.now() + 3_600_000).toISOString(),
      admission_per_minute: 600,
      max_shoppers: 2000,
      shopping_minutes: 10,
    },
  });
  expect(put.status(), await put.text()).toBe(200);
  const early = await apiCustomer(request, "Early");
  await roomIsOn(request, early, eventId);

  await page.goto("/register");
  await page.getByLabel("Your name").fill("Erin Early");
  await page.getByLabel("Email").fill(uniqueEmail("early"));
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Register" }).click();
  await expect(page.getByText("Signed in as Erin Early")).toBeVisible();
  await page.goto(`/events/${eventId}`);
  await expect(page).toHaveURL(new RegExp(`/events/${eventId}/waiting-room$`));
  await expect(page.getByText(/^The queue opens at /)).toBeVisible();
  await expect(page.getByText(/Refreshing this page or arriving earlier does not change your place/)).toBeVisible();
  await expect(page.getByRole("progressbar", { name: "Your place in the queue" })).toHaveAttribute("aria-valuetext", "Waiting for the queue to open");
  await expectAccessible(page, "the waiting page before the opening");
  await screenshots(page, "waiting-room-before");
  await page.getByLabel("Language").selectOption("ko");
  await expect(page.getByRole("progressbar", { name: "대기열에서 내 순서" })).toBeVisible();
  await expectAccessible(page, "the waiting page in Korean");
});
