"""How every interactive panel shows itself in a notebook, on ipywidgets 7 (Colab's) and 8.

A panel holds an ipywidgets container (``panel.widget``) and says in one line what it shows
(:meth:`Panel.summary`). ``display(panel)``, or a panel as a cell's last expression, reaches
IPython's display hook :meth:`Panel._ipython_display_`, which sends one display message through
``IPython.display.display``: the widget's view (what a live notebook draws) and the one line as
plain text (what a viewer without widgets shows, and what a saved notebook keeps).

Why not the widget's own ``_repr_mimebundle_``: ipywidgets 7, which Colab ships, has none (it
displays through ``_ipython_display_``), and ipywidgets 8 has no ``_ipython_display_``. The view
message below is the one both versions send: widget protocol 2.0 and the widget's public
``model_id``.
"""
from __future__ import annotations

__all__ = ["Panel", "WIDGET_VIEW_MIME"]

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"


class Panel:
    """Base class of the notebooks' panels: subclasses set ``self.widget`` and define :meth:`summary`."""

    widget = None

    def summary(self) -> str:
        """One deterministic line: the panel's settings, and that it needs a live notebook."""
        raise NotImplementedError

    def mimebundle(self) -> dict:
        """What :meth:`_ipython_display_` sends: the widget's view and :meth:`summary` as plain text."""
        return {"text/plain": self.summary(),
                WIDGET_VIEW_MIME: {"version_major": 2, "version_minor": 0, "model_id": self.widget.model_id}}

    def _ipython_display_(self, **kwargs) -> None:
        from IPython.display import display

        display(self.mimebundle(), raw=True)

    def __repr__(self) -> str:
        return self.summary()
