#!/usr/bin/env python3
"""The peers of grucc's benchmark: PyTorch and ONNX Runtime on the same GRUs, one CPU thread.

run.sh calls it once, before timing grucc's C:

    peers.py DIR --sizes "16 64 128 256" --steps 1000 --batch 64 100 --batch-hidden 256 --seconds 1

For every hidden size H it writes DIR/h<H>/:
    w.npz    the weights of torch.nn.GRU(H, H, batch_first=True) (torch.manual_seed(0)), under
             PyTorch's names weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0 (float32);
             bench.gru reads them with `weights "w.npz", format pytorch`
    x.f32    a random input [steps, H], raw float32 (uniform in [-1, 1))
    y.f32    PyTorch's output for it [steps, H]: the reference grucc's C is checked against

and prints one line per measurement on standard output:
    MODE H PEER MEDIAN P10 P90     nanoseconds per time step (per sequence-step when batched)
    check H ort MAXERR             max |ONNX Runtime - PyTorch| on x.f32 (must be < 1e-5)
MODE is sequence (one call on [1, steps, H]), streaming (one call per step, the state passed
back in) or batch (one call on [B, T, H], only for --batch-hidden). Times are medians of calls
repeated for --seconds after a warm-up, as harness.c does for grucc.

With --crnn FIXTURE (Tests/Fixtures/import/keras_crnn_edge: the CRNN of issue 15, Keras
weights) it also writes DIR/crnn/:
    model.onnx  the same network built with onnx.helper from the fixture's weights: Pad + Conv
                (causal), BatchNormalization, Pad + AveragePool, GRU (linear_before_reset=1),
                Gemm, LpNormalization; output y [B, 2] (the model's) and y_seq [B, T, 2] (the
                head on every step, what a streaming caller reads)
    x.f32, y.f32  a random input [steps, 2] and ONNX Runtime's y_seq for it [steps, 2]
and prints
    check crnn-keras ort MAXERR       max |ONNX Runtime - Keras| on the fixture's own inputs
    crnn-sequence crnn ort MEDIAN P10 P90   ns per step of one call on [1, steps, 2] (output y)
"""

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnx.helper as oh
import onnx.numpy_helper as onh
import onnxruntime as ort
import torch

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

MIN_REPS = 3
MAX_ERROR = 1e-5


def measure(fn, steps, seconds):
    """Median, 10th and 90th percentile of ns per step of fn(), timed like harness.c's measure()."""
    start = time.perf_counter()
    fn()
    while time.perf_counter() - start < 0.1 * seconds:
        fn()
    samples = []
    start = time.perf_counter()
    while len(samples) < MIN_REPS or time.perf_counter() - start < seconds:
        t0 = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t0) / steps)
    samples.sort()
    n = len(samples)
    return samples[n // 2], samples[n // 10], samples[n * 9 // 10]


def onnx_session(state, hidden):
    """ONNX Runtime session for one GRU node equal to torch.nn.GRU's: linear_before_reset=1
    is PyTorch's reset-after, and the gates go from PyTorch's r, z, n to ONNX's z, r, h."""
    def zrh(t):
        r, z, n = np.split(t.numpy(), 3)
        return np.concatenate([z, r, n])

    weights = [
        onh.from_array(zrh(state["weight_ih_l0"])[None], "W"),
        onh.from_array(zrh(state["weight_hh_l0"])[None], "R"),
        onh.from_array(np.concatenate([zrh(state["bias_ih_l0"]), zrh(state["bias_hh_l0"])])[None], "B"),
    ]
    f32 = onnx.TensorProto.FLOAT
    node = oh.make_node("GRU", ["X", "W", "R", "B", "", "initial_h"], ["Y", "Y_h"],
                        hidden_size=hidden, linear_before_reset=1)
    graph = oh.make_graph(
        [node], "gru",
        inputs=[oh.make_tensor_value_info("X", f32, ["T", "B", hidden]),          # time-major
                oh.make_tensor_value_info("initial_h", f32, [1, "B", hidden])],
        outputs=[oh.make_tensor_value_info("Y", f32, ["T", 1, "B", hidden]),
                 oh.make_tensor_value_info("Y_h", f32, [1, "B", hidden])],
        initializer=weights)
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 14)])
    model.ir_version = 8  # opset 14's IR version; every onnxruntime since 1.10 reads it
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def report(mode, hidden, peer, stats):
    print(mode, hidden, peer, *(f"{v:.1f}" for v in stats), flush=True)


