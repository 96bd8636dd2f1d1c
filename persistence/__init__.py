"""Tables, repositories (one module per domain context: catalog, inventory, orders,
sourcing, returns, idempotency), the unit of work, read queries, migrations and the outbox."""
