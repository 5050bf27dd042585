"""`python -m recoverd` runs the command-line interface."""

import sys

from recoverd.cli import main

sys.exit(main())
