/** What the console's and the door's browser tests set up around the browser: purchases through
 * the API, and a camera that shows a ticket's QR code (Chromium's fake video capture, fed a Y4M
 * frame drawn from the ticket's own QR SVG). */
import { chromium, expect, type APIRequestContext, type Browser, type Page } from "@playwright/test";
import { writeFileSync } from "node:fs";
import { API_URL } from "../playwright.config";
import { apiToken, ORGANIZER, PASSWORD, uniqueEmail } from "./fixtures";

export interface Ticket {
  ticket_id: string;
  seat_id: string;
  secret: string;
  qr_svg: string;
}

export async function organizerToken(request: APIRequestContext): Promise<string> {
  return apiToken(request, ORGANIZER.email, ORGANIZER.password);
}

/** The name of every customer `buy` makes. */
export const GUEST = "Door Guest";

/** A customer books `seats` of the event and pays with the simulator; the confirmed booking and
 * its tickets. */
export async function buy(
  request: APIRequestContext,
  eventId: string,
  seats: string[],
): Promise<{ bookingId: string; email: string; tickets: Ticket[] }> {
  const email = uniqueEmail("guest");
  const registered = await request.post(`${API_URL}/api/v1/auth/register`, { data: { email, password: PASSWORD, name: GUEST } });
  expect(registered.status(), await registered.text()).toBe(201);
  const token = await apiToken(request, email, PASSWORD);
  const headers = { Authorization: `Bearer ${token}` };
  const hold = await request.post(`${API_URL}/api/v1/inventory/events/${eventId}/holds`, {
    headers: { ...headers, "Idempotency-Key": crypto.randomUUID() },
    data: { seat_ids: seats },
  });
  expect(hold.status(), await hold.text()).toBe(201);
  const booking = await request.post(`${API_URL}/api/v1/bookings`, {
    headers: { ...headers, "Idempotency-Key": crypto.randomUUID() },
    data: { hold_id: (await hold.json()).hold_id },
  });
  expect(booking.status(), await booking.text()).toBe(201);
  const made = await booking.json();
  const paid = await request.post(`${API_URL}/api/v1/payments/${made.payment.payment_id}/simulate`, {
    headers,
    data: { outcome: "succeeded" },
  });
  expect(paid.status(), await paid.text()).toBe(202);
  await expect
    .poll(async () => (await (await request.get(`${API_URL}/api/v1/bookings/${made.booking_id}`, { headers })).json()).status, {
      timeout: 30_000,
    })
    .toBe("confirmed");
  const tickets = await request.get(`${API_URL}/api/v1/bookings/${made.booking_id}/tickets`, { headers });
  expect(tickets.status()).toBe(200);
  return { bookingId: made.booking_id as string, email, tickets: (await tickets.json()) as Ticket[] };
}

/** A one-frame Y4M video of the QR code (grey on white, centred), which Chromium loops as the
 * camera's picture. */
export async function qrVideo(page: Page, svg: string, path: string): Promise<void> {
  const width = 640;
  const height = 480;
  const gray = await page.evaluate(
    async ({ svgText, width, height }) => {
      const image = new Image();
      image.src = `data:image/svg+xml;base64,${btoa(svgText)}`;
      await image.decode();
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const context = canvas.getContext("2d")!;
      context.fillStyle = "#fff";
      context.fillRect(0, 0, width, height);
      context.imageSmoothingEnabled = false;
      const size = 420;
      context.drawImage(image, (width - size) / 2, (height - size) / 2, size, size);
      const rgba = context.getImageData(0, 0, width, height).data;
      const luma: number[] = new Array(width * height);
      for (let i = 0; i < width * height; i++) {
        luma[i] = Math.round(0.299 * rgba[i * 4]! + 0.587 * rgba[i * 4 + 1]! + 0.114 * rgba[i * 4 + 2]!);
      }
      return luma;
    },
    { svgText: svg, width, height },
  );
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`);
  const frame = Buffer.concat([Buffer.from("FRAME\n"), Buffer.from(gray), Buffer.alloc((width * height) / 2, 128)]);
  writeFileSync(path, Buffer.concat([header, frame]));
}

/** A Chromium whose camera shows the video at `path`. */
export function browserWithCamera(path: string): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      `--use-file-for-fake-video-capture=${path}`,
    ],
  });
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
}
