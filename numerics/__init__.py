"""implreg's numeric layer: array-API simulations and measurements.

Everything here runs on NumPy (default), CuPy, PyTorch and ``array_api_strict`` through
``array_api_compat``, with a leading replica axis: R trajectories are one array program.
What a model, an update rule and a measurement must provide is written down as protocols
in :mod:`numerics.protocols` (``Model``, ``UpdateRule``, ``Measurement``, ...).

>>> import numpy as np
>>> from numerics import LeastSquares, GD, run
>>> A = np.array([[1.0, 1.0]]); y = np.array([2.0])
>>> traj = run(LeastSquares(A, y, reduction="sum"), GD(eta=0.4), np.zeros((1, 2)), 50)
>>> np.round(traj.x, 6)                 # the minimum-norm solution (1, 1)
array([[1., 1.]])
"""

from numerics.backend import (
    BACKENDS,
    BackendUnavailableError,
    available_backends,
    default_namespace,
    get_namespace,
    namespace_name,
    to_numpy,
)
from numerics.engine import DivergenceError, Trajectory, run
from numerics.linear import LeastSquares, min_norm_fit, relu_features
from numerics.optim import GD, SGD, Rule, apply_metric
from numerics.protocols import (
    GradFunction,
    HessianOperator,
    HVPModel,
    LabelNoiseModel,
    LossFunction,
    ManifoldModel,
    Measurement,
    MinibatchModel,
    Model,
    PerSampleModel,
    RandomSource,
    UpdateRule,
)
from numerics.random import Generator, default_rng

# Topic models, rules and measurements, imported on first use (`numerics.Adam`, or
# `from numerics.sharpness import top_eigenvalue`): keeps `import numerics` light.
_LAZY = {
    "sharpness": ("top_eigenvalue", "hessian_trace", "non_uniformity", "epsilon_sharpness",
                  "pac_bayes_sharpness", "flatness_radius"),
    "density": ("spectral_density", "SpectralDensity"),
    "stability": ("SumOfQuadratics", "PiecewiseQuadratic1D", "escape_example",
                  "second_moment_map", "largest_stable_eta"),
    "two_layer": ("TwoLayerReLU", "TwoLayerPopulation", "RandomFeatures", "xavier_init"),
    "adaptive": ("Adam", "RMSprop"),
    "label_noise": ("LabelNoiseSGD",),
    "langevin": ("Langevin", "TwoWellPotential"),
    "diagonal": ("DiagonalNet",),
    "factorization": ("MatrixSensing",),
    "classification": ("LogisticRegression", "separable_data", "max_margin"),
    "mlp": ("MLP",),
    "data": ("load_digits", "corrupt_labels"),
    "tracking": ("SharpnessTracker",),
    # imports torch only when a TorchModel is built
    "torch_model": ("TorchModel",),
}
_LAZY_NAMES = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str):  # noqa: ANN202
    if name in _LAZY_NAMES:
        import importlib  # noqa: PLC0415

        return getattr(importlib.import_module(f"numerics.{_LAZY_NAMES[name]}"), name)
    raise AttributeError(f"module 'numerics' has no attribute {name!r}")


__all__ = [
    "BACKENDS",
    "BackendUnavailableError",
    "DivergenceError",
    "GD",
    "Generator",
    "GradFunction",
    "HVPModel",
    "HessianOperator",
    "LabelNoiseModel",
    "LeastSquares",
    "LossFunction",
    "ManifoldModel",
    "Measurement",
    "MinibatchModel",
    "Model",
    "PerSampleModel",
    "RandomSource",
    "Rule",
    "SGD",
    "Trajectory",
    "UpdateRule",
    "apply_metric",
    "available_backends",
    "default_namespace",
    "default_rng",
    "get_namespace",
    "min_norm_fit",
    "namespace_name",
    "relu_features",
    "run",
    "to_numpy",
    *sorted(_LAZY_NAMES),
]
