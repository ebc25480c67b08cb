"""Estimators whose convergence rates nprates measures.

All take X of shape (n, T, d) and y of shape (n, L) (the last L positions of X) or
(n,) (the last position), follow scikit-learn's estimator contract, and import nothing
from the rest of nprates.
"""

from nprates.estimators.classifiers import SelectiveSSMClassifier, SSMClassifier, TransformerClassifier
from nprates.estimators.errors import TrainingDiverged
from nprates.estimators.kernel_ridge import KernelRidgeBaseline
from nprates.estimators.knn import KNNBaseline
from nprates.estimators.mixer_estimator import MixerClassifier, MixerRegressor
from nprates.estimators.module_estimator import ModuleRegressor
from nprates.estimators.neural import SSMRegressor, TransformerRegressor, WindowMLP
from nprates.estimators.oracle import OracleProjection
from nprates.estimators.replicates import fit_replicates
from nprates.estimators.selective_estimator import SelectiveSSMRegressor
from nprates.estimators.selective_ssm_layer import SelectiveSSMLayer, selective_scan

__all__ = ["SSMRegressor", "TransformerRegressor", "WindowMLP", "SelectiveSSMRegressor",
           "SSMClassifier", "TransformerClassifier", "SelectiveSSMClassifier", "OracleProjection",
           "KernelRidgeBaseline", "KNNBaseline", "fit_replicates", "TrainingDiverged",
           "SelectiveSSMLayer", "selective_scan", "MixerRegressor", "MixerClassifier",
           "ModuleRegressor"]
