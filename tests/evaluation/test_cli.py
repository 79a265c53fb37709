import io

import pandas as pd
import pytest

from skpref._cli import main
from tests.evaluation.conftest import FILES

pytestmark = pytest.mark.filterwarnings("ignore:evaluate. the subset")


@pytest.mark.parametrize("suffix", [".html", ".md", ".csv"])
def test_evaluate_writes_the_report(tmp_path, suffix):
    out = io.StringIO()
    path = tmp_path / f"report{suffix}"
    argv = ["evaluate", "length-ruler", "--benchmark", "rm-bench", "--data-files",
            str(FILES["rm-bench"]), "--out", str(path),
            "--n-resamples", "20"]  # fmt: skip
    assert main(argv, out=out) == 0
    printed = out.getvalue()
    assert "| total | total | 10 |" in printed and f"wrote {path}" in printed
    if suffix == ".csv":
        assert pd.read_csv(path)["level"].iloc[-1] == "total"
    else:
        assert "total" in path.read_text()


def test_evaluate_a_saved_pipeline(tmp_path, tiny_models):
    from sklearn.pipeline import Pipeline

    from skpref import BTLRewardRegressor, LLMEmbeddingTransformer, save
    from skpref.datasets import preference_pairs

    data = [{"prompt": f"q{i}", "chosen": f"A long answer {i}.", "rejected": "No."}
            for i in range(10)]  # fmt: skip
    X, y = preference_pairs(data, random_state=0)
    pipe = Pipeline([
        ("embed", LLMEmbeddingTransformer(model_name_or_path=str(tiny_models["bert"]),
                                          max_length=16, device="cpu")),
        ("rm", BTLRewardRegressor(hidden_dim=4, latent_dim=2, max_epochs=1,
                                  device="cpu", random_state=0)),
    ]).fit(X, y)  # fmt: skip
    save(pipe, tmp_path / "model.skpref")
    pd.DataFrame(data).to_json(tmp_path / "pairs.jsonl", orient="records", lines=True)
    out = io.StringIO()
    argv = ["evaluate", str(tmp_path / "model.skpref"), "--benchmark", "pairs",
            "--data-files", str(tmp_path / "pairs.jsonl"),
            "--n-resamples", "10"]  # fmt: skip
    assert main(argv, out=out) == 0
    assert "| total | total | 10 |" in out.getvalue()


def test_evaluate_bad_input(cli_error, tmp_path):
    err = cli_error(
        [
            "evaluate",
            "length-ruler",
            "--benchmark",
            "rewardbench",
            "--data-files",
            str(FILES["rm-bench"]),
        ],  # fmt: skip
        command="evaluate",
    )
    assert "needs the columns" in err and "['subset']" in err
    err = cli_error(
        [
            "evaluate",
            "length-ruler",
            "--benchmark",
            "pairs",
            "--out",
            "r.pdf",
            "--data-files",
            str(FILES["rm-bench"]),
        ],  # fmt: skip
        command="evaluate",
    )
    assert "expected a .html, .md or .csv file; got r.pdf" in err


@pytest.mark.parametrize(
    "flags, match",
    [
        (["--max-length", "64"], "argument --max-length: the length ruler does not"),
        (["--batch-size", "2"], "argument --batch-size: the length ruler does not"),
        (["--device", "cpu"], "argument --device: the length ruler does not"),
    ],
)
def test_evaluate_refuses_flags_the_length_ruler_ignores(cli_error, flags, match):
    # they were ignored: the scores were not those asked for
    argv = ["evaluate", "length-ruler", "--benchmark", "rm-bench", "--data-files",
            str(FILES["rm-bench"]), *flags]  # fmt: skip
    assert match in cli_error(argv, command="evaluate")


def test_evaluate_refuses_flags_a_saved_pipeline_ignores(cli_error, tmp_path):
    # a saved pipeline embeds with the max_length it was fitted with
    model = tmp_path / "model.skpref"
    model.write_bytes(b"not read: the flags are checked first")
    argv = ["evaluate", str(model), "--benchmark", "rm-bench", "--data-files",
            str(FILES["rm-bench"]), "--max-length", "64"]  # fmt: skip
    err = cli_error(argv, command="evaluate")
    assert f"argument --max-length: the saved pipeline {str(model)!r} does not" in err


def test_evaluate_gives_a_hugging_face_model_only_the_flags_given(monkeypatch):
    import skpref.evaluation
    from skpref._cli import build_parser
    from skpref._cli_evaluate import _scorer

    monkeypatch.setattr(skpref.evaluation, "HFRewardScorer", lambda model, **kw: kw)
    args = build_parser().parse_args(
        ["evaluate", "org/rm", "--benchmark", "rm-bench", "--max-length", "64"]
    )
    assert _scorer(args) == {"device": None, "show_progress": True, "max_length": 64}
