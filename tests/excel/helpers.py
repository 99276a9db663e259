"""Builders for test sheets."""
from __future__ import annotations


def national_code(first9: str) -> str:
    """A valid 10-digit national code with the given first nine digits."""
    s = sum(int(first9[i]) * (10 - i) for i in range(9)) % 11
    return first9 + str(s if s < 2 else 11 - s)
