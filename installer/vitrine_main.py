"""The frozen application's entry point (PyInstaller): the same dispatcher as main.py."""

import multiprocessing
import sys

from app.cli.main import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
