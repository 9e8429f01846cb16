import sys

from wbs.cli import main

sys.exit(main())
