"""``python -m pybpfc`` imports nothing from the working directory.

For ``-m``, Python puts the working directory first on ``sys.path``, so an
``argparse.py`` or a ``typing.py`` that sits next to the user's program
would be imported instead of the standard module, and run as root.  The
package imports this module before anything else; while Python is still
locating a ``-m pybpfc...`` module (``sys.argv[0]`` is ``"-m"`` then), it
takes that entry off the path.  It uses only ``sys`` and ``os``, which the
interpreter has loaded before any path entry is searched.
"""
import os
import sys


def _running_as_module() -> bool:
    if sys.argv[:1] != ["-m"]:
        return False
    argv = sys.orig_argv
    for i, word in enumerate(argv[:-1]):
        if word == "-m":
            module = argv[i + 1]
            return module == "pybpfc" or module.startswith("pybpfc.")
    return False


def _is_working_directory(entry: str) -> bool:
    if entry == "":
        return True
    try:
        return os.path.samefile(entry, os.getcwd())
    except OSError:
        return False


if _running_as_module() and sys.path and _is_working_directory(sys.path[0]):
    del sys.path[0]
