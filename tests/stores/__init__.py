"""Stores for tests: an in-memory fake of the persistence ports, and the contract every store
(the fake, SQLite, PostgreSQL) is held to."""
