"""Resumable runs: one results file per run; killed or damaged runs fit again.

A resumed run never publishes an edited or a missing number: a chunk whose
digest or row count fails is fitted again, with a warning naming the file.
"""

import io
import json
import shutil

import pandas as pd
import pytest

from skpref._cli import main
from skpref.experiments import (
    PROTOCOLS,
    SOURCES,
    ActiveConfig,
    run_active_protocol,
    run_protocol,
)
from tests.experiments.conftest import CASES, TINY

FIGURE = "figure7_delta_plane.png"


def _reproduce(output, *extra):
    out = io.StringIO()
    argv = [*CASES["latent_synthetic"].split(), *TINY, "--output", str(output)]
    assert main([*argv, *extra], out=out) == 0
    return out.getvalue()


def _runs(output):
    return pd.read_csv(output / "latent_positivity_runs.csv")


def _results_file(output):
    [path] = (output / "checkpoint").glob("latent-positivity-*.json")
    return path


def _edit(output, change):
    """Copy the checkpoint of a finished run to ``output``; edit its file."""
    path = _results_file(output)
    kept = json.loads(path.read_text())
    change(kept["chunks"])
    path.write_text(json.dumps(kept))
    return path


def _same_runs(output, reference):
    pd.testing.assert_frame_equal(
        _runs(output).drop(columns="fit_seconds"),
        _runs(reference).drop(columns="fit_seconds"),
    )
    assert (output / FIGURE).read_bytes() == (reference / FIGURE).read_bytes()


def test_every_run_keeps_one_results_file(latent_run):
    output, printout = latent_run
    kept = json.loads(_results_file(output).read_text())
    assert len(kept["chunks"]) == 4  # 2 seeds x 2 rhos
    assert all(chunk["n_rows"] == 2 for chunk in kept["chunks"].values())
    assert f"checkpoint: reused 0 of 4 draws from {output / 'checkpoint'}" in printout


def test_resume_after_a_kill_gives_the_same_runs_and_figure(latent_run, tmp_path):
    """A kill loses the draws in training: here the second repetition's."""
    output, _ = latent_run
    shutil.copytree(output / "checkpoint", tmp_path / "checkpoint")

    def kill(chunks):
        for key in [key for key in chunks if key.startswith("(1,")]:
            del chunks[key]

    _edit(tmp_path, kill)
    printout = _reproduce(tmp_path, "--resume")
    assert "reused 2 of 4 draws" in printout
    _same_runs(tmp_path, output)
    kept = _runs(tmp_path).query("seed == 0")["fit_seconds"]
    assert kept.tolist() == _runs(output).query("seed == 0")["fit_seconds"].tolist()


def _edit_a_number(chunks):
    chunk = chunks["(0, 0.0)"]
    chunk["rows"][0]["accuracy"] = 0.123


def _empty_a_chunk(chunks):
    chunks["(0, 0.6)"]["rows"] = []


def _drop_the_count(chunks):
    del chunks["(1, 0.0)"]["n_rows"]


@pytest.mark.parametrize("damage", [_edit_a_number, _empty_a_chunk, _drop_the_count])
def test_a_damaged_chunk_is_fitted_again_with_a_warning(damage, latent_run, tmp_path):
    output, _ = latent_run
    shutil.copytree(output / "checkpoint", tmp_path / "checkpoint")
    path = _edit(tmp_path, damage)
    with pytest.warns(UserWarning, match=f"the results file '{path}' is damaged"):
        printout = _reproduce(tmp_path, "--resume")
    assert "reused 3 of 4 draws" in printout
    _same_runs(tmp_path, output)
    assert 0.123 not in _runs(tmp_path)["accuracy"].tolist()
    # the file was rewritten with the refitted chunk: no warning (an error here)
    assert "reused 4 of 4 draws" in _reproduce(tmp_path, "--resume")


def test_an_unreadable_file_fits_every_draw_again(latent_run, tmp_path):
    output, _ = latent_run
    shutil.copytree(output / "checkpoint", tmp_path / "checkpoint")
    _results_file(tmp_path).write_text('{"key": "cut sho')
    with pytest.warns(UserWarning, match="cannot be read"):
        printout = _reproduce(tmp_path, "--resume")
    assert "reused 0 of 4 draws" in printout
    _same_runs(tmp_path, output)


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
    assert len(list((tmp_path / "checkpoint").glob("*.json"))) == 1  # replaced


