"""Imported by the grader's forkserver, and only there: it makes that process a *subreaper*.

Every exercise's child process is forked from the forkserver (:mod:`course_lib.grade`). A child can
start processes that leave its process group (fork, ``setsid``, fork again). With the forkserver a
subreaper (Linux ``prctl(PR_SET_CHILD_SUBREAPER)``), such an orphan is re-parented to the forkserver
instead of to init, so the grader finds it among the forkserver's children and kills it
(:func:`course_lib.grade.kill_strays`). The grader itself stays an ordinary process: a child that
kills its own parent (the forkserver) cannot reach the grader that way.

Importing this module has that effect and no other; nothing else imports it.
"""
import sys
import warnings

if sys.platform.startswith("linux"):
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    # The forkserver reaps the adopted processes the grader kills, and warns about each one.
    warnings.filterwarnings("ignore", message="forkserver: waitpid returned")
