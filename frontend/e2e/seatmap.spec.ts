/** The seat map's budget and scale: a 4,000-seat hall interactive within a second on this
 * machine's Chromium, and a 60,000-seat stadium usable through its section overview. */
import { expect, test } from "@playwright/test";
import { demoEventId, expectAccessible, publishedEvent, screenshots } from "./fixtures";

const BUDGET_MS = 1000;

test("a 4,000-seat hall is interactive within a second", async ({ page, request }) => {
  const eventId = await publishedEvent(request, `Budget Hall ${Date.now()}`, [
    { id: "L", rows: 40, seats: 50 },
    { id: "R", rows: 40, seats: 50 },
  ]);
  const timings: number[] = [];
  for (let run = 0; run < 3; run++) {
    await page.goto(`/events/${eventId}`);
    const last = page.getByRole("button", { name: "R-40-50, available, Standard ₩55,000" });
    await expect(last).toBeVisible();
    const interactive = await page.evaluate(() => performance.getEntriesByName("seatmap-interactive")[0]?.startTime ?? -1);
    expect(interactive).toBeGreaterThan(0);
    timings.push(interactive);
    await last.click();
    await expect(last).toHaveAttribute("aria-pressed", "true");
  }
  expect(await page.locator("[data-seat]").count()).toBe(4000);
  const best = Math.min(...timings);
  console.log(`seatmap: 4,000-seat hall interactive after ${timings.map((t) => t.toFixed(0)).join(", ")} ms (best ${best.toFixed(0)} ms, budget ${BUDGET_MS} ms)`);
  // The best of three: the first run also warms the services' caches; the machine is shared.
  expect(best).toBeLessThan(BUDGET_MS);
});

test("a 60,000-seat stadium shows its sections, and one section's seats when zoomed in", async ({ page, request }) => {
  const eventId = await demoEventId(request, "Championship Final");
  await page.goto(`/events/${eventId}`);
  const sections = page.getByRole("list", { name: "Sections" });
  await expect(sections.getByRole("link")).toHaveCount(40);
  expect(await page.locator("[data-seat]").count()).toBe(0);
  await expectAccessible(page, "the stadium's section overview");
  await screenshots(page, "stadium");
  await sections.getByRole("link", { name: /^North Stand 3: \d+ of 1500 available, End \$85/ }).click();
  await expect(page).toHaveURL(/section=N3/);
  const seat = page.getByRole("button", { name: /^N3-12-25, (available|held by someone else|sold), End \$85$/ });
  await expect(seat).toBeVisible();
  expect(await page.locator("[data-seat]").count()).toBe(1500);
  await page.getByRole("link", { name: /All sections/ }).click();
  await expect(sections).toBeVisible();
});
