"""The label signature check refuses malformed query strings instead of raising (a 500)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from api import labels

RET = SimpleNamespace(number="PR-000001-R1", customer_email="ada@example.com")
NOW = datetime(2030, 1, 1, tzinfo=UTC)
KEY = labels.label_key("a-secret-long-enough-for-the-test-only")


@pytest.mark.parametrize(("expires", "given"), [("²", "x"), ("9999999999", "é"),
                                                ("12a", "x"), ("", "x"), ("9999999999", "")])
def test_a_malformed_label_query_is_refused_not_raised(expires, given):
    assert labels.valid(KEY, RET, expires=expires, given=given, now=NOW) is False


def test_a_good_signature_is_accepted_until_it_expires():
    expires = int(NOW.timestamp()) + 60
    good = labels.signature(KEY, RET.number, RET.customer_email, expires)
    assert labels.valid(KEY, RET, expires=str(expires), given=good, now=NOW)
    assert not labels.valid(KEY, RET, expires=str(expires), given=good,
                            now=datetime(2031, 1, 1, tzinfo=UTC))
