#!/usr/bin/env python3
"""Writes Tests/Fixtures/import/: fixtures proving grucc reproduces PyTorch, Keras and ONNX.

Run by hand from the repository root (nothing in the build or the tests runs it):

    /work/venv/bin/python Tools/make-fixtures.py [--skip-tf2onnx]

The tf2onnx_* cases come from Tools/make-tf2onnx-fixtures.py, which this script runs with the
Python of a second venv (TensorFlow and tf2onnx; $GRUCC_TF_PYTHON, default
/work/venv-tf/bin/python); --skip-tf2onnx keeps the committed ones.

The virtual environment (CPU only is enough; these are the versions the committed fixtures
were made with, Python 3.11.7):

    python3 -m venv /work/venv
    /work/venv/bin/pip install numpy==2.4.6 onnx==1.23.2 onnxruntime==1.32.0 \
        safetensors==0.8.0 keras==3.15.1 torch==2.15.0 onnxscript==0.7.2

(The committed fixtures were made with the CUDA build torch 2.15.0+cu132, run on the CPU; the
CPU wheel from https://download.pytorch.org/whl/cpu should do as well (not tried; it may change
the last bits of the float32 numbers).
Keras runs on its torch backend: the script sets KERAS_BACKEND=torch before importing it,
so TensorFlow is not needed.)

Each case is a directory Tests/Fixtures/import/<case>/ with
  case.json     source, framework versions, precision, model file, input and output names,
                what produced the expected numbers
  inputs.npz    the model's inputs (grucc input names for .gru cases, ONNX graph input names
                for .onnx cases; lengths are int32; an `initial given` layer's state is
                `<layer>.h0`, [B, D*H], forward then backward)
  expect.npz    the framework's outputs, in grucc's output shapes (.gru cases) or the raw ONNX
                output arrays keyed by graph output name (.onnx cases)
  model.gru + weights.safetensors (PyTorch state_dict) or weights.npz (Keras, keyed by
                `w.path`), or model.onnx

The script is deterministic: fixed seeds, one thread, npz members written with a fixed
timestamp, so re-running it rewrites byte-identical files (for the same library versions).

It checks itself: every .gru case is parsed back and run by an independent numpy
implementation of the equations of Specs/LANGUAGE.md that reads the weights the way the
model.gru says (format pytorch/keras, `map` lines or the default order), and every ONNX case
is run by a numpy implementation of the ONNX GRU specification and, where they accept it, by
onnxruntime and onnx.reference. Any disagreement beyond float rounding stops the script.
"""

import contextlib
import io
import json
import os
import re
import shutil
import sys
import warnings
import zipfile
from pathlib import Path

os.environ["KERAS_BACKEND"] = "torch"
os.environ.setdefault("PYTHONHASHSEED", "0")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import keras  # noqa: E402
import onnx  # noqa: E402
import onnx.helper as oh  # noqa: E402
import onnx.numpy_helper as onh  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402
import safetensors  # noqa: E402
import safetensors.numpy  # noqa: E402
import safetensors.torch  # noqa: E402

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Fixtures" / "import"

V_TORCH = f"torch {torch.__version__}"
V_KERAS = f"keras {keras.__version__} (backend torch, {V_TORCH})"
V_ONNX = f"onnx {onnx.__version__}"
V_ORT = f"onnxruntime {ort.__version__}"

SUMMARY = []          # rows for the table printed at the end
PROBLEMS = []         # things a framework refused (reported, not fatal)
OP_TYPES = {}         # exported graph -> op types


# --------------------------------------------------------------------------------------------
# Writing files deterministically
# --------------------------------------------------------------------------------------------

def save_npz(path, arrays):
    """np.savez's format (stored, zip64 local headers) with a fixed timestamp."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o600 << 16
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(value), allow_pickle=False)


def write_case(name, meta, inputs, expect, files):
    d = OUT / name
    d.mkdir(parents=True)
    for fname, writer in files.items():
        writer(d / fname)
    save_npz(d / "inputs.npz", inputs)
    save_npz(d / "expect.npz", expect)
    meta = dict(meta)
    meta["inputs"] = {k: k for k in inputs}
    meta.setdefault("outputs", list(expect))
    ordered = {k: meta[k] for k in ["source", "framework", "precision", "model", "inputs",
                                    "outputs", "description", "reference", "notes"] if k in meta}
    (d / "case.json").write_text(json.dumps(ordered, indent=2) + "\n")
    return d


def gru_text(lines):
    return "\n".join(lines) + "\n"


def uniform(rng, shape, lo=-2.0, hi=2.0, dtype=np.float32):
    return rng.uniform(lo, hi, size=shape).astype(dtype)


def nonzero_bias(rng, shape):
    """Values in ±[0.05, 0.5]: never zero, so a dropped bias shows."""
    return (rng.uniform(0.05, 0.5, size=shape) * rng.choice([-1.0, 1.0], size=shape))


def maxdiff(a, b):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise AssertionError(f"shape {a.shape} vs {b.shape}")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def tolerance(precision):
    return 2e-5 if precision == "f32" else 1e-11


# --------------------------------------------------------------------------------------------
# An independent implementation of grucc's language (the subset the fixtures use)
# --------------------------------------------------------------------------------------------

TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?'
                   r'|[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z][A-Za-z0-9_]*)*(?:\.[A-Za-z0-9_]+)*'
                   r'|->|[\[\](),=]')


def logical_lines(text):
    out, cur = [], ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        cur += " " + line.strip()
        if cur.rstrip().endswith(",") or cur.count("(") > cur.count(")"):
            continue
        out.append(TOKEN.findall(cur))
        cur = ""
    assert not cur.strip(), "dangling continuation"
    return out


def split_commas(toks):
    groups, cur = [], []
    for t in toks:
        if t == ",":
            groups.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        groups.append(cur)
    return [g for g in groups if g]


def parse_expr(toks, i):
    t = toks[i]
    if i + 1 < len(toks) and toks[i + 1] == "(":
        fn, args, i = t, [], i + 2
        while True:
            if re.fullmatch(r"-?\d+", toks[i]) or toks[i] == "unshared":
                args.append(toks[i])
                i += 1
            else:
                sub, i = parse_expr(toks, i)
                args.append(sub)
            if toks[i] == ",":
                i += 1
                continue
            assert toks[i] == ")", toks
            return (fn, args), i + 1
    return ("name", t), i + 1


def parse_gru_file(text):
    m = {"precision": "f32", "layers": {}, "bindings": [], "maps": {}, "grus": []}
    for toks in logical_lines(text):
        kw = toks[0]
        if kw == "model":
            m["name"] = toks[1]
        elif kw == "precision":
            m["precision"] = toks[1]
        elif kw == "input":
            assert toks[2] == "[" and toks[4] == "]"
            inp = {"name": toks[1], "size": int(toks[3]), "layout": "batch-major",
                   "lengths": None, "steps": None}
            for g in split_commas(toks[5:]):
                if g[0] == "layout":
                    inp["layout"] = g[1]
                elif g[0] == "lengths":
                    inp["lengths"] = g[1]
                elif g[0] == "steps":
                    inp["steps"] = int(g[1])
            m["input"] = inp
        elif kw == "gru":
            assert toks[2] == "=" and toks[4] == "->" and toks[5] == "hidden"
            layer = {"name": toks[1], "source": toks[3], "hidden": int(toks[6]),
                     "direction": "forward", "merge": "concat", "initial": "zero",
                     "output-activation": "identity", "past-end": "zero",
                     "output-order": "input", "padding": "skipped"}
            for g in split_commas(toks[7:]):
                layer[g[0]] = g[1]
            for req in ("reset", "update", "bias"):
                assert req in layer, f"layer {layer['name']} lacks {req}"
            m["layers"][layer["name"]] = layer
            m["grus"].append(layer["name"])
            m["bindings"].append(("gru", layer["name"]))
        elif kw in ("let", "output"):
            assert toks[2] == "="
            expr, j = parse_expr(toks, 3)
            assert j == len(toks), toks
            m["bindings"].append((kw, toks[1], expr))
        elif kw == "weights":
            m["weights"] = json.loads(toks[1])
            m["format"] = "grucc"
            for g in split_commas(toks[2:]):
                if g[0] == "format":
                    m["format"] = g[1]
        elif kw == "map":
            assert toks[2] == "="
            entry = {"prefix": json.loads(toks[3]), "layer": None}
            for g in split_commas(toks[4:]):
                if g[0] == "layer":
                    entry["layer"] = int(g[1])
            m["maps"][toks[1]] = entry
        else:
            raise AssertionError(f"unknown statement {toks}")
    return m


def dense_bindings(m):
    """Names of the bindings whose expression contains a dense, in file order."""
    names = []

    def has_dense(e):
        if e[0] == "dense":
            return True
        return e[0] != "name" and any(isinstance(a, tuple) and has_dense(a) for a in e[1])

    for b in m["bindings"]:
        if b[0] in ("let", "output") and has_dense(b[2]):
            names.append(b[1])
    return names


def pytorch_gru_tensors(t, prefix, k, suffix, bias):
    p = prefix + "." if prefix else ""
    wih = t[f"{p}weight_ih_l{k}{suffix}"].astype(np.float64)
    whh = t[f"{p}weight_hh_l{k}{suffix}"].astype(np.float64)
    H = whh.shape[1]
    out = {}
    for i, g in enumerate("rzn"):                       # PyTorch gate order r, z, n
        out["w_" + g] = wih[i * H:(i + 1) * H]
        out["u_" + g] = whh[i * H:(i + 1) * H]
    if bias == "separate":
        bih = t[f"{p}bias_ih_l{k}{suffix}"].astype(np.float64)
        bhh = t[f"{p}bias_hh_l{k}{suffix}"].astype(np.float64)
        for i, g in enumerate("rzn"):
            out["b_i" + g] = bih[i * H:(i + 1) * H]
            out["b_h" + g] = bhh[i * H:(i + 1) * H]
    else:
        assert bias == "none" and f"{p}bias_ih_l{k}{suffix}" not in t
    return out


def keras_gru_tensors(t, group, bias):
    k = t[group + "/kernel"].astype(np.float64)
    rk = t[group + "/recurrent_kernel"].astype(np.float64)
    H = rk.shape[0]
    out = {}
    for i, g in enumerate("zrn"):                       # Keras gate order z, r, h
        out["w_" + g] = k[:, i * H:(i + 1) * H].T
        out["u_" + g] = rk[:, i * H:(i + 1) * H].T
    b = t.get(group + "/bias")
    if bias == "separate":
        assert b is not None and b.shape == (2, 3 * H)
        for i, g in enumerate("zrn"):
            out["b_i" + g] = b[0, i * H:(i + 1) * H].astype(np.float64)
            out["b_h" + g] = b[1, i * H:(i + 1) * H].astype(np.float64)
    elif bias == "single":
        assert b is not None and b.shape == (3 * H,)
        for i, g in enumerate("zrn"):
            out["b_" + g] = b[i * H:(i + 1) * H].astype(np.float64)
    else:
        assert b is None
    return out


def resolve_weights(m, directory):
    """grucc-style parameters per layer / dense binding, following the model's weights line."""
    path = directory / m["weights"]
    params = {}
    if m["format"] == "pytorch":
        t = safetensors.numpy.load_file(str(path))
        gru_prefixes = sorted({k[: -len("weight_ih_l0")].rstrip(".")
                               for k in t if k.endswith("weight_ih_l0")})
        for idx, name in enumerate(m["grus"]):
            layer = m["layers"][name]
            if name in m["maps"]:
                prefix, k = m["maps"][name]["prefix"], m["maps"][name]["layer"] or 0
            else:
                assert len(gru_prefixes) == 1, "default mapping needs a single GRU module"
                prefix, k = gru_prefixes[0], idx
            if layer["direction"] == "bidirectional":
                params[name] = {"fw": pytorch_gru_tensors(t, prefix, k, "", layer["bias"]),
                                "bw": pytorch_gru_tensors(t, prefix, k, "_reverse", layer["bias"])}
            else:
                params[name] = pytorch_gru_tensors(t, prefix, k, "", layer["bias"])
        linears = sorted({k[: -len(".weight")] for k in t
                          if k.endswith(".weight") and t[k].ndim == 2})
        for name in dense_bindings(m):
            if name in m["maps"]:
                prefix = m["maps"][name]["prefix"]
            else:
                assert len(linears) == 1, "default dense mapping needs a single Linear"
                prefix = linears[0]
            params[name] = {"w": t[prefix + ".weight"].astype(np.float64),
                            "b": t[prefix + ".bias"].astype(np.float64)}
    elif m["format"] == "keras":
        with np.load(path) as z:
            keys = list(z.keys())                       # file order
            t = {k: z[k] for k in keys}
        gru_groups = [k[: -len("/recurrent_kernel")] for k in keys
                      if k.endswith("/recurrent_kernel")]
        dense_groups = [k[: -len("/kernel")] for k in keys
                        if k.endswith("/kernel") and k[: -len("/kernel")] not in gru_groups]
        free = list(gru_groups)
        for name in m["grus"]:
            layer = m["layers"][name]
            n = 2 if layer["direction"] == "bidirectional" else 1
            if name in m["maps"]:
                pre = m["maps"][name]["prefix"]
                groups = [g for g in gru_groups if g == pre or g.startswith(pre + "/")]
            else:
                groups = free[:n]
            assert len(groups) == n, (name, groups)
            for g in groups:
                free.remove(g)
            if n == 2:
                assert "forward" in groups[0] and "backward" in groups[1], groups
                params[name] = {"fw": keras_gru_tensors(t, groups[0], layer["bias"]),
                                "bw": keras_gru_tensors(t, groups[1], layer["bias"])}
            else:
                params[name] = keras_gru_tensors(t, groups[0], layer["bias"])
        free = list(dense_groups)
        for name in dense_bindings(m):
            if name in m["maps"]:
                pre = m["maps"][name]["prefix"]
                groups = [g for g in dense_groups if g == pre or g.startswith(pre + "/")]
            else:
                groups = free[:1]
            assert len(groups) == 1, (name, groups)
            free.remove(groups[0])
            params[name] = {"w": t[groups[0] + "/kernel"].astype(np.float64).T,
                            "b": t[groups[0] + "/bias"].astype(np.float64)}
    else:
        raise AssertionError("unsupported weights format " + m["format"])
    return params


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


