"""IEEE 754 double <-> IBM System/370 hexadecimal double, vectorised with numpy.

XPT v5 stores every numeric value as an IBM 370 double: 1 sign bit, a 7-bit excess-64 exponent of
16, and a 56-bit fraction (big-endian). Every IEEE double with a normal exponent in range maps to
an IBM double *exactly* (53 significant bits fit in 56 even after the up-to-3-bit hex
normalisation shift), so the writer never rounds; the reader rounds 56 -> 53 bits to nearest.

SAS missing values are IBM doubles whose first byte is the missing code ('.' = 0x2E, '.A'..'.Z',
'._') and whose other seven bytes are zero.
"""
from __future__ import annotations

import numpy as np

#: First byte of the SAS missing values: '.', '._' and '.A' .. '.Z'.
MISSING_BYTE = 0x2E
SPECIAL_MISSING_BYTES = (0x5F, *range(0x41, 0x5B))
#: |x| >= 2**252 (= 16**63, about 7.2e75) has no IBM double representation.
IBM_OVERFLOW = 2.0 ** 252

_MASK52 = np.uint64((1 << 52) - 1)
_HIDDEN = np.uint64(1 << 52)
_MASK56 = np.uint64((1 << 56) - 1)


def ibm_unrepresentable(values: np.ndarray) -> np.ndarray:
    """Boolean mask of values no IBM double can hold (+-inf and |x| >= 16**63); NaN is fine (missing)."""
    x = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isinf(x) | (np.abs(x) >= IBM_OVERFLOW)


def ieee_to_ibm(values: np.ndarray) -> np.ndarray:
    """IEEE doubles -> IBM doubles as an (n, 8) uint8 array (big-endian bytes per row).

    NaN becomes SAS missing '.', zero (and -0, IEEE subnormals, IBM underflow) becomes 8 zero
    bytes; values below the IBM normal range (16**-65) are stored unnormalised, as SAS does.
    Callers must reject ``ibm_unrepresentable`` values first (they would wrap the exponent).
    """
    x = np.ascontiguousarray(values, dtype=np.float64).ravel()
    bits = x.view(np.uint64)
    sign = bits >> np.uint64(63)
    ieee_exp = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.int64)
    mant = (bits & _MASK52) | _HIDDEN                      # value = mant * 2**(e - 52)
    e1 = ieee_exp - 1023 + 1                               # value = (mant * 2**-53) * 2**e1
    hexexp = -((-e1) // 4)                                 # ceil(e1 / 4): value = frac * 16**hexexp
    shift = (3 - (4 * hexexp - e1)).astype(np.uint64)      # 0..3 bits to left-align in 56 bits
    frac = mant << shift
    under = hexexp < -64
    if under.any():                                        # unnormalised, losing low bits
        down = np.clip(4 * (-64 - hexexp), 0, 63).astype(np.uint64)
        frac = np.where(under, frac >> down, frac)
        hexexp = np.maximum(hexexp, -64)
    out = (sign << np.uint64(63)) | ((hexexp + 64).astype(np.uint64) << np.uint64(56)) | frac
    out[(ieee_exp == 0) | (frac == 0)] = 0                 # zero, -0, subnormal, underflow
    out[np.isnan(x)] = np.uint64(MISSING_BYTE) << np.uint64(56)
    return out.astype(">u8").view(np.uint8).reshape(-1, 8)


def ibm_to_ieee(raw: np.ndarray) -> np.ndarray:
    """(n, k) uint8 IBM doubles (k = stored length 2..8, truncated low bytes) -> float64; missing -> NaN."""
    raw = np.asarray(raw, dtype=np.uint8)
    n, k = raw.shape
    if k < 8:
        full = np.zeros((n, 8), dtype=np.uint8)
        full[:, :k] = raw
        raw = full
    u = np.ascontiguousarray(raw).view(">u8").ravel().astype(np.uint64)
    first = (u >> np.uint64(56)).astype(np.int64)
    frac = u & _MASK56
    hexexp = (first & 0x7F) - 64
    with np.errstate(over="ignore", under="ignore"):
        out = np.ldexp(frac.astype(np.float64), (4 * hexexp - 56).astype(np.int32))
    out = np.where(first & 0x80, -out, out)
    out[frac == 0] = 0.0
    missing = (frac == 0) & np.isin(first, (MISSING_BYTE, *SPECIAL_MISSING_BYTES))
    out[missing] = np.nan
    return out
