"""The tables workers' tasks (`build.dispatch_tasks`): every output once, figures first in catalogue order,
listings longest first, the other tables grouped by population and first dataset besides it."""
from __future__ import annotations

import pandas as pd

from trialforge.tables.build import dispatch_tasks
from trialforge.tables.catalogue import default_catalogue
from trialforge.tables.spec import Listing, TableSpec
from trialforge.tables.tabledata import TableData


def _data(rows: dict) -> TableData:
    return TableData({name: pd.DataFrame({"USUBJID": [f"S{i}" for i in range(n)]}) for name, n in rows.items()},
                     prepare=False)


def test_every_output_is_in_exactly_one_task_and_the_order_is_figures_listings_groups():
    specs = default_catalogue().outputs
    rows = {d.upper(): 10 for s in specs for d in s.requires}
    rows["ADAE"] = 500
    tasks = dispatch_tasks(specs, _data(rows))
    flat = [i for t in tasks for i in t]
    assert sorted(flat) == list(range(len(specs)))
    kinds = ["figure" if not isinstance(specs[t[0]], TableSpec) else
             "listing" if isinstance(specs[t[0]].layout, Listing) else "table" for t in tasks]
    # figures, then listings, then table groups: never out of that order
    assert kinds == sorted(kinds, key=["figure", "listing", "table"].index)
    figures = [t[0] for t, k in zip(tasks, kinds) if k == "figure"]
    assert figures == sorted(figures) and all(len(t) == 1 for t, k in zip(tasks, kinds) if k != "table")
    listings = [specs[t[0]] for t, k in zip(tasks, kinds) if k == "listing"]
    sizes = [max(rows[d.upper()] for d in s.requires) for s in listings]
    assert sizes == sorted(sizes, reverse=True)
    groups = [t for t, k in zip(tasks, kinds) if k == "table"]
    assert [len(g) for g in groups] == sorted((len(g) for g in groups), reverse=True)
    for g in groups:                                   # one population and one first own dataset per group
        keys = set()
        for i in g:
            s = specs[i]
            own = [d.upper() for d in s.requires if d.upper() != s.population.dataset.upper()]
            keys.add((repr(s.population), own[0] if own else ""))
        assert len(keys) == 1
        assert g == sorted(g)                          # catalogue order inside a group


def test_hand_made_outputs_are_grouped_as_stated():
    from dataclasses import replace
    cat = default_catalogue()
    tables = [s for s in cat.outputs if isinstance(s, TableSpec) and not isinstance(s.layout, Listing)]
    base = tables[0]
    a = replace(base, id="1", requires=("ADSL", "ADAE"))
    b = replace(base, id="2", requires=("ADSL",))
    c = replace(base, id="3", requires=("ADSL", "ADAE", "ADLB"))
    d = replace(base, id="4", requires=("ADSL", "ADLB", "ADAE"))
    tasks = dispatch_tasks([a, b, c, d], _data({"ADSL": 5, "ADAE": 5, "ADLB": 5}))
    assert tasks == [[0, 2], [1], [3]]
