"""Telemetry on the chair: the MQTT agent, its outbox, downlink commands, the oximeter reader."""

__all__: list[str] = []
