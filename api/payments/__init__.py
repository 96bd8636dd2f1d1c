"""Payment providers: the adapters behind `domain.payments.ports.PaymentProvider`."""
