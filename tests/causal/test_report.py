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


def test_combine_keeps_a_shared_figure_and_refuses_two_values_of_it():
    table = pd.DataFrame({"a": [1.0, float("nan")]})
    first = DiagnosticReport("a", {"n_pairs": 3, "x": float("nan")}, {"t": table})
    same = DiagnosticReport("b", {"n_pairs": 3, "x": float("nan")}, {"t": table.copy()})
    merged = DiagnosticReport.combine("both", [first, same])
    assert merged["n_pairs"] == 3 and list(merged) == ["n_pairs", "x", "t"]
    other = DiagnosticReport("c", {"n_pairs": 4, "y": 1.0})
    with pytest.raises(ValueError, match="give 'n_pairs' two values, 3 and 4"):
        DiagnosticReport.combine("both", [first, other])
    other_table = DiagnosticReport("d", {}, {"t": table.fillna(0.0)})
    with pytest.raises(ValueError, match="give 't' two values"):
        DiagnosticReport.combine("both", [first, other_table])