ACT = {"identity": lambda v: v, "tanh": np.tanh, "sigmoid": sig,
       "relu": lambda v: np.maximum(v, 0.0)}


def run_direction(x, lengths, p, layer, reverse, h0):
    B, T, _ = x.shape
    H = layer["hidden"]
    out = np.zeros((B, T, H))
    final = np.zeros((B, H))

    def bi(g):
        return p.get("b_i" + g, p.get("b_" + g, 0.0))

    def bh(g):
        return p.get("b_h" + g, 0.0)

    processed = layer["padding"] == "processed"
    for b in range(B):
        h = h0[b].copy()
        L = int(lengths[b])
        # The steps in the order the pass visits them (Specs/LANGUAGE.md, "Past each sequence's
        # end"): skipping the padding, a reverse pass visits the steps past the end first, as
        # no-ops; processing it, a reverse pass reads tf.reverse_sequence's order.
        if not reverse:
            visits = list(range(T))
        elif processed:
            visits = list(range(L - 1, -1, -1)) + list(range(L, T))
        else:
            visits = list(range(T - 1, -1, -1))
        previous = np.zeros(H)
        for k, t in enumerate(visits):
            at = k if reverse and layer["output-order"] == "processing" else t
            if not processed and t >= L:
                if layer["past-end"] == "hold":
                    out[b, at] = previous
                continue
            xt = x[b, t]
            z = sig(p["w_z"] @ xt + bi("z") + p["u_z"] @ h + bh("z"))
            if layer["reset"] == "none":
                n = np.tanh(p["w_n"] @ xt + bi("n") + p["u_n"] @ h + bh("n"))
            else:
                r = sig(p["w_r"] @ xt + bi("r") + p["u_r"] @ h + bh("r"))
                if layer["reset"] == "before":
                    n = np.tanh(p["w_n"] @ xt + bi("n") + p["u_n"] @ (r * h) + bh("n"))
                else:
                    n = np.tanh(p["w_n"] @ xt + bi("n") + r * (p["u_n"] @ h + bh("n")))
            if layer["update"] == "keeps-state":
                h = z * h + (1 - z) * n
            else:
                h = (1 - z) * h + z * n
            out[b, at] = ACT[layer["output-activation"]](h)
            previous = out[b, at]
        final[b] = h
    return out, final


def run_gru_model(m, inputs, params):
    inp = m["input"]
    x = inputs[inp["name"]].astype(np.float64)
    time_major = inp["layout"] == "time-major"
    if time_major:
        x = x.transpose(1, 0, 2)
    B, T, _ = x.shape
    lengths = (inputs[inp["lengths"]].astype(np.int64) if inp["lengths"]
               else np.full(B, T, np.int64))
    valid = (np.arange(T)[None, :] < lengths[:, None]).astype(np.float64)[:, :, None]
    everything = np.ones_like(valid)
    # Sequences built on a layer with past-end hold or padding processed keep their values past
    # each end ("kept"); on padding processed, reductions also count every step ("all").
    env = {inp["name"]: ("seq", x)}
    padding = {inp["name"]: "zeroed"}
    states = {}

    def ev(e, binding):
        kind, args = e
        if kind == "name":
            ev.padding = max(ev.padding, padding.get(args, "zeroed"), key=["zeroed", "kept", "all"].index)
            return env[args]
        if kind == "state":
            return ("vec", states[args[0][1]])
        if kind == "dense":
            v = ev(args[0], binding)
            assert int(args[1]) == params[binding]["w"].shape[0]
            y = v[1] @ params[binding]["w"].T + params[binding]["b"]
            return (v[0], y)
        if kind in ("last", "mean", "max"):
            v = ev(args[0], binding)
            assert v[0] == "seq"
            s = v[1]
            res = np.zeros((B, s.shape[2]))
            for b in range(B):
                L = T if ev.padding == "all" else lengths[b]
                if L == 0:
                    continue
                res[b] = {"last": lambda: s[b, L - 1], "mean": lambda: s[b, :L].mean(0),
                          "max": lambda: s[b, :L].max(0)}[kind]()
            return ("vec", res)
        if kind == "softmax":
            v = ev(args[0], binding)
            e_ = np.exp(v[1] - v[1].max(-1, keepdims=True))
            return (v[0], e_ / e_.sum(-1, keepdims=True))
        if kind in ACT:
            v = ev(args[0], binding)
            return (v[0], ACT[kind](v[1]))
        raise AssertionError("unknown function " + kind)

    outputs = {}
    for b in m["bindings"]:
        if b[0] == "gru":
            layer = m["layers"][b[1]]
            src = env[layer["source"]]
            assert src[0] == "seq"
            H = layer["hidden"]
            D = 2 if layer["direction"] == "bidirectional" else 1
            h0 = (inputs[b[1] + ".h0"].astype(np.float64) if layer["initial"] == "given"
                  else np.zeros((B, D * H)))
            if D == 1:
                seq, fin = run_direction(src[1], lengths, params[b[1]], layer,
                                         layer["direction"] == "reverse", h0)
            else:
                f, ff = run_direction(src[1], lengths, params[b[1]]["fw"], layer, False, h0[:, :H])
                r, fr = run_direction(src[1], lengths, params[b[1]]["bw"], layer, True, h0[:, H:])
                seq = {"concat": lambda: np.concatenate([f, r], -1), "sum": lambda: f + r,
                       "mean": lambda: (f + r) * 0.5, "mul": lambda: f * r}[layer["merge"]]()
                fin = np.concatenate([ff, fr], -1)
            kept = "all" if layer["padding"] == "processed" else "kept" if layer["past-end"] == "hold" else "zeroed"
            padding[b[1]] = kept
            env[b[1]] = ("seq", seq * (valid if kept == "zeroed" else everything))
            states[b[1]] = fin
        else:
            ev.padding = "zeroed"
            v = ev(b[2], b[1])
            padding[b[1]] = ev.padding if v[0] == "seq" else "zeroed"
            if v[0] == "seq" and ev.padding == "zeroed":
                v = ("seq", v[1] * valid)
            env[b[1]] = v
            if b[0] == "output":
                outputs[b[1]] = v[1].transpose(1, 0, 2) if (v[0] == "seq" and time_major) else v[1]
    return outputs


def verify_gru_case(d):
    """Parse d/model.gru, run it in numpy, compare with d/expect.npz; returns the max diff."""
    m = parse_gru_file((d / "model.gru").read_text())
    with np.load(d / "inputs.npz") as z:
        inputs = {k: z[k] for k in z.keys()}
    with np.load(d / "expect.npz") as z:
        expect = {k: z[k] for k in z.keys()}
    params = resolve_weights(m, d)
    got = run_gru_model(m, inputs, params)
    assert list(got) == list(expect), (list(got), list(expect))
    worst = 0.0
    for k in expect:
        worst = max(worst, maxdiff(got[k], expect[k]))
    assert worst < tolerance(m["precision"]), f"{d.name}: numpy grucc differs by {worst}"
    return worst


# --------------------------------------------------------------------------------------------
# PyTorch cases
# --------------------------------------------------------------------------------------------

def perturb_torch_biases(module, rng):
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "bias" in name:
                d = torch.from_numpy(nonzero_bias(rng, tuple(p.shape))).to(p.dtype)
                p.add_(d)
                small = p.abs() < 0.02
                p[small] = 0.02


