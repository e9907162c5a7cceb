/** The Payment Element is Stripe's own code (js.stripe.com), which cannot run here: what the app
 * gives it and asks of it is checked against a stand-in for Stripe.js. Against the real thing:
 * set stripePublishableKey in config.json and the payment service's STRIPE keys. */
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { renderWithApp } from "../../test/render";
import StripePayment from "./StripePayment";

const mount = vi.fn();
const create = vi.fn(() => ({ mount }));
const elements = vi.fn(() => ({ create }));
const confirmPayment = vi.fn();
vi.mock("@stripe/stripe-js", () => ({
  loadStripe: vi.fn(async () => ({ elements, confirmPayment })),
}));

describe("Stripe's Payment Element", () => {
  it("is mounted for the booking's client secret and confirms without leaving the page", async () => {
    const { loadStripe } = await import("@stripe/stripe-js");
    const onSubmit = vi.fn();
    const onSent = vi.fn();
    confirmPayment.mockResolvedValue({});
    renderWithApp(
      <StripePayment publishableKey="pk_test_123" clientSecret="pi_1_secret_2" amount="€90" busy={false} onSubmit={onSubmit} onSent={onSent} onFailed={vi.fn()} />,
    );
    await waitFor(() => expect(mount).toHaveBeenCalled());
    expect(loadStripe).toHaveBeenCalledWith("pk_test_123");
    expect(elements).toHaveBeenCalledWith({ clientSecret: "pi_1_secret_2", locale: "en" });
    expect(create).toHaveBeenCalledWith("payment");
    await userEvent.click(screen.getByRole("button", { name: "Pay €90" }));
    await waitFor(() => expect(onSent).toHaveBeenCalled());
    expect(onSubmit).toHaveBeenCalled();
    expect(confirmPayment).toHaveBeenCalledWith(expect.objectContaining({ redirect: "if_required" }));
  });

  it("shows Stripe's own message when the card is declined", async () => {
    confirmPayment.mockResolvedValue({ error: { message: "Your card was declined." } });
    const onFailed = vi.fn();
    renderWithApp(
      <StripePayment publishableKey="pk_test_123" clientSecret="s" amount="€90" busy={false} onSubmit={vi.fn()} onSent={vi.fn()} onFailed={onFailed} />,
    );
    await waitFor(() => expect(screen.getByRole("button", { name: "Pay €90" })).toBeEnabled());
    await userEvent.click(screen.getByRole("button", { name: "Pay €90" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Your card was declined.");
    expect(onFailed).toHaveBeenCalled();
  });
});
