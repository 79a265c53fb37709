"""The paper-size commands handed to the GPU run, at toy sizes on the CPU."""

import pandas as pd
import pytest

from tests.conftest import load_benchmark


def _script():
    return load_benchmark("paper_size")


@pytest.mark.slow
def test_both_commands_write_at_most_eight_small_files_into_one_folder(tmp_path):
    script = _script()
    for part in ("tables", "scaling"):
        script.main([part, "--small", "--device", "cpu", "--out", str(tmp_path)])
    files = sorted(p.name for p in tmp_path.rglob("*"))
    assert files == [
        "figure6_confounding.png",
        "figure7_delta_plane.png",
        "figure_scaling.png",
        "scaling.md",
        "scaling_runs.csv",
        "tables.json",
        "tables.md",
        "tables_runs.csv",
    ]
    assert all(p.stat().st_size < 16 * 2**20 for p in tmp_path.iterdir())
    text = (tmp_path / "tables.md").read_text(encoding="utf-8")
    assert "Table 1" in text and "Table 2" in text and "Table 3" in text
    runs = pd.read_csv(tmp_path / "scaling_runs.csv")
    assert set(runs["model"]) == {"Multihead", "Adversarial"}
    assert set(runs["n_train"]) == set(script.SMALL["sizes"])
    assert set(runs["group"]) == {"inconsistent"}


def test_the_scaling_summary_pairs_the_models_by_seed():
    script = _script()
    runs = pd.DataFrame(
        {
            "n_train": [100] * 4,
            "rho": [1.0] * 4,
            "seed": [0, 0, 1, 1],
            "model": ["Multihead", "Adversarial"] * 2,
            "accuracy": [0.5, 0.7, 0.6, 0.7],
        }
    )
    row = script.scaling_summary(runs).iloc[0]
    assert row["difference mean"] == pytest.approx(15.0)
    assert row["difference s.e."] == pytest.approx(5.0)
    assert row["Multihead mean"] == pytest.approx(55.0)


@pytest.mark.slow
def test_the_generator_flag_reaches_the_source_and_the_report(tmp_path, monkeypatch):
    script = _script()
    seen = []
    real = script.SyntheticConfounded

    def recording(**params):
        seen.append(params.get("generator_params", "protocol"))
        return real(**params)

    monkeypatch.setattr(script, "SyntheticConfounded", recording)
    argv = ["scaling", "--small", "--device", "cpu", "--out", str(tmp_path)]
    script.main([*argv, "--generator", "defaults"])
    assert seen and all(params == {} for params in seen)
    assert '"generator_params": {}' in (tmp_path / "scaling.md").read_text("utf-8")
    seen.clear()
    script.main([*argv, "--seeds", "3"])
    assert seen and all(params == "protocol" for params in seen)
    runs = pd.read_csv(tmp_path / "scaling_runs.csv")
    assert runs["seed"].nunique() == 3  # the preset's 2 seeds overridden
    with pytest.raises(SystemExit):
        script.main([*argv, "--seeds", "1"])


def test_rhos_and_sizes_restrict_a_run_and_bad_values_name_the_flag(capsys, tmp_path):
    script = _script()
    out = tmp_path / "paper-size"
    assert script._unit_floats("0.9,1") == (0.9, 1.0)
    assert script._positive_ints("30000") == (30000,)
    for argv, flag in (
        (["--rhos", "1.5"], "--rhos"),
        (["--rhos", "a"], "--rhos"),
        (["--sizes", "0"], "--sizes"),
        (["--threads", "0"], "--threads"),
        (["--seeds", "1"], "--seeds"),
    ):
        with pytest.raises(SystemExit):
            script.main(["scaling", "--small", "--out", str(out), *argv])
        assert f"argument {flag}" in capsys.readouterr().err
    assert not out.exists()  # nothing is made before the arguments are checked
