"""Vitrine entry point: `python main.py` opens the desktop app; subcommands run headless."""

import sys

from app.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
