"""A constant-velocity Kalman filter on (centre x, centre y, aspect w/h, height), the
state used by SORT/DeepSORT/ByteTrack; noise scales with the box height.

The state is the mean (N, 8): x, y, a, h and their velocities. The covariance is kept
as its only non-zero entries, `var` (N, 3, 4): for each measured coordinate i the
variance of i, its covariance with velocity i, and the variance of velocity i. With
F = [[I, I], [0, I]], H = [I, 0] and diagonal Q and R, a covariance that starts
diagonal (as `initiate` makes it) stays four independent 2x2 blocks, one per
coordinate, so the 8x8 matrix algebra reduces exactly to a few element-wise
operations (`full_cov` rebuilds the 8x8 matrix; tests check both against the matrix
forms). Prediction and correction run over all tracks at once, compiled
(`app.vision.kernels`).
"""

from __future__ import annotations

import numpy as np

from app.vision import kernels

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
    """(N, 4) boxes x0, y0, x1, y1 -> centre x, centre y, aspect w/h, height."""
    return kernels.xyxy_to_xyah(kernels.as_boxes(xyxy))


def xyah_to_xyxy(xyah: np.ndarray) -> np.ndarray:
    """The inverse of `xyxy_to_xyah`."""
    return kernels.xyah_to_xyxy(kernels.as_boxes(xyah))


def initiate(xyah: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (N, 8) and `var` (N, 3, 4) of new tracks from (N, 4) measurements."""
    xyah = np.asarray(xyah, np.float64).reshape(-1, 4)
    h = xyah[:, 3:4]
    mean = np.concatenate([xyah, np.zeros_like(xyah)], axis=1)
    var = np.zeros((len(xyah), 3, 4))
    var[:, XX] = np.square(h * _P0_SCALE + _P0_FIXED)
    var[:, VV] = np.square(h * _V0_SCALE + _V0_FIXED)
    return mean, var


def predict(mean: np.ndarray, var: np.ndarray) -> None:
    """One step for N tracks, in place (C-contiguous float64 arrays): x' = F x,
    P' = F P F^T + Q, per 2x2 block
    [[xx, xv], [xv, vv]] -> [[xx + 2 xv + vv + qx, xv + vv], [xv + vv, vv + qv]]."""
    kernels.kalman_predict(mean, var, _QX_SCALE, _QX_FIXED, _QV_SCALE, _QV_FIXED)


def update(mean: np.ndarray, var: np.ndarray, rows: np.ndarray, xyah: np.ndarray) -> None:
    """Correct the tracks at `rows`, in place (C-contiguous float64 arrays), with one
    (4,) measurement per row: per coordinate S = xx + r, gain K = (xx, xv) / S,
    x' = x + K (z - x), P' = P - K S K^T."""
    kernels.kalman_update(
        mean, var, np.asarray(rows, np.int64), kernels.as_boxes(xyah), _R_SCALE, _R_FIXED
    )


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
