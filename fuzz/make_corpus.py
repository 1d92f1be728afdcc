#!/usr/bin/env python3
"""Writes the fuzzing seed corpus (fuzz/corpus/{safetensors,npy,bitt}/): small valid
files covering every dtype and the layout corners. Standard library only (.bitt
checksums call the system libxxhash through ctypes), so the seeds do not depend on
our own writer. Run from anywhere; rerun after a format change."""
import ctypes
import ctypes.util
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "F8_E8M0": 1,
         "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4,
         "I64": 8, "U64": 8, "F64": 8}


def safetensors(tensors, metadata=None, align=8):
    """tensors: list of (name, dtype, shape, data bytes), laid out in order."""
    header, offset, data = {}, 0, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, payload in tensors:
        count = 1
        for dim in shape:
            count *= dim
        assert len(payload) == count * SIZES[dtype], name
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(payload)]}
        offset += len(payload)
        data += payload
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % align)
    return struct.pack("<Q", len(text)) + text + data


def npy(descr, shape, payload, version=1):
    shape_text = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    prefix = 10 if version == 1 else 12
    header += " " * (-(prefix + len(header) + 1) % 64) + "\n"
    length = struct.pack("<H" if version == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode() + payload


_xxhash = None


def xxh3_64(data):
    """XXH3-64 (seed 0) from the system library (Debian: libxxhash0)."""
    global _xxhash
    if _xxhash is None:
        path = ctypes.util.find_library("xxhash")
        if path is None:
            raise SystemExit("make_corpus.py: libxxhash not found (apt-get install libxxhash-dev)")
        _xxhash = ctypes.CDLL(path)
        _xxhash.XXH3_64bits.restype = ctypes.c_uint64
        _xxhash.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    return _xxhash.XXH3_64bits(data, len(data))


BITT_SIZES = {"f32": 4, "f16": 2, "bf16": 2, "i8": 1}
BITT_BLOCKS = {"ternary_i2": (256, 64), "ternary_tq1": (160, 32)}  # weights, bytes per block


def bitt(tensors, config=None, tokenizer=None, fingerprint="", metadata=None):
    """tensors: list of (name, dtype, shape, data bytes, scale or None), laid out in
    order at 64-byte aligned offsets (docs/bitt-format.md)."""
    entries, data = [], b""
    for name, dtype, shape, payload, scale in tensors:
        if dtype in BITT_BLOCKS:
            n_out, n_in = shape
            weights, block_bytes = BITT_BLOCKS[dtype]
            n_bytes = n_out * -(-n_in // weights) * block_bytes
        else:
            n_bytes = BITT_SIZES[dtype]
            for dim in shape:
                n_bytes *= dim
        assert len(payload) == n_bytes, name
        data += b"\0" * (-len(data) % 64)
        entry = {"name": name, "dtype": dtype, "shape": shape, "offset": len(data),
                 "n_bytes": n_bytes, "checksum": "%016x" % xxh3_64(payload)}
        if scale is not None:
            entry["scale"] = scale
        entries.append(entry)
        data += payload
    header = {"format_version": 1, "fingerprint": fingerprint, "data_bytes": len(data),
              "metadata": metadata or {}, "tensors": entries, "config": config or {},
              "tokenizer": tokenizer}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(24 + len(text)) % 64)
    return b"BITT" + struct.pack("<IQQ", 1, len(text), xxh3_64(text)) + text + data


def i2_bytes(n):
    """Packed i2 bytes whose bit pairs cycle through the digits 0, 1, 2 (never 3)."""
    return bytes(sum(((i + k) % 3) << (2 * k) for k in range(4)) for i in range(n))


def write(kind, name, content):
    os.makedirs(os.path.join(ROOT, kind), exist_ok=True)
    with open(os.path.join(ROOT, kind, name), "wb") as f:
        f.write(content)


def main():
    f32 = struct.pack("<4f", 1.0, -2.5, 0.0, 3.25)
    write("safetensors", "empty.safetensors", safetensors([]))
    write("safetensors", "f32_f16.safetensors", safetensors([
        ("w", "F32", [2, 2], f32), ("h", "F16", [3], struct.pack("<3H", 0x3c00, 0x0001, 0x7c00))]))
    write("safetensors", "metadata.safetensors", safetensors(
        [("b", "BF16", [2], struct.pack("<2H", 0x3f80, 0xff80)), ("ids", "I64", [1], struct.pack("<q", -7))],
        metadata={"format": "pt", "note": "seed"}))
    write("safetensors", "all_dtypes.safetensors", safetensors(
        [("t_" + dtype, dtype, [2], bytes(range(2 * size))) for dtype, size in SIZES.items()]))
    write("safetensors", "scalar_and_empty.safetensors", safetensors([
        ("s", "F32", [], struct.pack("<f", 42.0)), ("e", "F16", [0, 3], b""), ("z", "I32", [2, 0], b"")]))
    write("safetensors", "unaligned.safetensors", safetensors([
        ("pad", "U8", [1], b"\x07"), ("w", "F32", [2], struct.pack("<2f", 1.5, -1.5))]))
    write("safetensors", "rank4.safetensors", safetensors([("x", "F16", [1, 2, 1, 2], bytes(8))]))

    write("bitt", "empty.bitt", bitt([]))
    write("bitt", "all_dtypes.bitt", bitt([
        ("w.f32", "f32", [2, 2], f32, None),
        ("w.f16", "f16", [3], struct.pack("<3H", 0x3c00, 0x0001, 0x7c00), None),
        ("w.bf16", "bf16", [2], struct.pack("<2H", 0x3f80, 0xff80), 2.0),
        ("w.i8", "i8", [5], bytes([0, 1, 127, 128, 255]), None),
        ("w.i2", "ternary_i2", [1, 256], i2_bytes(64), 0.5),
        ("w.tq1", "ternary_tq1", [1, 160], bytes(range(0, 256, 8)), 0.25)]))
    write("bitt", "model.bitt", bitt(
        [("embed", "f16", [4, 2], bytes(16), None),
         ("layers.0.q", "ternary_i2", [2, 3], i2_bytes(128), 0.0625),
         ("layers.0.k", "ternary_tq1", [2, 200], bytes(range(128)), 0.125)],
        config={"dim": 2, "n_layers": 1, "rope": {"theta": 10000.0}, "tie": True, "x": None},
        tokenizer='{"model":{"type":"BPE","vocab":{"a":0,"\\u00e9":1}},"added_tokens":[]}',
        fingerprint="0123456789abcdef", metadata={"created_by": "make_corpus.py", "note": "caf\u00e9"}))
    write("bitt", "scalar_and_empty.bitt", bitt([
        ("s", "f32", [], struct.pack("<f", 42.0), None), ("e", "f16", [0, 3], b"", None),
        ("t", "ternary_i2", [0, 5], b"", 1.0), ("u", "ternary_tq1", [3, 0], b"", None),
        ("b", "i8", [1], b"\x05", None)]))

    write("npy", "f32_2x3.npy", npy("<f4", [2, 3], struct.pack("<6f", *range(6))))
    write("npy", "u8_scalar.npy", npy("|u1", [], b"\x05"))
    write("npy", "i64_1d.npy", npy("<i8", [3], struct.pack("<3q", -1, 0, 1)))
    write("npy", "f16_empty.npy", npy("<f2", [0, 4], b""))
    write("npy", "bool.npy", npy("|b1", [2, 2], b"\x01\x00\x00\x01"))
    write("npy", "u16_v2.npy", npy("<u2", [2], struct.pack("<2H", 1, 2), version=2))
    write("npy", "f64_v3.npy", npy("<f8", [1], struct.pack("<d", 0.5), version=3))


if __name__ == "__main__":
    main()
