"""The oximeter reader against the simulated device on a real pty at 9600 baud."""

from __future__ import annotations

import math
import os
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from chairlink.errors import ChairlinkError
from edge.telemetry.oximeter.df2 import encode_packet
from edge.telemetry.oximeter.protocol import OximeterReading
from edge.telemetry.oximeter.reader import OximeterReader
from edge.telemetry.oximeter.simulator import OximeterFaults, OximeterSimulator
from edge.types import Perfusion, Vitals
from firmware_bridge.fault_injection import FaultProfile
from tests.wait import wait_until

TOKEN = "pt-7f3a9c"


class Patient:
    """Vitals a test sets; the simulator reads them at each packet."""

    def __init__(self) -> None:
        self.spo2 = 97.0
        self.pulse = 72.0

    def __call__(self, now_ns: int) -> Vitals:
        return Vitals(now_ns, TOKEN, self.spo2, self.pulse, Perfusion.GOOD, False)


@pytest.fixture
def patient() -> Patient:
    return Patient()


@pytest.fixture
def device(tmp_path: Path, patient: Patient) -> Iterator[OximeterSimulator]:
    with OximeterSimulator(patient, link=tmp_path / "ttyOXI", seed=1) as sim:
        yield sim


@pytest.fixture
def reader(device: OximeterSimulator) -> Iterator[OximeterReader]:
    with OximeterReader(device.device_path, TOKEN, stale_after_s=1.0) as r:
        yield r


def _vitals(reader: OximeterReader) -> Vitals:
    return reader.vitals(0)


def test_the_reader_reports_the_patients_vitals_at_three_packets_a_second(
    reader: OximeterReader, patient: Patient
) -> None:
    assert wait_until(lambda: _vitals(reader).spo2_pct == 97.0, 3.0)
    v = _vitals(reader)
    assert (v.pulse_bpm, v.patient_token, v.probe_off, v.stale) == (72.0, TOKEN, False, False)
    start = reader.stats().readings
    patient.spo2, patient.pulse = 88.0, 131.0
    assert wait_until(lambda: _vitals(reader).pulse_bpm == 131.0, 2.0)
    assert _vitals(reader).spo2_pct == 88.0
    assert wait_until(lambda: reader.stats().readings >= start + 6, 3.0)


def test_probe_off_artifact_and_loss_of_track(
    reader: OximeterReader, device: OximeterSimulator
) -> None:
    assert wait_until(lambda: _vitals(reader).spo2_pct == 97.0, 3.0)
    device.set_faults(OximeterFaults(probe_off=True))
    assert wait_until(lambda: _vitals(reader).probe_off, 2.0)
    assert math.isnan(_vitals(reader).spo2_pct)
    assert math.isnan(_vitals(reader).pulse_bpm)
    device.set_faults(OximeterFaults(artifact=True))
    assert wait_until(lambda: _vitals(reader).artifact and not _vitals(reader).probe_off, 2.0)
    assert _vitals(reader).spo2_pct == 97.0  # a doubtful beat keeps its numbers
    device.set_faults(OximeterFaults(out_of_track=True))
    assert wait_until(lambda: _vitals(reader).out_of_track, 2.0)
    assert math.isnan(_vitals(reader).spo2_pct)


def test_a_silent_device_goes_stale_and_comes_back(
    reader: OximeterReader, device: OximeterSimulator
) -> None:
    assert wait_until(lambda: _vitals(reader).spo2_pct == 97.0, 3.0)
    device.set_faults(OximeterFaults(silent=True))
    assert wait_until(lambda: _vitals(reader).stale, 2.5)
    assert math.isnan(_vitals(reader).spo2_pct)
    device.set_faults(OximeterFaults())
    assert wait_until(lambda: not _vitals(reader).stale, 2.0)


def test_a_pulled_cable_is_stale_then_reconnected(
    reader: OximeterReader, device: OximeterSimulator
) -> None:
    assert wait_until(lambda: _vitals(reader).spo2_pct == 97.0, 3.0)
    device.unplug()
    assert wait_until(lambda: _vitals(reader).stale, 2.5)
    assert wait_until(lambda: not reader.stats().connected, 2.0)
    device.replug()
    assert wait_until(lambda: _vitals(reader).spo2_pct == 97.0 and not _vitals(reader).stale, 5.0)
    assert reader.stats().reconnects == 1


def test_a_corrupted_line_loses_packets_never_numbers(device: OximeterSimulator) -> None:
    device.set_faults(
        OximeterFaults(line=FaultProfile(bit_flip_rate=0.002, garbage_burst_rate=0.02))
    )
    readings: list[OximeterReading] = []
    with OximeterReader(
        device.device_path, TOKEN, on_reading=lambda _, r: readings.append(r)
    ) as reader:
        assert wait_until(lambda: len(readings) >= 12, 10.0)
        counters = reader.stats().decoder
    assert counters["bytes_skipped"] > 0
    assert {(r.spo2_pct, r.pulse_bpm) for r in readings} == {(97, 72)}


def test_an_unknown_protocol_is_named() -> None:
    with pytest.raises(
        ChairlinkError, match="unknown oximeter protocol 'contec'; known: nonin-df2"
    ):
        OximeterReader("/dev/null", TOKEN, protocol="contec")


def test_a_corrupted_packet_goes_out_doubtful_with_no_numbers() -> None:
    """A value byte and its checksum flipped together (SpO2 97 read as 65) pass the checksum;
    the vitals carry no numbers for that packet, flagged doubtful, never the 65."""
    master, slave = os.openpty()
    tty.setraw(slave)  # as a device's port: no echo, no line editing
    try:
        with OximeterReader(os.ttyname(slave), TOKEN, stale_after_s=10.0) as reader:
            assert wait_until(lambda: reader.stats().connected, 5.0)
            os.write(master, encode_packet(97, 61))
            assert wait_until(lambda: _vitals(reader).spo2_pct == 97.0, 5.0)
            corrupt = bytearray(encode_packet(97, 61))
            corrupt[13] ^= 0x20  # frame 3's SpO2 97 -> 65
            corrupt[14] ^= 0x20  # and its checksum, which then matches
            os.write(master, bytes(corrupt))
            assert wait_until(lambda: _vitals(reader).doubtful, 5.0)
            v = _vitals(reader)
            assert math.isnan(v.spo2_pct)
            assert math.isnan(v.pulse_bpm)
            assert reader.stats().decoder["doubtful_packets"] == 1
            os.write(master, encode_packet(96, 62))
            assert wait_until(lambda: _vitals(reader).spo2_pct == 96.0, 5.0)
            assert not _vitals(reader).doubtful
    finally:
        os.close(master)
        os.close(slave)
