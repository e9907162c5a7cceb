/** A new customer's whole visit: register, find a demo event by search (with a suggestion), pick
 * two adjacent seats, see the countdown, pay with the simulator, see two tickets with QR codes,
 * cancel, see the refund. Screenshots of each page on the way. */
import { expect, test } from "@playwright/test";
import { adjacentFreeSeats, demoEventId, expectAccessible, PASSWORD, screenshots, uniqueEmail } from "./fixtures";

test("a new customer registers, books two adjacent seats, pays, gets tickets, cancels and is refunded", async ({ page, request }) => {
  const email = uniqueEmail("journey");

  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1, name: "Find tickets" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Hamlet" })).toBeVisible();
  await expectAccessible(page, "the home page");
  await screenshots(page, "home");

  await page.getByRole("link", { name: "Register" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Register" })).toBeVisible();
  await page.getByRole("button", { name: "Register" }).click();
  await expect(page.getByText("Enter your email.")).toBeVisible(); // the form says what is missing
  await page.getByLabel("Your name").fill("Jo Journey");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("short");
  await expectAccessible(page, "the registration page");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Register" }).click();
  await expect(page.getByText("Signed in as Jo Journey")).toBeVisible();

  // Search with a suggestion, as one types.
  const search = page.getByRole("combobox", { name: "Search events" });
  await search.fill("Haml");
  await page.getByRole("option", { name: "Hamlet" }).click();
  await expect(page).toHaveURL(/\?q=Hamlet/);
  await expect(page.getByRole("heading", { level: 1, name: "Results for “Hamlet”" })).toBeVisible();
  const eventId = await demoEventId(request, "Hamlet");
  const [first, second] = await adjacentFreeSeats(request, eventId, "STALLS");
  await page.getByRole("link", { name: "Hamlet" }).click();

  await expect(page).toHaveURL(new RegExp(`/events/${eventId}$`));
  await expect(page.getByRole("heading", { level: 1, name: "Hamlet" })).toBeVisible();
  await expect(page.getByText(/GMT|BST/)).toBeVisible(); // the venue's time zone
  const seatA = page.getByRole("button", { name: `${first}, available, Stalls £65` });
  const seatB = page.getByRole("button", { name: `${second}, available, Stalls £65` });
  await seatA.click();
  await seatB.click();
  await expect(seatA).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByText("2 seats, £130")).toBeVisible();
  await expectAccessible(page, "the event page with two seats selected");
  await screenshots(page, "event");

  await page.getByRole("button", { name: "Hold 2 seats" }).click();
  await expect(page.getByRole("heading", { name: "Your seats are held" })).toBeVisible();
  const timer = page.getByRole("timer", { name: "Time left to complete your booking" });
  await expect(timer).toHaveText(/Held for (9|10):\d\d/);
  const before = await timer.textContent();
  await expect(timer).not.toHaveText(before ?? ""); // it counts down
  await expect(page.getByRole("button", { name: `${first}, held by you, Stalls £65` })).toBeVisible();

  await page.getByRole("link", { name: "Continue to checkout" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Checkout" })).toBeVisible();
  await expect(page.getByRole("timer")).toBeVisible();
  await expect(page.getByText("£130").first()).toBeVisible();
  await expectAccessible(page, "the checkout page");
  await screenshots(page, "checkout");
  await page.getByRole("button", { name: "Book and go to payment" }).dblclick(); // once, however often
  await page.getByRole("button", { name: "Pay £130 (test payment)" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Payment received. Your booking is confirmed!" })).toBeVisible({ timeout: 30_000 });

  await page.getByRole("link", { name: "View your tickets" }).click();
  await expect(page.getByRole("heading", { name: "Your tickets" })).toBeVisible();
  const qr = page.getByRole("img", { name: /^QR code for ticket / });
  await expect(qr).toHaveCount(2);
  await expect(page.getByRole("img", { name: `QR code for ticket ${first}` })).toBeVisible();
  expect(await qr.first().evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
  await expect(page.getByRole("button", { name: "Print tickets" })).toBeVisible();
  await expectAccessible(page, "the booking page with tickets");
  await screenshots(page, "tickets");

  // Stays signed in across a reload (refresh-token rotation); one booking, however often Book was pressed.
  await page.goto("/bookings");
  // Signed in on this load first: a reload that aborts the load's refresh in flight loses the
  // rotated token, and presenting the old one again is refresh-token reuse (a sign-out, by design).
  await expect(page.getByRole("heading", { level: 1, name: "My bookings" })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("heading", { level: 1, name: "My bookings" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Open booking for Hamlet" })).toHaveCount(1);
  await expectAccessible(page, "the bookings list");
  await screenshots(page, "bookings");

  await page.getByRole("link", { name: "Open booking for Hamlet" }).click();
  await page.getByRole("button", { name: "Cancel booking" }).click();
  const dialog = page.getByRole("dialog", { name: "Cancel this booking?" });
  await expect(dialog).toContainText("£130 refunded");
  await dialog.getByRole("button", { name: "Yes, cancel booking" }).click();
  await expect(page.getByText("Refunded £130.")).toBeVisible();
  await expect(page.getByText("Refund status: refunded")).toBeVisible();
  await expect(page.getByText("Refunded", { exact: true })).toBeVisible();
  await expect(page.getByRole("img", { name: /^QR code/ })).toHaveCount(0);
});
