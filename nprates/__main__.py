import sys

from nprates.cli import main

sys.exit(main())
