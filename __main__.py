"""`python -m trialforge`: the same command group as the `trialforge` script."""
from trialforge.cli import entry

if __name__ == "__main__":
    entry()
