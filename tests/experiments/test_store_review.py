"""The results file of a resumable run: what a resume must refuse, and keep.

Found by a review of the file's format: a chunk copied over another draw's, an
emptied chunk with a recomputed digest, two writers of one run, more seeds in an
active run, ensemble functions (lambdas, edited code), and the order of the
checks of an active run.
"""

import importlib
import json
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from skpref.datasets import make_latent_preferences
from skpref.experiments import (
    SOURCES,
    ActiveConfig,
    PairSource,
    run_active_protocol,
    run_protocol,
)
from skpref.experiments._store import ResultsFile, _digest
from skpref.models import RewardEnsemble

KW = dict(rhos=[0.0, 0.6], n_seeds=1, width=8, lr=1e-2, max_epochs=2, device="cpu")


def src():
    return SOURCES["synthetic"](n_train=120, n_test=60, n_features=4)


def _run(folder, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_protocol(
            "latent-positivity", src(), checkpoint=folder, **{**KW, **kw}
        )


def _file(result):
    return result.checkpoint.file


def _numbers(result):
    return result.runs.drop(columns="fit_seconds")


def test_a_chunk_copied_over_another_draws_is_refitted(tmp_path):
    # a chunk copied over another draw's keeps a valid digest of its own rows
    first = _run(tmp_path)
    path = _file(first)
    kept = json.loads(Path(path).read_text(encoding="utf-8"))
    a, b = sorted(kept["chunks"])
    kept["chunks"][b] = kept["chunks"][a]
    Path(path).write_text(json.dumps(kept), encoding="utf-8")
    with pytest.warns(UserWarning, match="the chunk of repetition 0 at rho=0.6"):
        again = run_protocol("latent-positivity", src(), checkpoint=tmp_path, **KW)
    assert again.checkpoint.reused == 1
    pd.testing.assert_frame_equal(_numbers(again), _numbers(first))


def test_an_emptied_chunk_is_refitted(tmp_path):
    # with a digest recomputed for the empty rows: no draw has no rows
    first = _run(tmp_path)
    path = _file(first)
    kept = json.loads(Path(path).read_text(encoding="utf-8"))
    key = sorted(kept["chunks"])[1]
    extra = kept["chunks"][key]["extra"]
    forged = {"n_rows": 0, "digest": _digest([[], extra]), "rows": [], "extra": extra}
    kept["chunks"][key] = forged
    Path(path).write_text(json.dumps(kept), encoding="utf-8")
    again = _run(tmp_path)
    assert len(again.runs) == len(first.runs), (
        f"{len(first.runs)} rows fitted, {len(again.runs)} published after resume"
    )


def test_two_writers_of_one_run_keep_each_others_draws(tmp_path):
    """Two processes of one run (same key: rhos/n_seeds are not keyed, so e.g.
    --rhos 0.0 and --rhos 0.6 in parallel) each rewrite the whole file from
    their own memory: the last writer drops the other's finished draws."""
    identity = {"x": 1}
    a = ResultsFile(tmp_path, "p", identity, resume=True, owner="t")
    b = ResultsFile(tmp_path, "p", identity, resume=True, owner="t")
    a.save((0, 0.0), [{"v": 1}], {})
    b.save((0, 0.6), [{"v": 2}], {})
    c = ResultsFile(tmp_path, "p", identity, resume=True, owner="t")
    assert c.load((0, 0.0)) is not None, f"kept chunks: {list(c.chunks)}"


def cfg(**kw):
    base = dict(strategies=["random"], n_seeds=1, n_rounds=1, budget=0.2,
                n_members=2, width=8, lr=1e-2, max_epochs=2, device="cpu")  # fmt: skip
    return ActiveConfig(**{**base, **kw})


def active_source():
    return SOURCES["synthetic"](n_train=80, n_test=40, n_features=4, label_noise=0.3)


def run(config, folder=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_active_protocol(
            "active-positivity", active_source(), config, checkpoint=folder
        )


def test_more_seeds_reuse_kept_draws(tmp_path):
    """run_protocol keys neither n_seeds nor rhos (draws are keyed by (i, rho));
    run_active_protocol keys the whole config, so adding a seed refits all."""
    run(cfg(n_seeds=1), tmp_path)
    again = run(cfg(n_seeds=2), tmp_path)
    assert again.checkpoint.reused == 1, again.checkpoint


def test_a_lambda_ensemble_resumes(tmp_path):
    """ActiveConfig documents ensemble as a class *or function*: a lambda keys a
    results file by its code (joblib.hash alone cannot pickle it)."""
    config = cfg(ensemble=lambda est, **kw: RewardEnsemble(est, **kw))
    plain = run(config)
    first = run(config, tmp_path)
    again = run(config, tmp_path)
    assert (first.checkpoint.fitted, again.checkpoint.reused) == (1, 1)
    assert again.checkpoint.fitted == 0
    columns = ["strategy", "test", "n_bought", "accuracy"]
    pd.testing.assert_frame_equal(again.runs[columns], plain.runs[columns])


def test_an_edited_ensemble_function_is_refitted(tmp_path, monkeypatch):
    """A module-level ensemble function is hashed by its name only (pickle by
    reference); editing its code keeps the key, so the old rows come back.
    (The previous version keyed functions by their code, _checkpoint.py:90.)"""
    mod = tmp_path / "myens.py"
    code = (
        "from skpref.models import RewardEnsemble\n"
        "def ens(est, **kw):\n    return RewardEnsemble(est, bootstrap={}, **kw)\n"
    )
    mod.write_text(code.format(False))
    monkeypatch.syspath_prepend(str(tmp_path))
    import myens

    first = run(cfg(ensemble=myens.ens), tmp_path / "ck")
    mod.write_text(code.format(True) + "\n# edited\n")
    importlib.invalidate_caches()
    myens = importlib.reload(myens)
    again = run(cfg(ensemble=myens.ens), tmp_path / "ck")
    fresh = run(cfg(ensemble=myens.ens))
    changed = not first.runs["accuracy"].equals(fresh.runs["accuracy"])
    assert not (changed and again.checkpoint.reused), (
        "edited ensemble changes the numbers but the kept rows were reused"
    )
    sys.modules.pop("myens", None)


def test_bad_config_fails_before_the_source_is_prepared():
    """_check_config runs after check_run, i.e. after source.prepare (for
    UltraFeedback: loading and embedding every text). A typo in strategies
    should stop before that work (the CLI promises bad flags stop first)."""

    class Costly(PairSource):
        def _load(self, source_seeds):
            raise RuntimeError("prepare ran: the data were loaded/embedded first")

    d = make_latent_preferences(n_pairs=100, n_features=4, rho=0.0, random_state=0)
    source = Costly(d.X, d.y, delta=d.delta)
    with pytest.raises(ValueError, match="strateg"):
        run_active_protocol("active-positivity", source, cfg(strategies=["quadrnt"]))
