"""Pulse oximeters on a serial line: protocols, the reader, and a simulated device."""

__all__: list[str] = []
