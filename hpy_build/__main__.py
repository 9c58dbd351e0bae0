"""``python -m hpy_build``: see :mod:`hpy_build.cli`."""
import sys

from hpy_build.cli import main

sys.exit(main())
