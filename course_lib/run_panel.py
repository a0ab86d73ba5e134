"""What every panel that trains an agent in the background shares: Run and Stop, a thread, errors shown.

A notebook cell must not block while an agent trains, so a panel runs its training function in a
daemon thread and redraws from the function's ``callback`` events. The subclasses
(:class:`course_lib.widgets.TrainingPanel`, :class:`course_lib.fig3_panel.Fig3Panel`) say what
to run and how to draw; this class owns the thread, the Stop event, the buttons' states and the
error a thread would otherwise swallow.
"""
from __future__ import annotations

import threading
import time

from course_lib.panel import Panel

__all__ = ["BackgroundRunPanel"]


class BackgroundRunPanel(Panel):
    """Base class: subclasses set ``status`` (an HTML widget), ``run_button``, ``stop_button`` and
    implement :meth:`arguments`, :meth:`_check` (arguments -> config, ``ValueError`` if bad),
    :meth:`_begin`, :meth:`_execute` (the plain training function) and :meth:`_finish`."""

    #: Buttons disabled while a run is under way (besides Run); Stop is enabled only then.
    busy_buttons: tuple[str, ...] = ()

    def _init_run_state(self) -> None:
        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self._stop.set())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _set_busy(self, busy: bool) -> None:
        self.run_button.disabled, self.stop_button.disabled = busy, not busy
        for name in self.busy_buttons:
            getattr(self, name).disabled = busy

    def run(self, wait: bool = False) -> None:
        """Start a run with the current controls (ignored while one is running)."""
        if self.running:
            return
        arguments = self.arguments()
        try:
            config = self._check(arguments)
        except ValueError as err:
            self.status.value = f"<b>Cannot run:</b> {err}"
            return
        self.error = None
        self._stop.clear()
        self._started = self._last_draw = time.perf_counter()
        self._begin(config)
        self._set_busy(True)
        self._thread = threading.Thread(target=self._train, args=(arguments,), daemon=True)
        self._thread.start()
        if wait:
            self._thread.join()

    def _train(self, arguments: dict) -> None:
        try:
            result = self._execute(arguments, callback=self._on_event, stop=self._stop)
            self._finish(result, time.perf_counter() - self._started)
        except Exception as err:  # shown in the panel: a thread's exception would vanish
            self.error = err
            self.status.value = f"<b>error:</b> {type(err).__name__}: {err}"
        finally:
            self._set_busy(False)

    def _speed(self, frame: int) -> str:
        seconds = time.perf_counter() - self._started
        return f" · {frame / seconds:.0f} frames/s" if frame and seconds > 0 else ""

    # --- what a subclass provides -------------------------------------------------------------
    def arguments(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check(self, arguments: dict):  # pragma: no cover - abstract
        raise NotImplementedError

    def _begin(self, config) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _execute(self, arguments: dict, callback, stop):  # pragma: no cover - abstract
        raise NotImplementedError

    def _finish(self, result, seconds: float) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _on_event(self, event) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
