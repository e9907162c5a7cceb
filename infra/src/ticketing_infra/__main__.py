import sys

from ticketing_infra.cli import main

sys.exit(main())
