/** Signing in and out, staying signed in across reloads, and the app in Korean. */
import { expect, test } from "@playwright/test";
import { CUSTOMER, demoEventId, expectAccessible, screenshots } from "./fixtures";

test("the demo customer signs in, stays signed in across reloads, and signs out", async ({ page }) => {
  await page.goto("/bookings");
  await expect(page).toHaveURL(/\/signin\?next=%2Fbookings/); // a private page asks to sign in first
  await page.getByLabel("Email").fill(CUSTOMER.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("The email or password is not right. Check them and try again.");
  await expectAccessible(page, "the sign-in page with an error");
  await screenshots(page, "signin");
  await page.getByLabel("Password").fill(CUSTOMER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "My bookings" })).toBeVisible();

  await page.reload();
  await expect(page.getByRole("heading", { level: 1, name: "My bookings" })).toBeVisible();
  await expect(page.getByText("Signed in as Demo Customer")).toBeVisible();
  const stored = await page.evaluate(() => JSON.stringify(localStorage));
  expect(stored).not.toMatch(/eyJ/); // no access token (a JWT) is ever stored

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("status").filter({ hasText: "You are signed out." })).toBeVisible();
  await page.goto("/bookings");
  await expect(page).toHaveURL(/\/signin/);
});

test("the app switches to Korean, with Korean money and dates", async ({ page, request }) => {
  const eventId = await demoEventId(request, "Neon Skyline World Tour");
  await page.goto("/");
  await page.getByRole("combobox", { name: "Language" }).selectOption("ko");
  await expect(page.getByRole("heading", { level: 1, name: "티켓 찾기" })).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("lang", "ko");
  await expectAccessible(page, "the home page in Korean");
  await page.goto(`/events/${eventId}`);
  await expect(page.getByRole("heading", { level: 2, name: "좌석 선택" })).toBeVisible();
  await expect(page.getByText(/2026년|2027년/).first()).toBeVisible(); // a Korean date
  await expect(page.getByText("Floor: €79")).toBeVisible();
  await expect(page.getByRole("list", { name: "구역" })).toBeVisible();
  await expectAccessible(page, "the event page in Korean");
  await screenshots(page, "event-ko");
  await page.reload();
  await expect(page.getByRole("heading", { level: 2, name: "좌석 선택" })).toBeVisible(); // remembered
  await page.getByRole("combobox", { name: "언어" }).selectOption("en");
  await expect(page.getByRole("heading", { level: 2, name: "Choose your seats" })).toBeVisible();
});

test("an unknown page and an unknown event say so in words", async ({ page }) => {
  await page.goto("/no/such/page");
  await expect(page.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible();
  await page.goto("/events/no-such-event");
  await expect(page.getByRole("alert")).toHaveText(/could not find/);
  await expectAccessible(page, "an unknown event");
});
