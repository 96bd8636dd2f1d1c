"""Token buckets on their own: refill, refusal with the wait, and the same answers from the
in-memory buckets and from the Redis script."""

from __future__ import annotations

import uuid

import pytest

from api.http import negotiate
from api.throttle import Bucket, MemoryBuckets, RedisBuckets
from tests.persistence.test_fanout_backends import _redis_url

pytestmark = pytest.mark.anyio


class Ticking:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_bucket_refuses_what_it_cannot_pay_and_says_how_long_to_wait():
    clock = Ticking()
    buckets = MemoryBuckets(clock=clock)
    bucket = Bucket(capacity=3, refill_per_second=2)
    assert [(await buckets.take("k", 1, bucket)).remaining for _ in range(3)] == [2, 1, 0]
    refused = await buckets.take("k", 3, bucket)
    assert not refused.allowed and refused.retry_after == 1.5 and refused.remaining == 0
    assert refused.retry_after_seconds == 2
    clock.now += 1.5
    assert (await buckets.take("k", 3, bucket)).allowed
    clock.now += 100  # refills up to the capacity, no further
    assert (await buckets.take("k", 0, bucket)).remaining == 3
    assert (await buckets.take("other", 3, bucket)).allowed  # keys are independent


async def test_the_least_recently_used_keys_are_forgotten_past_the_bound():
    buckets = MemoryBuckets(clock=Ticking(), max_keys=2)
    bucket = Bucket(capacity=1, refill_per_second=0.001)
    for key in ("a", "b", "c"):
        assert (await buckets.take(key, 1, bucket)).allowed
    assert list(buckets.state) == ["b", "c"]


@pytest.mark.redis
async def test_the_redis_bucket_answers_like_the_memory_one():
    buckets = RedisBuckets(_redis_url())
    key = uuid.uuid4().hex
    bucket = Bucket(capacity=3, refill_per_second=0.001)
    try:
        taken = [await buckets.take(key, 1, bucket) for _ in range(3)]
        assert [d.allowed for d in taken] == [True] * 3
        assert [round(d.remaining) for d in taken] == [2, 1, 0]
        refused = await buckets.take(key, 2, bucket)
        assert not refused.allowed and 1000 < refused.retry_after <= 2000
        ttl = await buckets.redis.pttl("promessa:bucket:" + key)
        assert 0 < ttl <= 3_001_000  # forgotten once it would be full again
    finally:
        await buckets.redis.delete("promessa:bucket:" + key)
        await buckets.close()


async def test_an_unreachable_redis_lets_requests_through(caplog):
    buckets = RedisBuckets("redis://127.0.0.1:1/0")
    try:
        decision = await buckets.take("k", 5, Bucket(capacity=1, refill_per_second=1))
    finally:
        await buckets.close()
    assert decision.allowed
    assert "rate limiter unavailable" in caplog.text


@pytest.mark.parametrize(("accept", "chosen"), [
    (None, "application/json"), ("", "application/json"), ("*/*", "application/json"),
    ("application/*", "application/json"),
    ("application/graphql-response+json", "application/graphql-response+json"),
    ("application/json;q=0.5, application/graphql-response+json",
     "application/graphql-response+json"),
    ("application/graphql-response+json;q=0.2, application/json", "application/json"),
    ("text/html, application/xhtml+xml", None), ("application/json;q=0", None),
    ("application/json;q=abc", None),
])
def test_negotiation_picks_our_media_type_the_client_prefers(accept, chosen):
    assert negotiate(accept) == chosen
