"""RECIST 1.1 response rules, vectorised, used to write the investigator response form so that it
is consistent with the lesion measurements (Eisenhauer et al., Eur J Cancer 2009; 45:228-247).

Response codes are the short RECIST abbreviations; the form builder turns them into EDC wording.
"""
from __future__ import annotations

import numpy as np

CR, PR, SD, PD, NE, NONCR_NONPD, NA = "CR", "PR", "SD", "PD", "NE", "NON-CR/NON-PD", "NA"


def target_response(sum_diam, baseline_sum, nadir_sum, all_nonnodal_zero, all_nodes_lt10, any_missing):
    """Target lesion response per visit.

    NE when a target lesion was not assessed; PD when the sum rose >= 20 % and >= 5 mm above the
    nadir (smallest sum on study, baseline included); CR when every non-nodal target has gone and
    every nodal target is < 10 mm short axis; PR when the sum fell >= 30 % below baseline; else SD.
    """
    s = np.asarray(sum_diam, dtype=float)
    nadir = np.asarray(nadir_sum, dtype=float)
    base = np.asarray(baseline_sum, dtype=float)
    pd_ = (s >= 1.2 * nadir) & (s - nadir >= 5.0)
    return np.select(
        [np.asarray(any_missing, bool), pd_, np.asarray(all_nonnodal_zero, bool) & np.asarray(all_nodes_lt10, bool),
         s <= 0.7 * base],
        [NE, PD, CR, PR], default=SD).astype(object)


def nontarget_response(n_lesions, n_absent, n_unequivocal, n_missing):
    """Non-target response: NA without non-target lesions, PD on unequivocal progression, CR when
    all are absent, NE when one was not assessed, else Non-CR/Non-PD."""
    n = np.asarray(n_lesions)
    return np.select(
        [n == 0, np.asarray(n_unequivocal) > 0, np.asarray(n_missing) > 0, np.asarray(n_absent) == n],
        [NA, PD, NE, CR], default=NONCR_NONPD).astype(object)


def overall_response(target, nontarget, new_lesion):
    """Overall response from RECIST 1.1 Table 1 (subjects with target lesions at baseline)."""
    t = np.asarray(target, dtype=object)
    nt = np.asarray(nontarget, dtype=object)
    new = np.asarray(new_lesion, dtype=bool)
    nt_cr = (nt == CR) | (nt == NA)
    return np.select(
        [new | (t == PD) | (nt == PD), t == NE, (t == CR) & nt_cr, (t == CR) | (t == PR), t == SD],
        [PD, NE, CR, PR, SD], default=NE).astype(object)
