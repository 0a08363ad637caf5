"""`python -m scaling_study`: the same command line as `scaling-study`."""

import sys

from scaling_study.cli import main

sys.exit(main())
