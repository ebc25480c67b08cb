"""Test-suite settings.

The suite's networks are tiny: one torch thread trains them faster than two, which mostly
wait on each other, and it leaves the second core to the worker processes that the
study tests start.
"""

import torch

torch.set_num_threads(1)
