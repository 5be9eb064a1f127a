import sys

from advref.cli import main

sys.exit(main())