def bench_size(out, hidden, steps, seconds):
    torch.manual_seed(0)
    gru = torch.nn.GRU(hidden, hidden, batch_first=True).eval()
    state = {k: v.detach() for k, v in gru.state_dict().items()}
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "w.npz", **{k: v.numpy() for k, v in state.items()})

    x = np.random.default_rng(hidden).uniform(-1, 1, (steps, hidden)).astype(np.float32)
    xt = torch.from_numpy(x)[None]                      # [1, steps, H], batch-first
    with torch.inference_mode():
        y = gru(xt)[0][0].numpy()
    x.tofile(out / "x.f32")
    y.tofile(out / "y.f32")

    session = onnx_session(state, hidden)
    x_onnx = x[:, None, :]                              # [steps, 1, H], time-major
    h0 = np.zeros((1, 1, hidden), np.float32)
    y_ort = session.run(["Y"], {"X": x_onnx, "initial_h": h0})[0][:, 0, 0, :]
    error = float(np.abs(y_ort - y).max())
    print("check", hidden, "ort", f"{error:.3g}", flush=True)
    if error >= MAX_ERROR:
        sys.exit(f"peers.py: ONNX Runtime differs from PyTorch by {error:.3g} at H={hidden}: the ONNX model is wrong")

    with torch.inference_mode():
        report("sequence", hidden, "torch", measure(lambda: gru(xt), steps, seconds))
        report("sequence", hidden, "ort",
               measure(lambda: session.run(["Y"], {"X": x_onnx, "initial_h": h0}), steps, seconds))

        steps_torch = [xt[:, t:t + 1] for t in range(steps)]    # [1, 1, H] each
        steps_onnx = [x_onnx[t:t + 1] for t in range(steps)]

        def stream_torch():
            h = None
            for x_t in steps_torch:
                _, h = gru(x_t, h)

        def stream_ort():
            h = h0
            for x_t in steps_onnx:
                h = session.run(["Y_h"], {"X": x_t, "initial_h": h})[0]

        report("streaming", hidden, "torch", measure(stream_torch, steps, seconds))
        report("streaming", hidden, "ort", measure(stream_ort, steps, seconds))
    return gru, session


def bench_batch(gru, session, hidden, batch, batch_steps, seconds):
    xb = np.random.default_rng(0).uniform(-1, 1, (batch, batch_steps, hidden)).astype(np.float32)
    xb_torch = torch.from_numpy(xb)
    xb_onnx = np.ascontiguousarray(xb.transpose(1, 0, 2))    # ONNX's GRU is time-major
    h0 = np.zeros((1, batch, hidden), np.float32)
    with torch.inference_mode():
        report("batch", hidden, "torch", measure(lambda: gru(xb_torch), batch * batch_steps, seconds))
    report("batch", hidden, "ort",
           measure(lambda: session.run(["Y"], {"X": xb_onnx, "initial_h": h0}), batch * batch_steps, seconds))


