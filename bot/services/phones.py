"""Vietnamese phone numbers: one canonical form (0 + national number) for comparing roster and shared contacts."""

from __future__ import annotations

import re

_NOISE = re.compile(r"[\s.\-()/]")


def normalize_phone(raw: str | None) -> str | None:
    """`+84 912 345 678`, `84912345678`, `0912.345.678` → `0912345678`; None when it is not a VN phone number.

    Mobile numbers have 9 digits after the leading 0, landlines (02x) have 10.
    """
    if raw is None:
        return None
    digits = _NOISE.sub("", str(raw).strip())
    if digits.endswith(".0"):  # a phone typed as a number in Excel
        digits = digits[:-2]
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith("84"):
            return None
    if digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    elif not digits.startswith("0") and len(digits) == 9:  # Excel dropped the leading zero
        digits = "0" + digits
    if not digits.isdigit() or not digits.startswith("0"):
        return None
    if len(digits) == 10 and digits[1] in "35789":
        return digits
    if len(digits) == 11 and digits[1] == "2":
        return digits
    return None
