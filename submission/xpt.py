"""SAS XPORT (XPT) version 5: the submission file format (FDA: one dataset per file).

Public entry points; the work is split by job: ``xpt_layout`` (record layouts, limits, formats),
``xpt_ibm`` (IEEE <-> IBM 370 doubles), ``xpt_writer`` and ``xpt_reader``.
"""
from __future__ import annotations

from trialforge.submission.xpt_ibm import ibm_to_ieee, ieee_to_ibm
from trialforge.submission.xpt_layout import SAS_EPOCH, SasFormat, XptWriteError, parse_format
from trialforge.submission.xpt_reader import read_xpt, read_xpt_folder
from trialforge.submission.xpt_writer import DEFAULT_CREATED, write_xpt

__all__ = [
    "write_xpt", "read_xpt", "read_xpt_folder", "XptWriteError", "SAS_EPOCH", "DEFAULT_CREATED",
    "SasFormat", "parse_format", "ieee_to_ibm", "ibm_to_ieee",
]
