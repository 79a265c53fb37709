"""Record the figures of ``golden_main.py`` from the code as it is now.

Run only after a deliberate change of what a run computes (say why in the commit):
``python -m tests.experiments.record_golden`` from the repository root, with
``SKPREF_DATA_HOME`` pointing at the shared data. It runs every case of
``test_golden.py`` (the command lines of ``CASES`` with ``TINY`` sizes, and the
UltraFeedback case) on the CPU with one torch thread and rewrites the file.
"""

import io
import math
import pprint
import tempfile
from pathlib import Path

import pandas as pd
import torch

from skpref._cli import main
from tests.experiments.conftest import CASES, TINY
from tests.experiments.test_golden import table_lines, ultrafeedback_run

HEADER = '''"""Figures of `skpref reproduce`, recorded by ``record_golden.py``.

History: first recorded on main at d5e8f24 with the code before the one runner
(which the runner reproduced to 1e-9); recorded again by ``record_golden.py`` after
the reward models drew their initialisation, batch order and holdout from three
seeded generators (merge of the models branch), which changes every seeded fit;
and again on the engine branch, where the batch order became
``torch.randperm(n_train, generator)`` each epoch without a DataLoader (which
drew one more number from the generator per epoch) and the runner's default
executor trains a run's models at once (the same runs as fitting them one after
another, tested in test_vectorised.py).
Every run's accuracy (rounded to 10 decimals; NaN for an empty set) and the
Markdown tables; the cases and their flags are in ``conftest.py`` and
``test_golden.py``.
"""

# ruff: noqa: E501
nan = float("nan")

# fmt: off
'''


def _numbers(series):
    return [
        nan_safe(round(float(v), 10)) for v in pd.to_numeric(series, errors="coerce")
    ]


def nan_safe(value):
    return float("nan") if math.isnan(value) else value


def _record(runs, markdown):
    entry = {
        column: _numbers(runs[column])
        for column in ("accuracy", "alpha_hat", "rho_achieved")
        if column in runs
    }
    entry["tables"] = table_lines(markdown)
    return entry


def record():
    torch.set_num_threads(1)
    golden = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case, command in CASES.items():
            output = Path(tmp) / case
            argv = [*command.split(), *TINY, "--output", str(output)]
            assert main(argv, out=io.StringIO()) == 0
            stem = next(output.glob("*_runs.csv")).name[: -len("_runs.csv")]
            runs = pd.read_csv(output / f"{stem}_runs.csv")
            markdown = (output / f"{stem}.md").read_text(encoding="utf-8")
            golden[case] = _record(runs, markdown)
        runs, markdown = ultrafeedback_run(Path(tmp))
        golden["latent_ultrafeedback"] = _record(runs, markdown)
    text = pprint.pformat(golden, width=10_000, sort_dicts=False)
    path = Path(__file__).with_name("golden_main.py")
    path.write_text(f"{HEADER}GOLDEN = {text}\n# fmt: on\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    record()
