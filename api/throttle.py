"""Token buckets: per-principal cost budgets and guest-lookup limits.

A bucket holds up to `capacity` tokens and gains `refill_per_second`; a request takes its cost
out of it or is refused with how long until it would fit. Buckets live in this process's
memory by default; with a Redis URL they live in Redis, updated by one Lua script (atomic), so
every process behind the load balancer spends from the same bucket. Time is Redis's own clock
there, so processes with drifting clocks still agree.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("promessa.throttle")
KEY_PREFIX = "promessa:bucket:"


@dataclass(frozen=True)
class Bucket:
    capacity: float
    refill_per_second: float

    @classmethod
    def per(cls, count: float, seconds: float) -> Bucket:
        """`count` at once, and `count` again every `seconds`."""
        return cls(capacity=count, refill_per_second=count / seconds)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: float
    retry_after: float  # seconds until the refused amount would fit; 0 when allowed

    @property
    def retry_after_seconds(self) -> int:
        """Whole seconds for `Retry-After` (rounded up, at least 1)."""
        return max(1, math.ceil(self.retry_after))


class Buckets(Protocol):
    async def take(self, key: str, amount: float, bucket: Bucket) -> Decision: ...

    async def close(self) -> None: ...


def _spend(tokens: float, amount: float, bucket: Bucket) -> tuple[bool, float, float]:
    if amount <= tokens:
        return True, tokens - amount, 0.0
    return False, tokens, (amount - tokens) / bucket.refill_per_second


class MemoryBuckets:
    """Buckets in this process; the least recently used are forgotten past `max_keys`."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        self.clock, self.max_keys = clock, max_keys
        self.state: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def take(self, key: str, amount: float, bucket: Bucket) -> Decision:
        now = self.clock()
        tokens, at = self.state.pop(key, (bucket.capacity, now))
        tokens = min(bucket.capacity, tokens + max(0.0, now - at) * bucket.refill_per_second)
        allowed, tokens, retry = _spend(tokens, amount, bucket)
        self.state[key] = (tokens, now)
        if len(self.state) > self.max_keys:
            self.state.popitem(last=False)
        return Decision(allowed, tokens, retry)

    async def close(self) -> None:
        self.state.clear()


# KEYS[1] bucket; ARGV capacity, refill per second, amount. Returns allowed, tokens, retry.
TAKE_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local amount = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local allowed = 0
local retry = 0
if amount <= tokens then
  tokens = tokens - amount
  allowed = 1
else
  retry = (amount - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, tostring(tokens), tostring(retry)}
"""


class RedisBuckets:
    """Buckets shared by every process using the same Redis. If Redis cannot be reached the
    request is let through (logged): an outage of the limiter must not become one of the API."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.redis: Any = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.script = self.redis.register_script(TAKE_SCRIPT)

    async def take(self, key: str, amount: float, bucket: Bucket) -> Decision:
        from redis.exceptions import RedisError

        try:
            allowed, tokens, retry = await self.script(
                keys=[KEY_PREFIX + key],
                args=[bucket.capacity, bucket.refill_per_second, amount])
        except (RedisError, OSError) as exc:
            log.warning("rate limiter unavailable, letting the request through: %r", exc)
            return Decision(True, bucket.capacity, 0.0)
        return Decision(bool(int(allowed)), float(tokens), float(retry))

    async def close(self) -> None:
        await self.redis.aclose()


def open_buckets(url: str | None) -> Buckets:
    """Redis buckets for a redis:// URL, this process's memory otherwise."""
    if url and url.startswith(("redis://", "rediss://")):
        return RedisBuckets(url)
    return MemoryBuckets()
