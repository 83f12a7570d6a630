#!/usr/bin/env python3
"""Writes Tests/Fixtures/import/onnx_crnn_*: PyTorch CRNNs (a convolutional front end, a GRU, a
head) exported to ONNX, for grucc's importer of Conv, BatchNormalization, Pad, AveragePool,
MaxPool, LayerNormalization and F.normalize.

Run by hand from the repository root (nothing in the build or the tests runs it):

    /work/venv/bin/python Tools/make-crnn-onnx-fixtures.py

Same venv and versions as Tools/make-fixtures.py, whose file format and helpers it uses. Each
model is exported twice:
  *_dynamo  torch.onnx.export(model, (x,), "model.onnx"), torch 2.15's default call: the dynamo
            exporter, fixed shapes, weights in model.onnx.data;
  *_ts      torch.onnx.export(..., dynamo=False, dynamic_axes={"x": {0: "batch", 1: "time"}}):
            the TorchScript exporter with dynamic batch and time.
The issue's stack is also exported as *_ts_nofold (do_constant_folding=False), which keeps its
BatchNormalization node after the Conv instead of folding it into the Conv's weights.
expect.npz holds PyTorch's outputs (eval mode, no grad), keyed by the graph's output names;
onnxruntime must agree with them (and, for the dynamic exports, also at another batch size and
number of steps), or the script stops. Deterministic: fixed seeds, one thread, fixed npz
timestamps, the dynamo exporter's stack-trace metadata removed.
"""

import contextlib
import importlib.util
import io
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("make_fixtures", ROOT / "Tools" / "make-fixtures.py")
mf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mf)

np, torch, nn, onnx = mf.np, mf.torch, mf.nn, mf.onnx
F = torch.nn.functional
OUT = mf.OUT
PREFIX = "onnx_crnn_"


class CRNN(nn.Module):
    """front (a list of ("conv"|"pad"|"bn"|"avg"|"max", options)) over [B, C, T], a GRU,
    then a head: "last" (Linear on h_n[-1]), "seq" (Linear per step), "ln" (LayerNorm then
    Linear per step), "norm" (F.normalize of a Linear on h_n[-1])."""

    def __init__(self, C, front, H, head, out=2):
        super().__init__()
        self.front = front
        self.layers = nn.ModuleDict()
        c = C
        for k, (kind, o) in enumerate(front):
            name = f"{kind}{k}"
            if kind == "conv":
                self.layers[name] = nn.Conv1d(c, o["filters"], o["kernel"], stride=o.get("stride", 1),
                                              padding=o.get("padding", 0), dilation=o.get("dilation", 1),
                                              groups=o.get("groups", 1), bias=o.get("bias", True))
                c = o["filters"]
            elif kind == "bn":
                bn = nn.BatchNorm1d(c, eps=o.get("eps", 1e-5))
                self.layers[name] = bn
            elif kind == "avg":
                self.layers[name] = nn.AvgPool1d(o["size"], o.get("stride", o["size"]), padding=o.get("padding", 0),
                                                 count_include_pad=o.get("count_include_pad", True))
            elif kind == "max":
                self.layers[name] = nn.MaxPool1d(o["size"], o.get("stride", o["size"]), padding=o.get("padding", 0))
        self.gru = nn.GRU(c, H, batch_first=True)
        self.head = head
        if head == "ln":
            self.ln = nn.LayerNorm(H)
        self.fc = nn.Linear(H, out)

    def forward(self, x):
        y = x.transpose(1, 2)
        for k, (kind, o) in enumerate(self.front):
            if kind == "pad":
                y = F.pad(y, (o["before"], o.get("after", 0)))
            else:
                y = self.layers[f"{kind}{k}"](y)
                if o.get("relu"):
                    y = torch.relu(y)
        h, hn = self.gru(y.transpose(1, 2))
        if self.head == "last":
            return self.fc(hn[-1])
        if self.head == "seq":
            return self.fc(h)
        if self.head == "ln":
            return self.fc(self.ln(h))
        return F.normalize(self.fc(hn[-1]), dim=-1)


def trained_statistics(net, rng):
    """BatchNorm running statistics and affine parameters as training leaves them: not 0 and 1."""
    for m in net.modules():
        if isinstance(m, nn.BatchNorm1d):
            n = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, n).astype(np.float32)))
                m.running_var.copy_(torch.from_numpy(rng.uniform(0.3, 2.0, n).astype(np.float32)))
                m.weight.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, n).astype(np.float32)))
                m.bias.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, n).astype(np.float32)))
        if isinstance(m, nn.LayerNorm):
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, m.weight.shape).astype(np.float32)))
                m.bias.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, m.bias.shape).astype(np.float32)))


