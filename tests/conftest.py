"""Test-suite settings.

The suite's networks are tiny: one torch thread trains them faster than two, which mostly
wait on each other, and it leaves the second core to the worker processes that the
study tests start.
"""

import os

import torch

torch.set_num_threads(1)

# The suite's study fixtures live in these test modules: trust them (nprates.studies.trust),
# here and in the subprocesses the CLI tests start.
os.environ["NPRATES_TRUST"] = "study_fixtures,test_capability_study,hardening_fixtures"
