import dataclasses
import inspect
import io
import json
import runpy
import sys

import pandas as pd
import pytest

from skpref._cli import PRESETS, build_parser, main, preset
from skpref.experiments import (
    SOURCES,
    run_protocol,
)


def test_parser_defaults_and_choices():
    args = build_parser().parse_args(["reproduce", "confounding"])
    assert args.data == "synthetic" and args.output == "skpref-results"
    assert args.threads == 1 and not args.quick and args.n_seeds is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["reproduce", "table-9"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["reproduce", "confounding", "--data", "mnist"])


def test_reproduce_latent_positivity_writes_everything(latent_run):
    output, printout = latent_run
    runs = pd.read_csv(output / "latent_positivity_runs.csv")
    assert len(runs) == 2 * 2 * 2 and set(runs["rho_train"]) == {0.0, 0.6}
    columns = "protocol data seed rho_train rho_achieved model test accuracy n_test"
    assert list(runs.columns) == [
        *columns.split(),
        "alpha_hat",
        "fit_seconds",
        "convergence_warning",
    ]
    record = json.loads((output / "latent_positivity.json").read_text())
    assert record["config"]["n_seeds"] == 2 and record["preset"] == "full"
    assert record["config"]["random_state"] == 0
    assert record["config"]["n_train"] == 200 and record["config"]["width"] == 8
    assert record["versions"]["torch_num_threads"] == 1
    assert "torch" in record["versions"] and record["wall_seconds"] > 0
    markdown = (output / "latent_positivity.md").read_text()
    assert "| test | rho_train | ours | paper |" in markdown
    assert "59.7 ± 0.2" in markdown  # the paper's OOD accuracy at rho = 0.6
    png = (output / "figure7_delta_plane.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Table 1" in printout and "torch threads: 1" in printout


def test_reproduce_confounding_writes_everything(confounding_run):
    output, printout = confounding_run
    runs = pd.read_csv(output / "confounding_runs.csv")
    assert len(runs) == 2 * 2 * 3 * 4
    markdown = (output / "confounding.md").read_text()
    assert "Table 2" in markdown and "Table 3" in markdown
    assert "53.5 ± 0.1" in markdown
    assert (output / "figure6_confounding.png").stat().st_size > 1000
    assert "wall time" in printout and "figure6_confounding.png" in printout


def test_json_tables_keep_numbers(confounding_run):
    output, _ = confounding_run
    record = json.loads((output / "confounding.json").read_text())
    row = record["tables"]["Table 2: test accuracy [%]"][0]
    assert row["group"] == "inconsistent" and row["rho"] == 0.5
    assert row["Base (paper)"] == 60.0 and row["Base (paper) se"] == 0.2
    assert isinstance(row["Base"], float) and isinstance(row["Base se"], float)
    table3 = record["tables"]["Table 3: training accuracy [%]"]
    empty = [r for r in table3 if r["group"] == "inconsistent" and r["rho"] == 1.0]
    assert empty[0]["Base"] is None  # no inconsistent training pairs at rho = 1


def test_threads_are_restored_after_a_run(confounding_run):
    import torch

    before = torch.get_num_threads()
    main(
        [
            "reproduce",
            "latent-positivity",
            "--rhos",
            "0.0",
            "--seeds",
            "1",
            "--n-train",
            "50",
            "--n-test",
            "20",
            "--width",
            "4",
            "--epochs",
            "1",
            "--threads",
            "1",
            "--no-progress",
            "--output",
            str(confounding_run[0]),
        ],
        out=io.StringIO(),
    )
    assert torch.get_num_threads() == before


def test_latent_positivity_on_hh_rlhf_explains_itself(tmp_path, cli_error):
    argv = ["reproduce", "latent-positivity", "--data", "hh-rlhf"]
    err = cli_error([*argv, "--output", str(tmp_path)])
    assert "argument --data: The 'hh-rlhf' data do not give the delta" in err
    assert "['synthetic', 'ultrafeedback']" in err


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--data-path", "x"], "--data-path"),
        (["--embedding-model", "x"], "--embedding-model"),
        (["--max-prompts", "3"], "--max-prompts"),
    ],
)
def test_a_flag_the_data_do_not_use_is_an_error(argv, flag, tmp_path, cli_error):
    err = cli_error(["reproduce", "confounding", *argv, "--output", str(tmp_path)])
    assert f"argument {flag}: not used by --data synthetic" in err


def test_presets_fit_their_sources_and_shrink():
    runner = set(inspect.signature(run_protocol).parameters)
    for (protocol, data), sizes in PRESETS.items():
        fields = {f.name for f in dataclasses.fields(SOURCES[data])}
        for size, settings in sizes.items():
            unknown = set(settings) - fields - runner
            assert not unknown, (protocol, data, size, unknown)
    for protocol in ("latent-positivity", "confounding"):
        full, quick, demo = (
            preset(protocol, "synthetic", size) for size in ("full", "quick", "demo")
        )
        for key in ("n_train", "n_test", "width"):
            assert full[key] >= quick[key] >= demo[key]
    # a registered source without presets gets the network sizes alone
    assert preset("confounding", "elsewhere", "quick")["width"] == 64


def test_module_entry_point_runs_main(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["skpref", "--help"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module("skpref", run_name="__main__")
    assert info.value.code == 0


@pytest.mark.slow
def test_demo_runs_both_protocols(tmp_path):
    out = io.StringIO()
    assert main(["demo", "--no-progress", "--output", str(tmp_path)], out=out) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {
        "latent_positivity_runs.csv",
        "confounding_runs.csv",
        "figure6_confounding.png",
        "figure7_delta_plane.png",
    } <= names
    assert "Table 1" in out.getvalue() and "Table 2" in out.getvalue()
    record = json.loads((tmp_path / "confounding.json").read_text())
    assert record["preset"] == "demo" and record["config"]["rhos"] == [0.5, 0.8, 1.0]


def test_a_run_says_it_replaces_the_results_of_an_earlier_one(tmp_path):
    # a demo or --quick run writes the same file names as a full run: the
    # tables of the earlier run were replaced without a word
    from tests.experiments.conftest import TINY

    argv = ["reproduce", "latent-positivity", "--rhos", "0.0", "--seeds", "1",
            *TINY, "--output", str(tmp_path)]  # fmt: skip
    first, second = io.StringIO(), io.StringIO()
    assert main(argv, out=first) == 0
    assert "replacing" not in first.getvalue()
    assert main([*argv, "--random-state", "1"], out=second) == 0
    assert (
        f"replacing the results of an earlier run in {tmp_path} "
        "(latent_positivity.json: preset 'full', 2 runs)"
    ) in second.getvalue()
    record = json.loads((tmp_path / "latent_positivity.json").read_text())
    assert record["config"]["random_state"] == 1
