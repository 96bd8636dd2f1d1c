"""Tables, repositories, the unit of work, read queries, migrations and the outbox."""
