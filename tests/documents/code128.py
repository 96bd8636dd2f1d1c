"""An independent Code 128 decoder, for the tests: from the widths of bars and spaces (in
modules) back to text. Written from the standard's symbol table (ISO/IEC 15417), not from
reportlab's encoder, so a wrong encoding cannot be "confirmed" by its own inverse."""

from __future__ import annotations

from collections.abc import Sequence

# symbol value -> widths of bar, space, bar, space, bar, space in modules; 106 is the stop,
# which has a seventh element (a final bar)
PATTERNS = (
    "212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 "
    "221312 231212 112232 122132 122231 113222 123122 123221 223211 221132 "
    "221231 213212 223112 312131 311222 321122 321221 312212 322112 322211 "
    "212123 212321 232121 111323 131123 131321 112313 132113 132311 211313 "
    "231113 231311 112133 112331 132131 113123 113321 133121 313121 211331 "
    "231131 213113 213311 213131 311123 311321 331121 312113 312311 332111 "
    "314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 "
    "112412 122114 122411 142112 142211 241211 221114 413111 241112 134111 "
    "111242 121142 121241 114212 124112 124211 411212 421112 421211 212141 "
    "214121 412121 111143 111341 131141 114113 114311 411113 411311 113141 "
    "114131 311141 411131 211412 211214 211232 2331112").split()
VALUE = {pattern: value for value, pattern in enumerate(PATTERNS)}
START = {103: "A", 104: "B", 105: "C"}
STOP = 106
SHIFT, CODE_C, FNC1 = 98, 99, 102
SWITCH = {"A": {100: "B", 99: "C"}, "B": {101: "A", 99: "C"}, "C": {100: "B", 101: "A"}}


class NotCode128(ValueError):
    """Widths that are not a well-formed Code 128 symbol."""


def symbols(widths: Sequence[int]) -> list[int]:
    """The symbol values (start … check) of a whole symbol's element widths."""
    if (len(widths) - 7) % 6 or len(widths) < 7 + 3 * 6:
        raise NotCode128(f"{len(widths)} elements is not start, data, check and stop")
    if "".join(map(str, widths[-7:])) != PATTERNS[STOP]:
        raise NotCode128("no stop pattern at the end")
    values = []
    for i in range(0, len(widths) - 7, 6):
        pattern = "".join(map(str, widths[i:i + 6]))
        if pattern not in VALUE:
            raise NotCode128(f"{pattern} at element {i} is no Code 128 symbol")
        values.append(VALUE[pattern])
    return values


def _char(value: int, code: str) -> str:
    if code == "A":
        return chr(value + 32) if value < 64 else chr(value - 64)
    return chr(value + 32)


def decode(widths: Sequence[int]) -> str:
    """The text a Code 128 symbol carries; NotCode128 when the check symbol disagrees."""
    values = symbols(widths)
    start, data, check = values[0], values[1:-1], values[-1]
    if start not in START:
        raise NotCode128(f"{start} is not a start symbol")
    if (start + sum(i * v for i, v in enumerate(data, start=1))) % 103 != check:
        raise NotCode128("the check symbol does not match")
    code, out, i = START[start], [], 0
    while i < len(data):
        value = data[i]
        if code == "C" and value < 100:
            out.append(f"{value:02d}")
        elif value in SWITCH[code]:
            code = SWITCH[code][value]
        elif code != "C" and value == SHIFT:
            i += 1
            out.append(_char(data[i], "B" if code == "A" else "A"))
        elif value == FNC1 or value >= 96:
            pass  # function codes carry no text
        else:
            out.append(_char(value, code))
        i += 1
    return "".join(out)
