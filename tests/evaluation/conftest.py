import atexit
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.evaluation.fixture_files import write_fixture_files

# written once per test process (each xdist worker has its own), read by path
_FOLDER = Path(tempfile.mkdtemp(prefix="skpref-benchmarks-"))
atexit.register(shutil.rmtree, _FOLDER, ignore_errors=True)
FILES = write_fixture_files(_FOLDER)


@pytest.fixture
def files():
    """Fixture files in the official schemas: a few rows per subset."""
    return FILES
