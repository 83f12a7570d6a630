# Regenerates the fixture files the format tests (Tests/GruccTests/Formats) read, plus expected.txt.
# Run from anywhere: python3 make_fixtures.py  (needs numpy 2.x and `pip install safetensors`).
# The output is deterministic, so re-running it must leave the committed files unchanged.
import io
import json
import os
import random
import struct
import zlib

import numpy as np
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
expected = []


def path(name):
    return os.path.join(HERE, name)


def record(file, array, dtype, shape, values):
    """One tab-separated line of expected.txt: file, array, dtype, shape, values (repr of each as a Python float)."""
    flat = [repr(float(v)) for v in values]
    expected.append("\t".join([file, array, dtype, ",".join(str(d) for d in shape), " ".join(flat)]))


# --- safetensors -------------------------------------------------------------

def st_order(file):
    """Tensor names in the order of their data offsets (then name), as the Swift reader returns them."""
    with open(path(file), "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return sorted(header, key=lambda k: (header[k]["data_offsets"][0], header[k]["data_offsets"][1], k))


def st_fixture(file, tensors, dtype_names, metadata=None):
    save_file(tensors, path(file), metadata=metadata)
    for name in st_order(file):
        arr = tensors[name]
        record(file, name, dtype_names[arr.dtype.str], arr.shape, arr.flatten(order="C"))


ST_NAMES = {"<f2": "F16", "<f4": "F32", "<f8": "F64", "<i4": "I32", "<i8": "I64"}

st_fixture("st_f32.safetensors", {
    "gru.w_ih": np.array([[0.1, -0.2, 0.3], [1e-8, -3.5e7, np.inf]], dtype=np.float32),
    "gru.b_ih": np.array([0.0, -0.0, 2.0 ** -149], dtype=np.float32),
}, ST_NAMES, metadata={"note": "grucc fixture"})  # one key: the Rust writer orders keys randomly

st_fixture("st_f64.safetensors", {
    "x": np.array([[0.1, 1.0 / 3.0], [-1e300, 5e-324]], dtype=np.float64),
    "scalar": np.array(2.5, dtype=np.float64),
}, ST_NAMES)

st_fixture("st_f16.safetensors", {
    "h": np.array([1.0, -2.0, 65504.0, 6e-8, 0.333, -np.inf, -0.0, 1e-5], dtype=np.float16),
}, ST_NAMES)

st_fixture("st_mixed.safetensors", {
    "z_f32": np.array([1.5, -1.5], dtype=np.float32),
    "a_i32": np.array([-2147483648, 0, 2147483647], dtype=np.int32),
    "m_i64": np.array([-(2 ** 63), 2 ** 53, -7], dtype=np.int64),
    "e_empty": np.zeros((0, 3), dtype=np.float32),
}, ST_NAMES)

# numpy has no bfloat16, so this file is assembled by hand from raw bit patterns.
bf16_bits = [0x3F80, 0xC020, 0x3E20, 0x477F, 0x0001, 0x7F80, 0xFF80, 0x8000, 0x7F7F]
bf16_vals = [struct.unpack("<f", struct.pack("<I", b << 16))[0] for b in bf16_bits]
bf16_header = json.dumps({
    "__metadata__": {"src": "hand"},
    "g": {"dtype": "BF16", "shape": [3, 3], "data_offsets": [0, 18]},
}, separators=(",", ":")).encode()
bf16_header += b" " * ((8 - len(bf16_header) % 8) % 8)
with open(path("st_bf16.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(bf16_header)) + bf16_header)
    f.write(b"".join(struct.pack("<H", b) for b in bf16_bits))
record("st_bf16.safetensors", "g", "BF16", (3, 3), bf16_vals)

# Golden files: the Swift writer must reproduce these byte for byte.
save_file({
    "a": np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32),
    "b": np.array([0.5, -0.25, 1e-3], dtype=np.float32),
}, path("golden_f32.safetensors"), metadata={"k": "v"})
save_file({
    "bias": np.array([0.1, 0.2], dtype=np.float64),
    "weight": np.array([[1.0], [-1.0], [0.0]], dtype=np.float64),
}, path("golden_f64.safetensors"))

# --- npy ---------------------------------------------------------------------

def npy_fixture(file, arr, version=None):
    if version is None:
        np.save(path(file), arr)
    else:
        with open(path(file), "wb") as f:
            np.lib.format.write_array(f, arr, version=version)
    record(file, "-", arr.dtype.str, arr.shape, arr.flatten(order="C").astype(np.float64))


rng = np.random.default_rng(1234)
npy_fixture("f4_2x3.npy", np.array([[0.1, 0.2, 0.3], [-1.0, 1e30, -1e-30]], dtype="<f4"))
npy_fixture("f8_5.npy", np.array([0.1, 1 / 3, -2.0, 1e300, 5e-324], dtype="<f8"))
npy_fixture("i4_3.npy", np.array([-2147483648, 0, 2147483647], dtype="<i4"))
npy_fixture("i8_2x2.npy", np.array([[-(2 ** 63), 2 ** 40 + 1], [0, -1]], dtype="<i8"))
npy_fixture("f8_scalar.npy", np.array(3.25, dtype="<f8"))
npy_fixture("f4_2x3x4.npy", rng.standard_normal((2, 3, 4)).astype("<f4"))
npy_fixture("f4_empty.npy", np.zeros((0,), dtype="<f4"))
npy_fixture("f2_4.npy", np.array([1.0, -0.5, 65504.0, 6e-8], dtype="<f2"))
npy_fixture("i1_3.npy", np.array([-128, 0, 127], dtype="i1"))
npy_fixture("i2_3.npy", np.array([-32768, 1, 32767], dtype="<i2"))
npy_fixture("u1_3.npy", np.array([0, 1, 255], dtype="u1"))
npy_fixture("u4_2.npy", np.array([0, 4294967295], dtype="<u4"))
npy_fixture("b1_4.npy", np.array([True, False, False, True]))
npy_fixture("f8_be.npy", np.array([1.5, -2.25, 1e-300], dtype=">f8"))
npy_fixture("i4_be.npy", np.array([1, -2, 65536], dtype=">i4"))
npy_fixture("f8_fortran.npy", np.asfortranarray(np.arange(24, dtype="<f8").reshape(2, 3, 4)))
npy_fixture("f4_v2.npy", np.array([[1.0, 2.0]], dtype="<f4"), version=(2, 0))
npy_fixture("f4_v3.npy", np.array([7.0], dtype="<f4"), version=(3, 0))

# --- npz ---------------------------------------------------------------------

def npz_fixture(file, compressed, **arrays):
    (np.savez_compressed if compressed else np.savez)(path(file), **arrays)
    for name, arr in arrays.items():
        record(file, name, arr.dtype.str, arr.shape, arr.flatten(order="C").astype(np.float64))


npz_fixture("stored.npz", False,
            w=np.array([[0.5, -0.5], [1.0, 2.0]], dtype="<f4"),
            b=np.array([0.1, 0.2, 0.3]),
            n=np.array(42, dtype="<i8"))
npz_fixture("compressed.npz", True,
            w=rng.standard_normal((16, 8)).astype("<f4"),
            b=np.zeros((100,), dtype="<f8"),
            idx=np.arange(50, dtype="<i4"))

# --- raw deflate streams (RFC 1951, no zlib wrapper) --------------------------

random.seed(7)
text = b"".join(b"the gated recurrent unit %d resets and updates; " % (i % 37) for i in range(400))
noise = bytes(random.getrandbits(8) for _ in range(3000))
deflate_input = text + noise + b"\x00" * 5000 + text[:1000]
with open(path("deflate_input.bin"), "wb") as f:
    f.write(deflate_input)
for name, level, strategy in [("l0", 0, zlib.Z_DEFAULT_STRATEGY), ("l1", 1, zlib.Z_DEFAULT_STRATEGY),
                              ("l9", 9, zlib.Z_DEFAULT_STRATEGY), ("fixed", 6, zlib.Z_FIXED),
                              ("huffman", 6, zlib.Z_HUFFMAN_ONLY), ("rle", 6, zlib.Z_RLE)]:
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
    with open(path("deflate_%s.bin" % name), "wb") as f:
        f.write(c.compress(deflate_input) + c.flush())

# --- csv ---------------------------------------------------------------------

csv_rows = np.array([[0.1, -2.0, 3e-9], [1e20, 0.0, -0.0], [1 / 3, 2 / 3, 7.0]])
np.savetxt(path("savetxt.csv"), csv_rows, delimiter=",", header="a,b,c")
record("savetxt.csv", "-", "csv", csv_rows.shape, csv_rows.flatten())
with open(path("header.csv"), "w", newline="") as f:
    f.write("time, x ,y\r\n0, 1.5, -2\r\n\r\n1,2.5e-3,  4\r\n")
record("header.csv", "-", "csv", (2, 3), [0, 1.5, -2, 1, 2.5e-3, 4])

for name in os.listdir(HERE):  # safetensors creates its files 0600
    os.chmod(path(name), 0o644)
with open(path("expected.txt"), "w") as f:
    f.write("# file<TAB>array<TAB>dtype<TAB>shape<TAB>values -- written by make_fixtures.py\n")
    f.write("\n".join(expected) + "\n")
