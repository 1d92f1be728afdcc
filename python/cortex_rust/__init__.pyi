from bit_ttt import *  # noqa: F401,F403
from bit_ttt import __version__ as __version__