def test_a_resumed_run_with_other_settings_fits_again(latent_run, tmp_path):
    output, _ = latent_run
    shutil.copytree(output / "checkpoint", tmp_path / "checkpoint")
    printout = _reproduce(tmp_path, "--resume", "--random-state", "1")
    assert "reused 0 of 4 draws" in printout
    assert len(list((tmp_path / "checkpoint").glob("*.json"))) == 2


TINY_RUN = {"width": 8, "lr": 1e-2, "max_epochs": 2, "device": "cpu", "n_seeds": 2}


def _confounding(tmp_path, **changes):
    source = SOURCES["synthetic"](n_train=100, n_test=50, n_features=4)
    settings = {**TINY_RUN, "models": ["Base"], "rhos": [0.5, 1.0], **changes}
    return run_protocol("confounding", source, checkpoint=tmp_path, **settings)


def test_more_seeds_reuse_the_draws_they_share_and_the_device_is_not_keyed(tmp_path):
    first = _confounding(tmp_path, n_seeds=1)
    again = _confounding(tmp_path, device="auto", max_draws=None)
    assert (again.checkpoint.reused, again.checkpoint.fitted) == (2, 2)
    assert again.runs.query("seed == 0").equals(first.runs)
    assert _confounding(tmp_path, lr=0.02).checkpoint.reused == 0


def test_an_active_run_resumes_too(tmp_path):
    source = SOURCES["synthetic"](n_train=100, n_test=50, n_features=4)
    config = ActiveConfig(strategies=["random"], n_rounds=1, n_members=2, **TINY_RUN)
    protocol = PROTOCOLS["active-positivity"]
    first = run_active_protocol(protocol, source, config, checkpoint=tmp_path)
    again = run_active_protocol(protocol, source, config, checkpoint=tmp_path)
    assert (again.checkpoint.reused, again.checkpoint.fitted) == (2, 0)
    pd.testing.assert_frame_equal(again.runs, first.runs)
    assert again.config["query_size"] == first.config["query_size"] == [10]
    other = ActiveConfig(strategies=["random"], n_rounds=2, n_members=2, **TINY_RUN)
    changed = run_active_protocol(protocol, source, other, checkpoint=tmp_path)
    assert changed.checkpoint.reused == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"resume": "yes"}, "resume must be True or False; got 'yes'"),
        ({"checkpoint": 3}, "checkpoint must be a folder path"),
    ],
)
def test_bad_checkpoint_arguments_fail_before_any_fit(kwargs, match, tmp_path):
    source = SOURCES["synthetic"](n_train=100, n_test=50, n_features=4)
    settings = {"checkpoint": tmp_path, **kwargs}
    with pytest.raises(ValueError, match=match):
        run_protocol("confounding", source, **settings)


def test_a_checkpoint_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("")
    source = SOURCES["synthetic"](n_train=100, n_test=50, n_features=4)
    with pytest.raises(ValueError, match="checkpoint must be a folder; .* is a file"):
        run_protocol("confounding", source, checkpoint=tmp_path / "file")


@pytest.mark.parametrize("draws", ["2", "0"])
def test_the_active_protocols_refuse_max_draws(tmp_path, cli_error, draws):
    argv = ["reproduce", "active-positivity", "--max-draws", draws]
    err = cli_error([*argv, "--output", str(tmp_path), *TINY])
    assert (
        "argument --max-draws: the active-positivity protocol trains one draw at a "
        "time; drop it." in err
    )


@pytest.mark.parametrize("draws", ["3", "0"])
def test_max_draws_on_a_cluster_is_an_error(tmp_path, cli_error, draws):
    argv = ["reproduce", "confounding", "--workers", "2", "--max-draws", draws]
    err = cli_error([*argv, "--output", str(tmp_path)])
    assert (
        "argument --max-draws: on a cluster, its tasks set what is trained "
        "together; drop it." in err
    )


def test_max_draws_must_be_a_count(tmp_path, cli_error):
    argv = ["reproduce", "confounding", "--max-draws", "-1", "--output", str(tmp_path)]
    assert "argument --max-draws: expected an integer >= 0; got '-1'" in cli_error(argv)


def test_max_draws_is_checked_by_the_runner(tmp_path):
    source = SOURCES["synthetic"](n_train=100, n_test=50, n_features=4)
    with pytest.raises(ValueError, match=r"max_draws must be an integer >= 1, 'auto'"):
        run_protocol("confounding", source, max_draws=0)
