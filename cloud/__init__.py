"""The hospital monitor: ingest, storage, alarms, dispatch, API and dashboard."""

__all__: list[str] = []
