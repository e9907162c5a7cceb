/** Paying a pending booking: Stripe's Payment Element when a publishable key is configured and
 * the booking's payment is Stripe's, otherwise the local simulator (dev and tests). Then the
 * booking is polled until it settles. */
import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense, useEffect, useState, type Dispatch } from "react";
import { useTranslation } from "react-i18next";
import { useServices } from "../../app/services";
import { ErrorMessage } from "../../components/ErrorMessage";
import { Loading } from "../../components/Loading";
import { formatMoney } from "../../i18n/format";
import { HoldTimer } from "../holds/HoldTimer";
import type { CheckoutAction, CheckoutState } from "./machine";

const StripePayment = lazy(() => import("./StripePayment"));
const SETTLE_POLL_MS = 1000;
const SETTLE_SLOW_MS = 20_000;

export function PaymentStep({ state, dispatch }: { state: CheckoutState; dispatch: Dispatch<CheckoutAction> }) {
  const { t, i18n } = useTranslation();
  const { api, config } = useServices();
  const booking = "booking" in state ? state.booking : null;
  const settling = state.step === "settling";

  const polled = useQuery({
    queryKey: ["me", "booking", booking?.booking_id],
    queryFn: () => api.booking(booking!.booking_id),
    enabled: settling && !!booking,
    refetchInterval: SETTLE_POLL_MS,
  });
  useEffect(() => {
    if (polled.data && settling) dispatch({ type: "bookingUpdated", booking: polled.data });
  }, [polled.data, settling, dispatch]);

  if (!booking || !booking.payment) return null;
  const payment = booking.payment;
  const amount = formatMoney(booking.amount_cents, booking.currency, i18n.language);

  if (settling) return <Settling />;
  if (state.step !== "payment" && state.step !== "paying") return null;

  const simulate = async (outcome: "succeeded" | "failed") => {
    dispatch({ type: "pay" });
    try {
      await api.simulatePayment(payment.payment_id, outcome);
      dispatch({ type: "paymentSent" });
    } catch (error) {
      dispatch({ type: "payFailed", error });
    }
  };

  return (
    <section className="payment" aria-labelledby="payment-heading">
      <h2 id="payment-heading">{t("checkout.pay")}</h2>
      <HoldTimer expiresAt={booking.hold_expires_at} onExpired={() => dispatch({ type: "recheck" })} />
      {state.step === "payment" && state.error ? <ErrorMessage error={state.error} /> : null}
      {config.stripePublishableKey && payment.provider === "stripe" ? (
        <Suspense fallback={<Loading label={t("checkout.stripeLoading")} />}>
          <StripePayment
            publishableKey={config.stripePublishableKey}
            clientSecret={payment.client_secret}
            amount={amount}
            busy={state.step === "paying"}
            onSubmit={() => dispatch({ type: "pay" })}
            onSent={() => dispatch({ type: "paymentSent" })}
            onFailed={(error) => dispatch({ type: "payFailed", error })}
          />
        </Suspense>
      ) : (
        <div className="simulator">
          <p className="hint">{t("checkout.testNote")}</p>
          <button type="button" className="button" disabled={state.step === "paying"} onClick={() => void simulate("succeeded")}>
            {state.step === "paying" ? t("checkout.paying") : t("checkout.payTest", { amount })}
          </button>
          <button type="button" className="button secondary" disabled={state.step === "paying"} onClick={() => void simulate("failed")}>
            {t("checkout.payFail")}
          </button>
        </div>
      )}
    </section>
  );
}

function Settling() {
  const { t } = useTranslation();
  const [slow, setSlow] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setSlow(true), SETTLE_SLOW_MS);
    return () => clearTimeout(timer);
  }, []);
  return (
    <div className="notice" role="status" aria-live="polite">
      <Loading label={t("checkout.settling")} />
      {slow && <p>{t("checkout.settlingSlow")}</p>}
    </div>
  );
}
