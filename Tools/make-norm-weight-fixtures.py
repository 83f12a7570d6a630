#!/usr/bin/env python3
"""Writes Tests/Fixtures/norm-weights: Keras's BatchNormalization and LayerNormalization and
PyTorch's nn.BatchNorm1d and nn.LayerNorm as the frameworks store their tensors, with an input
and each framework's output (inference form), so that NormWeightTests checks `format keras` and
`format pytorch` reading of batchnorm and layernorm against the frameworks themselves.
Run with /work/venv's python (keras 3, torch backend).
"""
import os
import pathlib
import zipfile

os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import keras  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/Fixtures/norm-weights"


def write_npz(path, arrays):
    """An uncompressed npz with a fixed timestamp: the same bytes on every run."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o600 << 16
            with zf.open(info, "w") as f:
                np.lib.format.write_array(f, np.ascontiguousarray(arrays[key]), allow_pickle=False)


def statistics(rng, c):
    """Trained-looking tensors: gamma near 1, beta and mean near 0, a positive variance."""
    return (rng.uniform(0.5, 1.5, c).astype(np.float32), rng.uniform(-0.5, 0.5, c).astype(np.float32),
            rng.uniform(-0.5, 0.5, c).astype(np.float32), rng.uniform(0.2, 2.0, c).astype(np.float32))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(15)
    x = rng.uniform(-1.5, 1.5, (2, 7, 4)).astype(np.float32)

    # Keras: BatchNormalization (epsilon 1e-3, its default) then LayerNormalization.
    keras.utils.set_random_seed(15)
    inp = keras.Input((7, 4), name="x")
    bn = keras.layers.BatchNormalization(epsilon=1e-3, name="bn")
    ln = keras.layers.LayerNormalization(epsilon=1e-3, name="ln")
    model = keras.Model(inp, [bn(inp), ln(bn(inp))])
    gamma, beta, mean, variance = statistics(rng, 4)
    bn.set_weights([gamma, beta, mean, variance])
    ln.set_weights([rng.uniform(0.5, 1.5, 4).astype(np.float32), rng.uniform(-0.5, 0.5, 4).astype(np.float32)])
    y_bn, y_ln = model.predict(x, verbose=0)
    write_npz(OUT / "keras.npz", {w.path: keras.ops.convert_to_numpy(w) for w in model.weights})

    # PyTorch: nn.BatchNorm1d (eps 1e-5) in eval mode, over channels (so the time axis moves), then
    # nn.LayerNorm over the features of each step.
    torch.manual_seed(15)
    tbn = torch.nn.BatchNorm1d(4, eps=1e-5)
    tln = torch.nn.LayerNorm(4, eps=1e-5)
    gamma, beta, mean, variance = statistics(rng, 4)
    with torch.no_grad():
        tbn.weight.copy_(torch.from_numpy(gamma))
        tbn.bias.copy_(torch.from_numpy(beta))
        tbn.running_mean.copy_(torch.from_numpy(mean))
        tbn.running_var.copy_(torch.from_numpy(variance))
        tln.weight.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, 4).astype(np.float32)))
        tln.bias.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, 4).astype(np.float32)))
        tbn.eval()
        t_bn = tbn(torch.from_numpy(x).transpose(1, 2)).transpose(1, 2)
        t_ln = tln(t_bn)
    state = {f"front.norm.{k}": v for k, v in tbn.state_dict().items()}
    state.update({f"after.{k}": v for k, v in tln.state_dict().items()})
    write_npz(OUT / "pytorch.npz", {k: v.detach().numpy() for k, v in state.items()})
    write_npz(OUT / "io.npz", {"x": x, "keras_bn": y_bn, "keras_ln": y_ln,
                               "torch_bn": t_bn.numpy(), "torch_ln": t_ln.numpy()})
    print("wrote", OUT, sorted(state), [w.path for w in model.weights])


if __name__ == "__main__":
    main()
