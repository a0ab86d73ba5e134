"""course_lib: the small library behind the Deeper RL notebooks.

One module per concept (see README.md for the map). Notebooks import what they use, e.g.
``from course_lib import spectral, nets``; modules are not imported here so that
``import course_lib`` stays cheap and never pulls in dm_control (and its GL setup) by accident.
The one exception is cheap: dm_control is installed without labmaze, so ``import labmaze``
(``dm_control.locomotion``) fails with a line that says how to get it (:mod:`course_lib.versions`).
"""
from course_lib.versions import explain_missing_labmaze as _explain_missing_labmaze

__version__ = "0.1.0"

_explain_missing_labmaze()
