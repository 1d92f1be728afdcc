#!/usr/bin/env python3
"""Writes the fuzzing seed corpus (fuzz/corpus/{safetensors,npy}/): small valid
files covering every dtype and the layout corners. Standard library only, so the
seeds do not depend on our own writer. Run from anywhere; rerun after a format change."""
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

    write("npy", "f32_2x3.npy", npy("<f4", [2, 3], struct.pack("<6f", *range(6))))
    write("npy", "u8_scalar.npy", npy("|u1", [], b"\x05"))
    write("npy", "i64_1d.npy", npy("<i8", [3], struct.pack("<3q", -1, 0, 1)))
    write("npy", "f16_empty.npy", npy("<f2", [0, 4], b""))
    write("npy", "bool.npy", npy("|b1", [2, 2], b"\x01\x00\x00\x01"))
    write("npy", "u16_v2.npy", npy("<u2", [2], struct.pack("<2H", 1, 2), version=2))
    write("npy", "f64_v3.npy", npy("<f8", [1], struct.pack("<d", 0.5), version=3))


if __name__ == "__main__":
    main()
