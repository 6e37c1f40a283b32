"""``python -m idtrack_sc.cli``: the same as the ``idtrack-sc`` command."""

import sys

from . import main

sys.exit(main())
