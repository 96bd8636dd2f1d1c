"""Benchmarks: the app against a raw asyncpg / bare Starlette baseline measured in the same run."""
