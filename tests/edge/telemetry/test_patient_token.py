"""Hazard H-35: no reading of one patient goes out under the next patient's token.

The oximeter simulator on a real pty measures a different SpO2 for each patient, so every
reading says whose it is. One thread moves the probe from patient to patient and changes the
reader's token as a chair does between trips; another reads the vitals as fast as it can, as a
host publishing them would, and checks every reading against the token it came with.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge.telemetry.oximeter.reader import OximeterReader
from edge.telemetry.oximeter.simulator import OximeterFaults, OximeterSimulator
from edge.types import Perfusion, Vitals
from tests.wait import wait_until

pytestmark = pytest.mark.pty

PATIENTS = {f"pt-0000{n:04x}": float(spo2) for n, spo2 in enumerate(range(90, 100))}
"""Each patient's token and the SpO2 the probe measures on them: distinct, so a reading names
its patient."""


class Probe:
    """Whom the simulated probe is clipped to; the simulator reads it at each packet."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, now_ns: int) -> Vitals:
        return Vitals(now_ns, "", PATIENTS[self.token], 70.0, Perfusion.GOOD, False)


@pytest.fixture
def probe() -> Probe:
    return Probe(next(iter(PATIENTS)))


@pytest.fixture
def device(tmp_path: Path, probe: Probe) -> Iterator[OximeterSimulator]:
    with OximeterSimulator(probe, link=tmp_path / "ttyOXI", seed=3) as simulator:
        yield simulator


def _seen(seen: Counter[str], token: str) -> Callable[[], bool]:
    return lambda: seen[token] > 0


def _finish_packet(device: OximeterSimulator) -> None:
    """Wait until the packet being sent, begun before whatever just changed, is all out."""
    sent = device.packets_sent
    assert wait_until(lambda: device.packets_sent > sent, 3.0)


def test_a_reading_never_goes_out_under_another_patients_token(
    device: OximeterSimulator, probe: Probe
) -> None:
    first = probe.token
    seen: Counter[str] = Counter()
    wrong: list[tuple[str, float]] = []
    done = threading.Event()

    with OximeterReader(device.device_path, first, stale_after_s=1.0) as reader:

        def publish() -> None:
            # The host's side: every reading it would send, with the token it came with.
            while not done.is_set():
                vitals = reader.vitals(0)
                if math.isnan(vitals.spo2_pct):
                    continue
                seen[vitals.patient_token] += 1
                if vitals.spo2_pct != PATIENTS[vitals.patient_token]:
                    wrong.append((vitals.patient_token, vitals.spo2_pct))

        publisher = threading.Thread(target=publish, daemon=True)
        publisher.start()
        try:
            assert wait_until(lambda: seen[first] > 0, 5.0)
            for token in list(PATIENTS)[1:]:
                # The probe comes off the patient; the moment the device's last packet of them
                # is out (it may still be in the port, or half decoded), the chair changes the
                # token, and the probe goes on the next patient.
                device.set_faults(OximeterFaults(probe_off=True))
                _finish_packet(device)
                reader.set_patient(token)
                probe.token = token
                device.set_faults(OximeterFaults())
                assert wait_until(_seen(seen, token), 5.0), token
        finally:
            done.set()
            publisher.join(timeout=2.0)
    assert wrong == []
    assert set(seen) == set(PATIENTS)
