"""Estimators whose convergence rates nprates measures.

All take X of shape (n, T, d) and y of shape (n, L) (the last L positions of X) or
(n,) (the last position), follow scikit-learn's estimator contract, and import nothing
from the rest of nprates.
"""

from estimators.kernel_ridge import KernelRidgeBaseline
from estimators.knn import KNNBaseline
from estimators.oracle import OracleProjection
from estimators.selective_ssm_layer import SelectiveSSMLayer, selective_scan

__all__ = ["OracleProjection", "KernelRidgeBaseline", "KNNBaseline", "SelectiveSSMLayer",
           "selective_scan"]
