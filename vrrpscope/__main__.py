"""`python -m vrrpscope`."""

import sys

from vrrpscope.cli import main

sys.exit(main())
