"""Your exercises: fill in the functions of each ``exNN_topic.py`` (generated from ``solutions/``).

Check one in its notebook with ``checks.check("exNN_topic.name")``, or all of them with
``pytest tests/test_exercises.py --exercises exercises``.
"""
