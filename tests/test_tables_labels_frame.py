"""Label templates over a frame (labels.render_frame), expected labels written by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd

from trialforge.tables.labels import render_frame


def test_render_frame_by_hand():
    frame = pd.DataFrame({"ROUTE": pd.array(["INTRAVENOUS", "INTRATUMORAL", None, "INTRAVENOUS"], dtype="str"),
                          "DOSE": [1.0, 2.5, np.nan, 1.0],
                          "PART": pd.array(["A", "B", "B", "A"], dtype="str")},
                         index=[10, 11, 12, 13])
    got = render_frame("Part {PART}: {ROUTE:title} {DOSE}", frame)
    assert got.index.tolist() == [10, 11, 12, 13] and got.dtype == object
    assert got.tolist() == ["Part A: Intravenous 1", "Part B: Intratumoral 2.5", "Part B:", "Part A: Intravenous 1"]


def test_render_frame_without_fields_and_empty():
    frame = pd.DataFrame({"X": [1, 2]})
    assert render_frame("Total", frame).tolist() == ["Total", "Total"]
    assert render_frame("{X}", frame.iloc[:0]).tolist() == []
