"""Reference solutions of the exercises: the single source from which ``exercises/`` is generated.

Each ``exNN_topic.py`` holds complete functions whose bodies sit between ``# BEGIN SOLUTION`` and
``# END SOLUTION``; ``python tools/make_exercises.py`` (``make exercises``) writes the student stubs.
"""
