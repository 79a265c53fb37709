from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
FILES = {
    "rewardbench": DATA / "rewardbench_filtered.jsonl",
    "rewardbench2": DATA / "rewardbench2_test.jsonl",
    "rm-bench": DATA / "rm_bench_total_dataset.json",
}


@pytest.fixture
def files():
    """Fixture files in the official schemas: a few rows per subset."""
    return FILES
