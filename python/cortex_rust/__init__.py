"""`cortex_rust`: the seed project's module name, kept so its scripts run unchanged.

A thin alias of :mod:`bit_ttt` (the same classes, not copies):

    import cortex_rust
    config = cortex_rust.BitLlamaConfig(16384, 256, 8, 0.1)
    model = cortex_rust.BitLlama(config, "model.safetensors", device="cpu")
    logits = model.forward(token_id=42)
"""

import bit_ttt as _bit_ttt
from bit_ttt import *  # noqa: F401,F403

__all__ = list(_bit_ttt.__all__)
__version__ = _bit_ttt.__version__
