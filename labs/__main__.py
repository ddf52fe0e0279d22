import sys

from labs.cli.main import main

sys.exit(main())
