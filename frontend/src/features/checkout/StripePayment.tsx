/** Stripe's Payment Element for the booking's PaymentIntent (`client_secret`). Loaded only when a
 * publishable key is configured, so the simulator's pages never fetch Stripe.js. */
import { loadStripe, type Stripe, type StripeElements } from "@stripe/stripe-js";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client";

export default function StripePayment({
  publishableKey,
  clientSecret,
  amount,
  busy,
  onSubmit,
  onSent,
  onFailed,
}: {
  publishableKey: string;
  clientSecret: string;
  amount: string;
  busy: boolean;
  onSubmit: () => void;
  onSent: () => void;
  onFailed: (error: unknown) => void;
}) {
  const { t, i18n } = useTranslation();
  const mount = useRef<HTMLDivElement>(null);
  const [stripe, setStripe] = useState<{ stripe: Stripe; elements: StripeElements } | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    void loadStripe(publishableKey).then((loaded) => {
      if (cancelled || !loaded || !mount.current) return;
      const elements = loaded.elements({ clientSecret, locale: i18n.language === "ko" ? "ko" : "en" });
      elements.create("payment").mount(mount.current);
      setStripe({ stripe: loaded, elements });
    }, onFailed);
    return () => {
      cancelled = true;
    };
  }, [publishableKey, clientSecret, i18n.language, onFailed]);

  return (
    <form
      onSubmit={async (event) => {
        event.preventDefault();
        if (!stripe) return;
        onSubmit();
        setMessage(null);
        const { error } = await stripe.stripe.confirmPayment({
          elements: stripe.elements,
          redirect: "if_required",
          confirmParams: { return_url: window.location.href },
        });
        if (error) {
          setMessage(error.message ?? null);
          onFailed(new ApiError("problem", { status: 402, problem: { detail: error.message } }));
        } else onSent();
      }}
    >
      <div ref={mount} />
      {message && <p role="alert">{message}</p>}
      <button type="submit" className="button" disabled={!stripe || busy}>
        {t("checkout.payStripe", { amount })}
      </button>
    </form>
  );
}
