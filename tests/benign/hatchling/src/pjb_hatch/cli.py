import sys

from .__about__ import __version__


def main():
    print(f"pjb-hatch {__version__} {' '.join(sys.argv[1:])}".rstrip())
    return 0
