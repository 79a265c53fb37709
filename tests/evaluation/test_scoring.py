"""The official aggregation, checked against the upstream code on the same results.

RewardBench v1 and 2: the functions of the ``rewardbench`` package 0.1.4
(``scripts/setup.sh`` installs it without its dependencies). Its ``__init__``
imports fastchat and a model registry that fails on current transformers; the
functions checked here use neither, so the test stands them in with mocks.
RM-Bench ships no package: its ``compute_accuracy`` (github.com/THU-KEG/RM-Bench,
``scripts/utils.py``) is transcribed below.
"""

import importlib
import importlib.util
import sys
from unittest import mock

import numpy as np
import pandas as pd
import pytest

from skpref.evaluation import _constants
from skpref.evaluation._scoring import example_results, resample_scores


@pytest.fixture(scope="module")
def rewardbench():
    if importlib.util.find_spec("rewardbench") is None:
        pytest.skip(
            "the rewardbench package 0.1.4 is not installed; scripts/setup.sh "
            "installs it with --no-deps"
        )
    stubs = ("fastchat", "fastchat.conversation", "rewardbench.models")
    saved = {name: sys.modules.get(name) for name in stubs}
    for name in stubs:
        sys.modules[name] = mock.MagicMock()
    try:
        utils = importlib.import_module("rewardbench.utils")
        constants = importlib.import_module("rewardbench.constants")
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return utils, constants


def test_constants_are_upstream(rewardbench):
    _, constants = rewardbench
    assert _constants.EXAMPLE_COUNTS == constants.EXAMPLE_COUNTS
    assert _constants.SUBSET_MAPPING == constants.SUBSET_MAPPING
    prior = set(constants.SUBSET_NAME_TO_PAPER_READY) - set(constants.EXAMPLE_COUNTS)
    assert set(_constants.PRIOR_SETS) == prior


def _v1_results(rng, subsets):
    rows = []
    for subset in subsets:
        n = int(rng.integers(5, 40))
        p = rng.uniform(0.2, 0.9)
        rows += [(f"{subset}-{i}", subset, float(rng.random() < p)) for i in range(n)]
    return pd.DataFrame(rows, columns=["id", "subset", "value"])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("seed", range(5))
def test_rewardbench_sections_match_upstream(rewardbench, seed):
    utils, constants = rewardbench
    rng = np.random.default_rng(seed)
    subsets = list(constants.EXAMPLE_COUNTS)
    if seed:  # some subsets missing: upstream weighs the present ones
        subsets = [s for s in subsets if rng.random() < 0.8]
    results = _v1_results(rng, subsets + ["anthropic_hhh"])
    rows, resamples = resample_scores(
        "rewardbench", results, n_resamples=0, random_state=0
    )
    ours = {
        (level, name): value
        for (level, name, _), value in zip(rows, resamples[0], strict=True)
    }
    metrics = results.groupby("subset")["value"].mean().to_dict()
    upstream = utils.calculate_scores_per_section(
        constants.EXAMPLE_COUNTS, constants.SUBSET_MAPPING, metrics
    )
    present = {k: v for k, v in upstream.items() if any(
        s in metrics for s in _constants.SUBSET_MAPPING[k])}  # fmt: skip
    for section, value in present.items():
        assert ours[("section", section)] == pytest.approx(value, abs=1e-12)
    total = np.mean(list(present.values()))
    assert ours[("total", "total")] == pytest.approx(total, abs=1e-12)
    assert ("prior", "anthropic_hhh") in ours  # reported, never in the total
    for subset, value in metrics.items():
        level = "prior" if subset == "anthropic_hhh" else "subset"
        assert ours[(level, subset)] == pytest.approx(value, abs=1e-12)


def _scores(rng, n, ties):
    """Rewards with ties where asked (rounded to a few levels)."""
    values = rng.normal(size=n)
    return np.round(values) if ties else values


