"""``skpref reproduce ... --resume``: a killed command resumes from its checkpoint."""

import io
import json
import shutil

import pandas as pd
import pytest
from skpref._cli_output import _settings

from skpref._cli import build_parser, main
from skpref.experiments import (
    PROTOCOLS,
)
from skpref.experiments._sources import Synthetic
from tests.experiments.conftest import CASES, TINY

LATENT_POSITIVITY = PROTOCOLS["latent-positivity"]
CONFOUNDING = PROTOCOLS["confounding"]
ACTIVE_POSITIVITY = PROTOCOLS["active-positivity"]
ACTIVE_CONFOUNDING = PROTOCOLS["active-confounding"]
SyntheticLatent = SyntheticConfounded = Synthetic


FIGURE = "figure7_delta_plane.png"


def _reproduce(output, *extra):
    out = io.StringIO()
    argv = [*CASES["latent_synthetic"].split(), *TINY, "--output", str(output)]
    assert main([*argv, *extra], out=out) == 0
    return out.getvalue()


def _runs(output):
    return pd.read_csv(output / "latent_positivity_runs.csv")


def test_every_run_keeps_a_checkpoint(latent_run):
    output, printout = latent_run
    files = sorted((output / "checkpoint").glob("latent-positivity-*.json"))
    assert len(files) == 4  # 2 seeds x 2 rhos
    assert f"checkpoint: reused 0 of 4 draws from {output / 'checkpoint'}" in printout


def test_resume_after_a_kill_gives_the_same_runs_and_figure(latent_run, tmp_path):
    """A kill loses the chunk in training: here the second repetition's draws."""
    output, _ = latent_run
    shutil.copytree(output / "checkpoint", tmp_path / "checkpoint")
    for path in (tmp_path / "checkpoint").glob("*.json"):
        if json.loads(path.read_text())["key"]["repetition"] == 1:
            path.unlink()
    printout = _reproduce(tmp_path, "--resume")
    assert "reused 2 of 4 draws" in printout
    pd.testing.assert_frame_equal(
        _runs(tmp_path).drop(columns="fit_seconds"),
        _runs(output).drop(columns="fit_seconds"),
    )
    kept = _runs(tmp_path).query("seed == 0")["fit_seconds"]
    assert kept.tolist() == _runs(output).query("seed == 0")["fit_seconds"].tolist()
    assert (tmp_path / FIGURE).read_bytes() == (output / FIGURE).read_bytes()


def test_without_resume_a_kept_checkpoint_is_named_and_not_used(latent_run, tmp_path):
    output, _ = latent_run
    shutil.copytree(output / "checkpoint", tmp_path / "checkpoint")
    printout = _reproduce(tmp_path)
    assert (
        f"{tmp_path / 'checkpoint'} holds 4 draws of earlier latent-positivity runs; "
        "this run fits every draw again (add --resume to reuse those with the same "
        "settings)." in printout
    )
    assert "reused 0 of 4 draws" in printout
    assert len(list((tmp_path / "checkpoint").glob("*.json"))) == 4  # replaced


def test_a_resumed_run_with_other_settings_fits_again(latent_run, tmp_path):
    output, _ = latent_run
    shutil.copytree(output / "checkpoint", tmp_path / "checkpoint")
    printout = _reproduce(tmp_path, "--resume", "--random-state", "1")
    assert "reused 0 of 4 draws" in printout
    assert len(list((tmp_path / "checkpoint").glob("*.json"))) == 8


@pytest.mark.parametrize("draws", ["2", "0"])
def test_the_active_protocols_refuse_max_draws(tmp_path, cli_error, draws):
    argv = ["reproduce", "active-positivity", "--max-draws", draws]
    err = cli_error([*argv, "--output", str(tmp_path), *TINY])
    assert (
        "argument --max-draws: the active-positivity protocol trains one draw at a "
        "time; drop it." in err
    )


def test_the_active_protocols_keep_a_checkpoint_too(tmp_path):
    args = build_parser().parse_args(
        ["reproduce", "active-positivity", "--output", str(tmp_path), "--resume"]
    )
    executor, settings = _settings(
        args, ACTIVE_POSITIVITY, tmp_path, None, {}, io.StringIO()
    )
    assert executor is None
    assert settings == {"checkpoint": tmp_path / "checkpoint", "resume": True}


def _executor(tmp_path, *flags):
    args = build_parser().parse_args(
        ["reproduce", "confounding", "--output", str(tmp_path), *flags]
    )
    executor, settings = _settings(
        args, CONFOUNDING, tmp_path, None, {"rhos": [0.5, 1.0]}, io.StringIO()
    )
    assert settings["checkpoint"] == tmp_path / "checkpoint"
    return executor


def test_the_command_chunks_as_the_engine_would_by_default(tmp_path):
    assert _executor(tmp_path).max_draws == "auto"
    assert _executor(tmp_path).show_progress is False  # no settings: not shown
    assert _executor(tmp_path, "--max-draws", "5").max_draws == 5
    assert _executor(tmp_path, "--max-draws", "0").max_draws is None  # whole run


@pytest.mark.parametrize("draws", ["3", "0"])
def test_max_draws_on_a_cluster_is_an_error(tmp_path, capsys, draws):
    with pytest.raises(SystemExit):
        _executor(tmp_path, "--workers", "2", "--max-draws", draws)
    assert (
        "argument --max-draws: on a cluster, its tasks set what is trained "
        "together; drop it." in capsys.readouterr().err
    )


def test_max_draws_must_be_a_count(tmp_path, cli_error):
    argv = ["reproduce", "confounding", "--max-draws", "-1", "--output", str(tmp_path)]
    assert "argument --max-draws: expected an integer >= 0; got '-1'" in cli_error(argv)