def strip_metadata(path):
    """Drops the dynamo exporter's stack traces and range constraints (they name this script's
    lines and carry state between exports), so the file depends only on the model."""
    model = onnx.load(str(path), load_external_data=False)
    stripped = 0
    for holder in [model] + list(model.graph.node):
        keep = [p for p in holder.metadata_props if "stack_trace" not in p.key and "range_constraints" not in p.key]
        if len(keep) != len(holder.metadata_props):
            stripped += len(holder.metadata_props) - len(keep)
            del holder.metadata_props[:]
            holder.metadata_props.extend(keep)
    if stripped:
        path.write_bytes(model.SerializeToString())
    return model


SUMMARY = []


def crnn_case(stem, *, seed, C, front, H, head, description, T=12, B=3, exporters=("dynamo", "ts")):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = CRNN(C, front, H, head).eval()
    mf.perturb_torch_biases(net, rng)
    trained_statistics(net, rng)
    x = mf.uniform(rng, (B, T, C))
    with torch.no_grad():
        expect = net(torch.from_numpy(x)).numpy()
    for exporter in exporters:
        name = f"{PREFIX}{stem}_{exporter}"
        tmp = OUT / f".{name}.tmp"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        path = tmp / "model.onnx"
        if exporter == "dynamo":
            kwargs = {}
            call = "torch.onnx.export(model, (x,), \"model.onnx\") (the default: dynamo exporter, fixed shapes)"
        else:
            kwargs = {"dynamo": False, "input_names": ["x"], "dynamic_axes": {"x": {0: "batch", 1: "time"}}}
            call = ("torch.onnx.export(model, (x,), \"model.onnx\", dynamo=False, input_names=[\"x\"], "
                    "dynamic_axes={\"x\": {0: \"batch\", 1: \"time\"}}" +
                    (", do_constant_folding=False)" if exporter == "ts_nofold" else ")"))
            if exporter == "ts_nofold":
                # keeps the BatchNormalization node after the Conv, which constant folding fuses
                kwargs["do_constant_folding"] = False
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            torch.onnx.export(net, (torch.from_numpy(x),), str(path), **kwargs)
        model = strip_metadata(path)
        onnx.checker.check_model(str(path))
        files = sorted(p.name for p in tmp.iterdir())
        ops = sorted({n.op_type for n in model.graph.node})
        in_name = model.graph.input[0].name
        out_name = model.graph.output[0].name
        got = mf.run_ort_path(path, {in_name: x})[out_name]
        diff = mf.maxdiff(got, expect)
        assert diff < mf.tolerance("f32"), (name, diff)
        notes = [f"Exported with {call}, {mf.V_TORCH}.", f"Files: {', '.join(files)}.", f"Graph ops: {' '.join(ops)}.",
                 f"onnxruntime vs torch: max |diff| {diff:.3g}."]
        if exporter != "dynamo":
            # the dynamic axes hold: another batch size and number of steps give PyTorch's numbers
            x2 = mf.uniform(rng, (B + 1, T + 3, C))
            with torch.no_grad():
                e2 = net(torch.from_numpy(x2)).numpy()
            d2 = mf.maxdiff(mf.run_ort_path(path, {in_name: x2})[out_name], e2)
            assert d2 < mf.tolerance("f32"), (name, "dynamic", d2)
            notes.append(f"onnxruntime vs torch with batch {B + 1} and {T + 3} steps: {d2:.3g}.")
        meta = {"source": "onnx", "framework": f"{mf.V_TORCH}, {mf.V_ONNX}", "precision": "f32", "model": "model.onnx",
                "outputs": [out_name],
                "description": {"dynamo": "dynamo (default call, fixed shapes)", "ts": "TorchScript, dynamic batch and time",
                                "ts_nofold": "TorchScript, dynamic batch and time, no constant folding (BatchNormalization "
                                             "kept after the Conv)"}[exporter] + f": {description}",
                "reference": "torch forward (CPU, eval mode, no grad)", "notes": " ".join(notes)}
        if (OUT / name).exists():
            shutil.rmtree(OUT / name)
        mf.write_case(name, meta, {in_name: x}, {out_name: expect},
                      {f: (lambda p, src=tmp / f: shutil.copyfile(src, p)) for f in files})
        shutil.rmtree(tmp)
        SUMMARY.append((name, ops, diff, sum(f.stat().st_size for f in (OUT / name).iterdir())))


