"""``skpref reproduce`` gives the tables of the code before the one runner.

The figures in ``golden_main.py`` were recorded on main before the experiment
layer became sources + one runner, with the same command lines (``CASES`` and
``TINY`` in conftest.py) and seeds. A deliberate change of what a run computes
(e.g. of the models' training) changes them; record them again then, from the
commit before that change, and say why in its message.
"""

import numpy as np
import pandas as pd
import pytest

from skpref.experiments import (
    default_embedder,
    markdown_table,
    run_protocol,
    summarise,
)
from skpref.experiments._pool_sources import UltraFeedback
from tests.experiments.golden_main import GOLDEN
from tests.experiments.protocols import (
    LATENT_POSITIVITY,
)


def table_lines(markdown):
    return [line for line in markdown.splitlines() if line.startswith("|")]


# alpha_hat is the ratio w1 / (w1 + w2) of a least-squares fit to float32 rewards:
# the CPU's float32 kernels (AVX-512 on one machine, AVX2 on another) move the
# rewards, and the ratio amplifies it (measured between an Intel and an AMD
# machine: 4e-8 on the synthetic case, 8.5e-5 relative on the UltraFeedback case,
# whose embeddings also come from float32 MiniLM), while a wrong run moves it by
# far more. Accuracies are counts over n and rho_achieved comes from the data
# alone: exact. Values: (rtol, atol).
GOLDEN_TOLERANCE = {
    "accuracy": (0, 1e-9),
    "alpha_hat": (1e-3, 1e-9),
    "rho_achieved": (0, 1e-9),
}


def assert_same_as_golden(case, runs, markdown):
    golden = GOLDEN[case]
    for column, (rtol, atol) in GOLDEN_TOLERANCE.items():
        if column in golden:
            np.testing.assert_allclose(
                runs[column], golden[column], rtol=rtol, atol=atol, err_msg=column
            )
    assert table_lines(markdown) == golden["tables"]


@pytest.mark.parametrize(
    ("fixture", "case", "stem"),
    [
        ("confounding_run", "confounding_synthetic", "confounding"),
        ("latent_run", "latent_synthetic", "latent_positivity"),
        ("hh_rlhf_run", "confounding_hh_rlhf", "confounding_hh-rlhf"),
    ],
)
def test_reproduce_gives_the_tables_of_before(fixture, case, stem, request):
    output, printout = request.getfixturevalue(fixture)
    runs = pd.read_csv(output / f"{stem}_runs.csv")
    markdown = (output / f"{stem}.md").read_text(encoding="utf-8")
    assert_same_as_golden(case, runs, markdown)
    assert table_lines(printout) == GOLDEN[case]["tables"]


def ultrafeedback_run(tmp_path):
    """Runs and Markdown of the tiny UltraFeedback case (MiniLM, float32, CPU)."""
    from tests.experiments.test_ultrafeedback_source import write_ultrafeedback

    path = write_ultrafeedback(tmp_path / "uf.jsonl", n_prompts=60)
    embedder = default_embedder(None, max_length=32, cache_dir=tmp_path / "cache")
    embedder.set_params(dtype="float32", device="cpu")
    source = UltraFeedback(path, embedder=embedder, n_train=80, n_test=30)
    result = run_protocol(
        LATENT_POSITIVITY,
        source,
        rhos=[0.0, 0.3],
        n_seeds=2,
        width=8,
        lr=1e-2,
        max_epochs=2,
        device="cpu",
    )
    tables = summarise(result)
    markdown = "\n".join(markdown_table(table) for table in tables.values())
    return result.runs, markdown


def test_ultrafeedback_gives_the_tables_of_before(tmp_path):
    runs, markdown = ultrafeedback_run(tmp_path)
    assert_same_as_golden("latent_ultrafeedback", runs, markdown)
