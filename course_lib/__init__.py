"""course_lib: the small library behind the Deeper RL notebooks.

One module per concept (see README.md for the map). Notebooks import what they use, e.g.
``from course_lib import spectral, nets``; modules are not imported here so that
``import course_lib`` stays cheap and never pulls in dm_control (and its GL setup) by accident.
"""
__version__ = "0.1.0"
