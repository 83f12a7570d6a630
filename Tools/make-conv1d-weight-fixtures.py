#!/usr/bin/env python3
"""Writes Tests/Fixtures/conv1d-weights: the weight layouts of Keras's Conv1D and DepthwiseConv1D
and PyTorch's nn.Conv1d as the frameworks store them, with an input and each framework's output,
so that SequenceLayerWeightTests checks `format keras` and `format pytorch` reading of conv1d
weights against the frameworks themselves. Run with /work/venv's python (keras 3, torch backend).
"""
import os
import pathlib
import zipfile

os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import keras  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/Fixtures/conv1d-weights"


def save_npz(path, arrays):
    """np.savez's format with a fixed timestamp, so the file is the same on every run."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o600 << 16
            with zf.open(info, "w") as f:
                np.lib.format.write_array(f, np.ascontiguousarray(value), allow_pickle=False)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(15)
    x = rng.uniform(-1, 1, (2, 9, 3)).astype(np.float32)

    keras.utils.set_random_seed(15)
    inp = keras.Input((9, 3), name="x")
    conv = keras.layers.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu", name="conv")
    dw = keras.layers.DepthwiseConv1D(3, depth_multiplier=2, padding="same", name="dw")
    model = keras.Model(inp, [conv(inp), dw(inp)])
    for w in model.weights:
        if w.path.endswith("bias"):
            w.assign(rng.uniform(-0.5, 0.5, tuple(w.shape)).astype(np.float32))
    y_conv, y_dw = model.predict(x, verbose=0)
    save_npz(OUT / "keras.npz", {w.path: keras.ops.convert_to_numpy(w) for w in model.weights})

    torch.manual_seed(15)
    tconv = torch.nn.Conv1d(3, 4, 3, stride=2, groups=1, padding=0)
    tgroups = torch.nn.Conv1d(4, 6, 2, groups=2, bias=True)
    with torch.no_grad():
        y_t = tconv(torch.from_numpy(x).transpose(1, 2)).transpose(1, 2).numpy()
        x4 = np.concatenate([x, x[:, :, :1]], axis=-1)
        y_g = tgroups(torch.from_numpy(x4).transpose(1, 2)).transpose(1, 2).numpy()
    state = {"front.conv.weight": tconv.weight, "front.conv.bias": tconv.bias,
             "grouped.weight": tgroups.weight, "grouped.bias": tgroups.bias}
    save_npz(OUT / "pytorch.npz", {k: v.detach().numpy() for k, v in state.items()})
    save_npz(OUT / "io.npz", {"x": x, "x4": x4, "keras_conv": y_conv, "keras_dw": y_dw,
                              "torch_conv": y_t, "torch_grouped": y_g})
    print("wrote", OUT, {k: v.shape for k, v in state.items()}, [w.path for w in model.weights])


if __name__ == "__main__":
    main()
