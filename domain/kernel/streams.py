"""Following an outbox stream: where a subscriber resumes, and what it may be given next.

Every stream numbers its events 1, 2, 3, … in commit order, without gaps (the outbox is
written under a lock per stream). A subscriber remembers the last sequence it delivered; it
may receive an event again (once from its catch-up read, once from the live feed) or learn of
a later one before an earlier one has reached it. `Cursor` turns that into "exactly once, in
order": duplicates are dropped, and a hole is reported so the caller reads it from storage.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.kernel import errors

MAX_SEQUENCE = 2**63 - 1
MAX_STREAMS_PER_READ = 200  # one outbox read covers at most this many streams


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as the outbox holds it: one stream's copy, with its sequence in that stream."""

    stream: str
    sequence: int
    type: str
    at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


def parse_after(after: str | None) -> int | None:
    """`after` as clients send it (a decimal string, "0" for the stream's start) or None."""
    if after is None:
        return None
    text = after.strip()
    if not text.isdigit() or not text.isascii() or int(text) > MAX_SEQUENCE:
        raise errors.InvalidInput("after must be a sequence number such as \"0\" or \"42\"",
                                  field=["after"])
    return int(text)


def check_resume(after: int, *, head: int, oldest: int | None) -> None:
    """Refuse to resume where the events the subscriber missed are no longer all kept.

    `head` is the stream's last committed sequence, `oldest` the first still retained (None
    when none is).
    """
    if after > head:
        raise errors.ResyncRequired(
            f"after {after} is beyond the stream's last event ({head}): reload and follow "
            "without `after`", field=["after"])
    if after < head and (oldest is None or oldest > after + 1):
        kept = f"events from {oldest} on are kept" if oldest is not None else "none is kept"
        raise errors.ResyncRequired(
            f"events after {after} are past retention ({kept}): reload and follow again",
            field=["after"])


@dataclass(slots=True)
class Cursor:
    """The last sequence delivered to one subscriber; decides what comes next."""

    position: int

    def take(self, events: Sequence[StoredEvent]) -> tuple[list[StoredEvent], int | None]:
        """Events to deliver now, in order, and where a hole starts (None when there is none).

        Events at or before the position were delivered already and are dropped. Delivery
        stops before the first event that does not follow the last one delivered; the hole
        must be filled from storage first. The position advances past what is returned.
        """
        out: list[StoredEvent] = []
        for event in events:
            if event.sequence <= self.position:
                continue
            if event.sequence != self.position + 1:
                return out, self.position + 1
            out.append(event)
            self.position = event.sequence
        return out, None

    def replay(self, events: Sequence[StoredEvent], *, upto: int) -> list[StoredEvent]:
        """Events read from storage to catch up to `upto`; they must continue the position.

        Storage keeps each stream gap-free, so a read that does not start right after the
        position means the missing events were pruned: the subscriber must resync.
        """
        if self.position < upto and (not events or events[0].sequence > self.position + 1):
            raise errors.ResyncRequired(
                f"events after {self.position} are past retention: reload and follow again",
                field=["after"])
        out, hole = self.take([e for e in events if e.sequence <= upto])
        if hole is not None:
            raise errors.ResyncRequired(f"event {hole} is no longer kept: reload and follow "
                                        "again", field=["after"])
        return out


# --- hints: "stream S has events up to N", the only thing sent between processes ------------


def encode_hints(heads: Mapping[str, int], *, max_bytes: int) -> list[str]:
    """Pack (stream, last sequence) pairs into as few messages of at most `max_bytes` as fit.

    Streams are sorted so that the same heads always give the same messages.
    """
    messages: list[str] = []
    current: list[list[Any]] = []
    size = 2
    for stream in sorted(heads):
        pair = [stream, heads[stream]]
        cost = len(json.dumps(pair, separators=(",", ":")).encode()) + 1
        if cost + 2 > max_bytes:
            continue  # a stream name this long is not one of ours; never published
        if current and size + cost > max_bytes:
            messages.append(json.dumps(current, separators=(",", ":")))
            current, size = [], 2
        current.append(pair)
        size += cost
    if current:
        messages.append(json.dumps(current, separators=(",", ":")))
    return messages


def decode_hints(message: str) -> dict[str, int]:
    """The heads in a hint message; anything malformed is ignored (hints are advisory)."""
    try:
        pairs = json.loads(message)
    except (ValueError, TypeError):
        return {}
    out: dict[str, int] = {}
    if not isinstance(pairs, list):
        return out
    for pair in pairs:
        if (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
                and isinstance(pair[1], int) and not isinstance(pair[1], bool)
                and pair[1] >= 0):
            out[pair[0]] = max(pair[1], out.get(pair[0], 0))
    return out


def merge_heads(into: dict[str, int], heads: Mapping[str, int]) -> None:
    """Keep the highest sequence seen per stream."""
    for stream, sequence in heads.items():
        if sequence > into.get(stream, -1):
            into[stream] = sequence


# --- what each subscription wants from its stream ----------------------------------------


def is_level_change(event: StoredEvent) -> bool:
    """Inventory events that carry a level (onHand, reserved, available) after the change."""
    p = event.payload
    return all(isinstance(p.get(k), int) for k in ("onHand", "reserved", "available")) and \
        isinstance(p.get("sku"), str) and isinstance(p.get("location"), str)


def level_matches(event: StoredEvent, *, skus: Iterable[str] | None,
                  locations: Iterable[str] | None) -> bool:
    """Whether an inventory level change is for one of `skus` at one of `locations`."""
    if not is_level_change(event):
        return False
    if skus is not None and event.payload["sku"] not in skus:
        return False
    return locations is None or event.payload["location"] in locations
