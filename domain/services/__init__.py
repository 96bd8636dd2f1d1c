"""Use cases: each takes ports, a command and the principal; returns domain objects."""
