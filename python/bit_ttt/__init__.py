"""Bit-TTT Engine for Python: ternary-weight language models with test-time-training memory.

    import bit_ttt
    config = bit_ttt.BitLlamaConfig(16384, 256, 8, 0.1)
    model = bit_ttt.BitLlama(config, "model.safetensors", device="cpu")
    logits = model.forward(token_id=42)            # numpy float32 [V]

    llm = bit_ttt.Llama.load_auto("models/m")      # directory or .bitt file
    for piece in llm.stream("Once upon a time", max_tokens=50):
        print(piece, end="", flush=True)

    bit_ttt.prepare(["texts/"], tokenizer="tok.json", out="data/mine")
    bit_ttt.train(data="data/mine", output_dir="runs/mine", steps=100,
                  callback=lambda record: print(record["step"], record["loss"]))

`cortex_rust` is the same package under the seed's name.
"""

from ._core import (
    BitLlama,
    BitLlamaConfig,
    Error,
    GenerationResult,
    GenerationStream,
    Llama,
    Tokenizer,
    TrainOptions,
    __version__,
    device_available,
)
from ._training import prepare, train

__all__ = [
    "BitLlama",
    "BitLlamaConfig",
    "Error",
    "GenerationResult",
    "GenerationStream",
    "Llama",
    "Tokenizer",
    "TrainOptions",
    "device_available",
    "prepare",
    "train",
    "__version__",
]
