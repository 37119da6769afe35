"""The wire contract: topics, payloads, and what is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from chairlink.wire.payloads import (
    CommandAck,
    CommandHead,
    EventMessage,
    PatientMessage,
    PayloadError,
    StateMessage,
    StopCommand,
    TripCommand,
    VehicleMessage,
    VehicleSample,
    decode_command,
    decode_uplink,
    encode,
    read_command_head,
)
from chairlink.wire.topics import (
    Channel,
    CommandKind,
    TopicError,
    channel_topic,
    command_topic,
    parse_topic,
)

STAMP = 1_764_380_000_123_456_789


def test_topics_are_built_and_parsed_back() -> None:
    topic = channel_topic("st-marys", "chair-07", Channel.PATIENT)
    assert topic == "chairlink/v1/st-marys/chair-07/patient"
    parsed = parse_topic(topic)
    assert (parsed.site, parsed.chair, parsed.channel, parsed.command) == (
        "st-marys",
        "chair-07",
        Channel.PATIENT,
        None,
    )
    cmd = command_topic("st-marys", "chair-07", CommandKind.STOP)
    assert cmd == "chairlink/v1/st-marys/chair-07/cmd/stop"
    assert parse_topic(cmd).command == CommandKind.STOP
    assert channel_topic("+", "+", "vehicle") == "chairlink/v1/+/+/vehicle"


@pytest.mark.parametrize(
    ("topic", "message"),
    [
        ("chairlink/v2/a/b/state", "not a chairlink/v1 topic"),
        ("chairlink/v1/a/b/gossip", "unknown channel or command 'gossip'"),
        ("chairlink/v1/a/b/cmd/launch", "unknown channel or command 'launch'"),
        ("chairlink/v1/a/B/state", "chair 'B' is not lower-case"),
        ("chairlink/v1/a/b/x/stop", "expected cmd/<kind>"),
    ],
)
def test_a_topic_outside_the_contract_is_named(topic: str, message: str) -> None:
    with pytest.raises(TopicError, match=message):
        parse_topic(topic)


def test_ids_with_wildcards_or_names_never_make_a_topic() -> None:
    for bad in ("chair/1", "chair+", "#", "John Smith", ""):
        with pytest.raises(TopicError):
            channel_topic("site", bad, Channel.STATE)


def _patient(**fields: object) -> PatientMessage:
    base: dict[str, object] = {
        "v": 1,
        "chair": "chair-07",
        "channel": "patient",
        "seq": 123456,
        "stamp_ns": STAMP,
        "patient": "pt-7f3a9c2b",
        "spo2_pct": 97.0,
        "pulse_bpm": 72.0,
        "perfusion": "good",
    }
    base.update(fields)
    return PatientMessage.model_validate(base)


def test_a_vitals_message_round_trips_in_under_200_bytes() -> None:
    message = _patient()
    data = encode(message)
    assert len(data) <= 200
    assert decode_uplink(data) == message


def test_a_state_without_an_incarnation_is_of_a_sender_that_predates_it() -> None:
    old = b'{"v":1,"chair":"chair-07","seq":3,"stamp_ns":1,"channel":"state","status":"online"}'
    state = decode_uplink(old)
    assert isinstance(state, StateMessage)
    assert state.incarnation == 0


def test_every_channel_round_trips() -> None:
    messages = [
        StateMessage(
            v=1,
            chair="chair-07",
            channel=Channel.STATE,
            seq=3,
            stamp_ns=STAMP,
            status="online",
            incarnation=7,
            backlog=12,
            last_seq={Channel.PATIENT: 9},
        ),
        VehicleMessage(
            v=1,
            chair="chair-07",
            channel=Channel.VEHICLE,
            seq=4,
            stamp_ns=STAMP,
            samples=[
                VehicleSample(
                    stamp_ns=STAMP,
                    x_m=1.0,
                    y_m=2.0,
                    yaw_rad=0.1,
                    speed_mps=0.8,
                    battery_pct=76.0,
                    mode="autonomous",
                )
            ],
        ),
        VehicleMessage(
            v=1,
            chair="chair-07",
            channel=Channel.VEHICLE,
            seq=5,
            stamp_ns=STAMP,
            thinned_through=90,
        ),
        _patient(spo2_pct=None, pulse_bpm=None, probe_off=True, perfusion="low"),
        EventMessage(
            v=1,
            chair="chair-07",
            channel=Channel.EVENT,
            seq=1,
            stamp_ns=STAMP,
            event_id="ev-1",
            kind="command",
            code="command_ack",
            ack=CommandAck(command_id="c-1", kind=CommandKind.STOP, accepted=True),
        ),
    ]
    for message in messages:
        assert decode_uplink(encode(message)) == message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"{not json", "not JSON"),
        (b'{"v":1,"channel":"gossip"}', "channel"),
        (
            b'{"v":2,"chair":"c","channel":"state","seq":1,"stamp_ns":1,"status":"online"}',
            "state.v: Input should be 1",
        ),
        (
            b'{"v":1,"chair":"c","channel":"patient","seq":-1,"stamp_ns":1,"patient":"pt-abcd"}',
            "patient.seq: Input should be greater than or equal to 0",
        ),
        (
            b'{"v":1,"chair":"c","channel":"patient","seq":1,"stamp_ns":1,"patient":"John Smith"}',
            "patient.patient: String should match pattern",
        ),
    ],
)
def test_a_bad_uplink_payload_says_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        decode_uplink(data)


def test_fields_a_newer_v1_sender_adds_are_ignored_on_receipt_and_refused_when_sending() -> None:
    uplink = decode_uplink(
        b'{"v":1,"chair":"chair-07","seq":5,"stamp_ns":1,"channel":"vehicle","route":"b",'
        b'"samples":[{"stamp_ns":1,"x_m":1,"y_m":2,"yaw_rad":0,"speed_mps":0.5,'
        b'"battery_pct":80,"mode":"idle","floor":3}]}'
    )
    assert isinstance(uplink, VehicleMessage)
    assert uplink.samples[0].x_m == 1.0
    assert "route" not in encode(uplink).decode()
    assert "floor" not in encode(uplink).decode()
    command = decode_command(
        b'{"v":1,"command_id":"c-1","chair":"chair-07","issued_ns":1,"kind":"stop",'
        b'"requested_by":"nurse"}'
    )
    assert isinstance(command, StopCommand)
    with pytest.raises(ValidationError, match="mrn"):
        PatientMessage.model_validate(
            {
                "v": 1,
                "chair": "c",
                "channel": "patient",
                "seq": 1,
                "stamp_ns": 1,
                "patient": "pt-abcd",
                "mrn": "12345",
            }
        )


def test_commands_round_trip_and_bad_ones_are_named() -> None:
    trip = TripCommand(
        v=1,
        command_id="c-42",
        chair="chair-07",
        issued_ns=STAMP,
        kind=CommandKind.TRIP,
        trip_id="t-9",
        origin="ward-a-3",
        destination="radiology",
        patient="pt-7f3a9c2b",
    )
    assert decode_command(encode(trip)) == trip
    stop = StopCommand(
        v=1, command_id="c-43", chair="chair-07", issued_ns=STAMP, kind=CommandKind.STOP
    )
    assert decode_command(encode(stop)) == stop
    with pytest.raises(PayloadError, match=r"trip\.destination: Field required"):
        decode_command(
            b'{"v":1,"command_id":"c","chair":"c","issued_ns":1,"kind":"trip",'
            b'"trip_id":"t","origin":"a"}'
        )
    with pytest.raises(PayloadError, match=r"config\.changes: Dictionary should have at least 1"):
        decode_command(
            b'{"v":1,"command_id":"c","chair":"c","issued_ns":1,"kind":"config","changes":{}}'
        )


@given(st.binary(max_size=300))
def test_random_bytes_are_refused_with_a_payload_error_or_decoded(data: bytes) -> None:
    for decode in (decode_uplink, decode_command):
        try:
            result = decode(data)
        except PayloadError:
            continue
        assert isinstance(result, BaseModel)


@pytest.mark.parametrize(
    ("data", "head"),
    [
        # The id, kind and trip id of a command that breaks the schema elsewhere.
        (
            b'{"v":1,"command_id":"c-7","kind":"cancel","trip_id":"t-2","issued_ns":"soon"}',
            CommandHead("c-7", CommandKind.CANCEL, "t-2"),
        ),
        # Each read on its own: an id outside the alphabet, an unknown kind.
        (b'{"command_id":"c 7","kind":"stop"}', CommandHead(None, CommandKind.STOP, None)),
        (b'{"command_id":"c-7\\n","kind":"launch"}', CommandHead(None, None, None)),
        (b'{"command_id":"c-7","kind":["trip"]}', CommandHead("c-7", None, None)),
        (b'{"command_id":"' + b"c" * 65 + b'"}', CommandHead(None, None, None)),
        # Nothing to read.
        (b"\x00garbage", CommandHead(None, None, None)),
        (b'["c-7","trip"]', CommandHead(None, None, None)),
        (b"[" * 100_000, CommandHead(None, None, None)),
        (b"1" * 5_000, CommandHead(None, None, None)),
    ],
)
def test_a_command_that_does_not_decode_is_read_as_far_as_it_can_be(
    data: bytes, head: CommandHead
) -> None:
    assert read_command_head(data) == head


@given(st.binary(max_size=300))
def test_reading_a_command_head_never_raises(data: bytes) -> None:
    head = read_command_head(data)
    assert head.kind is None or isinstance(head.kind, CommandKind)