def test_best_of_n_matches_upstream_reroll(rewardbench):
    utils, _ = rewardbench
    from datasets import Dataset

    rng = np.random.default_rng(0)
    chosen, rejected, flat, sizes = [], [], [], []
    for i in range(300):
        scores = _scores(rng, 4, ties=i % 2 == 0)
        chosen.append(scores[:1])
        rejected.append(scores[1:])
        flat += scores.tolist()
        sizes.append(4)
    unrolled = Dataset.from_dict(
        {"text": [str(k) for k in range(len(flat))], "scores": flat,
         "id": np.repeat(np.arange(300), 4).tolist()}
    )  # fmt: skip
    upstream = utils.reroll_and_score_dataset(unrolled, sizes)["results"]
    examples = pd.DataFrame({"id": np.arange(300).astype(str), "subset": "Math"})
    ours = example_results("rewardbench2", examples, chosen, rejected)["value"]
    np.testing.assert_allclose(ours, upstream, atol=1e-12)
    assert 0 < np.mean(ours) < 1 and (ours == 0.5).any()  # ties penalised


@pytest.mark.parametrize("seed", range(4))
def test_ties_score_matches_upstream(rewardbench, seed):
    utils, _ = rewardbench
    from datasets import Dataset

    rng = np.random.default_rng(seed)
    ids, chosen, rejected = [], [], []
    for pid in range(40):
        kinds = ["ref", "tied"] if pid % 5 else ["ref"] if pid % 2 else ["tied"]
        for kind in kinds:
            n_correct = 1 if kind == "ref" else int(rng.integers(1, 4))
            scores = _scores(rng, n_correct + int(rng.integers(1, 4)), pid % 3 == 0)
            ids.append(f"{kind}:{pid}")
            chosen.append(scores[:n_correct] + 0.7 * (seed % 2))
            rejected.append(scores[n_correct:])
    upstream_rows = Dataset.from_dict(
        {"id": ids, "scores": [np.concatenate([c, r]).tolist()
                               for c, r in zip(chosen, rejected, strict=True)],
         "num_correct": [len(c) for c in chosen]}
    )  # fmt: skip
    _, upstream = utils.process_single_model(upstream_rows)
    examples = pd.DataFrame({"id": ids, "subset": "Ties"})
    results = example_results("rewardbench2", examples, chosen, rejected)
    rows, resamples = resample_scores(
        "rewardbench2", results, n_resamples=0, random_state=0
    )
    assert rows[0][:2] == ("subset", "Ties") and rows[0][2] == 40
    assert resamples[0, 0] == pytest.approx(upstream, abs=1e-12)


def test_rewardbench2_total_is_the_mean_of_subsets():
    rng = np.random.default_rng(0)
    rows = []
    for subset in _constants.REWARDBENCH2_SUBSETS[:-1]:
        rows += [(f"{subset}{i}", subset, rng.random()) for i in range(20 + len(rows))]
    results = pd.DataFrame(rows, columns=["id", "subset", "value"])
    rows, resamples = resample_scores(
        "rewardbench2", results, n_resamples=0, random_state=0
    )
    means = results.groupby("subset", sort=False)["value"].mean()
    assert resamples[0, -1] == pytest.approx(means.mean(), abs=1e-12)
    assert resamples[0, -1] != pytest.approx(results["value"].mean(), abs=1e-6)


def rm_bench_compute_accuracy(results):
    """Transcribed from RM-Bench's ``compute_accuracy`` (scripts/utils.py)."""
    size = 3
    acc_matrix = np.zeros((size, size))
    for result in results:
        for i in range(len(result["score_chosen"])):
            for j in range(len(result["score_rejected"])):
                if result["score_chosen"][i] > result["score_rejected"][j]:
                    acc_matrix[i][j] += 1
    acc_matrix /= len(results)
    upper_right_count = size * (size - 1) / 2
    hard_acc = np.sum(np.triu(acc_matrix, 1)) / upper_right_count
    normal_acc = np.mean(np.diag(acc_matrix))
    easy_acc = np.sum(np.tril(acc_matrix, -1)) / upper_right_count
    return {"hard_acc": hard_acc, "normal_acc": normal_acc, "easy_acc": easy_acc}


