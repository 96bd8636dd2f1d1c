"""Outward delivery: durable consumers of the outbox and the outlets they feed.

- runner.py: the loop each consumer runs (take in new events, claim jobs under a lease, hand
  them to the handler, write the outcome, back off or park), and `Consumers`, the set of them
  one process runs (`promessa serve` by default, or `promessa worker`).
- webhooks.py: signed POSTs to webhook endpoints (Standard Webhooks).
- broker.py: RabbitMQ, with publisher confirms.
- egress.py: the HTTP client that calls only public addresses in production.
"""
