"""`python -m evosearch`: the same command as the `evosearch` script."""

from .cli.app import main

main()
