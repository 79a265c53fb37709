import io
import json

import pandas as pd
import pytest

from skpref._cli import PRESETS, build_parser, main

TINY = ["--seeds", "1", "--n-train", "200", "--n-test", "100", "--width", "8",
        "--epochs", "2", "--lr", "0.01", "--no-progress"]  # fmt: skip


def test_parser_defaults_and_choices():
    args = build_parser().parse_args(["reproduce", "confounding"])
    assert args.data == "synthetic" and args.output == "skpref-results"
    assert args.threads == 1 and not args.quick
    with pytest.raises(SystemExit):
        build_parser().parse_args(["reproduce", "table-9"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["reproduce", "confounding", "--data", "mnist"])


def test_reproduce_latent_positivity_writes_everything(tmp_path):
    out = io.StringIO()
    argv = ["reproduce", "latent-positivity", "--rhos", "0.0", "0.6", *TINY,
            "--output", str(tmp_path)]  # fmt: skip
    assert main(argv, out=out) == 0
    runs = pd.read_csv(tmp_path / "latent_positivity_runs.csv")
    assert len(runs) == 2 * 2 and set(runs["rho_train"]) == {0.0, 0.6}
    record = json.loads((tmp_path / "latent_positivity.json").read_text())
    assert record["config"]["n_seeds"] == 1
    assert record["config"]["random_state"] == 0
    assert record["versions"]["torch_num_threads"] == 1
    assert "torch" in record["versions"] and record["wall_seconds"] > 0
    markdown = (tmp_path / "latent_positivity.md").read_text()
    assert "| test | rho_train | ours | paper |" in markdown
    assert "59.7 ± 0.2" in markdown  # the paper's OOD accuracy at rho = 0.6
    png = (tmp_path / "figure7_delta_plane.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Table 1" in out.getvalue() and "torch threads: 1" in out.getvalue()


def test_reproduce_confounding_writes_everything(tmp_path):
    out = io.StringIO()
    argv = ["reproduce", "confounding", "--rhos", "0.5", "1.0", *TINY,
            "--output", str(tmp_path)]  # fmt: skip
    assert main(argv, out=out) == 0
    runs = pd.read_csv(tmp_path / "confounding_runs.csv")
    assert len(runs) == 2 * 3 * 4
    markdown = (tmp_path / "confounding.md").read_text()
    assert "Table 2" in markdown and "Table 3" in markdown
    assert "53.5 ± 0.1" in markdown
    assert (tmp_path / "figure6_confounding.png").stat().st_size > 1000


def test_latent_positivity_on_real_data_explains_itself(tmp_path):
    with pytest.raises(SystemExit, match="synthetic data only in this version"):
        main(["reproduce", "latent-positivity", "--data", "hh-rlhf",
              "--output", str(tmp_path)], out=io.StringIO())  # fmt: skip


def test_presets_shrink_monotonically():
    for key in ("n_train", "n_test", "width"):
        assert PRESETS["full"][key] >= PRESETS["quick"][key] >= PRESETS["demo"][key]


def test_module_entry_point_runs_main():
    import runpy

    with pytest.raises(SystemExit) as info:
        import sys

        sys.argv = ["skpref", "--help"]
        runpy.run_module("skpref", run_name="__main__")
    assert info.value.code == 0


@pytest.mark.slow
def test_demo_runs_both_protocols(tmp_path):
    out = io.StringIO()
    assert main(["demo", "--no-progress", "--output", str(tmp_path)], out=out) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {"latent_positivity_runs.csv", "confounding_runs.csv",
            "figure6_confounding.png", "figure7_delta_plane.png"} <= names  # fmt: skip
    assert "Table 1" in out.getvalue() and "Table 2" in out.getvalue()