def main():
    for d in OUT.iterdir():
        if d.is_dir() and d.name.startswith(PREFIX):
            shutil.rmtree(d)
    relu = {"relu": True}
    crnn_case("causal", seed=1501, C=3, H=5, head="last",
              front=[("pad", {"before": 2}), ("conv", {"filters": 4, "kernel": 3, **relu})],
              description="causal Conv1d (F.pad(x, (2, 0)) then Conv1d(3, 4, 3)) with ReLU, GRU, Linear on h_n[-1]")
    crnn_case("symmetric", seed=1502, C=3, H=5, head="seq",
              front=[("conv", {"filters": 4, "kernel": 3, "padding": 1}), ("conv", {"filters": 4, "kernel": 2, "padding": 2})],
              description="Conv1d(k 3, padding 1) (TF's same split) then Conv1d(k 2, padding 2) (a pad line, valid), GRU, Linear per step")
    crnn_case("stride2", seed=1503, C=3, H=5, head="seq",
              front=[("conv", {"filters": 4, "kernel": 3, "stride": 2, "padding": 1, **relu})],
              description="Conv1d(k 3, stride 2, padding 1) with ReLU (half the steps), GRU, Linear per step")
    crnn_case("dilation", seed=1504, C=3, H=5, head="last",
              front=[("pad", {"before": 4}), ("conv", {"filters": 4, "kernel": 3, "dilation": 2})],
              description="causal dilated Conv1d (F.pad 4, k 3, dilation 2), GRU, Linear on h_n[-1]")
    crnn_case("depthwise", seed=1505, C=3, H=5, head="last",
              front=[("pad", {"before": 2}), ("conv", {"filters": 6, "kernel": 3, "groups": 3, "bias": False})],
              description="causal depthwise Conv1d(3, 6, 3, groups 3, no bias), GRU, Linear on h_n[-1]")
    crnn_case("batchnorm", seed=1506, C=3, H=5, head="last",
              front=[("pad", {"before": 2}), ("conv", {"filters": 4, "kernel": 3, **relu}), ("bn", {"eps": 1e-3})],
              description="causal Conv1d with ReLU, BatchNorm1d(eps 1e-3) (eval, trained running statistics; after a ReLU the "
                          "exporters cannot fold it into the Conv), GRU, Linear on h_n[-1]")
    crnn_case("pools", seed=1507, C=3, H=5, head="seq",
              front=[("avg", {"size": 3, "stride": 1, "padding": 1}),
                     ("avg", {"size": 3, "stride": 1, "padding": 1, "count_include_pad": False}),
                     ("max", {"size": 3, "stride": 1, "padding": 1}), ("max", {"size": 2, "stride": 2})],
              description="AvgPool1d(3, 1, padding 1) counting the zeros (pad + valid), AvgPool1d(3, 1, padding 1, "
                          "count_include_pad=False) and MaxPool1d(3, 1, padding 1) (both same), MaxPool1d(2) (stride 2), GRU, Linear per step")
    crnn_case("layernorm", seed=1508, C=3, H=5, head="ln",
              front=[("pad", {"before": 1}), ("conv", {"filters": 4, "kernel": 2, **relu})],
              description="causal Conv1d with ReLU, GRU, LayerNorm over the GRU's features, Linear per step")
    crnn_case("normalize", seed=1509, C=3, H=5, head="norm",
              front=[("conv", {"filters": 4, "kernel": 3})],
              description="valid Conv1d, GRU, F.normalize(Linear(h_n[-1]))")
    crnn_case("issue15", seed=1510, C=2, H=32, head="norm", T=30,
              front=[("pad", {"before": 19}), ("conv", {"filters": 16, "kernel": 20}), ("bn", {"eps": 1e-3}),
                     ("pad", {"before": 2}), ("avg", {"size": 3, "stride": 1})],
              description="issue 15's stack: causal Conv1d(2, 16, 20), BatchNorm1d(eps 1e-3) (both exporters fold it into the "
                          "Conv's weights, unless constant folding is off), F.pad 2 before, AvgPool1d(3, 1), GRU 32, Linear 2 on "
                          "h_n[-1], F.normalize", exporters=("dynamo", "ts", "ts_nofold"))

    # the fixture table: make-fixtures.py's rows, then these
    readme = OUT / "README.md"
    lines = [line for line in readme.read_text().splitlines() if not line.startswith(f"| `{PREFIX}")]
    for name, _, _, _ in SUMMARY:
        meta = json.loads((OUT / name / "case.json").read_text())
        lines.append(f"| `{name}` | {meta['description']} | {meta['reference']} |")
    readme.write_text("\n".join(lines) + "\n")

    print(f"{mf.V_TORCH}, {mf.V_ONNX}, {mf.V_ORT}, numpy {np.__version__}, Python {sys.version.split()[0]}")
    for name, ops, diff, size in SUMMARY:
        print(f"{name:36} {diff:9.3g} {size:7d}  {' '.join(ops)}")


if __name__ == "__main__":
    main()
