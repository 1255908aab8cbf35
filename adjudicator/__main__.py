"""``python -m adjudicator``: the command line, as the ``adjudicator`` script runs it."""

from adjudicator.cli import main

main(prog_name="adjudicator")
