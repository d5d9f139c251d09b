"""Register encodings of servo values: sign-magnitude (Feetech), two's complement (Dynamixel),
and little-endian byte splitting. Same semantics as LeRobot 0.6.1's `motors.encoding_utils`."""

from __future__ import annotations


def encode_sign_magnitude(value: int, sign_bit_index: int) -> int:
    """`value` with its sign in bit `sign_bit_index` and its magnitude in the bits below."""
    max_magnitude = (1 << sign_bit_index) - 1
    magnitude = abs(int(value))
    if magnitude > max_magnitude:
        raise ValueError(f"magnitude {magnitude} exceeds {max_magnitude} (sign bit {sign_bit_index})")
    return ((1 if value < 0 else 0) << sign_bit_index) | magnitude


def decode_sign_magnitude(encoded: int, sign_bit_index: int) -> int:
    """Inverse of `encode_sign_magnitude` (bits above the sign bit are ignored)."""
    magnitude = encoded & ((1 << sign_bit_index) - 1)
    return -magnitude if (encoded >> sign_bit_index) & 1 else magnitude


def encode_twos_complement(value: int, n_bytes: int) -> int:
    """`value` as an unsigned `n_bytes` register holding its two's complement."""
    bits = n_bytes * 8
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if not low <= value <= high:
        raise ValueError(f"value {value} out of range for {n_bytes}-byte two's complement: [{low}, {high}]")
    return value if value >= 0 else (1 << bits) + value


def decode_twos_complement(value: int, n_bytes: int) -> int:
    bits = n_bytes * 8
    return value - (1 << bits) if value & (1 << (bits - 1)) else value


def to_bytes(value: int, length: int) -> list[int]:
    """An unsigned register value as `length` little-endian bytes (length 1, 2 or 4)."""
    if length not in (1, 2, 4):
        raise ValueError(f"unsupported register size {length}; expected 1, 2 or 4 bytes")
    if value < 0:
        raise ValueError(f"negative value {value} for an unsigned {length}-byte register; encode its sign first")
    if value >= 1 << (8 * length):
        raise ValueError(f"value {value} does not fit in {length} byte(s)")
    return [(value >> (8 * i)) & 0xFF for i in range(length)]


def from_bytes(data: bytes | list[int]) -> int:
    """Little-endian bytes as an unsigned integer."""
    return int.from_bytes(bytes(data), "little")
