"""Shared test configuration: markers, Hypothesis profiles, the shared data folder."""

import importlib.util
import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# CI draws the same examples on every run (derandomize), so a red run is never
# luck and can be replayed; "thorough" explores new ones (HYPOTHESIS_PROFILE).
settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO_ROOT = Path(__file__).resolve().parents[1]


def load_benchmark(name):
    """Import the script ``benchmarks/<name>.py`` (not a package) as a module."""
    spec = importlib.util.spec_from_file_location(
        name, REPO_ROOT / "benchmarks" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shared_data_home():
    """The folder of real data: $SKPREF_DATA_HOME, else ../shared/data."""
    env = os.environ.get("SKPREF_DATA_HOME")
    path = Path(env) if env else REPO_ROOT.parent / "shared" / "data"
    return path


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Folders of a tiny random BERT and four tiny Llamas, no download needed."""
    from tests.tiny_models import build_tiny_models

    return build_tiny_models(tmp_path_factory.mktemp("tiny_models"))


@pytest.fixture(scope="session")
def data_home():
    """The shared real-data folder; tests that need it skip where it is absent."""
    path = shared_data_home()
    if not (path / "README.md").is_file():
        pytest.skip(f"the shared data folder is not at {path} (set SKPREF_DATA_HOME)")
    return path


@pytest.fixture(autouse=True)
def _restore_environment():
    """Undo what a test left in ``os.environ`` behind monkeypatch's back.

    Dask's nanny writes its workers' pre-spawn environment into the parent
    process's ``os.environ`` and never takes it out: after a cluster that trims
    memory (``LocalCluster``'s default, ``dask_client(trim_memory=True)``), every
    later cluster of that test process inherited ``MALLOC_TRIM_THRESHOLD_=65536``,
    and tests/scaling/test_dask.py passed or failed by the order the tests ran in.
    """
    before = dict(os.environ)
    yield
    for key in os.environ.keys() - before.keys():
        del os.environ[key]
    for key, value in before.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


@pytest.fixture
def cli_error(capsys):
    """Run a command line that must stop through argparse; return its message."""
    from skpref._cli import main

    def run(argv, *, command="reproduce"):
        with pytest.raises(SystemExit) as info:
            main(argv, out=io.StringIO())
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith(f"usage: skpref {command}")
        return err

    return run


#: The slow tier's longest tests, longest first (seconds of a quiet run on the
#: 2-core development machine, ``pytest --durations``). They are moved to the
#: front of the collection so that pytest-xdist, handing out one test at a time
#: (``--maxschedchunk 1`` in .ci/run), starts them first and the two workers
#: finish together: in collection order the docs build started about 90 s in and
#: one worker sat idle for the last 40 s or so. Only the order changes; every test
#: runs either way. tests/test_conftest.py checks that each name still exists.
LONGEST_FIRST = (
    "tests/test_docs.py::test_docs_build_without_warnings",  # 70
    "tests/test_doc_snippets.py::test_python_blocks_run[scaling.rst]",  # 26
    "tests/embeddings/test_reference.py::"
    "test_minilm_matches_the_reference_vectors[64rows]",  # 17
    "tests/test_doc_snippets.py::test_python_blocks_run[README.md]",  # 16
    "tests/embeddings/test_reference.py::test_smollm2_gguf_decoder_path",  # 16
    "tests/causal/test_rewriter_hf.py::test_smollm2_gguf_rewrites_offline",  # 16
    "tests/causal/test_amce.py::test_coverage_bootstrap_slow",  # 14
    "tests/test_doc_snippets.py::test_python_blocks_run[index.rst]",  # 11
    "tests/experiments/test_active_directions.py::"
    "test_bald_buys_back_more_ood_accuracy_than_random_labels",  # 9
)


def pytest_collection_modifyitems(config, items):
    rank = {nodeid: i for i, nodeid in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid, len(rank)))  # stable
    network = os.environ.get("SKPREF_NETWORK") == "1"
    try:
        import torch

        has_gpu = torch.cuda.is_available()
    except ImportError:  # pragma: no cover - torch is a hard dependency
        has_gpu = False
    skip_network = pytest.mark.skip(reason="needs the network; set SKPREF_NETWORK=1")
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "network" in item.keywords and not network:
            item.add_marker(skip_network)
        if "gpu" in item.keywords and not has_gpu:
            item.add_marker(skip_gpu)
