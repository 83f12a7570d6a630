#!/usr/bin/env python3
"""Writes the tf2onnx_* cases of Tests/Fixtures/import/: Keras GRUs converted to ONNX by tf2onnx.

Run by Tools/make-fixtures.py (or by hand from the repository root) with a Python that has
TensorFlow, tf2onnx and Keras 2 (tf_keras); they conflict with the main fixture venv, so they
live in their own:

    python3 -m venv /work/venv-tf
    /work/venv-tf/bin/pip install tensorflow==2.21.0 tf2onnx==1.17.0 tf_keras==2.21.0 \\
        onnxruntime==1.32.0
    /work/venv-tf/bin/python Tools/make-tf2onnx-fixtures.py

Keras 2 because tf2onnx 1.17 fuses only its GRU into an ONNX GRU node: Keras 3's GRU (the
`keras` package, TensorFlow backend) becomes a Loop, and so does Keras 2's GRU with
reset_after=False or behind Masking. Those are tried too and reported as refusals, with the
operators tf2onnx wrote (grucc imports GRU nodes, not loops).

Each case's expected outputs are Keras's own (Model.predict under TensorFlow on the CPU);
onnxruntime runs the converted model as a cross-check and must agree within 2e-5. Fixed seeds,
one thread, npz members with a fixed timestamp: re-running rewrites the same bytes for the same
library versions (tf2onnx's own output varies in constant names and node order; a committed
model.onnx that still gives bit-identical outputs is kept). The script prints one JSON line per case or refusal at the end, which
make-fixtures.py reads for its summary and the README table.
"""

import json
import os
import shutil
import sys
import warnings
import zipfile
from pathlib import Path

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("PYTHONHASHSEED", "0")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402
import tf2onnx  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402

tf.config.threading.set_inter_op_parallelism_threads(1)
tf.config.threading.set_intra_op_parallelism_threads(1)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Fixtures" / "import"
L = tf_keras.layers
VERSIONS = (f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}, tf2onnx {tf2onnx.__version__}, "
            f"onnx {onnx.__version__}")
RESULTS = []


def save_npz(path, arrays):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o600 << 16
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(value), allow_pickle=False)


def nonzero_bias(rng, shape):
    return (rng.uniform(0.05, 0.5, size=shape) * rng.choice([-1.0, 1.0], size=shape))


def convert(build, seed, I):
    tf_keras.backend.clear_session()
    tf_keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    inp = tf_keras.Input((None, I), name="x")
    model = tf_keras.Model(inp, build(inp))
    for w in model.weights:
        if "bias" in w.name:
            w.assign(nonzero_bias(rng, tuple(w.shape)).astype(np.float32))
    spec = (tf.TensorSpec((None, None, I), tf.float32, name="x"),)
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=17)
    return model, proto, rng


