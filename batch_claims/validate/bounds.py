"""The bounds a cell's value must keep, shared by the checks and their messages: a
tracking number's length, the largest amount a parcel's contents have, and cents."""

from __future__ import annotations

from decimal import Decimal

# A tracking number: 8 to 40 letters and digits (hyphens not counted).
TRACKING_LENGTH = (8, 40)
CENT = Decimal("0.01")
# No parcel's contents are worth more; a bigger amount is a typo or a wrong column.
MAX_AMOUNT = Decimal(1_000_000)
