"""The return's status machine (SPEC §2): which status may follow which, and how a received
return settles by its resolution."""

from __future__ import annotations

from enum import StrEnum

from domain.returns.policy import Resolution


class ReturnStatus(StrEnum):
    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    IN_TRANSIT = "IN_TRANSIT"
    RECEIVED = "RECEIVED"
    REFUNDED = "REFUNDED"
    EXCHANGED = "EXCHANGED"
    CREDITED = "CREDITED"
    CLOSED = "CLOSED"
    REJECTED = "REJECTED"


R = ReturnStatus
RETURN_TRANSITIONS: dict[R, tuple[R, ...]] = {
    R.REQUESTED: (R.APPROVED, R.REJECTED),
    # a parcel dropped at a store is received without travelling; a label may go unused
    R.APPROVED: (R.IN_TRANSIT, R.RECEIVED, R.REJECTED),
    R.IN_TRANSIT: (R.RECEIVED,),
    R.RECEIVED: (R.REFUNDED, R.EXCHANGED, R.CREDITED),
    R.REFUNDED: (R.CLOSED,),
    R.EXCHANGED: (R.CLOSED,),
    R.CREDITED: (R.CLOSED,),
    R.CLOSED: (),
    R.REJECTED: (),
}
# After receipt a return settles the way its resolution says, and no other way.
SETTLES_AS = {Resolution.REFUND: R.REFUNDED, Resolution.EXCHANGE: R.EXCHANGED,
              Resolution.STORE_CREDIT: R.CREDITED}


def return_next(current: R, resolution: Resolution) -> tuple[R, ...]:
    """The statuses a return may move to next, its resolution applied."""
    allowed = RETURN_TRANSITIONS[current]
    if current is R.RECEIVED:
        return tuple(s for s in allowed if s is SETTLES_AS[resolution])
    return allowed
