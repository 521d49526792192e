"""``python -m lenet_viz``: see :mod:`lenet_viz.cli`."""

import sys

from lenet_viz.cli import main

sys.exit(main())
