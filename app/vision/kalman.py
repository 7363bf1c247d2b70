"""A constant-velocity Kalman filter on (centre x, centre y, aspect w/h, height), the
state used by SORT/DeepSORT/ByteTrack; noise scales with the box height. Prediction
and correction are vectorised over all tracks at once."""

from __future__ import annotations

import numpy as np

STD_POSITION = 1.0 / 20
STD_VELOCITY = 1.0 / 160

_F = np.eye(8)
_F[:4, 4:] = np.eye(4)  # x' = x + v (one analysed frame per step)
_H = np.eye(4, 8)


def xyxy_to_xyah(xyxy: np.ndarray) -> np.ndarray:
    xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
    w = xyxy[:, 2] - xyxy[:, 0]
    h = xyxy[:, 3] - xyxy[:, 1]
    return np.stack([xyxy[:, 0] + w / 2, xyxy[:, 1] + h / 2, w / h, h], axis=1)


def xyah_to_xyxy(xyah: np.ndarray) -> np.ndarray:
    xyah = np.asarray(xyah, np.float64).reshape(-1, 4)
    w = xyah[:, 2] * xyah[:, 3]
    h = xyah[:, 3]
    return np.stack(
        [xyah[:, 0] - w / 2, xyah[:, 1] - h / 2, xyah[:, 0] + w / 2, xyah[:, 1] + h / 2], axis=1
    )


def initiate(xyah: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (8,) and covariance (8, 8) of a new track from one (x, y, a, h) measurement."""
    h = float(xyah[3])
    mean = np.concatenate([xyah, np.zeros(4)])
    std = np.array(
        [
            2 * STD_POSITION * h,
            2 * STD_POSITION * h,
            1e-2,
            2 * STD_POSITION * h,
            10 * STD_VELOCITY * h,
            10 * STD_VELOCITY * h,
            1e-5,
            10 * STD_VELOCITY * h,
        ]
    )
    return mean, np.diag(np.square(std))


def predict(mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One step for N tracks at once: mean (N, 8), cov (N, 8, 8) -> predicted copies."""
    if len(mean) == 0:
        return mean.copy(), cov.copy()
    h = mean[:, 3]
    std = np.stack(
        [
            STD_POSITION * h,
            STD_POSITION * h,
            np.full_like(h, 1e-2),
            STD_POSITION * h,
            STD_VELOCITY * h,
            STD_VELOCITY * h,
            np.full_like(h, 1e-5),
            STD_VELOCITY * h,
        ],
        axis=1,
    )
    q = np.zeros_like(cov)
    idx = np.arange(8)
    q[:, idx, idx] = np.square(std)
    new_mean = mean @ _F.T
    new_cov = _F @ cov @ _F.T + q
    return new_mean, new_cov


def update(mean: np.ndarray, cov: np.ndarray, xyah: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correct N tracks at once: mean (N, 8), cov (N, 8, 8), measurements (N, 4)."""
    if len(mean) == 0:
        return mean.copy(), cov.copy()
    h = mean[:, 3]
    r = np.zeros((len(mean), 4, 4))
    r[:, [0, 1, 3], [0, 1, 3]] = np.square(STD_POSITION * h)[:, None]
    r[:, 2, 2] = 1e-2  # (1e-1)^2
    proj_mean = mean[:, :4]  # H @ mean
    proj_cov = cov[:, :4, :4] + r  # H @ cov @ H.T + R
    cross = cov[:, :, :4]  # cov @ H.T, (N, 8, 4)
    # gain = cross @ inv(proj_cov); proj_cov is symmetric, so solve proj_cov @ gain.T = cross.T
    gain = np.linalg.solve(proj_cov, cross.transpose(0, 2, 1)).transpose(0, 2, 1)
    innovation = np.asarray(xyah, np.float64).reshape(-1, 4) - proj_mean
    new_mean = mean + np.einsum("nij,nj->ni", gain, innovation)
    new_cov = cov - gain @ proj_cov @ gain.transpose(0, 2, 1)
    return new_mean, new_cov
