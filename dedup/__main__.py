"""``python -m dedup``: the same command as ``dedup``."""

from dedup.cli import main

if __name__ == "__main__":
    main()
