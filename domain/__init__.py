"""Promessa's business rules: pure Python, standard library only.

One package per bounded context, each with its model, its use cases and its ports, layered
as their `May use:` lines say (tests/domain/test_layering.py enforces it): kernel, access,
catalog, inventory, orders, sourcing, checkout, fulfillment, service_desk, returns. Above them
all, `ports` (the union of every context's ports, for the adapters) and `application` (the use
cases bound to their ports, for the API, the CLI and tests).
"""
