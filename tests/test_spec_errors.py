"""Every spec mistake names the spec file, the variable and the offending text, and says what would be valid."""
import pytest

from trialforge.errors import TrialforgeError
from trialforge.sdtm.engine import build_sdtm
from trialforge.specs.study import load_study


def _replace(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


CASES = [
    # (replace in ae.yaml, new text, variable, offending text, words that say what is valid)
    ("  AETERM: {from: TERM}", "  AETERM: {from: TERM, uper: true}", "AETERM", "uper", "did you mean upper"),
    ("  AETERM: {from: TERM}", "  AETERM: {form: TERM}", "AETERM", "form", "did you mean format or from?"),
    ("  AESEV: {from: SEV, ct: AESEV}", "  AESEV: {from: SEV, ct: AESEVX}", "AESEV", "AESEVX", "did you mean AESEV"),
    ("  AETERM: {from: TERM}", "  AETERM: {expr: \"upper(TERM) = 'X'\"}", "AETERM", "upper(TERM) = 'X'", "=="),
    ("  AETERM: {from: TERM}", "  AETERM: {expr: \"uper(TERM)\"}", "AETERM", "uper(TERM)", "known: add_days"),
    ("  AETERM: {from: TERM}", "  AETERM: {expr: \"upper(TERN)\"}", "TERN", "upper(TERN)", "did you mean TERM"),
    ("  AETERM: {from: TERM}", "  AETREM: {from: TERM}", "AETREM", None, "did you mean AETERM"),
    ("  AETERM: {from: TERM}", "  AETERM: {from: TERN}", "TERN", None, "did you mean TERM"),
    ("  AESTDY: {study_day: AESTDTC}", "  AESTDY: {study_day: AESTDTC, date: X}", "AESTDY", "date", "visit or visitnum"),
]


@pytest.mark.parametrize("old,new,variable,text,valid", CASES, ids=[c[1].strip()[:30] for c in CASES])
def test_spec_mistake_names_file_variable_text_and_the_fix(mini_study, old, new, variable, text, valid):
    _replace(mini_study / "specs" / "ae.yaml", old, new)
    with pytest.raises(TrialforgeError) as err:
        build_sdtm(load_study(mini_study))
    e = err.value
    assert "ae.yaml" in e.message                       # the spec file (as file, or in the cause for raw-data errors)
    assert e.column == variable
    if text is not None:
        assert e.value == text
    assert valid in e.cause
