"""``python -m pybpfc``: the same as the ``pybpfc`` command."""
from pybpfc.cli import command

command()
