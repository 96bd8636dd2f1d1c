"""Following a stream: resume checks, the exactly-once cursor, hints between processes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from domain.kernel import errors
from domain.kernel.streams import (
    Cursor,
    StoredEvent,
    check_resume,
    decode_hints,
    encode_hints,
    level_matches,
    merge_heads,
    parse_after,
)

AT = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)


def ev(sequence: int, **payload) -> StoredEvent:
    return StoredEvent("s", sequence, "T", AT, payload)


def seqs(events) -> list[int]:
    return [e.sequence for e in events]


# --- after ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [(None, None), ("0", 0), (" 42 ", 42),
                                                ("9223372036854775807", 2**63 - 1)])
def test_after_is_a_decimal_sequence_or_absent(raw, expected):
    assert parse_after(raw) == expected


@pytest.mark.parametrize("raw", ["", "-1", "1.5", "abc", "0x10", "\u0663", "9223372036854775808"])
def test_after_that_is_not_a_sequence_is_invalid_input(raw):
    with pytest.raises(errors.InvalidInput) as caught:
        parse_after(raw)
    assert caught.value.field == ["after"]


def test_resuming_within_retention_is_allowed():
    check_resume(0, head=0, oldest=None)  # an empty stream, from its start
    check_resume(0, head=5, oldest=1)  # from the start, all kept
    check_resume(3, head=5, oldest=4)  # exactly the first kept event is the next one
    check_resume(5, head=5, oldest=None)  # up to date, though everything was pruned


@pytest.mark.parametrize(("after", "head", "oldest", "says"), [
    (0, 5, 2, "past retention (events from 2 on are kept)"),
    (3, 9, 6, "past retention (events from 6 on are kept)"),
    (2, 5, None, "past retention (none is kept)"),
    (6, 5, 1, "beyond the stream's last event (5)"),
])
def test_resuming_where_events_are_gone_requires_a_resync(after, head, oldest, says):
    with pytest.raises(errors.ResyncRequired) as caught:
        check_resume(after, head=head, oldest=oldest)
    assert caught.value.code == "RESYNC_REQUIRED"
    assert says in caught.value.message


# --- the cursor ------------------------------------------------------------------------------


def test_cursor_delivers_in_order_and_drops_what_it_already_delivered():
    cursor = Cursor(2)
    fresh, hole = cursor.take([ev(1), ev(2), ev(3), ev(4)])
    assert (seqs(fresh), hole, cursor.position) == ([3, 4], None, 4)
    fresh, hole = cursor.take([ev(3), ev(4), ev(5)])  # the seam: the live feed overlaps
    assert (seqs(fresh), hole, cursor.position) == ([5], None, 5)


def test_cursor_stops_at_a_hole_and_says_where_it_starts():
    cursor = Cursor(4)
    fresh, hole = cursor.take([ev(5), ev(6), ev(9), ev(10)])
    assert (seqs(fresh), hole, cursor.position) == ([5, 6], 7, 6)
    fresh, hole = cursor.take([ev(9)])
    assert (fresh, hole, cursor.position) == ([], 7, 6)


def test_replay_continues_the_position_up_to_the_feed():
    cursor = Cursor(3)
    assert seqs(cursor.replay([ev(4), ev(5), ev(6), ev(7)], upto=6)) == [4, 5, 6]
    assert cursor.position == 6
    assert cursor.replay([], upto=6) == []


@pytest.mark.parametrize("read", [[], [StoredEvent("s", 5, "T", AT)]])
def test_replay_that_does_not_start_right_after_the_position_requires_a_resync(read):
    cursor = Cursor(3)
    with pytest.raises(errors.ResyncRequired):
        cursor.replay(read, upto=8)
    assert cursor.position == 3


def test_replay_with_a_hole_inside_requires_a_resync():
    cursor = Cursor(0)
    with pytest.raises(errors.ResyncRequired, match="event 3 is no longer kept"):
        cursor.replay([ev(1), ev(2), ev(4)], upto=4)


# --- hints -----------------------------------------------------------------------------------


def test_hints_round_trip_in_messages_that_fit():
    heads = {f"order:PR-{i:06d}": i for i in range(1, 200)} | {"orders": 199, "inventory": 7}
    messages = encode_hints(heads, max_bytes=1024)
    assert len(messages) > 1
    assert all(len(m.encode()) <= 1024 for m in messages)
    decoded: dict[str, int] = {}
    for message in messages:
        merge_heads(decoded, decode_hints(message))
    assert decoded == heads
    assert encode_hints(dict(reversed(list(heads.items()))), max_bytes=1024) == messages


def test_a_stream_name_too_long_for_a_message_is_not_sent():
    assert encode_hints({"x" * 2000: 1, "orders": 3}, max_bytes=1024) == ['[["orders",3]]']
    assert encode_hints({}, max_bytes=1024) == []


@pytest.mark.parametrize("message", ["", "nope", "{}", '{"orders": 3}', "[1, 2]", "null"])
def test_malformed_hints_are_ignored(message):
    assert decode_hints(message) == {}


def test_hints_keep_valid_pairs_and_the_highest_sequence():
    message = json.dumps([["a", 3], ["a", 5], ["a", 4], ["b", -1], ["c", True], ["d", "7"],
                          ["e", 2, 3], [9, 1], ["f", 0]])
    assert decode_hints(message) == {"a": 5, "f": 0}


def test_merging_heads_keeps_the_highest():
    heads = {"a": 5}
    merge_heads(heads, {"a": 3, "b": 1})
    assert heads == {"a": 5, "b": 1}


# --- inventory filters ----------------------------------------------------------------------


LEVEL = dict(sku="TSHIRT", location="ST-ROMA", onHand=5, reserved=1, available=4)


@pytest.mark.parametrize(("skus", "locations", "expected"), [
    (None, None, True), ({"TSHIRT"}, None, True), ({"LAMP"}, None, False),
    (None, {"ST-ROMA"}, True), ({"TSHIRT"}, {"WH-MIL"}, False),
])
def test_level_changes_match_the_filters(skus, locations, expected):
    assert level_matches(ev(1, **LEVEL), skus=skus, locations=locations) is expected


def test_events_without_a_level_never_match():
    incoming = ev(1, sku="TSHIRT", location="ST-ROMA", quantity=10)
    assert level_matches(incoming, skus=None, locations=None) is False
