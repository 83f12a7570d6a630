#!/usr/bin/env python3
"""Writes Tests/Fixtures/import/keras_crnn_* and torch_crnn_*: convolutional front ends around GRUs
(issue 15), and conv1d, pad and pool layers between and after GRUs (between_cases), trained
briefly by Keras and PyTorch, with the framework's own outputs.

Run by hand from the repository root (nothing in the build or the tests runs it):

    /work/venv/bin/python Tools/make-crnn-fixtures.py [--tf-check]

Same venv as Tools/make-fixtures.py (its header lists the versions); Keras 3 runs on its torch
backend (the script sets KERAS_BACKEND=torch). Each case directory holds what
Tests/GruccTests/EndToEnd/FrameworkFixtureTests.swift reads: case.json, model.gru (the layers
of Specs/LANGUAGE.md: conv1d, batchnorm, layernorm, pad, pool, gru, l2norm), the weights saved
the framework's usual way (Keras: weights.npz keyed by `w.path`, written from
`keras.ops.convert_to_numpy(w)`; PyTorch: weights.safetensors of `module.state_dict()`),
inputs.npz (x, [B, T, C]) and expect.npz (the framework's outputs, float32, in grucc's output
shapes).

Every model is trained for a few epochs on a small synthetic task; then every bias and beta is
moved by ±[0.05, 0.3] and every gamma scaled by [0.6, 1.4] (a few epochs leave them near 0 and 1,
where dropping one would hardly show), and each batch normalisation's running statistics are set
to the statistics of its input over the training data (BN recalibration: a few steps at Keras's
momentum 0.99 would leave them near 0 and 1, which hides a mean/variance mix-up).

The script checks itself: every model.gru is parsed again and run by a numpy (float64)
implementation of the layers as Specs/LANGUAGE.md defines them, reading the weights through the
model's `format` and `map` lines; the framework's output must agree within 1e-5 or the script
stops. The same numpy model in float32 must stay within 2e-6 of float64, and every l2norm input
must have a norm above 0.1, so that a float32 compiler can meet 1e-5 (a short vector or a tiny
variance would magnify its rounding). With --tf-check every Keras model is also rebuilt and run by Keras on its TensorFlow
backend (the venv in $GRUCC_TF_PYTHON, default /work/venv-tf/bin/python) and the difference is
printed (they agree on every case here). They differ on 'same' average pooling that pads
one side only: keras_crnn_pool_same_even takes its expected numbers from Keras on TensorFlow
(the same venv; without it the committed case is kept), whose rule grucc follows.

Deterministic: fixed seeds, one thread, npz members with a fixed timestamp.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

os.environ["KERAS_BACKEND"] = "torch"
os.environ.setdefault("PYTHONHASHSEED", "0")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import keras  # noqa: E402
import safetensors.numpy  # noqa: E402
import safetensors.torch  # noqa: E402

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Fixtures" / "import"
PREFIXES = ("keras_crnn_", "torch_crnn_")
TOLERANCE = 1e-5

V_TORCH = f"torch {torch.__version__}"
V_KERAS = f"keras {keras.__version__} (backend torch, {V_TORCH})"

SUMMARY = []           # (case, source, worst |framework - numpy|, bytes)
KERAS_MODELS = {}      # case -> (model json, weights list, x, expect) for --tf-check


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------

def save_npz(path, arrays):
    """np.savez's layout with a fixed timestamp, so a re-run rewrites identical bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o600 << 16
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(value), allow_pickle=False)


def write_case(name, meta, x, expect, gru_lines, weight_file, write_weights):
    d = OUT / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    (d / "model.gru").write_text("\n".join(gru_lines) + "\n")
    write_weights(d / weight_file)
    save_npz(d / "inputs.npz", {"x": x})
    save_npz(d / "expect.npz", expect)
    meta = dict(meta, model="model.gru", inputs={"x": "x"}, outputs=list(expect))
    keys = ["source", "framework", "precision", "model", "inputs", "outputs", "description",
            "reference", "notes"]
    (d / "case.json").write_text(json.dumps({k: meta[k] for k in keys if k in meta}, indent=2)
                                 + "\n")
    return d


# --------------------------------------------------------------------------------------------
# The data: smooth multi-channel signals (two sines of random frequency and phase per
# channel, plus noise) and a target every model can be fitted to for a few epochs
# --------------------------------------------------------------------------------------------

def signals(rng, n, steps, channels):
    t = np.arange(steps)[None, :, None]
    f1 = rng.uniform(0.02, 0.25, (n, 1, channels))
    f2 = rng.uniform(0.02, 0.25, (n, 1, channels))
    p1 = rng.uniform(0, 2 * np.pi, (n, 1, channels))
    p2 = rng.uniform(0, 2 * np.pi, (n, 1, channels))
    a = rng.uniform(0.3, 1.5, (n, 1, channels))
    x = a * np.sin(2 * np.pi * f1 * t + p1) + 0.5 * np.sin(2 * np.pi * f2 * t + p2)
    x += 0.1 * rng.standard_normal((n, steps, channels)) + rng.uniform(-0.5, 0.5, (n, 1, channels))
    return x.astype(np.float32)


def targets(x, shape, unit, seed):
    """A fixed smooth function of the input, resampled to the model's output shape."""
    rng = np.random.default_rng(seed)
    F_ = shape[-1]
    proj = rng.standard_normal((x.shape[-1], F_))
    run = np.cumsum(x, axis=1) / np.arange(1, x.shape[1] + 1)[None, :, None]
    y = np.tanh(run @ proj + np.sin(x) @ proj * 0.5)
    if len(shape) == 2:
        y = y[:, -1]
    else:
        idx = np.linspace(0, x.shape[1] - 1, shape[1]).round().astype(int)
        y = y[:, idx]
    if unit:
        y = y / np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), 1e-6)
    return y.astype(np.float32)


# --------------------------------------------------------------------------------------------
# An independent numpy implementation of the .gru layers (Specs/LANGUAGE.md and the issue-15
# design), float64, reading the weights the way the model file says
# --------------------------------------------------------------------------------------------

TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?'
                   r'|[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z][A-Za-z0-9_]*)*(?:\.[A-Za-z0-9_]+)*'
                   r'|->|[\[\](),=]')


def statements(text):
    out, cur = [], ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        cur += " " + line
        if cur.endswith(",") or cur.count("(") > cur.count(")"):
            continue
        out.append(TOKEN.findall(cur))
        cur = ""
    assert not cur.strip(), "dangling continuation"
    return out


def option_groups(toks):
    groups, cur = [], []
    for t in toks + [","]:
        if t == ",":
            if cur:
                groups.append(cur)
            cur = []
        else:
            cur.append(t)
    return groups


