"""The console's rate strings ("30/15m": 30 in 15 minutes), read in one place.

The settings refuse a bad one at start (swrconsole/environment.py);
credentials/security/throttling.py reads its count and window here and hands django-ratelimit
the same rate written in seconds (str(Rate): "10/900s", a form that library reads as it reads
"10/15m"). Pure: no Django.
"""

from __future__ import annotations

import re
from typing import NamedTuple

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# COUNT/UNIT or COUNT/NUNIT: 5/m, 10/15m, 30/5m, 100/d. ASCII digits only.
_FORM = re.compile(r"([0-9]+)/([0-9]*)([smhd])")
FORMS = "a count, '/', then s, m, h or d, optionally after a number: 10/15m, 5/m, 100/d"


class Rate(NamedTuple):
    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}s"


def parse(text: str) -> Rate:
    """'10/15m' → Rate(count=10, seconds=900); ValueError for anything else (a count or a
    window of 0 included: neither can be meant)."""
    match = _FORM.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not a rate ({FORMS})")
    count, multiple, unit = match.groups()
    rate = Rate(int(count), int(multiple or 1) * UNIT_SECONDS[unit])
    if rate.count < 1 or rate.seconds < 1:
        raise ValueError("a rate's count and window must be 1 or more")
    return rate
