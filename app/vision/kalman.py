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


# process noise std per state element = height * _Q_SCALE + _Q_FIXED
_Q_SCALE = np.array(
    [STD_POSITION] * 2 + [0.0, STD_POSITION] + [STD_VELOCITY] * 2 + [0.0, STD_VELOCITY]
)
_Q_FIXED = np.array([0.0, 0.0, 1e-2, 0.0, 0.0, 0.0, 1e-5, 0.0])
# measurement noise std per measured element = height * _R_SCALE + _R_FIXED
_R_SCALE = np.array([STD_POSITION, STD_POSITION, 0.0, STD_POSITION])
_R_FIXED = np.array([0.0, 0.0, 1e-1, 0.0])
_DIAG8 = np.arange(8)
_DIAG4 = np.arange(4)


def predict(mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One step for N tracks at once: mean (N, 8), cov (N, 8, 8) -> predicted copies
    (mean F^T and F cov F^T + Q, written out for this F: few small-array operations,
    since the tracker runs this every analysed frame)."""
    if len(mean) == 0:
        return mean.copy(), cov.copy()
    new_mean = mean.copy()
    new_mean[:, :4] += mean[:, 4:]
    # F cov F^T with F = [[I, I], [0, I]]: add the lower rows to the upper, then the
    # right columns to the left
    new_cov = cov.copy()
    new_cov[:, :4, :] += cov[:, 4:, :]
    new_cov[:, :, :4] += new_cov[:, :, 4:]
    std = mean[:, 3:4] * _Q_SCALE + _Q_FIXED
    new_cov[:, _DIAG8, _DIAG8] += std * std
    return new_mean, new_cov


def update(mean: np.ndarray, cov: np.ndarray, xyah: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correct N tracks at once: mean (N, 8), cov (N, 8, 8), measurements (N, 4)."""
    if len(mean) == 0:
        return mean.copy(), cov.copy()
    std = mean[:, 3:4] * _R_SCALE + _R_FIXED
    proj_cov = cov[:, :4, :4].copy()  # H cov H^T + R
    proj_cov[:, _DIAG4, _DIAG4] += std * std
    cross = cov[:, :, :4]  # cov H^T, (N, 8, 4)
    # gain = cross inv(proj_cov); proj_cov is symmetric: solve proj_cov gain^T = cross^T
    gain_t = np.linalg.solve(proj_cov, cross.transpose(0, 2, 1))  # (N, 4, 8)
    innovation = np.asarray(xyah, np.float64).reshape(-1, 1, 4) - mean[:, None, :4]
    new_mean = mean + (innovation @ gain_t)[:, 0, :]
    # cov - gain proj_cov gain^T = cov - gain cross^T (gain proj_cov = cross)
    new_cov = cov - gain_t.transpose(0, 2, 1) @ cross.transpose(0, 2, 1)
    return new_mean, new_cov
