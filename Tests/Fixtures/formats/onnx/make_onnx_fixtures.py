# Regenerates gru_node.onnx and gru_node.expected.txt, which OnnxTests reads to check the
# Swift ONNX reader against files made by the real `onnx` package (tested with onnx 1.23).
# Run from anywhere: /work/venv/bin/python make_onnx_fixtures.py  (needs numpy and onnx).
# The output is deterministic, so re-running it must leave the committed files unchanged.
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
HIDDEN, INPUT = 3, 2

# W and B go through numpy_helper (raw_data), R through make_tensor (float_data), so both
# storage paths of FLOAT appear; the other types use their typed fields unless noted.
rng = np.random.default_rng(42)
W = rng.standard_normal((1, 3 * HIDDEN, INPUT)).astype(np.float32)
R = rng.standard_normal((1, 3 * HIDDEN, HIDDEN)).astype(np.float32)
B = np.arange(6 * HIDDEN, dtype=np.float32).reshape(1, 6 * HIDDEN) / 10
scale = np.array([0.1, -1.0 / 3.0, 1e-300], dtype=np.float64)
steps = np.array([[-(2 ** 53), 0], [7, 2 ** 40 + 1]], dtype=np.int64)
half = np.array([1.0, -0.5, 65504.0, 6e-8, 0.333], dtype=np.float16)
half_raw = np.array([[2.0, -0.0]], dtype=np.float16)
bf16_bits = [0x3F80, 0xC020, 0x0001]  # 1, -2.5, smallest subnormal
counter = np.array(5, dtype=np.int32)  # a scalar: dims []

initializers = [
    numpy_helper.from_array(W, "W"),
    helper.make_tensor("R", TensorProto.FLOAT, R.shape, R.flatten().tolist()),
    numpy_helper.from_array(B, "B"),
    helper.make_tensor("scale", TensorProto.DOUBLE, scale.shape, scale.tolist()),
    helper.make_tensor("steps", TensorProto.INT64, steps.shape, steps.flatten().tolist()),
    helper.make_tensor("half", TensorProto.FLOAT16, half.shape, half.tolist()),  # int32_data bit patterns
    numpy_helper.from_array(half_raw, "half_raw"),
    helper.make_tensor("bf16", TensorProto.BFLOAT16, [3], bf16_bits, raw=False),
    helper.make_tensor("counter", TensorProto.INT32, [], [5]),
]
# make_tensor takes bfloat16 values as floats and rounds them itself; storing the bit
# patterns directly keeps the fixture exact.
initializers[7].ClearField("int32_data")
initializers[7].int32_data.extend(bf16_bits)

gru = helper.make_node(
    "GRU", ["X", "W", "R", "B", "", ""], ["Y", "Y_h"], name="gru",
    activations=["Sigmoid", "Tanh"], activation_alpha=[0.5, 1.25], activation_beta=[0.0, -2.0],
    clip=2.5, direction="forward", hidden_size=HIDDEN, linear_before_reset=1, layout=0)
transpose = helper.make_node("Transpose", ["Y_h"], ["H"], name="transpose", perm=[1, 0, 2])
constant = helper.make_node(
    "Constant", [], ["C"], name="constant",
    value=helper.make_tensor("c", TensorProto.FLOAT, [2], [0.25, -8.0]))

graph = helper.make_graph(
    [gru, transpose, constant], "gru_graph",
    inputs=[helper.make_tensor_value_info("X", TensorProto.FLOAT, ["seq_len", 1, INPUT])],
    outputs=[
        helper.make_tensor_value_info("H", TensorProto.FLOAT, [1, 1, HIDDEN]),
        helper.make_tensor_value_info("C", TensorProto.FLOAT, [2]),
    ],
    initializer=initializers,
    value_info=[
        helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["seq_len", 1, 1, HIDDEN]),
        helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, None),  # unknown rank
    ])
model = helper.make_model(
    graph, producer_name="grucc-fixtures", producer_version="1.0",
    opset_imports=[helper.make_opsetid("", 14)], ir_version=8)
onnx.checker.check_model(model, full_check=True)
onnx.save_model(model, os.path.join(HERE, "gru_node.onnx"))

# One line per initializer: name, ONNX data type, dims, values (repr of each as a float).
expected = {
    "W": W, "R": R, "B": B, "scale": scale, "steps": steps, "half": half, "half_raw": half_raw,
    "bf16": np.array([np.frombuffer(np.uint32(b << 16).tobytes(), np.float32)[0] for b in bf16_bits]),
    "counter": counter,
}
with open(os.path.join(HERE, "gru_node.expected.txt"), "w") as f:
    f.write("# name<TAB>data type<TAB>dims<TAB>values -- written by make_onnx_fixtures.py\n")
    for t in onnx.load(os.path.join(HERE, "gru_node.onnx")).graph.initializer:
        values = " ".join(repr(float(v)) for v in expected[t.name].flatten())
        dtype = TensorProto.DataType.Name(t.data_type)
        f.write("\t".join([t.name, dtype, ",".join(str(d) for d in t.dims), values]) + "\n")
print(open(os.path.join(HERE, "gru_node.expected.txt")).read())
