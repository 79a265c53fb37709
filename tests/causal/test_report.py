import pandas as pd
import pytest

from skpref.causal import DiagnosticReport


def test_report_is_a_read_only_mapping():
    table = pd.DataFrame({"a": [1, 2]})
    report = DiagnosticReport("t", {"x": 1.5, "n": 3}, {"tab": table}, ["bad"])
    assert list(report) == ["x", "n", "tab"] and len(report) == 3
    assert report["tab"] is table and dict(report)["x"] == 1.5
    with pytest.raises(KeyError, match=r"'y' is not in this report; it has \['x'"):
        report["y"]
    frame = report.to_frame()
    assert frame.loc["n", "value"] == 3 and list(frame.index) == ["x", "n"]
    text = str(report)
    assert "x  1.5" in text and "tab:" in text and "- bad" in text
    assert repr(report) == "DiagnosticReport('t', 2 figures, 1 tables, 1 problems)"
