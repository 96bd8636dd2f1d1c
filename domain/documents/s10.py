"""UPU S10 item identifiers: `RT123456785IT`.

Two letters naming the service, an 8-digit serial, one check digit and the ISO 3166 country
of the issuing operator. The check digit (UPU standard S10, section on the check digit): the
serial's digits are weighted 8 6 4 2 3 5 9 7 and summed; the check is 11 − (sum mod 11),
except that 10 becomes 0 and 11 becomes 5.
"""

from __future__ import annotations

import re

WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
MAX_SERIAL = 99_999_999
S10_RE = re.compile(r"^(?P<service>[A-Z]{2})(?P<serial>[0-9]{8})(?P<check>[0-9])"
                    r"(?P<country>[A-Z]{2})$")


def check_digit(serial: str) -> int:
    """The S10 check digit of an 8-digit serial."""
    if len(serial) != 8 or not (serial.isascii() and serial.isdigit()):
        raise ValueError(f"an S10 serial is 8 digits, not {serial!r}")
    remainder = sum(w * int(d) for w, d in zip(WEIGHTS, serial, strict=True)) % 11
    check = 11 - remainder
    return {10: 0, 11: 5}.get(check, check)


def _letters(value: str, what: str) -> str:
    if len(value) != 2 or not (value.isascii() and value.isalpha() and value.isupper()):
        raise ValueError(f"an S10 {what} is two capital letters, not {value!r}")
    return value


def identifier(service: str, serial: int, country: str) -> str:
    """The S10 identifier of a serial for a service indicator and an operator's country."""
    if not 0 <= serial <= MAX_SERIAL:
        raise ValueError(f"an S10 serial is 0…{MAX_SERIAL}, not {serial}")
    digits = f"{serial:08d}"
    return f"{_letters(service, 'service')}{digits}{check_digit(digits)}" \
           f"{_letters(country, 'country')}"


def is_valid(number: str) -> bool:
    """Whether `number` is an S10 identifier whose check digit is right (exact form only:
    normalise scanned or typed input with `normalise` first)."""
    found = S10_RE.fullmatch(number)
    return found is not None and check_digit(found["serial"]) == int(found["check"])


def normalise(text: str) -> str:
    """`RT123456785IT` from what a person typed: ` rt 1234 5678 5 it `."""
    return "".join(text.split()).upper()
