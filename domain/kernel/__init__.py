"""The shared kernel: what every context speaks — errors with stable codes, domain events and
their streams, money, tax, distances, the bounds on dates callers send (`dates.py`), the
clock and the transaction port.

May use: nothing.
"""