def parse_expr(toks, i):
    if i + 1 < len(toks) and toks[i + 1] == "(":
        fn, args, i = toks[i], [], i + 2
        while True:
            if re.fullmatch(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", toks[i]):
                args.append(float(toks[i]))
                i += 1
            else:
                sub, i = parse_expr(toks, i)
                args.append(sub)
            if toks[i] == ",":
                i += 1
                continue
            assert toks[i] == ")", toks
            return (fn, args), i + 1
    return ("name", toks[i]), i + 1


SEQUENCE_LAYERS = ("conv1d", "batchnorm", "layernorm", "pad", "pool", "gru")


def parse_model(text):
    m = {"layers": [], "maps": {}, "format": "grucc"}
    for toks in statements(text):
        kw = toks[0]
        if kw == "model":
            m["name"] = toks[1]
        elif kw == "precision":
            assert toks[1] == "f32"
        elif kw == "input":
            m["input"] = toks[1]
            m["input_size"] = int(toks[3])
        elif kw in SEQUENCE_LAYERS:
            assert toks[2] == "=" and toks[4] == "->", toks
            opts = {}
            for g in option_groups(toks[5:]):
                if kw == "pool" and g[0] in ("average", "max"):
                    opts["op"], opts["size"] = g[0], int(g[1])
                else:
                    assert len(g) == 2, g
                    opts[g[0]] = g[1]
            m["layers"].append((kw, toks[1], toks[3], opts))
        elif kw in ("let", "output"):
            expr, j = parse_expr(toks, 3)
            assert toks[2] == "=" and j == len(toks), toks
            m["layers"].append((kw, toks[1], None, expr))
        elif kw == "weights":
            m["weights"] = json.loads(toks[1])
            for g in option_groups(toks[2:]):
                if g[0] == "format":
                    m["format"] = g[1]
        elif kw == "map":
            layer = None
            for g in option_groups(toks[4:]):
                if g[0] == "layer":
                    layer = int(g[1])
            m["maps"][toks[1]] = (json.loads(toks[3]), layer)
        else:
            raise AssertionError(f"statement not in the fixtures' subset: {toks}")
    return m


def yes(opts, key, default=True):
    v = opts.get(key)
    return default if v is None else {"yes": True, "no": False}[v]


class Weights:
    """Reads a layer's tensors by its map prefix, in the file's framework convention."""

    def __init__(self, m, directory):
        path = directory / m["weights"]
        if path.suffix == ".safetensors":
            t = safetensors.numpy.load_file(str(path))
        else:
            with np.load(path) as z:
                t = {k: z[k] for k in z.keys()}
        self.t = {k: v.astype(DT[0]) for k, v in t.items()}
        self.used = set()
        self.format = m["format"]
        self.maps = m["maps"]

    def get(self, key):
        assert key in self.t, f"weights have no {key}; they have {sorted(self.t)}"
        self.used.add(key)
        return self.t[key]

    def prefix(self, name):
        assert name in self.maps, f"fixture models map every layer; {name} has no map"
        return self.maps[name]

    def keras_group(self, prefix, leaf):
        """The one tensor under PREFIX/ whose last path component is LEAF."""
        hits = [k for k in self.t if k.startswith(prefix + "/") and k.split("/")[-1] == leaf]
        assert len(hits) == 1, (prefix, leaf, hits)
        return hits[0]

    # -- per layer kind ----------------------------------------------------------------------
    def conv(self, name, C, Fn, K, G, bias):
        p, _ = self.prefix(name)
        if self.format == "pytorch":
            w = self.get(p + ".weight")
            b = self.get(p + ".bias") if bias else None
        else:
            k = self.get(p + "/kernel")
            if k.shape == (K, C // G, Fn):                 # Conv1D [K, C/G, F]
                w = k.transpose(2, 1, 0)
            else:                                          # DepthwiseConv1D [K, C, m]
                assert G == C and k.shape == (K, C, Fn // C), (name, k.shape)
                w = k.reshape(K, Fn).T[:, None, :]         # filter c*m + j reads channel c
            b = self.get(p + "/bias") if bias else None
        assert w.shape == (Fn, C // G, K), (name, w.shape)
        return w, (b if b is not None else np.zeros(Fn, DT[0]))

    def batchnorm(self, name, C, scale, center):
        p, _ = self.prefix(name)
        if self.format == "pytorch":
            g = self.get(p + ".weight") if scale else np.ones(C, DT[0])
            b = self.get(p + ".bias") if center else np.zeros(C, DT[0])
            mean, var = self.get(p + ".running_mean"), self.get(p + ".running_var")
        else:
            g = self.get(p + "/gamma") if scale else np.ones(C, DT[0])
            b = self.get(p + "/beta") if center else np.zeros(C, DT[0])
            mean, var = self.get(p + "/moving_mean"), self.get(p + "/moving_variance")
        return g, b, mean, var

    def layernorm(self, name, C, scale, center):
        p, _ = self.prefix(name)
        sep = "." if self.format == "pytorch" else "/"
        g = self.get(p + sep + ("weight" if sep == "." else "gamma")) if scale else np.ones(C, DT[0])
        b = self.get(p + sep + ("bias" if sep == "." else "beta")) if center else np.zeros(C, DT[0])
        return g, b

    def dense(self, name):
        p, _ = self.prefix(name)
        if self.format == "pytorch":
            return self.get(p + ".weight"), self.get(p + ".bias")
        return self.get(p + "/kernel").T, self.get(p + "/bias")

    def gru(self, name, H, bidirectional):
        p, layer = self.prefix(name)
        if self.format == "pytorch":
            k = layer or 0

            def one(suffix):
                wih, whh = self.get(f"{p}.weight_ih_l{k}{suffix}"), self.get(f"{p}.weight_hh_l{k}{suffix}")
                bih, bhh = self.get(f"{p}.bias_ih_l{k}{suffix}"), self.get(f"{p}.bias_hh_l{k}{suffix}")
                out = {}
                for i, g in enumerate("rzn"):
                    s = slice(i * H, (i + 1) * H)
                    out.update({"w_" + g: wih[s], "u_" + g: whh[s], "bi_" + g: bih[s], "bh_" + g: bhh[s]})
                return out
            return (one(""), one("_reverse")) if bidirectional else one("")

        def group(prefix):
            kern = self.get(self.keras_group(prefix, "kernel"))
            rec = self.get(self.keras_group(prefix, "recurrent_kernel"))
            bias = self.get(self.keras_group(prefix, "bias"))
            assert bias.shape == (2, 3 * H)
            out = {}
            for i, g in enumerate("zrn"):
                s = slice(i * H, (i + 1) * H)
                out.update({"w_" + g: kern[:, s].T, "u_" + g: rec[:, s].T,
                            "bi_" + g: bias[0, s], "bh_" + g: bias[1, s]})
            return out
        if bidirectional:
            # a Bidirectional wrapper holds P/forward_…/…/kernel and P/backward_…/…/kernel
            def direction(word):
                hits = [k for k in self.t if k.startswith(p + "/") and f"/{word}_" in k
                        and k.endswith("/kernel")]
                assert len(hits) == 1, (p, word, hits)
                return group(hits[0].rsplit("/", 1)[0])
            return direction("forward"), direction("backward")
        return group(p)


# The numpy model computes in DT[0]: float64 for the check, then float32 to see how far
# float32 rounding alone moves the outputs (roughly what grucc's f32 C may differ by).
DT = [np.float64]


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


ACT = {"identity": lambda v: v, "relu": lambda v: np.maximum(v, 0), "tanh": np.tanh,
       "sigmoid": sigmoid}


def conv1d(x, w, b, S, D, padding, activation):
    B, T, C = x.shape
    Fn, Cg, K = w.shape
    G = C // Cg
    E = (K - 1) * D + 1
    if padding == "causal":
        T2, P = (T - 1) // S + 1, E - 1
    elif padding == "same":
        T2 = -(-T // S)
        P = max((T2 - 1) * S + E - T, 0) // 2
    else:
        T2, P = (T - E) // S + 1, 0
    # zeros around x, enough for every tap of every output step
    xp = np.zeros((B, P + T + (T2 - 1) * S + E, C), DT[0])
    xp[:, P:P + T] = x
    y = np.zeros((B, T2, Fn), DT[0]) + b
    per = Fn // G
    for f in range(Fn):
        g = f // per
        for j in range(K):
            taps = xp[:, j * D: j * D + (T2 - 1) * S + 1: S, g * Cg:(g + 1) * Cg]   # [B, T2, Cg]
            y[:, :, f] += taps @ w[f, :, j]
    return ACT[activation](y)


def pool(x, op, N, S, padding):
    B, T, C = x.shape
    if padding == "same":
        T2 = -(-T // S)
        P = max((T2 - 1) * S + N - T, 0) // 2
    else:
        T2, P = (T - N) // S + 1, 0
    y = np.zeros((B, T2, C), DT[0])
    for t in range(T2):
        lo, hi = t * S - P, t * S - P + N
        win = x[:, max(lo, 0):min(hi, T)]              # padded steps are left out
        y[:, t] = win.mean(1) if op == "average" else win.max(1)
    return y


def gru_direction(x, p, H, reset, reverse):
    B, T, _ = x.shape
    h = np.zeros((B, H), DT[0])
    out = np.zeros((B, T, H), DT[0])
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        xt = x[:, t]
        r = sigmoid(xt @ p["w_r"].T + p["bi_r"] + h @ p["u_r"].T + p["bh_r"])
        z = sigmoid(xt @ p["w_z"].T + p["bi_z"] + h @ p["u_z"].T + p["bh_z"])
        if reset == "after":
            n = np.tanh(xt @ p["w_n"].T + p["bi_n"] + r * (h @ p["u_n"].T + p["bh_n"]))
        else:
            n = np.tanh(xt @ p["w_n"].T + p["bi_n"] + (r * h) @ p["u_n"].T + p["bh_n"])
        h = z * h + (1 - z) * n
        out[:, t] = h
    return out, h


def run_model(m, x, weights):
    env = {m["input"]: ("seq", x.astype(DT[0]))}
    states = {}
    outputs = {}

    def ev(e, binding):
        kind, args = e
        if kind == "name":
            return env[args]
        if kind == "state":
            return ("vec", states[args[0][1]])
        if kind == "last":
            v = ev(args[0], binding)
            return ("vec", v[1][:, -1])
        if kind == "dense":
            v = ev(args[0], binding)
            w, b = weights.dense(binding)
            assert w.shape[0] == int(args[1])
            return (v[0], v[1] @ w.T + b)
        if kind == "l2norm":
            v = ev(args[0], binding)
            eps = args[1] if len(args) > 1 else 1e-12
            n = np.sqrt((v[1] ** 2).sum(-1, keepdims=True))
            NORMS.append(float(n.min()))
            return (v[0], v[1] / np.maximum(n, DT[0](eps)))
        if kind in ACT:
            v = ev(args[0], binding)
            return (v[0], ACT[kind](v[1]))
        raise AssertionError("function not in the fixtures' subset: " + kind)

    for kind, name, src, opts in m["layers"]:
        if kind in ("let", "output"):
            v = ev(opts, name)
            env[name] = v
            if kind == "output":
                outputs[name] = v[1]
            continue
        s_kind, s = env[src]
        assert s_kind == "seq", f"{name}: source {src} is not a sequence"
        C = s.shape[2]
        if kind == "conv1d":
            K, Fn = int(opts["kernel"]), int(opts["filters"])
            G = int(opts.get("groups", 1))
            w, b = weights.conv(name, C, Fn, K, G, yes(opts, "bias"))
            y = conv1d(s, w, b, int(opts.get("stride", 1)), int(opts.get("dilation", 1)),
                       opts["padding"], opts.get("activation", "identity"))
        elif kind == "batchnorm":
            g, b, mean, var = weights.batchnorm(name, C, yes(opts, "scale"), yes(opts, "center"))
            y = g * (s - mean) / np.sqrt(var + DT[0](opts["epsilon"])) + b
        elif kind == "layernorm":
            g, b = weights.layernorm(name, C, yes(opts, "scale"), yes(opts, "center"))
            mu = s.mean(-1, keepdims=True)
            var = ((s - mu) ** 2).mean(-1, keepdims=True)
            y = g * (s - mu) / np.sqrt(var + DT[0](opts["epsilon"])) + b
        elif kind == "pad":
            before, after = int(opts["before"]), int(opts.get("after", 0))
            y = np.concatenate([np.zeros((s.shape[0], before, C), DT[0]), s,
                                np.zeros((s.shape[0], after, C), DT[0])], axis=1)
        elif kind == "pool":
            N = opts["size"]
            y = pool(s, opts["op"], N, int(opts.get("stride", N)), opts.get("padding", "valid"))
        else:
            H = int(opts["hidden"])
            assert opts["update"] == "keeps-state" and opts["bias"] == "separate"
            if opts.get("direction", "forward") == "bidirectional":
                assert opts.get("merge", "concat") == "concat"
                pf, pb = weights.gru(name, H, True)
                f, hf = gru_direction(s, pf, H, opts["reset"], False)
                r, hb = gru_direction(s, pb, H, opts["reset"], True)
                y, states[name] = np.concatenate([f, r], -1), np.concatenate([hf, hb], -1)
            else:
                y, states[name] = gru_direction(s, weights.gru(name, H, False), H, opts["reset"], False)
        env[name] = ("seq", y)
    unused = set(weights.t) - weights.used - {k for k in weights.t if k.endswith("num_batches_tracked")}
    assert not unused, f"tensors the model does not read: {sorted(unused)}"
    return outputs


NORMS = []
ROUNDING = {}          # case -> |numpy float32 - numpy float64|


def verify(d):
    NORMS.clear()
    m = parse_model((d / "model.gru").read_text())
    with np.load(d / "inputs.npz") as z:
        x = z["x"]
    with np.load(d / "expect.npz") as z:
        expect = {k: z[k] for k in z.keys()}
    DT[0] = np.float32
    got32 = run_model(m, x, Weights(m, d))
    DT[0] = np.float64
    NORMS.clear()
    got = run_model(m, x, Weights(m, d))
    assert list(got) == list(expect), (list(got), list(expect))
    ROUNDING[d.name] = max(float(np.abs(got32[k].astype(np.float64) - got[k]).max()) for k in got)
    worst = 0.0
    for k, v in expect.items():
        assert got[k].shape == v.shape, (d.name, k, got[k].shape, v.shape)
        worst = max(worst, float(np.abs(got[k] - v.astype(np.float64)).max()))
    assert worst < TOLERANCE, f"{d.name}: the numpy model differs from the framework by {worst:.3g}"
    # l2norm multiplies its input's rounding error by 1/norm (and batch and layer normalisation
    # by 1/sqrt(variance)): a fixture float32 itself cannot meet within 1e-5 would be no test
    assert not NORMS or min(NORMS) > 0.1, f"{d.name}: an l2norm input has norm {min(NORMS):.3g}"
    assert ROUNDING[d.name] < 2e-6, f"{d.name}: float32 alone moves the outputs by {ROUNDING[d.name]:.3g}"
    return worst


# --------------------------------------------------------------------------------------------
# Keras
# --------------------------------------------------------------------------------------------

L = keras.layers
N_TRAIN, T_TRAIN, B, T = 64, 40, 3, 40


def nonzero(rng, shape):
    """Values in ±[0.05, 0.3]: a dropped bias or beta shows."""
    return rng.uniform(0.05, 0.3, shape) * rng.choice([-1.0, 1.0], shape)


def perturb_keras(model, rng):
    """A few epochs leave biases near 0 and gammas near 1; push them away so that dropping
    or swapping one shows (before the BN recalibration, which then sees the new biases)."""
    for w in model.weights:
        leaf = w.path.split("/")[-1]
        v = keras.ops.convert_to_numpy(w)
        if leaf in ("bias", "beta"):
            w.assign((v + nonzero(rng, v.shape)).astype(np.float32))
        elif leaf == "gamma":
            w.assign((v * rng.uniform(0.6, 1.4, v.shape)).astype(np.float32))


def recalibrate_keras_bn(model, x):
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            feed = keras.Model(model.inputs, layer.input)
            a = keras.ops.convert_to_numpy(feed(x, training=False)).astype(np.float64)
            a = a.reshape(-1, a.shape[-1])
            layer.moving_mean.assign(a.mean(0).astype(np.float32))
            layer.moving_variance.assign(a.var(0).astype(np.float32))


def keras_case(name, seed, channels, build, gru, description, notes="", steps=T, epochs=3,
               on_tensorflow=False):
    keras.utils.clear_session()
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = build()
    x_train = signals(rng, N_TRAIN, T_TRAIN, channels)
    x = signals(rng, B, steps, channels)
    probe = model.predict(x_train[:1], verbose=0)
    outs = probe if isinstance(probe, list) else [probe]
    unit = isinstance(model.layers[-1], L.UnitNormalization)
    ys = [targets(x_train, (N_TRAIN,) + o.shape[1:], unit, seed + k) for k, o in enumerate(outs)]
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    model.fit(x_train, ys if len(ys) > 1 else ys[0], batch_size=16, epochs=epochs, shuffle=True,
              verbose=0)
    perturb_keras(model, rng)
    recalibrate_keras_bn(model, x_train)
    pred = model.predict(x, verbose=0)
    pred = pred if isinstance(pred, list) else [pred]
    js, ws = keras_model_for_tf(model)
    reference, framework = "keras Model.predict (torch backend, CPU)", V_KERAS
    if on_tensorflow:
        # the expected numbers are TensorFlow's; the torch backend's are in the notes
        torch_pred = pred
        pred = tf_predict({name: (js, ws, x)})[name]
        gap = max(float(np.abs(a - b).max()) for a, b in zip(pred, torch_pred))
        reference = "keras Model.predict (TensorFlow backend, CPU), weights trained on the torch backend"
        framework = f"{V_KERAS}; predictions by keras {keras.__version__} on TensorFlow ({TF_PYTHON})"
        notes += f" Keras on its torch backend gives outputs up to {gap:.3g} away from these."
    out_names = [ln.split()[1] for ln in gru if ln.startswith("output ")]
    expect = {k: np.asarray(v, np.float32) for k, v in zip(out_names, pred)}
    weights = {w.path: keras.ops.convert_to_numpy(w) for w in model.weights}
    meta = {"source": "keras", "framework": framework, "precision": "f32",
            "description": description, "reference": reference,
            "notes": (notes + " " if notes else "") +
            f"Trained {epochs} epochs (Adam, MSE, {N_TRAIN} synthetic sequences of "
            f"{T_TRAIN} steps); then every bias and beta moved by ±[0.05, 0.3] and every "
            "gamma scaled by [0.6, 1.4] (so none stays at its initial value), and the batch "
            "normalisation statistics recalibrated on the training data. Weights: np.savez(path, **{w.path: keras.ops.convert_to_numpy(w) for w in "
            "model.weights}); paths: " +
            ", ".join(f"{k} {list(v.shape)}" for k, v in weights.items()) + "."}
    d = write_case(name, meta, x, expect, gru, "weights.npz", lambda p: save_npz(p, weights))
    worst = verify(d)
    SUMMARY.append((name, "keras", worst, min(NORMS, default=float("nan")), sum(f.stat().st_size for f in d.iterdir())))
    KERAS_MODELS[name] = (js, ws, x, list(expect.values()))


GRU_OPTS = "reset after, update keeps-state, bias separate"


def keras_cases():
    # The model: every layer at its real size
    def edge(seq):
        def build():
            inp = keras.Input((None, 2))
            v = L.Conv1D(16, 20, padding="causal")(inp)
            v = L.BatchNormalization()(v)
            v = L.ZeroPadding1D((2, 0))(v)
            v = L.AveragePooling1D(3, strides=1, padding="valid")(v)
            v = L.GRU(32, return_sequences=seq)(v)
            v = L.Dense(2)(v)
            return keras.Model(inp, L.UnitNormalization()(v))
        return build

    front = ["input x[2]",
             "conv1d c = x -> filters 16, kernel 20, padding causal",
             "batchnorm n = c -> epsilon 0.001",
             "pad z = n -> before 2",
             "pool p = z -> average 3, stride 1",
             f"gru h = p -> hidden 32, {GRU_OPTS}"]
    maps = ['weights "weights.npz", format keras', 'map c = "conv1d"',
            'map n = "batch_normalization"', 'map h = "gru"', 'map y = "dense"']
    keras_case("keras_crnn_edge", 1501, 2, edge(False), steps=48,
               gru=["model crnn", "precision f32"] + front +
                   ["output y = l2norm(dense(state(h), 2))"] + maps,
               description="the issue's edge model at its real sizes: Conv1D(16, 20, causal), "
                           "BatchNormalization, ZeroPadding1D((2, 0)), AveragePooling1D(3, "
                           "strides=1, valid), GRU(32), Dense(2), UnitNormalization")
    keras_case("keras_crnn_edge_seq", 1502, 2, edge(True), steps=48,
               gru=["model crnn_seq", "precision f32"] + front +
                   ["output y = l2norm(dense(h, 2))"] + maps,
               description="the edge model with GRU(32, return_sequences=True): Dense(2) and "
                           "UnitNormalization on every step")

    # conv 'same' with a stride (T = 40, K = 5, S = 2: 3 padded steps, 1 before and 2 after),
    # relu; then 'valid' with dilation and no bias
    def build():
        inp = keras.Input((None, 3))
        v = L.Conv1D(8, 5, strides=2, padding="same", activation="relu")(inp)
        v = L.Conv1D(8, 4, padding="valid", dilation_rate=2, use_bias=False)(v)
        v = L.GRU(12, return_sequences=True)(v)
        return keras.Model(inp, L.Dense(3)(v))
    keras_case("keras_crnn_same_stride_dilated", 1503, 3, build, gru=[
        "model crnn_strided", "precision f32", "input x[3]",
        "conv1d c1 = x -> filters 8, kernel 5, padding same, stride 2, activation relu",
        "conv1d c2 = c1 -> filters 8, kernel 4, padding valid, dilation 2, bias no",
        f"gru h = c2 -> hidden 12, {GRU_OPTS}",
        "output y = dense(h, 3)",
        'weights "weights.npz", format keras', 'map c1 = "conv1d"', 'map c2 = "conv1d_1"',
        'map h = "gru"', 'map y = "dense"'],
        description="Conv1D padding='same' strides=2 activation='relu' (T=40: 20 steps, 1 zero "
                    "before and 2 after), then Conv1D 'valid' dilation_rate=2 use_bias=False "
                    "(14 steps), GRU sequence, Dense per step",
        notes="y has 14 steps for 40 input steps: the stride halves T, the valid dilated "
              "kernel (span 7) takes 6 more.")

    # groups and a depthwise conv
    def build():
        inp = keras.Input((None, 4))
        v = L.Conv1D(8, 3, padding="causal", groups=2)(inp)
        v = L.DepthwiseConv1D(4, depth_multiplier=2, padding="same")(v)
        v = L.BatchNormalization()(v)
        v = L.GRU(10)(v)
        v = L.Dense(2)(v)
        return keras.Model(inp, L.UnitNormalization()(v))
    keras_case("keras_crnn_groups_depthwise", 1504, 4, build, gru=[
        "model crnn_groups", "precision f32", "input x[4]",
        "conv1d c1 = x -> filters 8, kernel 3, padding causal, groups 2",
        "conv1d c2 = c1 -> filters 16, kernel 4, padding same, groups 8",
        "batchnorm n = c2 -> epsilon 0.001",
        f"gru h = n -> hidden 10, {GRU_OPTS}",
        "output y = l2norm(dense(state(h), 2))",
        'weights "weights.npz", format keras', 'map c1 = "conv1d"',
        'map c2 = "depthwise_conv1d"', 'map n = "batch_normalization"', 'map h = "gru"',
        'map y = "dense"'],
        description="Conv1D groups=2 (causal), DepthwiseConv1D(4, depth_multiplier=2, "
                    "padding='same': 1 zero before, 2 after; kernel [4, 8, 2] = conv1d groups 8, "
                    "filters 16), BatchNormalization, GRU state, Dense, UnitNormalization")

    # pooling with padding 'same' and a stride. T = 41 on purpose: see the note.
    def build():
        inp = keras.Input((None, 2))
        v = L.Conv1D(6, 3, padding="causal")(inp)
        v = L.MaxPooling1D(3, strides=2, padding="same")(v)
        v = L.AveragePooling1D(3, strides=2, padding="same")(v)
        v = L.GRU(8, return_sequences=True)(v)
        return keras.Model(inp, L.Dense(2)(v))
    keras_case("keras_crnn_pool_same", 1505, 2, build, steps=41, gru=[
        "model crnn_pool", "precision f32", "input x[2]",
        "conv1d c = x -> filters 6, kernel 3, padding causal",
        "pool m = c -> max 3, stride 2, padding same",
        "pool a = m -> average 3, stride 2, padding same",
        f"gru h = a -> hidden 8, {GRU_OPTS}",
        "output y = dense(h, 2)",
        'weights "weights.npz", format keras', 'map c = "conv1d"', 'map h = "gru"',
        'map y = "dense"'],
        description="MaxPooling1D(3, strides=2, 'same') then AveragePooling1D(3, strides=2, "
                    "'same') (41 -> 21 -> 11 steps, 1 padded step each side), GRU sequence, "
                    "Dense per step",
        notes="T=41 pads both pools symmetrically. Keras 3.15 on the torch backend pads "
              "asymmetric 'same' pooling (an even T here) by repeating the edge step "
              "(F.pad mode='replicate') and averages over it, where TensorFlow leaves the "
              "padded step out of the average; grucc follows TensorFlow, so this fixture "
              "avoids the case where the backends disagree.")

    # The same model on an even T: both pools pad one step after only. TensorFlow leaves it
    # out of the average (grucc's rule); Keras's torch backend averages a copy of the edge step.
    if Path(TF_PYTHON).exists():
        keras_case("keras_crnn_pool_same_even", 1505, 2, build, steps=40, on_tensorflow=True, gru=[
            "model crnn_pool", "precision f32", "input x[2]",
            "conv1d c = x -> filters 6, kernel 3, padding causal",
            "pool m = c -> max 3, stride 2, padding same",
            "pool a = m -> average 3, stride 2, padding same",
            f"gru h = a -> hidden 8, {GRU_OPTS}",
            "output y = dense(h, 2)",
            'weights "weights.npz", format keras', 'map c = "conv1d"', 'map h = "gru"',
            'map y = "dense"'],
            description="keras_crnn_pool_same's model on T=40: each 'same' pool pads one step "
                        "after and none before (40 -> 20 -> 10 steps); expected outputs from "
                        "Keras on TensorFlow, which leaves the padded step out of the average",
            notes="Keras 3.15's torch backend pads asymmetric 'same' pooling with "
                  "F.pad(mode='replicate') and averages over the copied edge step; "
                  "TensorFlow (and TFLite, where such models are deployed) and grucc leave it "
                  "out.")
    else:
        print(f"keras_crnn_pool_same_even kept as committed: no TensorFlow venv at {TF_PYTHON}")

    # pooling with the default stride (= pool size), valid
    def build():
        inp = keras.Input((None, 3))
        v = L.Conv1D(8, 3, padding="causal", activation="relu")(inp)
        v = L.MaxPooling1D(2)(v)
        v = L.AveragePooling1D(2)(v)
        v = L.GRU(8)(v)
        return keras.Model(inp, L.Dense(2)(v))
    keras_case("keras_crnn_pool_valid", 1506, 3, build, gru=[
        "model crnn_pool_valid", "precision f32", "input x[3]",
        "conv1d c = x -> filters 8, kernel 3, padding causal, activation relu",
        "pool m = c -> max 2",
        "pool a = m -> average 2",
        f"gru h = a -> hidden 8, {GRU_OPTS}",
        "output y = dense(state(h), 2)",
        'weights "weights.npz", format keras', 'map c = "conv1d"', 'map h = "gru"',
        'map y = "dense"'],
        description="MaxPooling1D(2) and AveragePooling1D(2): default stride = pool size, "
                    "valid (40 -> 20 -> 10 steps); GRU state, Dense")

    # layer normalisation between conv and GRU, and after a GRU
    def build():
        inp = keras.Input((None, 3))
        v = L.Conv1D(8, 5, padding="causal")(inp)
        v = L.LayerNormalization()(v)
        v = L.GRU(10, return_sequences=True)(v)
        v = L.LayerNormalization(epsilon=1e-5)(v)
        v = L.Dense(2)(v)
        return keras.Model(inp, L.UnitNormalization()(v))
    keras_case("keras_crnn_layernorm", 1507, 3, build, gru=[
        "model crnn_ln", "precision f32", "input x[3]",
        "conv1d c = x -> filters 8, kernel 5, padding causal",
        "layernorm n1 = c -> epsilon 0.001",
        f"gru h = n1 -> hidden 10, {GRU_OPTS}",
        "layernorm n2 = h -> epsilon 1e-5",
        "output y = l2norm(dense(n2, 2))",
        'weights "weights.npz", format keras', 'map c = "conv1d"',
        'map n1 = "layer_normalization"', 'map n2 = "layer_normalization_1"', 'map h = "gru"',
        'map y = "dense"'],
        description="LayerNormalization (epsilon 1e-3) between Conv1D and GRU, "
                    "LayerNormalization(epsilon=1e-5) on the GRU's sequence, Dense and "
                    "UnitNormalization per step")

    # batch normalisation without scale / without center; two stacked GRUs
    def build():
        inp = keras.Input((None, 2))
        v = L.Conv1D(8, 4, padding="causal")(inp)
        v = L.BatchNormalization(scale=False)(v)
        v = L.GRU(12, return_sequences=True)(v)
        v = L.BatchNormalization(center=False)(v)
        v = L.GRU(10, return_sequences=True)(v)
        return keras.Model(inp, L.Dense(2)(v))
    keras_case("keras_crnn_bn_options_stacked", 1508, 2, build, gru=[
        "model crnn_stacked", "precision f32", "input x[2]",
        "conv1d c = x -> filters 8, kernel 4, padding causal",
        "batchnorm n1 = c -> epsilon 0.001, scale no",
        f"gru h1 = n1 -> hidden 12, {GRU_OPTS}",
        "batchnorm n2 = h1 -> epsilon 0.001, center no",
        f"gru h2 = n2 -> hidden 10, {GRU_OPTS}",
        "output y = dense(h2, 2)",
        'weights "weights.npz", format keras', 'map c = "conv1d"',
        'map n1 = "batch_normalization"', 'map h1 = "gru"',
        'map n2 = "batch_normalization_1"', 'map h2 = "gru_1"', 'map y = "dense"'],
        description="Conv1D, BatchNormalization(scale=False) (no gamma), GRU sequence, "
                    "BatchNormalization(center=False) (no beta) between two stacked GRUs, "
                    "Dense per step")

    # dilated causal convolutions (WaveNet's stack): the window a stream keeps grows with D
    def build():
        inp = keras.Input((None, 2))
        v = L.Conv1D(8, 3, padding="causal", dilation_rate=2, activation="tanh")(inp)
        v = L.Conv1D(8, 3, padding="causal", dilation_rate=4)(v)
        v = L.GRU(8, return_sequences=True)(v)
        return keras.Model(inp, L.Dense(2)(v))
    keras_case("keras_crnn_causal_dilated", 1510, 2, build, gru=[
        "model crnn_dilated", "precision f32", "input x[2]",
        "conv1d c1 = x -> filters 8, kernel 3, padding causal, dilation 2, activation tanh",
        "conv1d c2 = c1 -> filters 8, kernel 3, padding causal, dilation 4",
        f"gru h = c2 -> hidden 8, {GRU_OPTS}",
        "output y = dense(h, 2)",
        'weights "weights.npz", format keras', 'map c1 = "conv1d"', 'map c2 = "conv1d_1"',
        'map h = "gru"', 'map y = "dense"'],
        description="Conv1D causal dilation_rate=2 (tanh), then dilation_rate=4 (4 and 8 "
                    "zeros before), GRU sequence, Dense per step: streams step by step")

    # a bidirectional GRU after a causal conv
    def build():
        inp = keras.Input((None, 2))
        v = L.Conv1D(8, 6, padding="causal")(inp)
        v = L.Bidirectional(L.GRU(8))(v)
        v = L.Dense(2)(v)
        return keras.Model(inp, L.UnitNormalization()(v))
    keras_case("keras_crnn_bidir", 1509, 2, build, gru=[
        "model crnn_bidir", "precision f32", "input x[2]",
        "conv1d c = x -> filters 8, kernel 6, padding causal",
        f"gru h = c -> hidden 8, {GRU_OPTS}, direction bidirectional, merge concat",
        "output y = l2norm(dense(state(h), 2))",
        'weights "weights.npz", format keras', 'map c = "conv1d"', 'map h = "bidirectional"',
        'map y = "dense"'],
        description="Conv1D causal, Bidirectional(GRU(8)) final states (forward, backward), "
                    "Dense, UnitNormalization")


# --------------------------------------------------------------------------------------------
# PyTorch: modules take x [B, T, C]; convolutions and pooling run on x.transpose(1, 2)
# --------------------------------------------------------------------------------------------

def channels_first(fn, v):
    return fn(v.transpose(1, 2)).transpose(1, 2)


def perturb_torch(net, rng):
    with torch.no_grad():
        for mod in net.modules():
            for pname, p in mod.named_parameters(recurse=False):
                if "bias" in pname:
                    p.add_(torch.from_numpy(nonzero(rng, tuple(p.shape))).float())
                elif isinstance(mod, (nn.BatchNorm1d, nn.LayerNorm)) and pname == "weight":
                    p.mul_(torch.from_numpy(rng.uniform(0.6, 1.4, tuple(p.shape))).float())


def recalibrate_torch_bn(net, x):
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm1d)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None             # a cumulative average: one pass gives the data's stats
    net.train()
    with torch.no_grad():
        net(torch.from_numpy(x))
    for bn in bns:
        bn.momentum = 0.1
    net.eval()


def torch_case(name, seed, channels, net_fn, gru, description, notes="", steps=T, epochs=3):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = net_fn()
    x_train = signals(rng, N_TRAIN, T_TRAIN, channels)
    x = signals(rng, B, steps, channels)
    net.eval()
    with torch.no_grad():
        probe = net(torch.from_numpy(x_train[:1]))
    unit = getattr(net, "unit", False)
    y_train = torch.from_numpy(targets(x_train, (N_TRAIN,) + tuple(probe.shape[1:]), unit, seed))
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    g = torch.Generator().manual_seed(seed)
    xt = torch.from_numpy(x_train)
    for _ in range(epochs):
        net.train()
        for idx in torch.randperm(N_TRAIN, generator=g).split(16):
            opt.zero_grad()
            F.mse_loss(net(xt[idx]), y_train[idx]).backward()
            opt.step()
    perturb_torch(net, rng)
    recalibrate_torch_bn(net, x_train)
    with torch.no_grad():
        y = net(torch.from_numpy(x)).numpy()
    out_name = [ln.split()[1] for ln in gru if ln.startswith("output ")]
    assert len(out_name) == 1
    state = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
    meta = {"source": "pytorch", "framework": V_TORCH, "precision": "f32",
            "description": description, "reference": "torch forward (CPU, eval mode, no grad)",
            "notes": (notes + " " if notes else "") +
            f"Trained {epochs} epochs (Adam, MSE, {N_TRAIN} synthetic sequences of {T_TRAIN} "
            "steps); then every bias moved by ±[0.05, 0.3] and every norm weight scaled by "
            "[0.6, 1.4] (so none stays at its initial value), and the BatchNorm1d running "
            "statistics recalibrated on the training data (momentum None, one pass). Weights: safetensors.torch.save_file(module.state_dict());"
            " tensors: " + ", ".join(f"{k} {list(v.shape)}" for k, v in state.items()) + "."}
    d = write_case(name, meta, x, {out_name[0]: y.astype(np.float32)}, gru,
                   "weights.safetensors", lambda p: safetensors.torch.save_file(state, str(p)))
    worst = verify(d)
    SUMMARY.append((name, "pytorch", worst, min(NORMS, default=float("nan")), sum(f.stat().st_size for f in d.iterdir())))


class TorchEdge(nn.Module):
    """The issue's stack written in PyTorch: F.pad makes the convolution causal."""
    unit = True

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 16, 20)
        self.bn = nn.BatchNorm1d(16)
        self.pool = nn.AvgPool1d(3, stride=1)
        self.gru = nn.GRU(16, 32, batch_first=True)
        self.fc = nn.Linear(32, 2)

    def forward(self, x):
        v = x.transpose(1, 2)
        v = self.bn(self.conv(F.pad(v, (19, 0))))
        v = self.pool(F.pad(v, (2, 0)))
        _, h = self.gru(v.transpose(1, 2))
        return F.normalize(self.fc(h[0]), dim=-1)


class TorchSymmetric(nn.Module):
    """Conv1d(padding=p) pads p zeros each side: `pad` both ways, then a valid conv1d."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(3, 8, 5, padding=2)
        self.c2 = nn.Conv1d(8, 8, 3, dilation=2, padding=2, bias=False)
        self.gru = nn.GRU(8, 10, batch_first=True)
        self.fc = nn.Linear(10, 2)

    def forward(self, x):
        v = F.relu(self.c1(x.transpose(1, 2)))
        v = self.c2(v).transpose(1, 2)
        return self.fc(self.gru(v)[0])


class TorchSame(nn.Module):
    """Conv1d(padding='same') pads (K-1)*D zeros, the smaller half before: the 'same' rule at
    stride 1 (PyTorch refuses 'same' with a stride)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(3, 8, 4, padding="same")
        self.c2 = nn.Conv1d(8, 8, 3, padding="same", dilation=2)
        self.gru = nn.GRU(8, 10, batch_first=True)
        self.fc = nn.Linear(10, 2)

    def forward(self, x):
        v = self.c2(torch.tanh(self.c1(x.transpose(1, 2)))).transpose(1, 2)
        return self.fc(self.gru(v)[1][0])


class TorchGroups(nn.Module):
    unit = True

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 8, 3, groups=2)
        self.dw = nn.Conv1d(8, 16, 5, stride=2, groups=8, bias=False)
        self.bn = nn.BatchNorm1d(16, affine=False)
        self.gru = nn.GRU(16, 10, batch_first=True)
        self.fc = nn.Linear(10, 2)

    def forward(self, x):
        v = self.c1(F.pad(x.transpose(1, 2), (2, 0)))
        v = self.bn(self.dw(v)).transpose(1, 2)
        return F.normalize(self.fc(self.gru(v)[1][0]), dim=-1)


class TorchPool(nn.Module):
    """AvgPool1d(padding=1) counts the zeros (count_include_pad=True): `pad` then a valid pool."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 6, 3)
        self.avg = nn.AvgPool1d(3, stride=2, padding=1)
        self.max = nn.MaxPool1d(2)
        self.gru = nn.GRU(6, 8, batch_first=True)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        v = self.conv(F.pad(x.transpose(1, 2), (2, 0)))
        v = self.max(self.avg(v)).transpose(1, 2)
        return self.fc(self.gru(v)[0])


class TorchPoolSame(nn.Module):
    """AvgPool1d(3, 1, padding=1, count_include_pad=False) and MaxPool1d(3, 1, padding=1) are
    'same' pooling: one padded step each side, left out of the average, ignored by the max."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 8, 4)
        self.avg = nn.AvgPool1d(3, stride=1, padding=1, count_include_pad=False)
        self.max = nn.MaxPool1d(3, stride=1, padding=1)
        self.gru = nn.GRU(8, 8, batch_first=True)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        v = self.conv(F.pad(x.transpose(1, 2), (3, 0)))
        v = self.max(self.avg(v)).transpose(1, 2)
        return self.fc(self.gru(v)[1][0])


class TorchLayerNorm(nn.Module):
    unit = True

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 8, 5)
        self.ln1 = nn.LayerNorm(8)
        self.gru = nn.GRU(8, 10, batch_first=True)
        self.ln2 = nn.LayerNorm(10)
        self.fc = nn.Linear(10, 2)

    def forward(self, x):
        v = self.ln1(self.conv(F.pad(x.transpose(1, 2), (4, 0))).transpose(1, 2))
        v = self.ln2(self.gru(v)[0])
        return F.normalize(self.fc(v), dim=-1)


class TorchBnStacked(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 8, 4)
        self.bn1 = nn.BatchNorm1d(8)
        self.gru = nn.GRU(8, 12, num_layers=2, batch_first=True)
        self.bn2 = nn.BatchNorm1d(12)
        self.fc = nn.Linear(12, 2)

    def forward(self, x):
        v = self.bn1(self.conv(F.pad(x.transpose(1, 2), (3, 0)))).transpose(1, 2)
        v = self.gru(v)[0]
        return self.fc(channels_first(self.bn2, v))


def torch_cases():
    torch_case("torch_crnn_edge", 1601, 2, TorchEdge, steps=48, gru=[
        "model crnn", "precision f32", "input x[2]",
        "conv1d c = x -> filters 16, kernel 20, padding causal",
        "batchnorm n = c -> epsilon 1e-5",
        "pad z = n -> before 2",
        "pool p = z -> average 3, stride 1",
        f"gru h = p -> hidden 32, {GRU_OPTS}",
        "output y = l2norm(dense(state(h), 2))",
        'weights "weights.safetensors", format pytorch', 'map c = "conv"', 'map n = "bn"',
        'map h = "gru", layer 0', 'map y = "fc"'],
        description="the issue's stack in PyTorch: F.pad(19, 0) + Conv1d(2, 16, 20), "
                    "BatchNorm1d, F.pad(2, 0) + AvgPool1d(3, stride=1), GRU(32), Linear(2), "
                    "F.normalize of h_n")
    torch_case("torch_crnn_symmetric_dilated", 1602, 3, TorchSymmetric, gru=[
        "model crnn_sym", "precision f32", "input x[3]",
        "pad z1 = x -> before 2, after 2",
        "conv1d c1 = z1 -> filters 8, kernel 5, padding valid, activation relu",
        "pad z2 = c1 -> before 2, after 2",
        "conv1d c2 = z2 -> filters 8, kernel 3, padding valid, dilation 2, bias no",
        f"gru h = c2 -> hidden 10, {GRU_OPTS}",
        "output y = dense(h, 2)",
        'weights "weights.safetensors", format pytorch', 'map c1 = "c1"', 'map c2 = "c2"',
        'map h = "gru", layer 0', 'map y = "fc"'],
        description="Conv1d(padding=2) + ReLU and Conv1d(kernel 3, dilation=2, padding=2, "
                    "bias=False): each `pad before 2, after 2` then a valid conv1d; GRU "
                    "sequence, Linear per step")
    torch_case("torch_crnn_conv_same", 1608, 3, TorchSame, gru=[
        "model crnn_same", "precision f32", "input x[3]",
        "conv1d c1 = x -> filters 8, kernel 4, padding same, activation tanh",
        "conv1d c2 = c1 -> filters 8, kernel 3, padding same, dilation 2",
        f"gru h = c2 -> hidden 10, {GRU_OPTS}",
        "output y = dense(state(h), 2)",
        'weights "weights.safetensors", format pytorch', 'map c1 = "c1"', 'map c2 = "c2"',
        'map h = "gru", layer 0', 'map y = "fc"'],
        description="Conv1d(padding='same'), kernel 4 (1 zero before, 2 after) + tanh, and "
                    "kernel 3 dilation 2 (2 and 2); GRU h_n, Linear")
    torch_case("torch_crnn_groups_depthwise", 1603, 4, TorchGroups, gru=[
        "model crnn_groups", "precision f32", "input x[4]",
        "conv1d c1 = x -> filters 8, kernel 3, padding causal, groups 2",
        "conv1d c2 = c1 -> filters 16, kernel 5, padding valid, stride 2, groups 8, bias no",
        "batchnorm n = c2 -> epsilon 1e-5, scale no, center no",
        f"gru h = n -> hidden 10, {GRU_OPTS}",
        "output y = l2norm(dense(state(h), 2))",
        'weights "weights.safetensors", format pytorch', 'map c1 = "c1"', 'map c2 = "dw"',
        'map n = "bn"', 'map h = "gru", layer 0', 'map y = "fc"'],
        description="Conv1d groups=2 (F.pad causal), depthwise Conv1d(8, 16, 5, stride=2, "
                    "groups=8, bias=False) valid (40 -> 18 steps), BatchNorm1d(affine=False) "
                    "(scale no, center no), GRU h_n, Linear, F.normalize")
    torch_case("torch_crnn_pool", 1604, 2, TorchPool, gru=[
        "model crnn_pool", "precision f32", "input x[2]",
        "conv1d c = x -> filters 6, kernel 3, padding causal",
        "pad z = c -> before 1, after 1",
        "pool a = z -> average 3, stride 2",
        "pool m = a -> max 2",
        f"gru h = m -> hidden 8, {GRU_OPTS}",
        "output y = dense(h, 2)",
        'weights "weights.safetensors", format pytorch', 'map c = "conv"',
        'map h = "gru", layer 0', 'map y = "fc"'],
        description="AvgPool1d(3, stride=2, padding=1) (count_include_pad=True: `pad before 1, "
                    "after 1` + valid pool, the zeros counted), MaxPool1d(2) (stride = kernel): "
                    "40 -> 20 -> 10 steps; GRU sequence, Linear per step")
    torch_case("torch_crnn_pool_same", 1605, 3, TorchPoolSame, gru=[
        "model crnn_pool_same", "precision f32", "input x[3]",
        "conv1d c = x -> filters 8, kernel 4, padding causal",
        "pool a = c -> average 3, stride 1, padding same",
        "pool m = a -> max 3, stride 1, padding same",
        f"gru h = m -> hidden 8, {GRU_OPTS}",
        "output y = dense(state(h), 2)",
        'weights "weights.safetensors", format pytorch', 'map c = "conv"',
        'map h = "gru", layer 0', 'map y = "fc"'],
        description="AvgPool1d(3, 1, padding=1, count_include_pad=False) and MaxPool1d(3, 1, "
                    "padding=1): `pool ... padding same` (zeros left out of the average, -inf "
                    "padding of the max); GRU h_n, Linear",
        notes="Only stride 1 (or an odd T with stride 2) makes PyTorch's symmetric padding equal "
              "to the 'same' rule's, which puts the smaller half before.")
    torch_case("torch_crnn_layernorm", 1636, 3, TorchLayerNorm, gru=[
        "model crnn_ln", "precision f32", "input x[3]",
        "conv1d c = x -> filters 8, kernel 5, padding causal",
        "layernorm n1 = c -> epsilon 1e-5",
        f"gru h = n1 -> hidden 10, {GRU_OPTS}",
        "layernorm n2 = h -> epsilon 1e-5",
        "output y = l2norm(dense(n2, 2))",
        'weights "weights.safetensors", format pytorch', 'map c = "conv"', 'map n1 = "ln1"',
        'map h = "gru", layer 0', 'map n2 = "ln2"', 'map y = "fc"'],
        description="nn.LayerNorm over the conv's channels and over the GRU's features, "
                    "Linear and F.normalize per step")
    torch_case("torch_crnn_bn_stacked", 1607, 2, TorchBnStacked, gru=[
        "model crnn_stacked", "precision f32", "input x[2]",
        "conv1d c = x -> filters 8, kernel 4, padding causal",
        "batchnorm n1 = c -> epsilon 1e-5",
        f"gru h1 = n1 -> hidden 12, {GRU_OPTS}",
        f"gru h2 = h1 -> hidden 12, {GRU_OPTS}",
        "batchnorm n2 = h2 -> epsilon 1e-5",
        "output y = dense(n2, 2)",
        'weights "weights.safetensors", format pytorch', 'map c = "conv"', 'map n1 = "bn1"',
        'map h1 = "gru", layer 0', 'map h2 = "gru", layer 1', 'map n2 = "bn2"',
        'map y = "fc"'],
        description="Conv1d + BatchNorm1d front end, nn.GRU(num_layers=2), BatchNorm1d over "
                    "the GRU's features, Linear per step")


# --------------------------------------------------------------------------------------------
# Sequence layers between and after gru layers: a conv1d, pad or pool reading a gru's output
# sequence (a bidirectional one's [forward, backward] per step), and a gru reading theirs
# --------------------------------------------------------------------------------------------

class TorchBetween(nn.Module):
    """A bidirectional GRU's [B, T, 16] output through Conv1d(padding=1), which for an odd
    kernel at stride 1 is the 'same' rule (1 zero each side), into a second GRU."""

    def __init__(self):
        super().__init__()
        self.gru1 = nn.GRU(3, 8, batch_first=True, bidirectional=True)
        self.conv = nn.Conv1d(16, 6, 3, padding=1)
        self.pool = nn.AvgPool1d(2)
        self.gru2 = nn.GRU(6, 5, batch_first=True)
        self.fc = nn.Linear(5, 2)

    def forward(self, x):
        v = F.relu(self.conv(self.gru1(x)[0].transpose(1, 2)))
        _, h = self.gru2(self.pool(v).transpose(1, 2))
        return self.fc(h[0])


class TorchAfterPad(nn.Module):
    """F.pad then MaxPool1d(3, stride=1) on the GRU's outputs: each step the max of itself and
    the two before, zeros before the first (the padded zeros take part in the max)."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(2, 6, batch_first=True)
        self.pool = nn.MaxPool1d(3, stride=1)

    def forward(self, x):
        v = F.pad(self.gru(x)[0].transpose(1, 2), (2, 0))
        return self.pool(v).transpose(1, 2)


def between_cases():
    def build():
        inp = keras.Input((None, 3))
        v = L.GRU(8, return_sequences=True, reset_after=True)(inp)
        v = L.Conv1D(6, 3, padding="causal", activation="relu")(v)
        v = L.GRU(5)(v)
        return keras.Model(inp, L.Dense(2)(v))
    keras_case("keras_crnn_between", 1511, 3, build, steps=24, gru=[
        "model crnn_between", "precision f32", "input x[3]",
        f"gru h1 = x -> hidden 8, {GRU_OPTS}",
        "conv1d c = h1 -> filters 6, kernel 3, padding causal, activation relu",
        f"gru h2 = c -> hidden 5, {GRU_OPTS}",
        "output y = dense(state(h2), 2)",
        'weights "weights.npz", format keras', 'map h1 = "gru"', 'map c = "conv1d"',
        'map h2 = "gru_1"', 'map y = "dense"'],
        description="GRU(8, return_sequences), Conv1D(6, 3, causal, relu) on its sequence, "
                    "GRU(5) state, Dense(2): a conv between two GRUs (causal, stride 1: "
                    "one step in, one step out)")

    # T = 25: the valid strided conv gives (25 − 4) // 2 + 1 = 11 steps, the pool 5 (one
    # conv step left over), so the second GRU runs 5 steps for 25
    def build():
        inp = keras.Input((None, 3))
        v = L.GRU(8, return_sequences=True)(inp)
        v = L.Conv1D(6, 4, padding="valid", strides=2)(v)
        v = L.MaxPooling1D(2)(v)
        return keras.Model(inp, L.GRU(5, return_sequences=True)(v))
    keras_case("keras_crnn_between_strided", 1512, 3, build, steps=25, gru=[
        "model crnn_between_strided", "precision f32", "input x[3]",
        f"gru h1 = x -> hidden 8, {GRU_OPTS}",
        "conv1d c = h1 -> filters 6, kernel 4, padding valid, stride 2",
        "pool m = c -> max 2",
        f"gru h2 = m -> hidden 5, {GRU_OPTS}",
        "output y = h2",
        'weights "weights.npz", format keras', 'map h1 = "gru"', 'map c = "conv1d"',
        'map h2 = "gru_1"'],
        description="GRU(8, return_sequences), Conv1D(6, 4, valid, strides=2), "
                    "MaxPooling1D(2), GRU(5, return_sequences) as the output: 25 steps "
                    "-> 11 -> 5 between the GRUs",
        notes="y has 5 steps for 25 input steps; the odd conv step left by the pool is dropped.")

    # conv 'same' with dilation 2 after the GRU (E = 5: 2 zeros each side), a batchnorm
    # right after it (a fold candidate), a pool halving T, Dense per step
    def build():
        inp = keras.Input((None, 2))
        v = L.Conv1D(4, 3, padding="causal")(inp)
        v = L.GRU(8, return_sequences=True)(v)
        v = L.Conv1D(4, 3, padding="same", dilation_rate=2)(v)
        v = L.BatchNormalization()(v)
        v = L.AveragePooling1D(2)(v)
        return keras.Model(inp, L.Dense(3)(v))
    keras_case("keras_crnn_after", 1513, 2, build, steps=20, gru=[
        "model crnn_after", "precision f32", "input x[2]",
        "conv1d c1 = x -> filters 4, kernel 3, padding causal",
        f"gru h = c1 -> hidden 8, {GRU_OPTS}",
        "conv1d c2 = h -> filters 4, kernel 3, padding same, dilation 2",
        "batchnorm n = c2 -> epsilon 0.001",
        "pool a = n -> average 2",
        "output y = dense(a, 3)",
        'weights "weights.npz", format keras', 'map c1 = "conv1d"', 'map h = "gru"',
        'map c2 = "conv1d_1"', 'map n = "batch_normalization"', 'map y = "dense"'],
        description="Conv1D causal front end, GRU(8, return_sequences), then Conv1D(4, 3, "
                    "'same', dilation_rate=2), BatchNormalization, AveragePooling1D(2) and "
                    "Dense(3) per step after the GRU (20 steps -> 10)",
        notes="The 'same' conv reads 2 steps ahead of the GRU's output, so the model runs "
              "whole sequences only.")

    torch_case("torch_crnn_between", 1611, 3, TorchBetween, gru=[
        "model crnn_between", "precision f32", "input x[3]",
        f"gru h1 = x -> hidden 8, {GRU_OPTS}, direction bidirectional, merge concat",
        "conv1d c = h1 -> filters 6, kernel 3, padding same, activation relu",
        "pool a = c -> average 2",
        f"gru h2 = a -> hidden 5, {GRU_OPTS}",
        "output y = dense(state(h2), 2)",
        'weights "weights.safetensors", format pytorch', 'map h1 = "gru1", layer 0',
        'map c = "conv"', 'map h2 = "gru2", layer 0', 'map y = "fc"'],
        description="bidirectional nn.GRU(3, 8): its [B, T, 16] output (forward, backward per "
                    "step) through Conv1d(16, 6, 3, padding=1) (`padding same`) + ReLU and "
                    "AvgPool1d(2) (40 -> 20 steps) into nn.GRU(6, 5); Linear on h_n")
    torch_case("torch_crnn_after_pad", 1612, 2, TorchAfterPad, gru=[
        "model crnn_after_pad", "precision f32", "input x[2]",
        f"gru h = x -> hidden 6, {GRU_OPTS}",
        "pad z = h -> before 2",
        "pool m = z -> max 3, stride 1",
        "output y = m",
        'weights "weights.safetensors", format pytorch', 'map h = "gru", layer 0'],
        description="nn.GRU(2, 6) output sequence, F.pad 2 steps before (`pad before 2`), "
                    "MaxPool1d(3, stride=1): the model's output, [B, T, 6] (causal: streams)")


# --------------------------------------------------------------------------------------------
# --tf-check: the same Keras models on Keras's TensorFlow backend
# --------------------------------------------------------------------------------------------

TF_SCRIPT = r"""
import json, sys, numpy as np, keras
for name in json.load(open(sys.argv[1])):
    with np.load(sys.argv[2] + "/" + name + ".npz") as z:
        model = keras.models.model_from_json(open(sys.argv[2] + "/" + name + ".json").read())
        model.set_weights([z["w%d" % i] for i in range(len(model.weights))])
        pred = model.predict(z["x"], verbose=0)
    pred = pred if isinstance(pred, list) else [pred]
    np.savez(sys.argv[2] + "/" + name + ".out.npz", *[np.asarray(p, np.float32) for p in pred])
"""
TF_PYTHON = os.environ.get("GRUCC_TF_PYTHON", "/work/venv-tf/bin/python")


def keras_model_for_tf(model):
    config = json.loads(model.to_json())
    config.pop("compile_config", None)          # the torch backend's optimizer: not needed
    return json.dumps(config), [keras.ops.convert_to_numpy(w) for w in model.weights]


def tf_predict(jobs):
    """{name: (model json, weights, x)} -> {name: [outputs]} from Keras on TensorFlow, run in
    the TensorFlow venv (it cannot share this one's torch)."""
    if not Path(TF_PYTHON).exists():
        raise FileNotFoundError(f"{TF_PYTHON} (set GRUCC_TF_PYTHON to a venv with tensorflow and keras)")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (js, ws, x) in jobs.items():
            Path(tmp, name + ".json").write_text(js)
            np.savez(Path(tmp, name + ".npz"), x=x, **{f"w{i}": w for i, w in enumerate(ws)})
        Path(tmp, "names.json").write_text(json.dumps(list(jobs)))
        Path(tmp, "run.py").write_text(TF_SCRIPT)
        env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3",
                   CUDA_VISIBLE_DEVICES="")
        run = subprocess.run([TF_PYTHON, str(Path(tmp, "run.py")), str(Path(tmp, "names.json")), tmp],
                             capture_output=True, text=True, env=env, check=False)
        if run.returncode != 0:
            raise RuntimeError("Keras on TensorFlow failed:\n" + run.stderr[-2000:])
        out = {}
        for name in jobs:
            with np.load(Path(tmp, name + ".out.npz")) as z:
                out[name] = [z[f"arr_{i}"] for i in range(len(z.files))]
        return out


def tf_check():
    """|Keras on torch - Keras on TensorFlow| of every Keras case."""
    try:
        got = tf_predict({k: v[:3] for k, v in KERAS_MODELS.items()})
    except (FileNotFoundError, RuntimeError) as e:
        print(f"--tf-check skipped: {e}")
        return {}
    return {name: max(float(np.abs(a - b).max()) for a, b in zip(got[name], KERAS_MODELS[name][3]))
            for name in got}


def update_readme():
    """Tests/Fixtures/import/README.md is Tools/make-fixtures.py's table: replace this
    script's rows where the first of them stood (other scripts append rows after them), keep
    the others."""
    path = OUT / "README.md"
    lines = path.read_text().splitlines() if path.exists() else []
    ours = [i for i, ln in enumerate(lines) if ln.startswith(tuple(f"| `{p}" for p in PREFIXES))]
    at = ours[0] if ours else len(lines)
    kept = [ln for i, ln in enumerate(lines) if i not in set(ours)]
    rows = []
    for name, *_ in SUMMARY:
        meta = json.loads((OUT / name / "case.json").read_text())
        rows.append(f"| `{name}` | {meta['description']} | {meta['reference']} |")
    path.write_text("\n".join(kept[:at] + rows + kept[at:]) + "\n")


def main():
    only = [a for a in sys.argv[1:] if not a.startswith("--")]
    OUT.mkdir(parents=True, exist_ok=True)
    if not only:
        for d in OUT.iterdir():
            if d.is_dir() and d.name.startswith(PREFIXES):
                if d.name == "keras_crnn_pool_same_even" and not Path(TF_PYTHON).exists():
                    continue
                shutil.rmtree(d)
    keras_cases()
    torch_cases()
    between_cases()
    update_readme()
    tf = tf_check() if "--tf-check" in sys.argv[1:] else {}
    print(f"\n{V_KERAS}, numpy {np.__version__}, Python {sys.version.split()[0]}\n")
    print(f"{'case':34} {'source':8} {'|framework - numpy|':>20} {'|numpy f32 - f64|':>18} {'min l2norm in':>14} {'bytes':>7}"
          + ("  |keras torch - keras tf|" if tf else ""))
    for name, src, worst, norm, size in SUMMARY:
        extra = f"  {tf[name]:.3g}" if name in tf else ""
        print(f"{name:34} {src:8} {worst:20.3g} {ROUNDING[name]:18.3g} {norm:14.3g} {size:7d}{extra}")
    print(f"\n{len(SUMMARY)} cases written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
