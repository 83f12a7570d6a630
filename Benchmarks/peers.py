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
"""

import argparse
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--sizes", required=True, help='hidden sizes, e.g. "16 64 128 256"')
    parser.add_argument("--steps", type=int, required=True, help="sequence length T")
    parser.add_argument("--batch", type=int, nargs=2, metavar=("B", "T"), required=True)
    parser.add_argument("--batch-hidden", type=int, required=True, help="the size timed batched")
    parser.add_argument("--seconds", type=float, required=True, help="timing budget per measurement")
    args = parser.parse_args()

    for hidden in map(int, args.sizes.split()):
        gru, session = bench_size(args.dir / f"h{hidden}", hidden, args.steps, args.seconds)
        if hidden == args.batch_hidden:
            bench_batch(gru, session, hidden, *args.batch, args.seconds)


if __name__ == "__main__":
    main()
