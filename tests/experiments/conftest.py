import io

import pytest

from skpref._cli import main

#: Tiny sizes of the command-line runs shared by the experiment tests.
TINY = (
    "--n-train 200 --n-test 100 --width 8 --epochs 2 --lr 0.01 "
    "--no-progress --device cpu"
).split()
#: The command lines of the runs compared with the figures of golden_main.py.
CASES = {
    "confounding_synthetic": "reproduce confounding --rhos 0.5 1.0 --seeds 2",
    "latent_synthetic": "reproduce latent-positivity --rhos 0.0 0.6 --seeds 2",
    "confounding_hh_rlhf": "reproduce confounding --data hh-rlhf --rhos 0.5 1.0 "
    "--seeds 2",
}


@pytest.fixture(scope="session")
def tiny_bert(tiny_models):
    """Folder of the tiny random BERT shared with the embedding tests."""
    return tiny_models["bert"]


def _reproduce(case, tmp_path_factory):
    output = tmp_path_factory.mktemp(case)
    out = io.StringIO()
    argv = [*CASES[case].split(), *TINY, "--output", str(output)]
    assert main(argv, out=out) == 0
    return output, out.getvalue()


@pytest.fixture(scope="session")
def confounding_run(tmp_path_factory):
    """Output folder and printout of the tiny synthetic confounding run."""
    return _reproduce("confounding_synthetic", tmp_path_factory)


@pytest.fixture(scope="session")
def latent_run(tmp_path_factory):
    """Output folder and printout of the tiny synthetic latent-positivity run."""
    return _reproduce("latent_synthetic", tmp_path_factory)


@pytest.fixture(scope="session")
def hh_rlhf_run(tmp_path_factory, data_home):
    """Output folder and printout of the tiny relabelled HH-RLHF run."""
    return _reproduce("confounding_hh_rlhf", tmp_path_factory)
