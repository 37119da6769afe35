"""How every chairlink node process runs: init, spin one node, and shut down cleanly."""

from __future__ import annotations

from collections.abc import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.utilities import try_shutdown

from chairlink.errors import ChairlinkError

__all__ = ["spin_node"]


def spin_node(make: Callable[[], Node], name: str, args: list[str] | None = None) -> None:
    """Run the node ``make()`` builds until shutdown; destroy it on the way out (a node's
    ``destroy_node`` does its own last duties: brake the chair, send what is pending).

    A ChairlinkError while it is built (invalid parameters, a missing file) is logged as fatal
    under ``name`` and ends the process with status 2.
    """
    rclpy.init(args=args)
    node: Node | None = None
    try:
        node = make()
        # Not the MultiThreadedExecutor: with it a process stalled for 150-350 ms at a time
        # (rclpy holding the GIL while it rebuilt wait sets), long enough to starve the serial
        # driver's threads and trip the MCU's drive watchdog.
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except ChairlinkError as err:
        rclpy.logging.get_logger(name).fatal(str(err))
        raise SystemExit(2) from err
    finally:
        if node is not None:
            node.destroy_node()
        try_shutdown()