def crnn_session(fixture):
    """ONNX Runtime session for the fixture's Keras CRNN, named by the fixture's `map` lines."""
    text = (fixture / "model.gru").read_text()
    prefix = dict(re.findall(r'^map (\w+) = "([^"]+)"', text, re.M))
    eps = float(re.search(r"^batchnorm .*epsilon ([0-9.eE+-]+)", text, re.M).group(1))
    with np.load(fixture / "weights.npz") as z:
        t = {k: z[k] for k in z.keys()}

    def w(layer, leaf):
        hits = [k for k in t if k.startswith(prefix[layer] + "/") and k.endswith("/" + leaf)]
        assert len(hits) == 1, (layer, leaf, hits)
        return t[hits[0]]

    kernel = w("c", "kernel")                               # Keras [K, C, F]
    K, _, filters = kernel.shape
    H = w("h", "recurrent_kernel").shape[0]
    gru_bias = w("h", "bias")                               # [2, 3H], Keras gate order z, r, h = ONNX's
    init = {
        "conv_w": kernel.transpose(2, 1, 0), "conv_b": w("c", "bias"),
        "bn_scale": w("n", "gamma"), "bn_bias": w("n", "beta"),
        "bn_mean": w("n", "moving_mean"), "bn_var": w("n", "moving_variance"),
        "gru_w": w("h", "kernel").T[None], "gru_r": w("h", "recurrent_kernel").T[None],
        "gru_b": np.concatenate([gru_bias[0], gru_bias[1]])[None],
        "fc_w": w("y", "kernel"), "fc_b": w("y", "bias"),
        "pad_conv": np.array([0, 0, K - 1, 0, 0, 0], np.int64),
        "pad_pool": np.array([0, 0, 2, 0, 0, 0], np.int64),
        "axis0": np.array([0], np.int64), "axis1": np.array([1], np.int64),
    }
    n = oh.make_node
    nodes = [
        n("Transpose", ["x"], ["xc"], perm=[0, 2, 1]),                      # [B, C, T]
        n("Pad", ["xc", "pad_conv"], ["xp"]),                               # causal: K-1 zeros before
        n("Conv", ["xp", "conv_w", "conv_b"], ["c"], kernel_shape=[int(K)]),
        n("BatchNormalization", ["c", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["bn"], epsilon=eps),
        n("Pad", ["bn", "pad_pool"], ["zp"]),
        n("AveragePool", ["zp"], ["p"], kernel_shape=[3], strides=[1]),
        n("Transpose", ["p"], ["pt"], perm=[2, 0, 1]),                      # [T, B, F]
        n("GRU", ["pt", "gru_w", "gru_r", "gru_b"], ["Y", "Y_h"], hidden_size=int(H),
          linear_before_reset=1),
        n("Squeeze", ["Y_h", "axis0"], ["hn"]),
        n("Gemm", ["hn", "fc_w", "fc_b"], ["d"]),
        n("LpNormalization", ["d"], ["y"], axis=-1, p=2),
        n("Squeeze", ["Y", "axis1"], ["ys"]),                               # [T, B, H]
        n("MatMul", ["ys", "fc_w"], ["ds0"]),
        n("Add", ["ds0", "fc_b"], ["ds"]),
        n("LpNormalization", ["ds"], ["yst"], axis=-1, p=2),
        n("Transpose", ["yst"], ["y_seq"], perm=[1, 0, 2]),
    ]
    f32 = onnx.TensorProto.FLOAT
    graph = oh.make_graph(
        nodes, "crnn", [oh.make_tensor_value_info("x", f32, ["B", "T", int(kernel.shape[1])])],
        [oh.make_tensor_value_info("y", f32, ["B", 2]),
         oh.make_tensor_value_info("y_seq", f32, ["B", "T", 2])],
        initializer=[onh.from_array(np.ascontiguousarray(v), k) for k, v in init.items()])
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return model, ort.InferenceSession(model.SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])


def bench_crnn(out, fixture, steps, seconds):
    out.mkdir(parents=True, exist_ok=True)
    model, session = crnn_session(fixture)
    onnx.save(model, str(out / "model.onnx"))
    with np.load(fixture / "inputs.npz") as z:
        x_fix = z["x"]
    with np.load(fixture / "expect.npz") as z:
        y_fix = z["y"]
    y, y_seq = session.run(["y", "y_seq"], {"x": x_fix})
    error = max(float(np.abs(y - y_fix).max()), float(np.abs(y_seq[:, -1] - y).max()))
    print("check crnn-keras ort", f"{error:.3g}", flush=True)
    if error >= MAX_ERROR:
        sys.exit(f"peers.py: ONNX Runtime's CRNN differs from Keras by {error:.3g}: the ONNX model is wrong")

    # The check input. On it the head's length falls to 0.066 at one step in 1000 (every seed
    # tried gives 0.055-0.07), so the L2 norm magnifies the GRU's rounding about 15 times there.
    x = np.random.default_rng(15).uniform(-1, 1, (1, steps, x_fix.shape[2])).astype(np.float32)
    session.run(["y_seq"], {"x": x})[0][0].tofile(out / "y.f32")
    x[0].tofile(out / "x.f32")
    report("crnn-sequence", "crnn", "ort", measure(lambda: session.run(["y"], {"x": x}), steps, seconds))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--sizes", required=True, help='hidden sizes, e.g. "16 64 128 256"')
    parser.add_argument("--steps", type=int, required=True, help="sequence length T")
    parser.add_argument("--batch", type=int, nargs=2, metavar=("B", "T"), required=True)
    parser.add_argument("--batch-hidden", type=int, required=True, help="the size timed batched")
    parser.add_argument("--seconds", type=float, required=True, help="timing budget per measurement")
    parser.add_argument("--crnn", type=Path, metavar="FIXTURE",
                        help="also the CRNN of this Keras fixture directory, on ONNX Runtime")
    args = parser.parse_args()

    for hidden in map(int, args.sizes.split()):
        gru, session = bench_size(args.dir / f"h{hidden}", hidden, args.steps, args.seconds)
        if hidden == args.batch_hidden:
            bench_batch(gru, session, hidden, *args.batch, args.seconds)
    if args.crnn is not None:
        bench_crnn(args.dir / "crnn", args.crnn, args.steps, args.seconds)


if __name__ == "__main__":
    main()