def torch_case(name, *, module, x, forward, gru, description, notes="", extra_inputs=None,
               precision="f32"):
    module.eval()
    with torch.no_grad():
        outs = forward(module)
    expect = {k: v.detach().cpu().numpy() for k, v in outs.items()}
    inputs = {"x": x}
    inputs.update(extra_inputs or {})
    state = {k: v.contiguous() for k, v in module.state_dict().items()}
    meta = {"source": "pytorch", "framework": V_TORCH, "precision": precision,
            "model": "model.gru", "outputs": list(expect), "description": description,
            "reference": "torch forward (CPU, eval mode, no grad)",
            "notes": (notes + " " if notes else "") +
            "Weights: safetensors.torch.save_file(module.state_dict()); tensors: " +
            ", ".join(f"{k} {list(v.shape)}" for k, v in state.items()) + "."}
    d = write_case(name, meta, inputs, expect, {
        "model.gru": lambda p: p.write_text(gru_text(gru)),
        "weights.safetensors": lambda p: safetensors.torch.save_file(state, str(p)),
    })
    diff = verify_gru_case(d)
    SUMMARY.append((name, "pytorch", "torch forward", "numpy grucc vs torch", diff))


def gru_line(name, src, H, *, reset="after", bias="separate", extra=""):
    return (f"gru {name} = {src} -> hidden {H}, reset {reset}, update keeps-state, bias {bias}"
            + extra)


BIDIR = ", direction bidirectional, merge concat"