def case(name, *, seed, build, description, I=4, T=5, B=3):
    model, proto, rng = convert(build, seed, I)
    ops = sorted({n.op_type for n in proto.graph.node})
    assert "GRU" in ops, (name, ops)
    x = rng.uniform(-2, 2, (B, T, I)).astype(np.float32)
    outs = model.predict(x, verbose=0)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    names = [o.name for o in proto.graph.output]
    expect = {k: np.asarray(v) for k, v in zip(names, outs)}
    data = proto.SerializeToString()
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 4
    sess = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])
    got = dict(zip(names, sess.run(names, {"x": x})))
    diff = max(float(np.max(np.abs(got[k].astype(np.float64) - expect[k]))) for k in names)
    assert diff < 2e-5, (name, diff)
    d = OUT / name
    # tf2onnx is not byte-deterministic: the names it gives shared constants and the order of
    # independent nodes vary between runs. A committed model that has the same operators and
    # gives bit-identical outputs on the case's input is kept, so a re-run changes nothing.
    old = KEPT.get(name)
    if old is not None:
        same_ops = sorted(n.op_type for n in onnx.load_from_string(old).graph.node) == \
            sorted(n.op_type for n in proto.graph.node)
        old_out = ort.InferenceSession(old, so, providers=["CPUExecutionProvider"]).run(names, {"x": x})
        if same_ops and all(np.array_equal(a, got[k]) for a, k in zip(old_out, names)):
            data = old
    d.mkdir(parents=True)
    (d / "model.onnx").write_bytes(data)
    save_npz(d / "inputs.npz", {"x": x})
    save_npz(d / "expect.npz", expect)
    meta = {"source": "onnx", "framework": VERSIONS, "precision": "f32", "model": "model.onnx",
            "inputs": {"x": "x"}, "outputs": names, "description": description,
            "reference": f"keras Model.predict (tf_keras {tf_keras.__version__}, TensorFlow CPU)",
            "notes": (f"Converted with tf2onnx.convert.from_keras(model, input_signature=(TensorSpec("
                      f"(None, None, {I})),), opset=17). Graph ops: {' '.join(ops)}. onnxruntime "
                      f"{ort.__version__} vs Keras: max |diff| {diff:.3g}.")}
    (d / "case.json").write_text(json.dumps(meta, indent=2) + "\n")
    RESULTS.append({"case": name, "diff": diff, "ops": ops, "description": description})


def refusal(what, *, seed, build, I=4):
    _, proto, _ = convert(build, seed, I)
    ops = sorted({n.op_type for n in proto.graph.node})
    assert "GRU" not in ops, (what, ops)
    RESULTS.append({"refused": what, "ops": ops})


KEPT = {}   # case -> the committed model.onnx bytes


def main():
    for d in OUT.glob("tf2onnx_*"):
        if (d / "model.onnx").exists():
            KEPT[d.name] = (d / "model.onnx").read_bytes()
        shutil.rmtree(d)
    case("tf2onnx_reset_after", seed=601,
         build=lambda i: L.GRU(6, return_sequences=True, return_state=True, name="gru")(i),
         description="tf2onnx of a Keras 2 GRU (reset_after=True, the default): the sequence "
                     "and the final state")
    case("tf2onnx_bidir", seed=602,
         build=lambda i: L.Bidirectional(L.GRU(5, return_sequences=True), name="bigru")(i),
         description="tf2onnx of Bidirectional(GRU(return_sequences=True)), merge_mode concat")
    case("tf2onnx_heads", seed=603,
         build=lambda i: (lambda s: [L.TimeDistributed(L.Dense(3), name="frames")(s),
                                     L.Dense(2, activation="softmax", name="cls")(
                                         L.GRU(4, name="top")(s))])(
             L.GRU(6, return_sequences=True, name="gru")(i)),
         description="tf2onnx of two stacked GRUs: TimeDistributed(Dense) on every step of the "
                     "first (a reshape to [batch·time, 6] and back), softmax Dense on the second's "
                     "last state")
    refusal("a Keras 2 GRU with reset_after=False", seed=604,
            build=lambda i: L.GRU(6, return_sequences=True, reset_after=False)(i))
    refusal("a Keras 2 GRU behind Masking", seed=605,
            build=lambda i: L.GRU(6, return_sequences=True)(L.Masking(0.0)(i)))
    # Keras 3 (the keras package on TensorFlow), the default since TensorFlow 2.16
    import keras as keras3
    keras3.utils.set_random_seed(606)
    inp = keras3.Input((None, 4), name="x")
    model = keras3.Model(inp, keras3.layers.GRU(6, return_sequences=True)(inp))
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=(tf.TensorSpec((None, None, 4), tf.float32, name="x"),),
                                          opset=17)
    ops = sorted({n.op_type for n in proto.graph.node})
    assert "GRU" not in ops, ops
    RESULTS.append({"refused": f"a Keras 3 GRU (keras {keras3.__version__}, TensorFlow backend), any options", "ops": ops})
    for r in RESULTS:
        print("RESULT " + json.dumps(r))


if __name__ == "__main__":
    sys.exit(main())
