"""The payment service: PaymentIntents and refunds at Stripe (or the local simulator), verified
webhooks, and the payment facts the booking saga runs on."""
