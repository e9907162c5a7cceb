/** A seat taken by another client between view and hold: the 409 names it, the map refreshes. */
import { expect, test } from "@playwright/test";
import { API_URL } from "../playwright.config";
import { adjacentFreeSeats, apiCustomer, demoEventId, expectAccessible, PASSWORD, uniqueEmail } from "./fixtures";

test("a seat someone else takes between view and hold is named, and the map shows it taken", async ({ page, request }) => {
  const eventId = await demoEventId(request, "The Importance of Being Earnest");
  const [mine, contested] = await adjacentFreeSeats(request, eventId, "CIRCLE");

  await page.goto("/register");
  await page.getByLabel("Your name").fill("Cam Contest");
  await page.getByLabel("Email").fill(uniqueEmail("contest"));
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Register" }).click();
  await expect(page.getByText("Signed in as Cam Contest")).toBeVisible();

  await page.goto(`/events/${eventId}`);
  await page.getByRole("button", { name: new RegExp(`^${mine}, available`) }).click();
  await page.getByRole("button", { name: new RegExp(`^${contested}, available`) }).click();

  // Another customer, another client: holds one of them first.
  const rival = await apiCustomer(request, "rival");
  const held = await request.post(`${API_URL}/api/v1/inventory/events/${eventId}/holds`, {
    headers: { Authorization: `Bearer ${rival}` },
    data: { seat_ids: [contested] },
  });
  expect(held.status()).toBe(201);

  await page.getByRole("button", { name: "Hold 2 seats" }).click();
  await expect(page.getByRole("alert")).toHaveText(
    `Sorry, ${contested} was just taken by someone else. The map is refreshed: please choose another seat.`,
  );
  await expect(page.getByRole("button", { name: new RegExp(`^${contested}, held by someone else`) })).toBeVisible();
  await expect(page.getByText("1 seat, £42")).toBeVisible(); // the free one stays selected
  await expectAccessible(page, "the event page after a 409");

  await page.getByRole("button", { name: "Hold 1 seat" }).click();
  await expect(page.getByRole("heading", { name: "Your seats are held" })).toBeVisible();
  await page.getByRole("button", { name: "Release seats" }).click();
  await expect(page.getByText("Your seats were released.")).toBeVisible();
  await expect(page.getByRole("button", { name: new RegExp(`^${mine}, available`) })).toBeVisible();
  await request.delete(`${API_URL}/api/v1/inventory/holds/${(await held.json()).hold_id}`, { headers: { Authorization: `Bearer ${rival}` } });
});
