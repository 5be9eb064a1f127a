import sys

from advref.cli.parser import main

sys.exit(main())
