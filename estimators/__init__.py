"""Estimators whose convergence rates nprates measures.

All take X of shape (n, T, d) and y of shape (n, L) (the last L positions of X) or
(n,) (the last position), follow scikit-learn's estimator contract, and import nothing
from the rest of nprates.
"""

from estimators.classifiers import SelectiveSSMClassifier, SSMClassifier, TransformerClassifier
from estimators.errors import TrainingDiverged
from estimators.kernel_ridge import KernelRidgeBaseline
from estimators.knn import KNNBaseline
from estimators.neural import SSMRegressor, TransformerRegressor, WindowMLP
from estimators.oracle import OracleProjection
from estimators.replicates import fit_replicates
from estimators.selective_estimator import SelectiveSSMRegressor
from estimators.selective_ssm_layer import SelectiveSSMLayer, selective_scan

__all__ = ["SSMRegressor", "TransformerRegressor", "WindowMLP", "SelectiveSSMRegressor",
           "SSMClassifier", "TransformerClassifier", "SelectiveSSMClassifier", "OracleProjection",
           "KernelRidgeBaseline", "KNNBaseline", "fit_replicates", "TrainingDiverged",
           "SelectiveSSMLayer", "selective_scan"]
