"""``python -m pybpfc``: the same as the ``pybpfc`` command.  The package
has already taken the working directory off ``sys.path`` (see
``pybpfc._safe_sys_path``), so the imports below find the standard
library's modules, not files next to the user's program."""
from pybpfc.cli import command

command()
