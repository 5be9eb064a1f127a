import sys

from advref.cli.parser import main

if __name__ == "__main__":       # not when a spawned process imports the main module
    sys.exit(main())
