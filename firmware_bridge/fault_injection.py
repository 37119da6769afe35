"""Corrupting a byte stream the ways a real serial link does, reproducibly from a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["FaultInjector", "FaultProfile"]


@dataclass(frozen=True, slots=True)
class FaultProfile:
    """Rates of each fault. Byte rates apply per byte, frame rates per written frame."""

    bit_flip_rate: float = 0.0
    drop_rate: float = 0.0
    insert_rate: float = 0.0
    truncate_rate: float = 0.0
    garbage_burst_rate: float = 0.0
    garbage_burst_max: int = 64

    @property
    def clean(self) -> bool:
        """Whether this profile leaves every byte as it is."""
        return not (
            self.bit_flip_rate
            or self.drop_rate
            or self.insert_rate
            or self.truncate_rate
            or self.garbage_burst_rate
        )


class FaultInjector:
    """Applies a FaultProfile to frames on their way to the wire; counts what it did."""

    def __init__(self, profile: FaultProfile, seed: int = 0) -> None:
        self.profile = profile
        self._rng = random.Random(seed)
        self.flipped = 0
        self.dropped = 0
        self.inserted = 0
        self.truncated = 0
        self.bursts = 0

    def apply(self, frame: bytes) -> bytes:
        """The bytes that reach the wire for one frame."""
        p = self.profile
        if p.clean:
            return frame
        rng = self._rng
        out = bytearray()
        if p.garbage_burst_rate and rng.random() < p.garbage_burst_rate:
            self.bursts += 1
            out += rng.randbytes(rng.randint(1, p.garbage_burst_max))
        data = frame
        if p.truncate_rate and rng.random() < p.truncate_rate and len(frame) > 1:
            self.truncated += 1
            data = frame[: rng.randint(1, len(frame) - 1)]
        for byte in data:
            if p.drop_rate and rng.random() < p.drop_rate:
                self.dropped += 1
                continue
            if p.bit_flip_rate and rng.random() < p.bit_flip_rate:
                self.flipped += 1
                out.append(byte ^ (1 << rng.randrange(8)))
            else:
                out.append(byte)
            if p.insert_rate and rng.random() < p.insert_rate:
                self.inserted += 1
                out.append(rng.randrange(256))
        return bytes(out)