def test_rm_bench_matches_upstream():
    rng = np.random.default_rng(0)
    domains = ["chat", "math", "code", "safety-refuse", "safety-response"]
    units, ids, subsets = [], [], []
    for d in domains:
        for i in range(int(rng.integers(10, 30))):
            units.append({"score_chosen": _scores(rng, 3, i % 2) + 0.3,
                          "score_rejected": _scores(rng, 3, i % 2)})  # fmt: skip
            ids.append(f"{d}{i}")
            subsets.append(d)
    examples = pd.DataFrame({"id": ids, "subset": subsets})
    results = example_results(
        "rm-bench",
        examples,
        [u["score_chosen"] for u in units],
        [u["score_rejected"] for u in units],
    )
    rows, resamples = resample_scores(
        "rm-bench", results, n_resamples=0, random_state=0
    )
    ours = {
        (level, name): value
        for (level, name, _), value in zip(rows, resamples[0], strict=True)
    }
    sections = {"chat": ["chat"], "math": ["math"], "code": ["code"],
                "safety": ["safety-refuse", "safety-response"]}  # fmt: skip
    per_section = {}
    for section, members in sections.items():
        acc = rm_bench_compute_accuracy(
            [u for u, s in zip(units, subsets, strict=True) if s in members]
        )
        per_section[section] = acc
        avg = np.mean(list(acc.values()))
        assert ours[("section", section)] == pytest.approx(avg, abs=1e-12)
    for style in ("hard", "normal", "easy"):
        expected = np.mean([acc[f"{style}_acc"] for acc in per_section.values()])
        assert ours[("style", style)] == pytest.approx(expected, abs=1e-12)
    total = np.mean([np.mean(list(a.values())) for a in per_section.values()])
    assert ours[("total", "total")] == pytest.approx(total, abs=1e-12)


def test_ties_ids_must_say_ref_or_tied():
    examples = pd.DataFrame({"id": ["7"], "subset": "Ties"})
    results = example_results(
        "rewardbench2", examples, [np.array([1.0])], [np.array([0.0])]
    )
    with pytest.raises(ValueError, match="read 'ref:<n>' or 'tied:<n>'; got '7'"):
        resample_scores("rewardbench2", results, n_resamples=0, random_state=0)


def test_rewardbench_subsets_outside_the_sections_are_named():
    results = pd.DataFrame({"id": ["a", "b", "c"], "subset": ["x", "x", "hep-go"],
                            "value": [1.0, 0.0, 1.0]})  # fmt: skip
    with pytest.warns(UserWarning, match=r"\['x'\] are not RewardBench v1 subsets"):
        rows, resamples = resample_scores(
            "rewardbench", results, n_resamples=0, random_state=0
        )
    assert rows[-1] == ("total", "total", 1) and resamples[0, -1] == 1.0
    with pytest.warns(UserWarning, match="the total is their accuracy over all"):
        rows, resamples = resample_scores(
            "rewardbench", results[:2], n_resamples=0, random_state=0
        )
    assert rows[-1] == ("total", "total", 2) and resamples[0, -1] == 0.5


def test_rm_bench_domains_outside_its_own_are_named():
    results = pd.DataFrame({"id": ["a", "b"], "subset": ["chat", "safety"],
                            "value": [1.0, 0.0]})  # fmt: skip
    for style in ("hard", "normal", "easy"):
        results[style] = results["value"]
    with pytest.warns(UserWarning, match=r"\['safety'\] are not RM-Bench domains"):
        rows, resamples = resample_scores(
            "rm-bench", results, n_resamples=0, random_state=0
        )
    assert rows[-1] == ("total", "total", 1) and resamples[0, -1] == 1.0
    with pytest.raises(ValueError, match=r"none of RM-Bench's own \(\['chat'"):
        resample_scores("rm-bench", results[1:], n_resamples=0, random_state=0)
