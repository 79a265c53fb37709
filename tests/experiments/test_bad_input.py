"""Bad command lines stop before any work, through argparse, naming the flag."""

import argparse
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skpref._cli_args import COUNT as _COUNT

SMALL = (
    "--seeds 1 --rhos 0.5 --n-train 50 --n-test 20 --width 4 --epochs 1 --no-progress"
).split()


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--threads", "0", "argument --threads: expected an integer >= 1; got '0'"),
        ("--width", "0", "argument --width: expected an integer >= 1; got '0'"),
        ("--n-train", "0", "argument --n-train: expected an integer >= 1; got '0'"),
        ("--n-test", "-3", "argument --n-test: expected an integer >= 1; got '-3'"),
        ("--n-train", "1.5", "argument --n-train: expected an integer >= 1"),
        ("--epochs", "0", "argument --epochs: expected an integer >= 1; got '0'"),
        ("--lr", "-1", "argument --lr: expected a number > 0; got '-1'"),
        ("--lr", "nan", "argument --lr: expected a number > 0; got 'nan'"),
        ("--lr", "fast", "argument --lr: expected a number > 0; got 'fast'"),
        ("--rhos", "5", r"argument --rhos: expected a number in [-1, 1]; got '5'"),
        ("--seeds", "0", "argument --seeds: expected an integer >= 1; got '0'"),
        ("--random-state", "-1", "argument --random-state: expected an integer >= 0"),
        ("--max-prompts", "0", "argument --max-prompts: expected an integer >= 1"),
    ],
)
def test_out_of_range_flags_name_the_flag(flag, value, words, tmp_path, cli_error):
    argv = ["reproduce", "confounding", flag, value, "--output", str(tmp_path)]
    err = cli_error(argv)
    assert words in err
    for internal in ("hidden_dim", "n_pairs", "max_epochs", "n_seeds"):
        assert internal not in err


@pytest.mark.parametrize("device", ["gpu0", "cuda:99"])
def test_a_device_this_machine_lacks_names_the_flag(device, tmp_path, cli_error):
    err = cli_error(
        ["reproduce", "confounding", "--device", device, "--output", str(tmp_path)]
    )
    assert f"argument --device: skpref: --device={device!r}" in err


def test_threads_zero_in_demo_too(tmp_path, cli_error):
    err = cli_error(
        ["demo", "--threads", "0", "--output", str(tmp_path)], command="demo"
    )
    assert "argument --threads: expected an integer >= 1" in err


def test_seeds_zero_is_not_the_preset(tmp_path, cli_error):
    # --seeds counts repetitions: 0 is an error, never "the preset's seeds"
    cli_error(["reproduce", "confounding", "--seeds", "0", "--output", str(tmp_path)])
    assert not any(tmp_path.iterdir()), "nothing may run or be written"


def test_rho_outside_the_protocol_range_names_rhos(tmp_path, cli_error):
    err = cli_error(
        [
            "reproduce",
            "confounding",
            "--rhos",
            "0.5",
            "-0.2",
            "--output",
            str(tmp_path),
        ]
    )
    assert "argument --rhos: the confounding protocol takes values in [0.0, 1.0]" in err
    assert "got -0.2" in err


def test_rho_the_source_cannot_draw_is_an_error_before_any_fit(tmp_path, cli_error):
    err = cli_error(
        [
            "reproduce",
            "latent-positivity",
            *SMALL,
            "--rhos",
            "0.0",
            "1.0",
            "--output",
            str(tmp_path),
        ]
    )
    assert "Synthetic draws latent factors with correlation in (-1, 1)" in err
    assert not list(tmp_path.glob("*.csv"))


def test_output_that_is_a_file(tmp_path, cli_error):
    existing = tmp_path / "results.txt"
    existing.write_text("keep me")
    err = cli_error(["reproduce", "confounding", "--output", str(existing)])
    assert f"argument --output: {str(existing)!r} is a file; expected a folder" in err
    assert existing.read_text() == "keep me"


def test_output_below_a_file(tmp_path, cli_error):
    existing = tmp_path / "results.txt"
    existing.write_text("keep me")
    err = cli_error(["reproduce", "confounding", "--output", str(existing / "sub")])
    assert "argument --output: cannot write to" in err


@pytest.fixture
def unwritable(tmp_path):
    """A folder this process cannot write to (chmod, or /sys for root)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    yield folder / "results"
    folder.chmod(stat.S_IRWXU)


def test_unwritable_output_is_an_error_before_running(unwritable, cli_error):
    target = unwritable
    if os.access(unwritable.parent, os.W_OK):  # root ignores the permissions
        target = Path("/sys/skpref-results")
        if not Path("/sys").is_dir():  # pragma: no cover
            pytest.skip("no folder this process cannot write to")
    err = cli_error(["reproduce", "confounding", *SMALL, "--output", str(target)])
    assert f"argument --output: cannot write to {str(target)!r}" in err
    assert "choose a writable folder" in err


def test_missing_data_path_is_a_clear_error(tmp_path, cli_error):
    err = cli_error(
        [
            "reproduce",
            "latent-positivity",
            "--data",
            "ultrafeedback",
            "--data-path",
            str(tmp_path / "nowhere.jsonl"),
            *SMALL[:2],
            "--output",
            str(tmp_path),
        ]
    )
    assert "nowhere.jsonl does not exist" in err


def test_too_many_training_pairs_for_the_data(tmp_path, cli_error, data_home):
    err = cli_error(
        [
            "reproduce",
            "confounding",
            "--data",
            "hh-rlhf",
            "--n-train",
            "100000",
            *SMALL[:4],
            "--output",
            str(tmp_path),
        ]
    )
    assert "RelabeledHHRLHF: cannot draw n_train=100000 training pairs" in err


@given(st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                 st.text(max_size=6)))  # fmt: skip
def test_count_flags_take_exactly_the_integers_from_one(value):
    text = str(value)
    try:
        expected = int(text)
    except ValueError:
        expected = None
    if expected is not None and expected >= 1:
        assert _COUNT(text) == expected
    else:
        with pytest.raises(
            argparse.ArgumentTypeError, match="expected an integer >= 1"
        ):
            _COUNT(text)
