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


def pytest_collection_modifyitems(config, items):
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
