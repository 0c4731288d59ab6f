"""The creation date written into XPT headers, define.xml and Dataset-JSON: never the wall clock.

A rerun with the same inputs must give the same bytes, so the date is an input: the study
configuration's `created` (study.yaml) when it says one, else the reproducible-builds convention
SOURCE_DATE_EPOCH (seconds since 1970-01-01 UTC, written as UTC), else a fixed default.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from typing import Mapping

from trialforge.errors import SpecError

DEFAULT_CREATED = "2000-01-01T00:00:00"
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def creation_datetime(configured: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """ISO 8601 "YYYY-MM-DDThh:mm:ss" for file headers.

    >>> creation_datetime("2025-10-15T00:00:00", env={"SOURCE_DATE_EPOCH": "0"})
    '2025-10-15T00:00:00'
    >>> creation_datetime(None, env={"SOURCE_DATE_EPOCH": "1760486400"})
    '2025-10-15T00:00:00'
    >>> creation_datetime(None, env={})
    '2000-01-01T00:00:00'
    """
    if configured not in (None, ""):
        text = str(configured).strip()
        if len(text) == 10:                       # a date alone: midnight
            text += "T00:00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise SpecError("created must be an ISO 8601 date or datetime like 2025-10-15T00:00:00",
                            value=configured) from None
        if value.tzinfo is not None:              # an offset is kept as the same instant in UTC
            value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None, microsecond=0).isoformat()
    env = os.environ if env is None else env
    epoch = env.get("SOURCE_DATE_EPOCH")
    if epoch not in (None, ""):
        try:
            seconds = int(str(epoch).strip())
        except ValueError:
            raise SpecError("SOURCE_DATE_EPOCH must be whole seconds since 1970-01-01 UTC",
                            value=epoch) from None
        return datetime.fromtimestamp(seconds, tz=timezone.utc).replace(tzinfo=None).isoformat()
    return DEFAULT_CREATED
