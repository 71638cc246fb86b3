import sys

from tnrnn.cli import main

sys.exit(main())
