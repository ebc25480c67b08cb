"""Resolution of the ``device`` hyperparameter shared by the torch estimators."""

from __future__ import annotations

import torch


def resolve_device(device) -> torch.device:
    """Map ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:K"`` or a torch.device to a device.

    ``"auto"`` is CUDA when available, else CPU. Raises ValueError for an unknown
    name or a CUDA device that is not available.
    """
    if isinstance(device, torch.device):
        dev = device
    elif device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    elif isinstance(device, str):
        try:
            dev = torch.device(device)
        except RuntimeError:
            raise ValueError(f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:K'") from None
    else:
        raise ValueError(f"device must be a string such as 'auto', 'cpu' or 'cuda', got {device!r}")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"unsupported device {device!r}; use 'auto', 'cpu' or 'cuda'")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available on this machine")
    return dev