def pytorch_cases():
    # 1. pt_basic -----------------------------------------------------------------------------
    class Net(nn.Module):
        def __init__(self, I, H, **kw):
            super().__init__()
            self.gru = nn.GRU(I, H, **kw)

    torch.manual_seed(101)
    rng = np.random.default_rng(101)
    I, H, T, B = 4, 6, 5, 3
    net = Net(I, H, batch_first=True)
    perturb_torch_biases(net, rng)
    x = uniform(rng, (B, T, I))

    def fwd(mod):
        y, hn = mod.gru(torch.from_numpy(x))
        return {"y": y, "hn": hn[0]}
    torch_case("pt_basic", module=net, x=x, forward=fwd, gru=[
        "model pt_basic", "precision f32", f"input x[{I}], layout batch-major",
        gru_line("h", "x", H), "output y = h", "output hn = state(h)",
        'weights "weights.safetensors", format pytorch'],
        description="nn.GRU, 1 layer, batch_first=True: output sequence and final state; "
                    "no map lines (default mapping)")

    # 2. pt_stacked_bidir_timemajor -----------------------------------------------------------
    torch.manual_seed(102)
    rng = np.random.default_rng(102)
    I, H, T, B = 3, 5, 6, 2
    net = Net(I, H, num_layers=2, bidirectional=True, batch_first=False)
    perturb_torch_biases(net, rng)
    x = uniform(rng, (T, B, I))

    def fwd(mod):
        y, hn = mod.gru(torch.from_numpy(x))                   # hn [4, B, H]
        return {"y": y, "hn": torch.cat([hn[2], hn[3]], dim=1)}
    torch_case("pt_stacked_bidir_timemajor", module=net, x=x, forward=fwd, gru=[
        "model pt_stacked_bidir_timemajor", "precision f32", f"input x[{I}], layout time-major",
        gru_line("h1", "x", H, extra=BIDIR), gru_line("h2", "h1", H, extra=BIDIR),
        "output y = h2", "output hn = state(h2)",
        'weights "weights.safetensors", format pytorch'],
        description="nn.GRU num_layers=2, bidirectional, time-major [T,B,I]; two grucc layers; "
                    "no map lines (layers take l0, l1 in order)",
        notes="y is [T,B,2H]; hn = cat(h_n[2], h_n[3]) (the last layer's forward and backward "
              "final states) as [B,2H].")

    # 3. pt_nobias ----------------------------------------------------------------------------
    torch.manual_seed(103)
    rng = np.random.default_rng(103)
    I, H, T, B = 5, 4, 7, 2
    net = Net(I, H, batch_first=True, bias=False)
    x = uniform(rng, (B, T, I))

    def fwd(mod):
        y, hn = mod.gru(torch.from_numpy(x))
        return {"y": y, "hn": hn[0]}
    torch_case("pt_nobias", module=net, x=x, forward=fwd, gru=[
        "model pt_nobias", "precision f32", f"input x[{I}], layout batch-major",
        gru_line("h", "x", H, bias="none"), "output y = h", "output hn = state(h)",
        'weights "weights.safetensors", format pytorch'],
        description="nn.GRU bias=False -> bias none; no map lines")

    # 4. pt_f64 -------------------------------------------------------------------------------
    class NetFc(nn.Module):
        def __init__(self, I, H, N, **kw):
            super().__init__()
            self.gru = nn.GRU(I, H, **kw)
            self.fc = nn.Linear(H, N)

    torch.manual_seed(104)
    rng = np.random.default_rng(104)
    I, H, T, B = 3, 7, 6, 3
    net = NetFc(I, H, 2, batch_first=True).double()
    perturb_torch_biases(net, rng)
    x = uniform(rng, (B, T, I), dtype=np.float64)

    def fwd(mod):
        y, hn = mod.gru(torch.from_numpy(x))
        return {"y": y, "hn": hn[0], "p": mod.fc(y[:, -1])}
    torch_case("pt_f64", module=net, x=x, forward=fwd, precision="f64", gru=[
        "model pt_f64", "precision f64", f"input x[{I}], layout batch-major",
        gru_line("h", "x", H), "output y = h", "output hn = state(h)",
        "output p = dense(last(h), 2)",
        'weights "weights.safetensors", format pytorch',
        'map h = "gru", layer 0', 'map p = "fc"'],
        description="module.double(): float64 weights (safetensors F64), inputs and outputs; "
                    "GRU + Linear on the last step; explicit map lines")

    # 5. pt_packed_lengths --------------------------------------------------------------------
    torch.manual_seed(105)
    rng = np.random.default_rng(105)
    I, H, T, B = 4, 5, 6, 3
    net = Net(I, H, batch_first=True, bidirectional=True)
    perturb_torch_biases(net, rng)
    x = uniform(rng, (B, T, I))            # the padding holds random values on purpose
    lengths = np.array([T - 2, T, 1], np.int32)

    def fwd(mod):
        packed = nn.utils.rnn.pack_padded_sequence(
            torch.from_numpy(x), torch.from_numpy(lengths).long(), batch_first=True,
            enforce_sorted=False)
        yp, hn = mod.gru(packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(yp, batch_first=True, total_length=T)
        avg = y.sum(1) / torch.from_numpy(lengths).to(y.dtype)[:, None]
        return {"y": y, "hn": torch.cat([hn[0], hn[1]], dim=1), "avg": avg}
    torch_case("pt_packed_lengths", module=net, x=x, forward=fwd,
               extra_inputs={"len": lengths}, gru=[
                   "model pt_packed_lengths", "precision f32",
                   f"input x[{I}], layout batch-major, lengths len",
                   gru_line("h", "x", H, extra=BIDIR), "output y = h", "output hn = state(h)",
                   "output avg = mean(h)",
                   'weights "weights.safetensors", format pytorch', 'map h = "gru", layer 0'],
               description="bidirectional nn.GRU over pack_padded_sequence(enforce_sorted=False), "
                           f"lengths {lengths.tolist()} (unsorted); grucc `lengths len`",
               notes="y = pad_packed_sequence(total_length=T): zeros past each end; hn = "
                     "cat(h_n[0], h_n[1]) (backward pass starts at each sequence's own end); "
                     "avg = sum over valid steps / length, computed with torch ops. x holds "
                     "random values in the padding, which must be ignored.")

    # 5b. pt_initial_state --------------------------------------------------------------------
    torch.manual_seed(107)
    rng = np.random.default_rng(107)
    I, H, T, B = 3, 4, 5, 2
    net = Net(I, H, batch_first=True, bidirectional=True)
    perturb_torch_biases(net, rng)
    x = uniform(rng, (B, T, I))
    h0 = uniform(rng, (2, B, H), -1.0, 1.0)

    def fwd(mod):
        y, hn = mod.gru(torch.from_numpy(x), torch.from_numpy(h0))
        return {"y": y, "hn": torch.cat([hn[0], hn[1]], dim=1)}
    torch_case("pt_initial_state", module=net, x=x, forward=fwd,
               extra_inputs={"h.h0": np.concatenate([h0[0], h0[1]], axis=1)}, gru=[
                   "model pt_initial_state", "precision f32", f"input x[{I}], layout batch-major",
                   gru_line("h", "x", H, extra=BIDIR + ", initial given"),
                   "output y = h", "output hn = state(h)",
                   'weights "weights.safetensors", format pytorch'],
               description="bidirectional nn.GRU called with h0; grucc `initial given`, input "
                           "h.h0 = [B, 2H] (forward then backward); no map lines",
               notes="torch h0 is [2, B, H]; h.h0 = cat(h0[0], h0[1], axis=1).")

    # 6. pt_heads -----------------------------------------------------------------------------
    class Heads(nn.Module):
        def __init__(self, I, H):
            super().__init__()
            self.gru = nn.GRU(I, H, batch_first=True)
            self.fc = nn.Linear(H, 2)
            self.cls = nn.Linear(H, 3)
            self.det = nn.Linear(H, 1)

        def forward(self, x):
            s, _ = self.gru(x)
            return {"y": self.fc(s), "p": torch.softmax(self.cls(s.mean(1)), -1),
                    "q": torch.sigmoid(self.det(s[:, -1]))}

    torch.manual_seed(106)
    rng = np.random.default_rng(106)
    I, H, T, B = 4, 6, 6, 3
    net = Heads(I, H)
    perturb_torch_biases(net, rng)
    x = uniform(rng, (B, T, I))
    torch_case("pt_heads", module=net, x=x, forward=lambda mod: mod(torch.from_numpy(x)), gru=[
        "model pt_heads", "precision f32", f"input x[{I}], layout batch-major",
        gru_line("h", "x", H),
        "output y = dense(h, 2)", "output p = softmax(dense(mean(h), 3))",
        "output q = sigmoid(dense(last(h), 1))",
        'weights "weights.safetensors", format pytorch',
        'map h = "gru", layer 0', 'map y = "fc"', 'map p = "cls"', 'map q = "det"'],
        description="GRU + three Linear heads: per step (fc), softmax over the time mean (cls), "
                    "sigmoid of the last step (det); explicit map lines")


# --------------------------------------------------------------------------------------------
# Keras cases
# --------------------------------------------------------------------------------------------

KERAS_PATHS = {}


def keras_case(name, *, seed, build, x, output_names, gru, description, notes="", extra_inputs=None):
    keras.utils.clear_session()
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = build()
    for w in model.weights:
        if w.path.endswith("bias"):
            w.assign(nonzero_bias(rng, tuple(w.shape)).astype(np.float32))
    outs = model.predict(x, verbose=0)
    if not isinstance(outs, (list, tuple)):
        outs = [outs]
    expect = {}
    for key, value in zip(output_names, outs):
        if isinstance(key, tuple):      # several Keras outputs joined (a Bidirectional state)
            continue
        expect[key] = np.asarray(value)
    # joined outputs: ("hn", [i, j]) concatenates outputs i and j along features
    for key in output_names:
        if isinstance(key, tuple):
            expect[key[0]] = np.concatenate([np.asarray(outs[i]) for i in key[1]], axis=-1)
    order = [k[0] if isinstance(k, tuple) else k for k in output_names if k is not None]
    expect = {k: expect[k] for k in order}
    weights = {w.path: keras.ops.convert_to_numpy(w) for w in model.weights}
    KERAS_PATHS[name] = list(weights)
    meta = {"source": "keras", "framework": V_KERAS, "precision": "f32", "model": "model.gru",
            "outputs": list(expect), "description": description,
            "reference": "keras Model.predict (torch backend, CPU)",
            "notes": (notes + " " if notes else "") +
            "Weights: np.savez(path, **{w.path: keras.ops.convert_to_numpy(w) for w in model.weights}); paths: " +
            ", ".join(f"{k} {list(v.shape)}" for k, v in weights.items()) + "."}
    d = write_case(name, meta, {"x": x, **(extra_inputs or {})}, expect, {
        "model.gru": lambda p: p.write_text(gru_text(gru)),
        "weights.npz": lambda p: save_npz(p, weights),
    })
    diff = verify_gru_case(d)
    SUMMARY.append((name, "keras", "keras predict", "numpy grucc vs keras", diff))


def keras_cases():
    L = keras.layers

    # 7. keras_reset_after --------------------------------------------------------------------
    I, H, T, B = 4, 6, 5, 3
    x = uniform(np.random.default_rng(201), (B, T, I))

    def build():
        inp = keras.Input((None, I), name="x")
        y, hn = L.GRU(H, return_sequences=True, return_state=True, name="gru")(inp)
        return keras.Model(inp, [y, hn], name="keras_reset_after")
    keras_case("keras_reset_after", seed=201, build=build, x=x, output_names=["y", "hn"], gru=[
        "model keras_reset_after", "precision f32", f"input x[{I}], layout batch-major",
        gru_line("h", "x", H), "output y = h", "output hn = state(h)",
        'weights "weights.npz", format keras'],
        description="keras GRU default (reset_after=True, bias [2,3H]), return_sequences + "
                    "return_state; no map lines")

    # 8. keras_reset_before -------------------------------------------------------------------
    I, H, T, B = 3, 5, 6, 2
    x = uniform(np.random.default_rng(202), (B, T, I))

    def build():
        inp = keras.Input((None, I), name="x")
        y, hn = L.GRU(H, reset_after=False, return_sequences=True, return_state=True,
                      name="gru_rb")(inp)
        return keras.Model(inp, [y, hn], name="keras_reset_before")
    keras_case("keras_reset_before", seed=202, build=build, x=x, output_names=["y", "hn"], gru=[
        "model keras_reset_before", "precision f32", f"input x[{I}], layout batch-major",
        gru_line("h", "x", H, reset="before", bias="single"), "output y = h",
        "output hn = state(h)", 'weights "weights.npz", format keras', 'map h = "gru_rb"'],
        description="keras GRU reset_after=False (bias [3H]) -> reset before, bias single; "
                    "explicit map")

    # 9, 10, + mul: Bidirectional --------------------------------------------------------------
    for case, mode, merge, seed, use_map, sizes in [
            ("keras_bidir_concat", "concat", "concat", 203, False, (4, 5, 6, 2)),
            ("keras_bidir_sum", "sum", "sum", 204, True, (3, 4, 7, 3)),
            ("keras_bidir_mul", "mul", "mul", 205, False, (5, 4, 5, 2))]:
        I, H, T, B = sizes
        x = uniform(np.random.default_rng(seed), (B, T, I))

        def build(I=I, H=H, mode=mode, case=case):
            inp = keras.Input((None, I), name="x")
            y, f, b = L.Bidirectional(L.GRU(H, return_sequences=True, return_state=True,
                                            name="gru"), merge_mode=mode, name="bigru")(inp)
            return keras.Model(inp, [y, f, b], name=case)
        lines = ["model " + case, "precision f32", f"input x[{I}], layout batch-major",
                 gru_line("h", "x", H, extra=f", direction bidirectional, merge {merge}"),
                 "output y = h", "output hn = state(h)", 'weights "weights.npz", format keras']
        if use_map:
            lines.append('map h = "bigru"')
        keras_case(case, seed=seed, build=build, x=x, output_names=["y", ("hn", [1, 2])],
                   gru=lines,
                   description=f"keras Bidirectional(GRU, return_sequences=True), merge_mode="
                               f"'{mode}' -> merge {merge}"
                               + ("; explicit map" if use_map else "; no map lines"),
                   notes="hn = concatenation of the forward and backward states Keras returns "
                         "with return_state=True.")

    # stacked: reset_before GRU -> Bidirectional(ave) ----------------------------------------
    I, H1, H2, T, B = 4, 5, 4, 6, 2
    x = uniform(np.random.default_rng(206), (B, T, I))

    def build():
        inp = keras.Input((None, I), name="x")
        s = L.GRU(H1, reset_after=False, return_sequences=True, name="first")(inp)
        y = L.Bidirectional(L.GRU(H2, return_sequences=True, name="gru"), merge_mode="ave",
                            name="second")(s)
        return keras.Model(inp, y, name="keras_stacked_bidir_ave")
    keras_case("keras_stacked_bidir_ave", seed=206, build=build, x=x, output_names=["y"], gru=[
        "model keras_stacked_bidir_ave", "precision f32", f"input x[{I}], layout batch-major",
        gru_line("h1", "x", H1, reset="before", bias="single"),
        gru_line("h2", "h1", H2, extra=", direction bidirectional, merge mean"),
        "output y = h2", 'weights "weights.npz", format keras',
        'map h1 = "first"', 'map h2 = "second"'],
        description="keras GRU(reset_after=False) -> Bidirectional(GRU, merge_mode='ave') -> "
                    "merge mean; two modules, explicit map")

    # 11. keras_go_backwards ------------------------------------------------------------------
    I, H, T, B = 4, 6, 6, 3
    x = uniform(np.random.default_rng(207), (B, T, I))

    def build():
        inp = keras.Input((None, I), name="x")
        hn = L.GRU(H, go_backwards=True, name="gru_back")(inp)
        return keras.Model(inp, hn, name="keras_go_backwards")
    keras_case("keras_go_backwards", seed=207, build=build, x=x, output_names=["hn"], gru=[
        "model keras_go_backwards", "precision f32", f"input x[{I}], layout batch-major",
        gru_line("h", "x", H, extra=", direction reverse"), "output hn = state(h)",
        'weights "weights.npz", format keras'],
        description="keras GRU(go_backwards=True, return_sequences=False) -> direction reverse, "
                    "output = final state; no map lines",
        notes="Keras returns a go_backwards sequence in reversed time order, so only the final "
              "state (after reading step 0) is compared; grucc's last(h) would be step T-1, "
              "not the final state.")

    # Masking: zero steps past each length mark the padding ------------------------------------
    def padded(seed, B, T, I, lengths):
        x = uniform(np.random.default_rng(seed), (B, T, I))
        for b, n in enumerate(lengths):
            x[b, n:] = 0.0
        return x, {"len": np.asarray(lengths, np.int32)}

    I, H, T, B = 3, 5, 6, 4
    x, lens = padded(209, B, T, I, [6, 3, 1, 2])

    def build():
        inp = keras.Input((None, I), name="x")
        m = L.Masking(0.0, name="mask")(inp)
        y, hn = L.GRU(H, return_sequences=True, return_state=True, name="gru")(m)
        d = L.TimeDistributed(L.Dense(2, name="frame_dense"), name="frames")(y)
        pooled = L.GlobalAveragePooling1D(name="pool")(y)
        return keras.Model(inp, [y, hn, d, pooled], name="keras_masking_hold")
    keras_case("keras_masking_hold", seed=209, build=build, x=x, extra_inputs=lens,
               output_names=["y", "hn", "frames", "pooled"], gru=[
                   "model keras_masking_hold", "precision f32", f"input x[{I}], lengths len",
                   gru_line("h", "x", H, extra=", past-end hold"),
                   "output y = h", "output hn = state(h)", "output frames = dense(h, 2)",
                   "output pooled = mean(h)",
                   'weights "weights.npz", format keras', 'map frames = "frames"'],
               description="keras Masking -> GRU(return_sequences, return_state) -> "
                           "TimeDistributed(Dense), GlobalAveragePooling1D; lengths 6, 3, 1, 2 "
                           "-> past-end hold",
               notes="Behind Masking, Keras repeats a sequence's last valid output at the steps "
                     "past its end (and the dense head computes on it); the pooling and the "
                     "state use the valid steps only. (A length of 0 is left out: Keras's "
                     "pooling divides 0 by 0 there and returns NaN; grucc's mean is 0.)")

    I, H, T, B = 4, 4, 5, 3
    x, lens = padded(210, B, T, I, [5, 0, 2])

    def build():
        inp = keras.Input((None, I), name="x")
        m = L.Masking(0.0, name="mask")(inp)
        y, hn = L.GRU(H, go_backwards=True, return_sequences=True, return_state=True,
                      name="gru_back")(m)
        return keras.Model(inp, [y, hn], name="keras_go_backwards_masking")
    keras_case("keras_go_backwards_masking", seed=210, build=build, x=x, extra_inputs=lens,
               output_names=["y", "hn"], gru=[
                   "model keras_go_backwards_masking", "precision f32",
                   f"input x[{I}], lengths len",
                   gru_line("h", "x", H, extra=", direction reverse, past-end hold, "
                                               "output-order processing"),
                   "output y = h", "output hn = state(h)", 'weights "weights.npz", format keras'],
               description="keras Masking -> GRU(go_backwards=True, return_sequences, "
                           "return_state) -> direction reverse, output-order processing, "
                           "past-end hold",
               notes="Keras returns a go_backwards sequence in the order it read it: the whole "
                     "padded sequence reversed, so the padding (zeros) comes first.")

    I, H, T, B = 3, 4, 6, 3
    x, lens = padded(211, B, T, I, [6, 4, 2])

    def build():
        inp = keras.Input((None, I), name="x")
        m = L.Masking(0.0, name="mask")(inp)
        y = L.Bidirectional(L.GRU(H, return_sequences=True, name="gru"), name="bigru")(m)
        return keras.Model(inp, y, name="keras_bidir_masking")
    keras_case("keras_bidir_masking", seed=211, build=build, x=x, extra_inputs=lens,
               output_names=["y"], gru=[
                   "model keras_bidir_masking", "precision f32", f"input x[{I}], lengths len",
                   gru_line("h", "x", H, extra=BIDIR), "output y = h",
                   'weights "weights.npz", format keras'],
               description="keras Masking -> Bidirectional(GRU(return_sequences)) -> lengths, "
                           "past-end zero (the default)",
               notes="Bidirectional zeroes both directions' outputs past each end, unlike a "
                     "plain GRU behind Masking.")

    # 12. keras_dense_head --------------------------------------------------------------------
    I, H, T, B = 3, 6, 5, 3
    x = uniform(np.random.default_rng(208), (B, T, I))

    def build():
        inp = keras.Input((None, I), name="x")
        s = L.GRU(H, return_sequences=True, name="gru")(inp)
        frames = L.TimeDistributed(L.Dense(2, name="frame_dense"), name="frames")(s)
        proj = L.Dense(2, activation="tanh", name="proj")(s)
        p = L.Dense(3, activation="softmax", name="cls")(s[:, -1, :])
        return keras.Model(inp, [frames, proj, p], name="keras_dense_head")
    keras_case("keras_dense_head", seed=208, build=build, x=x,
               output_names=["frames", "proj", "p"], gru=[
                   "model keras_dense_head", "precision f32", f"input x[{I}], layout batch-major",
                   gru_line("h", "x", H),
                   "output frames = dense(h, 2)", "output proj = tanh(dense(h, 2))",
                   "output p = softmax(dense(last(h), 3))",
                   'weights "weights.npz", format keras',
                   'map h = "gru"', 'map frames = "frames"', 'map proj = "proj"',
                   'map p = "cls"'],
               description="keras GRU -> TimeDistributed(Dense(2)), Dense(2, tanh) on the 3-D "
                           "sequence, Dense(3, softmax) on the last step; explicit map")


# --------------------------------------------------------------------------------------------
# ONNX: the GRU operator in numpy, straight from the specification
# --------------------------------------------------------------------------------------------

ALPHA_DEFAULT = {"affine": 1.0, "leakyrelu": 0.01, "thresholdedrelu": 1.0, "scaledtanh": 1.0,
                 "hardsigmoid": 0.2, "elu": 1.0}
BETA_DEFAULT = {"affine": 0.0, "scaledtanh": 1.0, "hardsigmoid": 0.5}


def onnx_activation(name, alpha, beta):
    n = name.lower()
    return {
        "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
        "tanh": np.tanh,
        "relu": lambda v: np.maximum(v, 0.0),
        "affine": lambda v: alpha * v + beta,
        "leakyrelu": lambda v: np.where(v >= 0, v, alpha * v),
        "thresholdedrelu": lambda v: np.where(v > alpha, v, 0.0),
        "scaledtanh": lambda v: alpha * np.tanh(beta * v),
        "hardsigmoid": lambda v: np.clip(alpha * v + beta, 0.0, 1.0),
        "elu": lambda v: np.where(v >= 0, v, alpha * (np.exp(v) - 1.0)),
        "softsign": lambda v: v / (1.0 + np.abs(v)),
        "softplus": lambda v: np.log1p(np.exp(v)),
    }[n]


def onnx_activations(names, alphas, betas):
    """alpha/beta lists are consumed in order by the activations that take them."""
    ai, bi, out = iter(alphas or []), iter(betas or []), []
    for nm in names:
        n = nm.lower()
        a = next(ai) if n in ALPHA_DEFAULT and alphas else ALPHA_DEFAULT.get(n, 0.0)
        b = next(bi) if n in BETA_DEFAULT and betas else BETA_DEFAULT.get(n, 0.0)
        out.append(onnx_activation(nm, a, b))
    return out


def onnx_gru_numpy(X, W, R, B=None, sequence_lens=None, initial_h=None, *, direction="forward",
                   linear_before_reset=0, layout=0, activations=None, activation_alpha=None,
                   activation_beta=None, clip=None):
    dt = X.dtype
    X = X.astype(np.float64)
    if layout:
        X = X.transpose(1, 0, 2)
        initial_h = None if initial_h is None else initial_h.transpose(1, 0, 2)
    T, N, _ = X.shape
    D, H = W.shape[0], R.shape[2]
    if B is None:
        B = np.zeros((D, 6 * H))
    h0 = np.zeros((D, N, H)) if initial_h is None else initial_h.astype(np.float64)
    lens = np.full(N, T) if sequence_lens is None else sequence_lens
    acts = onnx_activations(activations or ["Sigmoid", "Tanh"] * D, activation_alpha,
                            activation_beta)
    c = (lambda v: np.clip(v, -clip, clip)) if clip is not None else (lambda v: v)
    Y = np.zeros((T, D, N, H))
    Yh = np.zeros((D, N, H))
    for d in range(D):
        f, g = acts[2 * d], acts[2 * d + 1]
        w, r, b = W[d].astype(np.float64), R[d].astype(np.float64), B[d].astype(np.float64)
        Wz, Wr, Wh = w[:H], w[H:2 * H], w[2 * H:]
        Rz, Rr, Rh = r[:H], r[H:2 * H], r[2 * H:]
        Wbz, Wbr, Wbh, Rbz, Rbr, Rbh = (b[i * H:(i + 1) * H] for i in range(6))
        backward = direction == "reverse" or (direction == "bidirectional" and d == 1)
        for n in range(N):
            h = h0[d, n]
            L = int(lens[n])
            for t in (range(L - 1, -1, -1) if backward else range(L)):
                x = X[t, n]
                z = f(c(Wz @ x + Rz @ h + Wbz + Rbz))
                rr = f(c(Wr @ x + Rr @ h + Wbr + Rbr))
                if linear_before_reset:
                    hh = g(c(Wh @ x + rr * (Rh @ h + Rbh) + Wbh))
                else:
                    hh = g(c(Wh @ x + Rh @ (rr * h) + Rbh + Wbh))
                h = (1 - z) * hh + z * h
                Y[t, d, n] = h
            Yh[d, n] = h
    if layout:
        Y = Y.transpose(2, 0, 1, 3)
        Yh = Yh.transpose(1, 0, 2)
    return Y.astype(dt), Yh.astype(dt)


def run_ort(model_bytes, feeds):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 4
    sess = ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


def short_error(e):
    msg = " ".join(str(e).split())
    for marker in ("was false. ", "Status Message: "):
        if marker in msg:
            msg = msg.split(marker, 1)[1]
    return msg.split(" If you need support")[0][:200]


def run_reference(model, feeds):
    ref = ReferenceEvaluator(model)
    names = [o.name for o in model.graph.output]
    return dict(zip(names, ref.run(None, feeds)))


# --------------------------------------------------------------------------------------------
# ONNX cases exported by torch
# --------------------------------------------------------------------------------------------

def onnx_export_cases():
    # 13. onnx_torch_gru ----------------------------------------------------------------------
    class Stacked(nn.Module):
        def __init__(self, I, H):
            super().__init__()
            self.gru = nn.GRU(I, H, num_layers=2, batch_first=True)
            self.fc = nn.Linear(H, 3)

        def forward(self, x):
            y, _ = self.gru(x)
            return self.fc(y[:, -1])

    class Bi(nn.Module):
        def __init__(self, I, H):
            super().__init__()
            self.gru = nn.GRU(I, H, batch_first=True, bidirectional=True)
            self.fc = nn.Linear(2 * H, 2)

        def forward(self, x):
            y, _ = self.gru(x)
            return y, self.fc(y)

    specs = [
        ("onnx_torch_gru", 301, Stacked, (4, 6, 5, 3), ["p"],
         "torch.onnx.export of a batch_first 2-layer nn.GRU + Linear on the last step "
         "(output p [B,3]); dynamic batch axis"),
        ("onnx_torch_bigru", 302, Bi, (3, 5, 6, 2), ["y", "z"],
         "torch.onnx.export of a batch_first bidirectional nn.GRU: sequence output y [B,T,2H] "
         "and a Linear per step z [B,T,2]; dynamic batch axis"),
    ]
    for name, seed, cls, (I, H, T, B), outs, description in specs:
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        net = cls(I, H).eval()
        perturb_torch_biases(net, rng)
        x = uniform(rng, (B, T, I))
        with torch.no_grad():
            tout = net(torch.from_numpy(x))
        tout = [tout] if isinstance(tout, torch.Tensor) else list(tout)
        tout = {k: v.numpy() for k, v in zip(outs, tout)}
        buf = io.BytesIO()
        dyn = {"x": {0: "batch"}}
        dyn.update({o: {0: "batch"} for o in outs})
        torch.onnx.export(net, (torch.from_numpy(x),), buf, dynamo=False, opset_version=17,
                          input_names=["x"], output_names=outs, dynamic_axes=dyn)
        model_bytes = buf.getvalue()
        model = onnx.load_from_string(model_bytes)
        onnx.checker.check_model(model)
        OP_TYPES[name] = [n.op_type for n in model.graph.node]
        got = run_ort(model_bytes, {"x": x})
        diff_torch = max(maxdiff(got[k], tout[k]) for k in outs)
        assert diff_torch < 2e-5, (name, diff_torch)
        # the dynamic batch axis: one sequence alone gives the same numbers
        one = run_ort(model_bytes, {"x": x[:1]})
        with torch.no_grad():
            t1 = net(torch.from_numpy(x[:1]))
        t1 = [t1] if isinstance(t1, torch.Tensor) else list(t1)
        diff_b1 = max(maxdiff(one[k], v.numpy()) for k, v in zip(outs, t1))
        assert diff_b1 < 2e-5, (name, diff_b1)
        gru_nodes = [n for n in model.graph.node if n.op_type == "GRU"]
        def attr_value(a):
            v = oh.get_attribute_value(a)
            return v.decode() if isinstance(v, bytes) else v
        attrs = sorted({f"{a.name}={attr_value(a)}" for n in gru_nodes for a in n.attribute})
        meta = {"source": "onnx", "framework": f"{V_TORCH}, {V_ONNX}", "precision": "f32",
                "model": "model.onnx", "outputs": outs, "description": description,
                "reference": f"{V_ORT} (CPUExecutionProvider)",
                "notes": (f"Exported with torch.onnx.export(dynamo=False) (the TorchScript "
                          f"exporter), opset 17. Graph ops: {' '.join(OP_TYPES[name])}. "
                          f"GRU attributes: {', '.join(attrs)}. onnxruntime vs torch forward: "
                          f"max |diff| {diff_torch:.3g}; with batch 1: {diff_b1:.3g}.")}
        write_case(name, meta, {"x": x}, {k: got[k] for k in outs},
                   {"model.onnx": lambda p, b=model_bytes: p.write_bytes(b)})
        SUMMARY.append((name, "onnx", "onnxruntime", "ORT vs torch", diff_torch))


# --------------------------------------------------------------------------------------------
# ONNX cases exported by torch, both exporters, as a user would call them
# --------------------------------------------------------------------------------------------

class ExportNet(nn.Module):
    """nn.GRU (batch_first) and Linear heads, in the arrangements users export.

    heads: "last" fc(y[:, -1]), "every" fc(y), "mean" fc(y.mean(1)), "masked_mean"
    fc(y.sum(1) / lengths) (packed), "hn_last" fc(h_n[-1]), "hn_cat" fc(cat(h_n[-2], h_n[-1]))
    (bidirectional), "y" the sequence itself. The second argument is h0 or the lengths."""

    def __init__(self, I, H, *, layers=1, bidir=False, heads=("last",), h0=False, hn=False,
                 packed=None):
        super().__init__()
        D = 2 if bidir else 1
        self.gru = nn.GRU(I, H, num_layers=layers, batch_first=True, bidirectional=bidir)
        self.fc = nn.Linear((2 * H if "hn_cat" in heads else D * H) if heads != ("y",) else 1, 3)
        self.heads, self.h0, self.hn, self.packed = heads, h0, hn, packed

    def forward(self, x, a=None):
        h0 = a if self.h0 else None
        if self.packed:
            p = nn.utils.rnn.pack_padded_sequence(x, a, batch_first=True,
                                                  enforce_sorted=self.packed == "sorted")
            yp, h = self.gru(p)
            y, _ = nn.utils.rnn.pad_packed_sequence(yp, batch_first=True, total_length=x.shape[1])
        else:
            y, h = self.gru(x, h0)
        outs = []
        for head in self.heads:
            if head == "last":
                outs.append(self.fc(y[:, -1]))
            elif head == "every":
                outs.append(self.fc(y))
            elif head == "mean":
                outs.append(self.fc(y.mean(1)))
            elif head == "masked_mean":
                outs.append(self.fc(y.sum(1) / a.unsqueeze(1).to(y.dtype)))
            elif head == "hn_last":
                outs.append(self.fc(h[-1]))
            elif head == "hn_cat":
                outs.append(self.fc(torch.cat([h[-2], h[-1]], dim=1)))
            else:
                outs.append(y)
        if self.hn:
            outs.append(h)
        return tuple(outs) if len(outs) > 1 else outs[0]


def run_ort_path(path, feeds):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 4
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


EXPORT_CALLS = {}     # case -> the export call, for the notes


def export_case(name, *, seed, exporter, dynamic, cfg, description, dtype=np.float32,
                I=4, H=6, T=5, B=3, lengths=None):
    """Exports ExportNet(cfg) with `exporter` ("dynamo": torch.onnx.export's default, or
    "torchscript": dynamo=False), fixed or dynamic batch and time; the expected outputs are
    PyTorch's own. Returns False (and records why) when the exporter refuses the model."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = ExportNet(I, H, **cfg).eval()
    if dtype == np.float64:
        net = net.double()
    perturb_torch_biases(net, rng)
    x = uniform(rng, (B, T, I), dtype=dtype)
    layers, D = cfg.get("layers", 1), 2 if cfg.get("bidir") else 1
    args, names = [torch.from_numpy(x)], ["x"]
    extra = {}
    if cfg.get("h0"):
        h0 = uniform(rng, (layers * D, B, H), -1.0, 1.0, dtype=dtype)
        args.append(torch.from_numpy(h0))
        names.append("h0")
        extra["h0"] = h0
    if cfg.get("packed"):
        lens = np.asarray(lengths, np.int64)
        args.append(torch.from_numpy(lens))
        names.append("lengths")
        extra["lengths"] = lens
    with torch.no_grad():
        tout = net(*args)
    tout = [tout] if isinstance(tout, torch.Tensor) else list(tout)

    tmp = OUT / f".{name}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    path = tmp / "model.onnx"
    if exporter == "dynamo":
        if dynamic:
            from torch.export import Dim
            batch, time = Dim("batch"), Dim("time")
            shapes = [{0: batch, 1: time}] + [({1: batch} if n == "h0" else {0: batch}) for n in names[1:]]
            call = ("torch.onnx.export(model, args, \"model.onnx\", input_names=..., "
                    "dynamic_shapes=({0: Dim(\"batch\"), 1: Dim(\"time\")}, ...))")
            kwargs = {"input_names": names, "dynamic_shapes": tuple(shapes)}
        else:
            call = "torch.onnx.export(model, (x,), \"model.onnx\")" if len(args) == 1 else \
                "torch.onnx.export(model, (x, h0), \"model.onnx\")"
            kwargs = {}
    else:
        call = "torch.onnx.export(model, args, \"model.onnx\", dynamo=False, input_names=..."
        kwargs = {"dynamo": False, "input_names": names}
        if dynamic:
            axes = {"x": {0: "batch", 1: "time"}}
            axes.update({n: ({1: "batch"} if n == "h0" else {0: "batch"}) for n in names[1:]})
            kwargs["dynamic_axes"] = axes
            call += ", dynamic_axes={\"x\": {0: \"batch\", 1: \"time\"}, ...}"
        call += ")"
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            torch.onnx.export(net, tuple(args), str(path), **kwargs)
    except Exception as e:  # noqa: BLE001
        shutil.rmtree(tmp)
        msg = " ".join(str(e).split())
        cause = re.search(r"<class '([^']+)'>: (.*?)(?: For more information| \(Refer to|$)", msg)
        msg = f"{cause.group(1)}: {cause.group(2)}" if cause else msg[:300]
        PROBLEMS.append(f"{name}: the {exporter} exporter ({V_TORCH}) cannot export {description}: {msg}")
        REFUSED_EXPORTS.append((exporter, description, msg))
        return False
    model = onnx.load(str(path), load_external_data=False)
    # The dynamo exporter records debugging metadata: each node's Python stack trace (this
    # script's path and line numbers) and torch.export's range constraints (which carry state
    # from earlier exports in the same process). Dropped, so the file depends only on the model.
    stripped = 0
    for holder in [model] + list(model.graph.node):
        keep = [p for p in holder.metadata_props
                if "stack_trace" not in p.key and "range_constraints" not in p.key]
        if len(keep) != len(holder.metadata_props):
            stripped += len(holder.metadata_props) - len(keep)
            del holder.metadata_props[:]
            holder.metadata_props.extend(keep)
    if stripped:
        path.write_bytes(model.SerializeToString())
    onnx.checker.check_model(str(path))
    files = sorted(p.name for p in tmp.iterdir())
    external = [t.name for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    OP_TYPES[name] = sorted({n.op_type for n in model.graph.node})
    onnx_in = [i.name for i in model.graph.input]
    onnx_out = [o.name for o in model.graph.output]
    # the graph's input names are the exporter's (the forward's parameter names when not given)
    assert len(onnx_in) == len(names), (name, onnx_in, names)
    assert len(onnx_out) == len(tout), (name, onnx_out)
    given = [x] + [extra[n] for n in names[1:]]
    feeds = dict(zip(onnx_in, given))
    renamed = dict(zip(names, onnx_in))
    expect = {k: v.numpy() for k, v in zip(onnx_out, tout)}

    # cross-check: onnxruntime (or onnx.reference where onnxruntime refuses DOUBLE GRUs) must
    # agree with PyTorch
    tol = tolerance("f32" if dtype == np.float32 else "f64")
    try:
        got = run_ort_path(path, feeds)
        check = "onnxruntime"
    except Exception as e:  # noqa: BLE001
        got = dict(zip(onnx_out, ReferenceEvaluator(str(path)).run(None, feeds)))
        check = f"onnx.reference (onnxruntime refuses it: {short_error(e)})"
    diff = max(maxdiff(got[k], expect[k]) for k in onnx_out)
    assert diff < tol, (name, check, diff)
    notes = [f"Exported with {call} ({V_TORCH}, {'dynamic' if dynamic else 'fixed'} shapes)" +
             (f"; {stripped} debugging metadata entries (stack traces, range constraints) removed."
              if stripped else "."),
             f"Files: {', '.join(files)}" + (f"; external data: {', '.join(external)}." if external
                                              else "; no external data."),
             f"Graph ops: {' '.join(OP_TYPES[name])}.",
             f"{check} vs torch: max |diff| {diff:.3g}."]
    declared = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    if dynamic and isinstance(declared[1], int):
        notes.append(f"The exporter fixed the time axis at {declared[1]} although it was declared "
                     f"dynamic (x is {declared}).")
    if dynamic and check == "onnxruntime":
        # the dynamic axes hold: other batch (and time) sizes give PyTorch's numbers too
        T2 = T + 2 if isinstance(declared[1], str) else T
        x2 = uniform(rng, (B + 1, T2, I), dtype=dtype)
        args2 = [torch.from_numpy(x2)]
        feeds2 = {renamed["x"]: x2}
        if "h0" in extra:
            feeds2[renamed["h0"]] = uniform(rng, (layers * D, B + 1, H), -1.0, 1.0, dtype=dtype)
            args2.append(torch.from_numpy(feeds2[renamed["h0"]]))
        if "lengths" in extra:
            feeds2[renamed["lengths"]] = np.asarray(
                sorted(rng.integers(1, T2 + 1, B + 1), reverse=True) if cfg["packed"] == "sorted"
                else rng.integers(1, T2 + 1, B + 1), np.int64)
            args2.append(torch.from_numpy(feeds2[renamed["lengths"]]))
        with torch.no_grad():
            t2 = net(*args2)
        t2 = [t2] if isinstance(t2, torch.Tensor) else list(t2)
        g2 = run_ort_path(path, feeds2)
        d2 = max(maxdiff(g2[k], v.numpy()) for k, v in zip(onnx_out, t2))
        assert d2 < tol, (name, "dynamic", d2)
        notes.append(f"onnxruntime vs torch with batch {B + 1} and {T2} steps: {d2:.3g}.")
    EXPORT_CALLS[name] = call
    meta = {"source": "onnx", "framework": f"{V_TORCH}, {V_ONNX}",
            "precision": "f32" if dtype == np.float32 else "f64", "model": "model.onnx",
            "outputs": onnx_out, "description": description,
            "reference": "torch forward (CPU, eval mode, no grad)", "notes": " ".join(notes)}
    d = OUT / name
    write_case(name, meta, feeds, expect, {
        f: (lambda p, src=tmp / f: shutil.copyfile(src, p)) for f in files})
    shutil.rmtree(tmp)
    SUMMARY.append((name, "onnx", "torch forward", check.split(" ")[0] + " vs torch", diff))
    return True


REFUSED_EXPORTS = []   # (exporter, what, error)


def onnx_exporter_cases():
    ex = export_case
    # the dynamo exporter, torch.onnx.export's default
    ex("onnx_dynamo_fixed", seed=501, exporter="dynamo", dynamic=False, cfg={},
       description="dynamo exporter with the default call torch.onnx.export(model, (x,), path): "
                   "fixed shapes, weights in model.onnx.data; 1 layer, Linear on the last step")
    ex("onnx_dynamo_dynamic_stacked3_every", seed=502, exporter="dynamo", dynamic=True,
       cfg={"layers": 3, "heads": ("every",)},
       description="dynamo exporter, dynamic batch and time; 3 layers, Linear on every step")
    ex("onnx_dynamo_fixed_bidir2_h0_hn", seed=503, exporter="dynamo", dynamic=False,
       cfg={"layers": 2, "bidir": True, "h0": True, "hn": True},
       description="dynamo exporter, fixed shapes; 2 bidirectional layers, h0 given (sliced per "
                   "layer), Linear on the last step and h_n (the layers' states concatenated)")
    ex("onnx_dynamo_dynamic_h0_hn", seed=504, exporter="dynamo", dynamic=True,
       cfg={"layers": 2, "h0": True, "hn": True, "heads": ("y",)},
       description="dynamo exporter, dynamic shapes; 2 layers, h0 given, outputs y and h_n")
    ex("onnx_dynamo_dynamic_bidir_mean", seed=505, exporter="dynamo", dynamic=True,
       cfg={"bidir": True, "heads": ("mean",)},
       description="dynamo exporter, dynamic shapes; bidirectional, Linear on the mean over time")
    ex("onnx_dynamo_fixed_hn_last", seed=506, exporter="dynamo", dynamic=False,
       cfg={"layers": 2, "heads": ("hn_last",)},
       description="dynamo exporter, fixed shapes; 2 layers, Linear on h_n[-1]")
    ex("onnx_dynamo_f64", seed=507, exporter="dynamo", dynamic=True, dtype=np.float64,
       cfg={"bidir": True, "heads": ("last", "y")},
       description="dynamo exporter, module.double(), dynamic shapes; bidirectional, Linear on the "
                   "last step and y")
    for order in ("sorted", "unsorted"):
        ex(f"onnx_dynamo_packed_{order}", seed=508, exporter="dynamo", dynamic=False,
           cfg={"packed": order, "hn": True, "heads": ("y",)}, lengths=[5, 4, 2],
           description=f"pack_padded_sequence(enforce_sorted={order == 'sorted'})")
    # the TorchScript exporter
    ex("onnx_ts_fixed_stacked2", seed=511, exporter="torchscript", dynamic=False,
       cfg={"layers": 2},
       description="TorchScript exporter (dynamo=False), fixed shapes; 2 layers, Linear on the "
                   "last step")
    ex("onnx_ts_dynamic_bidir3_every", seed=512, exporter="torchscript", dynamic=True,
       cfg={"layers": 3, "bidir": True, "heads": ("every",)},
       description="TorchScript exporter, dynamic batch and time; 3 bidirectional layers, Linear "
                   "on every step")
    ex("onnx_ts_dynamic_h0_hn", seed=513, exporter="torchscript", dynamic=True,
       cfg={"layers": 2, "h0": True, "hn": True, "heads": ("y",)},
       description="TorchScript exporter, dynamic shapes; 2 layers, h0 given, outputs y and h_n")
    ex("onnx_ts_fixed_bidir_h0_hn", seed=514, exporter="torchscript", dynamic=False,
       cfg={"bidir": True, "h0": True, "hn": True},
       description="TorchScript exporter, fixed shapes; bidirectional, h0 given, Linear on the "
                   "last step and h_n")
    ex("onnx_ts_dynamic_mean", seed=515, exporter="torchscript", dynamic=True,
       cfg={"layers": 2, "heads": ("mean",)},
       description="TorchScript exporter, dynamic shapes; 2 layers, Linear on the mean over time")
    ex("onnx_ts_packed_sorted", seed=516, exporter="torchscript", dynamic=True,
       cfg={"packed": "sorted", "hn": True, "heads": ("y",)}, lengths=[5, 4, 2],
       description="TorchScript exporter, pack_padded_sequence(enforce_sorted=True), lengths "
                   "[5, 4, 2], dynamic shapes: outputs y (zero past each end) and h_n")
    ex("onnx_ts_packed_unsorted", seed=517, exporter="torchscript", dynamic=True,
       cfg={"layers": 2, "bidir": True, "packed": "unsorted", "hn": True, "heads": ("y",)},
       lengths=[3, 5, 1],
       description="TorchScript exporter, pack_padded_sequence(enforce_sorted=False) (the graph "
                   "sorts the batch with TopK and unsorts it with ScatterElements), lengths "
                   "[3, 5, 1], 2 bidirectional layers, dynamic shapes: y and h_n")
    ex("onnx_ts_packed_unsorted_fixed_heads", seed=518, exporter="torchscript", dynamic=False,
       cfg={"packed": "unsorted", "heads": ("masked_mean", "hn_last")}, lengths=[2, 5, 4],
       description="TorchScript exporter, enforce_sorted=False, fixed shapes, lengths [2, 5, 4]: "
                   "Linear on the mean over the valid steps (sum / lengths) and on h_n[-1]")
    ex("onnx_ts_f64", seed=519, exporter="torchscript", dynamic=True, dtype=np.float64,
       cfg={"layers": 2, "heads": ("last",)},
       description="TorchScript exporter, module.double(), dynamic shapes; 2 layers, Linear on "
                   "the last step")
    ex("onnx_ts_bidir_hn_cat", seed=520, exporter="torchscript", dynamic=True,
       cfg={"layers": 2, "bidir": True, "heads": ("hn_cat",)},
       description="TorchScript exporter, dynamic shapes; 2 bidirectional layers, Linear on "
                   "cat(h_n[-2], h_n[-1]) (the last layer's two directions)")

# --------------------------------------------------------------------------------------------
# ONNX cases built from one GRU node
# --------------------------------------------------------------------------------------------

def node_case(name, *, seed, I, H, T, N, description, direction="forward", lbr=0, layout=0,
              activations=None, alpha=None, beta=None, clip=None, lengths=None, initial_h=False,
              bias=True, dtype=np.float32, w_scale=None, x_scale=2.0, check_clip=False):
    rng = np.random.default_rng(seed)
    D = 2 if direction == "bidirectional" else 1
    s = w_scale if w_scale is not None else 1.0 / np.sqrt(H)
    W = rng.uniform(-s, s, (D, 3 * H, I)).astype(dtype)
    R = rng.uniform(-s, s, (D, 3 * H, H)).astype(dtype)
    Bias = nonzero_bias(rng, (D, 6 * H)).astype(dtype)
    X = rng.uniform(-x_scale, x_scale, (N, T, I) if layout else (T, N, I)).astype(dtype)
    feeds = {"X": X}
    node_inputs = ["X", "W", "R", "B" if bias else ""]
    graph_inputs = [oh.make_tensor_value_info("X", oh.np_dtype_to_tensor_dtype(np.dtype(dtype)),
                                              list(X.shape))]
    if lengths is not None:
        feeds["sequence_lens"] = np.asarray(lengths, np.int32)
        node_inputs.append("sequence_lens")
        graph_inputs.append(oh.make_tensor_value_info("sequence_lens", onnx.TensorProto.INT32, [N]))
    else:
        node_inputs.append("")
    if initial_h:
        shape = (N, D, H) if layout else (D, N, H)
        feeds["initial_h"] = rng.uniform(-1, 1, shape).astype(dtype)
        node_inputs.append("initial_h")
        graph_inputs.append(oh.make_tensor_value_info(
            "initial_h", oh.np_dtype_to_tensor_dtype(np.dtype(dtype)), list(shape)))
    while node_inputs and node_inputs[-1] == "":
        node_inputs.pop()
    attrs = {"hidden_size": H, "direction": direction, "linear_before_reset": lbr}
    if layout:
        attrs["layout"] = layout
    if activations:
        attrs["activations"] = activations
    if alpha:
        attrs["activation_alpha"] = alpha
    if beta:
        attrs["activation_beta"] = beta
    if clip is not None:
        attrs["clip"] = clip
    node = oh.make_node("GRU", node_inputs, ["Y", "Y_h"], name="gru", **attrs)
    inits = [onh.from_array(W, "W"), onh.from_array(R, "R")]
    if bias:
        inits.append(onh.from_array(Bias, "B"))
    et = oh.np_dtype_to_tensor_dtype(np.dtype(dtype))
    yshape = [N, T, D, H] if layout else [T, D, N, H]
    hshape = [N, D, H] if layout else [D, N, H]
    graph = oh.make_graph([node], name, graph_inputs,
                          [oh.make_tensor_value_info("Y", et, yshape),
                           oh.make_tensor_value_info("Y_h", et, hshape)], initializer=inits)
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 14)],
                          producer_name="grucc Tools/make-fixtures.py")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    model_bytes = model.SerializeToString()

    mine = onnx_gru_numpy(X, W, R, Bias if bias else None, feeds.get("sequence_lens"),
                          feeds.get("initial_h"), direction=direction, linear_before_reset=lbr,
                          layout=layout, activations=activations, activation_alpha=alpha,
                          activation_beta=beta, clip=clip)
    mine = {"Y": mine[0], "Y_h": mine[1]}
    for v in mine.values():
        assert np.all(np.isfinite(v)) and np.max(np.abs(v)) < 1e3, (name, np.max(np.abs(v)))
    if check_clip:
        unclipped = onnx_gru_numpy(X, W, R, Bias, direction=direction, linear_before_reset=lbr)
        effect = maxdiff(unclipped[0], mine["Y"])
        assert effect > 0.05, f"clip does not matter in {name} ({effect})"

    # references: onnxruntime first, then onnx.reference (which ignores activations, clip and
    # sequence_lens, so it is only asked when none is set), then the numpy implementation
    results, notes = {}, []
    try:
        results["ort"] = run_ort(model_bytes, feeds)
    except Exception as e:  # noqa: BLE001
        msg = short_error(e)
        notes.append(f"onnxruntime {ort.__version__} refuses this model: \"{msg}\".")
        PROBLEMS.append(f"{name}: onnxruntime {ort.__version__} refuses it: {msg}")
    if not activations and clip is None and lengths is None:
        try:
            results["reference"] = run_reference(model, feeds)
        except Exception as e:  # noqa: BLE001
            msg = short_error(e)
            notes.append(f"onnx.reference fails: \"{msg}\".")
            PROBLEMS.append(f"{name}: onnx.reference fails: {msg}")
    tol = tolerance("f32" if dtype == np.float32 else "f64")
    diffs = {}
    for k, r in results.items():
        diffs[k] = max(maxdiff(r[o], mine[o]) for o in ("Y", "Y_h"))
        assert diffs[k] < tol, f"{name}: numpy ONNX GRU vs {k} differ by {diffs[k]}"
    if "ort" in results:
        expect, reference = results["ort"], f"{V_ORT} (CPUExecutionProvider)"
        check, label = "ORT vs numpy", "onnxruntime"
    elif "reference" in results:
        expect, reference = results["reference"], f"onnx.reference.ReferenceEvaluator ({V_ONNX})"
        check, label = "reference vs numpy", "onnx.reference"
    else:
        expect, reference = mine, ("numpy implementation of the ONNX GRU equations in "
                                   "Tools/make-fixtures.py (onnx_gru_numpy), cross-checked "
                                   "against onnxruntime on every case it runs")
        check, label = "numpy only", "numpy"
    notes.append("Cross-checks: " + ", ".join(
        f"{k} vs numpy ONNX GRU max |diff| {v:.3g}" for k, v in diffs.items()) + "."
        if diffs else "No other implementation accepts this model.")
    attr_text = ", ".join(f"{k}={v}" for k, v in attrs.items())
    notes.insert(0, f"One GRU node (opset 14): {attr_text}; W, R{', B' if bias else ''} are "
                    f"initializers, graph inputs {', '.join(feeds)}.")
    meta = {"source": "onnx", "framework": f"{V_ONNX} (onnx.helper)",
            "precision": "f32" if dtype == np.float32 else "f64", "model": "model.onnx",
            "outputs": ["Y", "Y_h"], "description": description, "reference": reference,
            "notes": " ".join(notes)}
    write_case(name, meta, feeds, {"Y": expect["Y"], "Y_h": expect["Y_h"]},
               {"model.onnx": lambda p: p.write_bytes(model_bytes)})
    SUMMARY.append((name, "onnx", label, check,
                    max(diffs.values()) if diffs else float("nan")))


def onnx_node_cases():
    node_case("onnx_node_lbr0", seed=401, I=4, H=5, T=6, N=3, lbr=0,
              description="GRU node, linear_before_reset=0 (reset before), forward")
    node_case("onnx_node_lbr1", seed=402, I=3, H=6, T=5, N=2, lbr=1,
              description="GRU node, linear_before_reset=1 (reset after, PyTorch's), forward")
    node_case("onnx_node_reverse", seed=403, I=5, H=4, T=7, N=2, direction="reverse",
              description="GRU node, direction=reverse, linear_before_reset=0")
    node_case("onnx_node_bidirectional", seed=404, I=4, H=5, T=6, N=3, direction="bidirectional",
              lbr=1, description="GRU node, direction=bidirectional, linear_before_reset=1")
    node_case("onnx_node_lengths", seed=405, I=3, H=4, T=6, N=3, direction="bidirectional",
              lbr=1, lengths=[6, 3, 1],
              description="GRU node, bidirectional, sequence_lens [6,3,1] as a graph input: "
                          "Y zero past each end, Y_h the last valid state, the reverse pass "
                          "starts at each sequence's own end")
    node_case("onnx_node_lengths_zero", seed=411, I=3, H=4, T=5, N=3, direction="bidirectional",
              lbr=0, lengths=[5, 0, 2],
              description="GRU node, bidirectional, sequence_lens [5,0,2]: a zero length gives "
                          "zero Y and a zero Y_h (no initial_h, so the initial state is zero)")
    node_case("onnx_node_initial_h", seed=406, I=4, H=4, T=5, N=2, direction="bidirectional",
              initial_h=True, description="GRU node, bidirectional, initial_h [2,B,H] as a graph "
                                          "input, linear_before_reset=0")
    node_case("onnx_node_clip", seed=407, I=4, H=5, T=6, N=2, clip=1.5, x_scale=6.0,
              w_scale=0.8, check_clip=True,
              description="GRU node, clip=1.5 with inputs in [-6,6] and weights in [-0.8,0.8] "
                          "so the clip changes the result")
    node_case("onnx_node_layout1", seed=408, I=3, H=5, T=6, N=3, direction="bidirectional",
              lbr=1, layout=1, initial_h=True,
              description="GRU node, layout=1: X [B,T,I], initial_h [B,D,H], Y [B,T,D,H], "
                          "Y_h [B,D,H]; bidirectional, linear_before_reset=1")
    node_case("onnx_node_no_bias", seed=409, I=4, H=4, T=5, N=2, lbr=1, bias=False,
              description="GRU node without the optional B input (biases are zero)")
    node_case("onnx_node_f64", seed=410, I=3, H=4, T=5, N=2, direction="bidirectional",
              dtype=np.float64, description="GRU node with DOUBLE tensors, bidirectional, "
                                            "linear_before_reset=0")
    # activations: each of the 11 as f (gates) and as g (candidate). In every list the
    # activations that take alpha and beta come first, then those that take only alpha, then
    # those that take neither, so reading activation_alpha/beta "one entry per activation" and
    # "one entry per activation that uses it" give the same values.
    acts = [
        ("hardsigmoid_scaledtanh", "bidirectional", 1,
         ["HardSigmoid", "ScaledTanh", "Affine", "HardSigmoid"],
         [0.25, 0.9, 0.3, 0.3], [0.75, 1.2, 0.5, 0.1]),
        ("scaledtanh_affine", "bidirectional", 0,
         ["ScaledTanh", "Affine", "LeakyRelu", "Elu"], [0.8, 0.7, 0.05, 0.8], [1.5, -0.2]),
        ("thresholdedrelu_leakyrelu", "bidirectional", 1,
         ["ThresholdedRelu", "LeakyRelu", "Elu", "ThresholdedRelu"], [0.3, 0.2, 0.6, 0.2], None),
        ("sigmoid_tanh_relu_softsign", "bidirectional", 0,
         ["Sigmoid", "Tanh", "Relu", "Softsign"], None, None),
        ("softsign_softplus", "bidirectional", 1,
         ["Softsign", "Softplus", "Softplus", "Relu"], None, None),
        ("tanh_sigmoid", "forward", 0, ["Tanh", "Sigmoid"], None, None),
    ]
    for i, (tag, direction, lbr, names, alpha, beta) in enumerate(acts):
        pairs = [f"f={names[k]}, g={names[k + 1]}" for k in range(0, len(names), 2)]
        node_case(f"onnx_node_act_{tag}", seed=420 + i, I=3, H=4, T=5, N=2,
                  direction=direction, lbr=lbr, activations=names, alpha=alpha, beta=beta,
                  w_scale=0.4,
                  description=f"GRU node, activations {names} ({'; '.join(pairs)}), "
                              f"activation_alpha {alpha}, activation_beta {beta}, "
                              f"linear_before_reset={lbr}")
    # the order in which activation_alpha/beta are read, where the two readings differ:
    # onnxruntime gives each value to the next activation that takes one
    node_case("onnx_node_act_alpha_order", seed=430, I=3, H=4, T=5, N=2,
              direction="bidirectional", lbr=1,
              activations=["Sigmoid", "ScaledTanh", "Softsign", "Elu"], alpha=[0.9, 0.7],
              beta=[1.3], w_scale=0.4,
              description="GRU node, activations ['Sigmoid', 'ScaledTanh', 'Softsign', 'Elu'], "
                          "activation_alpha [0.9, 0.7], activation_beta [1.3]: the lists are "
                          "read by the activations that take them, in order (ScaledTanh gets "
                          "alpha 0.9 and beta 1.3, Elu alpha 0.7), as onnxruntime does; "
                          "activations without parameters consume no entry")


# --------------------------------------------------------------------------------------------

README_HEAD = """# Import fixtures

Written by `Tools/make-fixtures.py` (do not edit by hand; re-run it). Each directory holds
`case.json` (source, versions, precision, inputs, outputs, what produced the numbers),
`inputs.npz`, `expect.npz` and either `model.gru` with `weights.safetensors` (PyTorch) or
`weights.npz` (Keras), or `model.onnx`. For `.gru` cases `expect.npz` holds the framework's
outputs in grucc's output shapes; for `.onnx` cases the raw ONNX outputs, keyed by graph output
name.

| case | covers | expected from |
|---|---|---|
"""


TF_PYTHON = os.environ.get("GRUCC_TF_PYTHON", "/work/venv-tf/bin/python")

# Cases other tools write into the same folder (Tools/make-crnn-fixtures.py and
# Tools/make-crnn-onnx-fixtures.py): kept as they are,
# and listed in the README after this script's own.
OTHER_TOOLS = ("keras_crnn_", "torch_crnn_", "onnx_crnn_")


def tf2onnx_cases(skip):
    """Tools/make-tf2onnx-fixtures.py in its own venv (TensorFlow and tf2onnx conflict with
    this one); with --skip-tf2onnx the committed tf2onnx_* cases stay as they are."""
    if skip:
        for d in sorted(OUT.glob("tf2onnx_*")):
            SUMMARY.append((d.name, "onnx", "keras predict", "(kept)", float("nan")))
        return
    if not Path(TF_PYTHON).exists():
        sys.exit(f"{TF_PYTHON} not found: make the TensorFlow venv (see Tools/make-tf2onnx-fixtures.py), "
                 "set GRUCC_TF_PYTHON, or pass --skip-tf2onnx to keep the committed tf2onnx cases")
    import subprocess
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    run = subprocess.run([TF_PYTHON, str(ROOT / "Tools" / "make-tf2onnx-fixtures.py")],
                         capture_output=True, text=True, check=False, env=env)
    if run.returncode != 0:
        sys.exit("make-tf2onnx-fixtures.py failed:\n" + run.stdout[-3000:] + run.stderr[-3000:])
    for line in run.stdout.splitlines():
        if not line.startswith("RESULT "):
            continue
        r = json.loads(line[len("RESULT "):])
        if "case" in r:
            SUMMARY.append((r["case"], "onnx", "keras predict", "onnxruntime vs keras", r["diff"]))
            OP_TYPES[r["case"]] = r["ops"]
        else:
            PROBLEMS.append(f"tf2onnx converts {r['refused']} to a graph without a GRU node "
                            f"({' '.join(r['ops'])}); grucc refuses its Loop")


def main():
    skip_tf = "--skip-tf2onnx" in sys.argv[1:]
    OUT.mkdir(parents=True, exist_ok=True)
    for d in OUT.iterdir():
        if d.is_dir() and not d.name.startswith(("tf2onnx_",) + OTHER_TOOLS):
            shutil.rmtree(d)
    pytorch_cases()
    keras_cases()
    onnx_export_cases()
    onnx_exporter_cases()
    onnx_node_cases()
    tf2onnx_cases(skip_tf)

    rows = []
    for d in sorted(p for p in OUT.iterdir() if p.is_dir()):
        meta = json.loads((d / "case.json").read_text())
        rows.append(f"| `{d.name}` | {meta['description']} | {meta['reference']} |")
    order = [r[0] for r in SUMMARY]
    rows.sort(key=lambda r: (order.index(r.split("`")[1]) if r.split("`")[1] in order
                             else len(order), r))
    (OUT / "README.md").write_text(README_HEAD + "\n".join(rows) + "\n")

    print(f"\n{V_TORCH}, {V_KERAS}, {V_ONNX}, {V_ORT}, numpy {np.__version__}, "
          f"safetensors {safetensors.__version__}, Python {sys.version.split()[0]}")
    print("\nKeras weight paths:")
    for case, paths in KERAS_PATHS.items():
        print(f"  {case}: {', '.join(paths)}")
    print("\nOp types of the exported graphs:")
    for case, ops in OP_TYPES.items():
        print(f"  {case}: {' '.join(ops)}")
    if PROBLEMS:
        print("\nRefused (by an exporter or a reference; a fallback was used where one exists):")
        for p in PROBLEMS:
            print("  " + p)
    print(f"\n{'case':40} {'source':8} {'expected from':16} {'check':22} {'max |diff|':>10} "
          f"{'bytes':>6}")
    for name, src, ref, check, diff in SUMMARY:
        size = sum(f.stat().st_size for f in (OUT / name).iterdir())
        print(f"{name:40} {src:8} {ref:16} {check:22} {diff:10.3g} {size:6d}")
    print(f"\n{len(SUMMARY)} cases written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
