"""PyTorch's training speed on the models of Benchmarks/train.sh, one thread.

    python train_peer.py DIR

DIR holds adder.npz and h128.npz (x and y). Prints `adder STEPS_PER_S` and `h128 STEPS_PER_S`:
the median over repeated timings of one Adam step (forward, loss, backward, update) on one
batch, after a warm-up.
"""
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)
torch.manual_seed(0)


class ChungGRU(torch.nn.Module):
    """Seed 001's cell: reset before U_n, z takes the candidate, one bias per gate, float64."""

    def __init__(self, inputs, hidden):
        super().__init__()
        self.w = torch.nn.Linear(inputs, 3 * hidden, dtype=torch.float64)
        self.u_rz = torch.nn.Linear(hidden, 2 * hidden, bias=False, dtype=torch.float64)
        self.u_n = torch.nn.Linear(hidden, hidden, bias=False, dtype=torch.float64)
        self.head = torch.nn.Linear(hidden, 1, dtype=torch.float64)
        self.hidden = hidden

    def forward(self, x):
        h = torch.zeros(x.shape[0], self.hidden, dtype=torch.float64)
        xs = self.w(x)
        outputs = []
        for t in range(x.shape[1]):
            xr, xz, xn = xs[:, t].chunk(3, dim=1)
            hr, hz = self.u_rz(h).chunk(2, dim=1)
            r = torch.sigmoid(xr + hr)
            z = torch.sigmoid(xz + hz)
            n = torch.tanh(xn + self.u_n(r * h))
            h = (1 - z) * h + z * n
            outputs.append(h)
        return self.head(torch.stack(outputs, dim=1))


class TorchGRU(torch.nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.gru = torch.nn.GRU(hidden, hidden, batch_first=True)

    def forward(self, x):
        return self.gru(x)[0]


def steps_per_second(model, x, y, loss, seconds=3.0):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad()
        loss(model(x), y).backward()
        optimizer.step()

    step()
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 5:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return 1.0 / float(np.median(times))


def main():
    directory = sys.argv[1]
    adder = np.load(f"{directory}/adder.npz")
    x, y = torch.from_numpy(adder["x"][:100]), torch.from_numpy(adder["y"][:100])
    quadratic = lambda o, t: 0.5 * ((o - t) ** 2).sum() / o.shape[0]
    print(f"adder {steps_per_second(ChungGRU(2, 16), x, y, quadratic):.3f}")
    h128 = np.load(f"{directory}/h128.npz")
    x, y = torch.from_numpy(h128["x"][:32]), torch.from_numpy(h128["y"][:32])
    print(f"h128 {steps_per_second(TorchGRU(128), x, y, torch.nn.functional.mse_loss):.3f}")


if __name__ == "__main__":
    main()
