"""vitals_node: the patient's pulse oximeter to /patient/vitals.

A thin adapter over edge.telemetry.oximeter.OximeterReader (docs/telemetry.md): the reader
decodes the device's serial format on its own thread; this node publishes the latest reading
at ``oximeter.publish_hz`` on the steady clock, NaN numbers and ``stale`` set when the device
has said nothing valid for ``oximeter.stale_after_s``, so a pulled cable never looks like a
steady patient.

Vitals belong to a patient: the token comes with the trip that carries them (/trip/command,
where telemetry_node publishes only the trips the chair's rules accept), and until one is
assigned nothing is published. The reader changes the token and drops the previous patient's
readings in one step, and every reading carries the token it was taken under (hazard H-35).
In simulation sim_node publishes the vitals instead of this node.
"""

from __future__ import annotations

from typing import Any

from chairlink_interfaces.msg import PatientVitals
from chairlink_interfaces.msg import TripCommand as TripCommandMsg
from rclpy.clock import Clock
from rclpy.clock_type import ClockType
from rclpy.node import Node

from chairlink.interfaces import typestore
from chairlink_ros import qos
from chairlink_ros.chair_parameters import declare_chair_parameters
from chairlink_ros.node_main import spin_node
from edge.rosbag.cdr import prepare, serialize
from edge.rosbag.conversions import PATIENT_VITALS, to_patient_vitals
from edge.telemetry.oximeter.reader import OximeterReader

__all__ = ["VitalsNode", "main"]


class VitalsNode(Node):
    """Publishes the patient's vitals from the oximeter on the chair."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("vitals", **kwargs)
        config, _ = declare_chair_parameters(self)
        oximeter = config.oximeter
        self._frame = config.ros.base_frame
        self._store = typestore()
        prepare(self._store, (PATIENT_VITALS,))
        self._trip_id = ""
        self._reader = OximeterReader(
            oximeter.port,
            "",
            protocol=oximeter.protocol,
            stale_after_s=oximeter.stale_after_s,
        )
        self._publisher = self.create_publisher(PatientVitals, "patient/vitals", qos.TELEMETRY)
        self.create_subscription(TripCommandMsg, "trip/command", self._on_trip, qos.COMMANDS)
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(1.0 / oximeter.publish_hz, self._publish, clock=steady)
        self._reader.start()
        self.get_logger().info(
            f"oximeter on {oximeter.port} ({oximeter.protocol}); vitals at "
            f"{oximeter.publish_hz} Hz once a trip assigns a patient"
        )

    @property
    def reader(self) -> OximeterReader:
        """The oximeter reader this node adapts."""
        return self._reader

    @property
    def patient_token(self) -> str:
        """The token of the patient on the chair, empty when none."""
        return self._reader.patient_token

    def destroy_node(self) -> None:
        """Close the port and tear the node down."""
        self._reader.stop()
        super().destroy_node()

    def _on_trip(self, message: TripCommandMsg) -> None:
        if message.action == TripCommandMsg.ASSIGN:
            self._trip_id = message.trip_id
            self._reader.set_patient(message.patient_token)
            who = message.patient_token or "no patient"
            self.get_logger().info(f"trip {message.trip_id}: {who}")
        elif message.action == TripCommandMsg.CANCEL and message.trip_id == self._trip_id:
            self._trip_id = ""
            self._reader.set_patient("")
            self.get_logger().info(f"trip {message.trip_id} cancelled: no patient")

    def _publish(self) -> None:
        # The token comes with the reading, taken in the same step: never checked apart.
        vitals = self._reader.vitals(self.get_clock().now().nanoseconds)
        if not vitals.patient_token:
            return
        # Serialised by the same code that records bags, as sim_node publishes them.
        self._publisher.publish(
            serialize(self._store, to_patient_vitals(self._store, vitals, self._frame))
        )


def main(args: list[str] | None = None) -> None:
    """Run the node until shutdown."""
    spin_node(VitalsNode, "vitals", args)
