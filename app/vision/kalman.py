"""A constant-velocity Kalman filter on (centre x, centre y, aspect w/h, height), the
state used by SORT/DeepSORT/ByteTrack; noise scales with the box height.

The state is the mean (N, 8): x, y, a, h and their velocities. The covariance is kept
as its only non-zero entries, `var` (N, 3, 4): for each measured coordinate i the
variance of i, its covariance with velocity i, and the variance of velocity i. With
F = [[I, I], [0, I]], H = [I, 0] and diagonal Q and R, a covariance that starts
diagonal (as `initiate` makes it) stays four independent 2x2 blocks, one per
coordinate, so the 8x8 matrix algebra reduces exactly to a few element-wise
operations (`full_cov` rebuilds the 8x8 matrix; tests check both against the matrix
forms). Prediction and correction are vectorised over all tracks at once.
"""

from __future__ import annotations

import numpy as np

STD_POSITION = 1.0 / 20
STD_VELOCITY = 1.0 / 160

XX, XV, VV = 0, 1, 2  # rows of `var`

# std of each coordinate (x, y, a, h) = height * scale + fixed
# process noise on the positions and on the velocities
_QX_SCALE = np.array([STD_POSITION, STD_POSITION, 0.0, STD_POSITION])
_QX_FIXED = np.array([0.0, 0.0, 1e-2, 0.0])
_QV_SCALE = np.array([STD_VELOCITY, STD_VELOCITY, 0.0, STD_VELOCITY])
_QV_FIXED = np.array([0.0, 0.0, 1e-5, 0.0])
# measurement noise
_R_SCALE = np.array([STD_POSITION, STD_POSITION, 0.0, STD_POSITION])
_R_FIXED = np.array([0.0, 0.0, 1e-1, 0.0])
# a new track: position and velocity std
_P0_SCALE = np.array([2 * STD_POSITION, 2 * STD_POSITION, 0.0, 2 * STD_POSITION])
_P0_FIXED = np.array([0.0, 0.0, 1e-2, 0.0])
_V0_SCALE = np.array([10 * STD_VELOCITY, 10 * STD_VELOCITY, 0.0, 10 * STD_VELOCITY])
_V0_FIXED = np.array([0.0, 0.0, 1e-5, 0.0])


def xyxy_to_xyah(xyxy: np.ndarray) -> np.ndarray:
    xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
    out = np.empty_like(xyxy)
    wh = xyxy[:, 2:] - xyxy[:, :2]
    out[:, :2] = xyxy[:, :2] + wh / 2
    out[:, 2] = wh[:, 0] / wh[:, 1]
    out[:, 3] = wh[:, 1]
    return out


def xyah_to_xyxy(xyah: np.ndarray) -> np.ndarray:
    xyah = np.asarray(xyah, np.float64).reshape(-1, 4)
    half = np.empty((len(xyah), 2))
    half[:, 1] = xyah[:, 3] / 2
    half[:, 0] = xyah[:, 2] * half[:, 1]
    return np.concatenate([xyah[:, :2] - half, xyah[:, :2] + half], axis=1)


def initiate(xyah: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (N, 8) and `var` (N, 3, 4) of new tracks from (N, 4) measurements."""
    xyah = np.asarray(xyah, np.float64).reshape(-1, 4)
    h = xyah[:, 3:4]
    mean = np.concatenate([xyah, np.zeros_like(xyah)], axis=1)
    var = np.zeros((len(xyah), 3, 4))
    var[:, XX] = np.square(h * _P0_SCALE + _P0_FIXED)
    var[:, VV] = np.square(h * _V0_SCALE + _V0_FIXED)
    return mean, var


def predict(mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One step for N tracks: x' = F x, P' = F P F^T + Q, per 2x2 block
    [[xx, xv], [xv, vv]] -> [[xx + 2 xv + vv + qx, xv + vv], [xv + vv, vv + qv]]."""
    new_mean = mean.copy()
    new_mean[:, :4] += mean[:, 4:]
    h = mean[:, 3:4]
    xx, xv, vv = var[:, XX], var[:, XV], var[:, VV]
    new_var = np.empty_like(var)
    new_var[:, XV] = xv + vv
    new_var[:, XX] = xx + xv + new_var[:, XV] + np.square(h * _QX_SCALE + _QX_FIXED)
    new_var[:, VV] = vv + np.square(h * _QV_SCALE + _QV_FIXED)
    return new_mean, new_var


def update(mean: np.ndarray, var: np.ndarray, xyah: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correct N tracks with (N, 4) measurements: per coordinate S = xx + r, gain
    K = (xx, xv) / S, x' = x + K (z - x), P' = P - K S K^T."""
    r = np.square(mean[:, 3:4] * _R_SCALE + _R_FIXED)
    xx, xv, vv = var[:, XX], var[:, XV], var[:, VV]
    kx = xx / (xx + r)
    kv = xv / (xx + r)
    innovation = np.asarray(xyah, np.float64).reshape(-1, 4) - mean[:, :4]
    new_mean = np.empty_like(mean)
    new_mean[:, :4] = mean[:, :4] + kx * innovation
    new_mean[:, 4:] = mean[:, 4:] + kv * innovation
    new_var = np.empty_like(var)
    new_var[:, XX] = xx - kx * xx
    new_var[:, XV] = xv - kx * xv
    new_var[:, VV] = vv - kv * xv
    return new_mean, new_var


def full_cov(var: np.ndarray) -> np.ndarray:
    """The (N, 8, 8) covariance matrices that `var` (N, 3, 4) stands for."""
    n = len(var)
    cov = np.zeros((n, 8, 8))
    i = np.arange(4)
    cov[:, i, i] = var[:, XX]
    cov[:, i, i + 4] = var[:, XV]
    cov[:, i + 4, i] = var[:, XV]
    cov[:, i + 4, i + 4] = var[:, VV]
    return cov
