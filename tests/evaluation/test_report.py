import base64
import re

import matplotlib
import pytest

from skpref.evaluation import evaluate, length_ruler, load_benchmark
from tests.evaluation.conftest import FILES

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def report():
    bench = load_benchmark("rm-bench", FILES["rm-bench"])
    with pytest.warns(UserWarning, match="fewer than 10"):
        return evaluate(length_ruler, bench, n_resamples=30)


def test_scores_and_total(report):
    scores = report.scores
    assert scores["level"].unique().tolist() == ["subset", "section", "style", "total"]
    assert scores.loc[scores["level"] == "style", "name"].tolist() == [
        "hard", "normal", "easy"
    ]  # fmt: skip
    assert (scores["ci_low"] <= scores["score"]).all()
    assert (scores["score"] <= scores["ci_high"]).all()
    # the fixtures' chosen responses are longer in the markdown style only
    assert report.total == pytest.approx(scores["ruler"].iloc[-1])
    assert len(report.results) == 10 and "hard" in report.results
    assert repr(report).startswith("EvaluationReport('rm-bench', 'length_ruler'")


def test_markdown(report):
    lines = report.to_markdown().splitlines()
    assert len(lines) == 2 + len(report.scores)
    assert lines[-1].startswith("| total | total | 10 |")


def test_html_is_self_contained(report):
    page = report.to_html()
    image = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)'", page).group(1)
    assert base64.b64decode(image).startswith(b"\x89PNG")
    assert "http" not in page.replace("http-equiv", "")
    assert page.count("<tr>") == len(report.scores) + 1


def test_plot_labels(report):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert report.plot(ax=ax) is ax
    assert ax.get_ylabel() == "score (95% CI)"
    assert ax.get_xlabel() == "rm-bench subset"
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[-1] == "total" and "chat" in labels
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    assert legend == {"length_ruler", "length ruler"}
    plt.close(fig)
