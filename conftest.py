"""Root pytest configuration, shared by tests/ and the doctests under skpref/."""

import os

import torch

# One intra-op thread per test process: on a 2-core machine torch's default of two
# threads spin-waits against any other load and runs several times slower. Results
# do not depend on it; set SKPREF_TEST_THREADS to change it.
torch.set_num_threads(int(os.environ.get("SKPREF_TEST_THREADS", "1")))
