"""The serial link between the chair's computer and its motor MCU.

Framing and messages (the protocol of docs/firmware-protocol.md), the host driver on pyserial,
and the MCU simulator: the plant with the MCU's rules, and a byte layer that runs it on a
pseudo-terminal at a real baud rate.
"""

from firmware_bridge.driver import LinkStats, Received, SerialDriver, configure_message
from firmware_bridge.errors import BridgeError, EncodeError, LinkError
from firmware_bridge.framing import (
    PROTOCOL_VERSION,
    Frame,
    FrameDecoder,
    FrameFault,
    decode_frame,
    encode_frame,
)
from firmware_bridge.mcu_sim import McuSimulator
from firmware_bridge.plant import Plant, PlantState

__all__ = [
    "PROTOCOL_VERSION",
    "BridgeError",
    "EncodeError",
    "Frame",
    "FrameDecoder",
    "FrameFault",
    "LinkError",
    "LinkStats",
    "McuSimulator",
    "Plant",
    "PlantState",
    "Received",
    "SerialDriver",
    "configure_message",
    "decode_frame",
    "encode_frame",
]
