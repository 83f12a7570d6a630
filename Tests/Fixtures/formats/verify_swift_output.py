# Checks files written by the Swift writers with the reference Python libraries.
# Usage: GRUCC_FORMATS_EXPORT=/tmp/out swift test --filter InteropTests
#        python3 verify_swift_output.py /tmp/out     (defaults to this directory)
import os
import struct
import sys

import numpy as np
import safetensors

d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))


def p(name):
    return os.path.join(d, name)


with open(p("swift_written.safetensors"), "rb") as f:
    raw = f.read()
# deserialize() is the Rust parser with its full validation; it returns raw bytes per tensor.
tensors = dict(safetensors.deserialize(raw))
with safetensors.safe_open(p("swift_written.safetensors"), "np") as f:
    assert f.metadata() == {"format": "grucc", "version": "1"}, f.metadata()
    assert np.array_equal(f.get_tensor("gru.weight_ih"), ((np.arange(12) - 5) / 4).astype(np.float32).reshape(6, 2))
    assert np.array_equal(f.get_tensor("gru.bias"), 0.1 * np.arange(6))
    assert np.array_equal(f.get_tensor("h16"), np.array([1, -0.5, 0.25], dtype=np.float16))
    assert f.get_tensor("steps").shape == () and f.get_tensor("steps") == 42
    assert f.get_tensor("steps").dtype == np.int64
    assert np.array_equal(f.get_tensor("ids"), np.array([-1, 7], dtype=np.int32))
b16 = tensors["b16"]
assert b16["dtype"] in ("BF16", "bfloat16") and b16["shape"] == [2], b16
vals = [struct.unpack("<f", struct.pack("<I", h << 16))[0] for h in struct.unpack("<2H", bytes(b16["data"]))]
assert vals == [1.5, -3.0], vals

with np.load(p("swift_written.npz")) as z:
    assert list(z.keys()) == ["weight", "bias", "n", "empty", "half"], list(z.keys())
    assert z["weight"].dtype == np.float32 and np.array_equal(z["weight"], (np.arange(6) / 8).reshape(2, 3))
    assert np.array_equal(z["bias"], [0.1, 0.2, 0.3])
    assert z["n"].shape == () and z["n"] == 5 and z["n"].dtype == np.int64
    assert z["empty"].shape == (0,) and z["empty"].dtype == np.int32
    assert z["half"].dtype == np.float16 and np.array_equal(z["half"], [0.5, 2])

a = np.load(p("swift_written.npy"))
assert a.dtype == np.float64 and np.array_equal(a, (np.arange(8) * 1.5 - 3).reshape(2, 2, 2))
buf = __import__("io").BytesIO()
np.save(buf, a)
assert buf.getvalue() == open(p("swift_written.npy"), "rb").read(), "npy differs from np.save"

c = np.loadtxt(p("swift_written.csv"), delimiter=",", skiprows=1)
assert np.array_equal(c, [[0.1, -2], [1e-7, 3]])

print("all Swift-written files verified")
