"""Readiness: each component's state (storage, broker, SMTP), read by the probes and the console.

A component is *ready* when it can take work now. Liveness (the process answers) is a
separate, trivial probe; readiness is what a load balancer, a harness or the console
waits for. Components report here; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ComponentState", "Health"]


@dataclass(frozen=True, slots=True)
class ComponentState:
    """One component: ready or not, and why not (``detail``)."""

    name: str
    ready: bool
    detail: str | None = None


class Health:
    """The gateway's components and their readiness.

    A component either sets its state (``set``) or is asked for it when a probe runs
    (``watch``: a callable returning ``(ready, detail)``), whichever fits it: storage
    knows when a write fails, the MQTT transport knows whether it is connected.
    """

    def __init__(self) -> None:
        self._states: dict[str, ComponentState] = {}
        self._watched: dict[str, Callable[[], tuple[bool, str | None]]] = {}

    def set(self, name: str, *, ready: bool, detail: str | None = None) -> None:
        self._states[name] = ComponentState(name, ready, detail)

    def watch(self, name: str, probe: Callable[[], tuple[bool, str | None]]) -> None:
        self._watched[name] = probe

    def is_ready(self, name: str) -> bool:
        """Whether ``name`` is ready (a component never reported counts as ready)."""
        return self.component(name).ready

    def component(self, name: str) -> ComponentState:
        probe = self._watched.get(name)
        if probe is not None:
            ready, detail = probe()
            return ComponentState(name, ready, detail)
        return self._states.get(name, ComponentState(name, True))

    def components(self) -> list[ComponentState]:
        names = sorted(self._states.keys() | self._watched.keys())
        return [self.component(n) for n in names]

    def failing(self) -> list[ComponentState]:
        return [c for c in self.components() if not c.ready]
