#!/usr/bin/env python3
"""Writes seed 001's training data for Specs/seed001-adder.gru: binary additions, bit by bit.

Run by hand from the repository root (nothing in the build or the tests runs it); it needs
Python 3 and numpy only (any numpy with the legacy RandomState; written with numpy 2.4.6):

    python3 Tools/make-adder-data.py          # Specs/seed001-adder.train.npz, .valid.npz

Then, for example (see README.md, "Training"):

    grucc train Specs/seed001-adder.gru --data Specs/seed001-adder.train.npz \\
        --valid Specs/seed001-adder.valid.npz --loss quadratic --steps 5000 -o adder.safetensors

The examples are made exactly as seed 001 makes them (its `as_bytes`, `generate_example` and
`generate_batch`, with numpy's legacy generator): two numbers a and b drawn with
`randint(0, 2**(bits - 1) - 1)` (so both are below 2**(bits - 1) - 1 and the sum fits in
`bits` bits), written least significant bit first;
  x [N, bits, 2]  float64: x[i, t, 0] is bit t of a, x[i, t, 1] bit t of b
  y [N, bits, 1]  float64: bit t of a + b
named after the model's input (x) and output (y), batch-major as `grucc run` and `grucc train`
take them. The training set is drawn first and the validation set after it, from one
RandomState(1), as the seed draws X_train then X_test.

The sizes: the seed trains on one batch of 100 examples of 5 bits and validates on another; here
the training set has 1000 examples and the validation set 200, of 8 bits. The seed's test is
longer numbers (1024 + 16 in 20 bits): the model must learn the carry, not the examples. At 5
bits there are only 15 x 15 = 225 different pairs and carry chains of at most 4; at 8 bits,
127 x 127 = 16129 pairs (the training set has 967 different ones, the validation set 200, most
of them new) and chains of up to 7. Measured with PyTorch on the same equations, the seed's
initialisation (truncated normal, stddev 0.01), its quadratic loss and full-batch Adam (lr
0.001), 5000 steps, three initialisation seeds, on 1000 random sums of two 19-bit numbers:
  --bits 5: 100%, 98.6% and 99.9% of the 20-bit sums exact (1024 + 16 right every time)
  --bits 8: 100%, 100% and 100%
so the files use 8 bits (--bits 5 gives the seed's own size).

The output is deterministic: a fixed seed and npz members written with a fixed timestamp, so
re-running the script rewrites byte-identical files. It checks every example's sum before it
writes anything.
"""

import argparse
import zipfile

import numpy as np


def as_bytes(num, final_size):
    """Seed 001's reversed bit string of `num`, `final_size` bits, least significant first."""
    res = []
    for _ in range(final_size):
        res.append(num % 2)
        num //= 2
    return res


def generate_example(random, num_bits):
    """Seed 001's example: a, b and a + b as reversed bit strings."""
    a = random.randint(0, 2 ** (num_bits - 1) - 1)
    b = random.randint(0, 2 ** (num_bits - 1) - 1)
    res = a + b
    return as_bytes(a, num_bits), as_bytes(b, num_bits), as_bytes(res, num_bits)


def generate_batch(random, num_bits, batch_size):
    """Seed 001's batch: x [batch_size, num_bits, 2] and y [batch_size, num_bits, 1], float64."""
    x = np.empty((batch_size, num_bits, 2))
    y = np.empty((batch_size, num_bits, 1))
    for i in range(batch_size):
        a, b, r = generate_example(random, num_bits)
        x[i, :, 0] = a
        x[i, :, 1] = b
        y[i, :, 0] = r
    return x, y


def check(x, y):
    """Every y is the sum of its x's, read back from the bits."""
    weights = 2 ** np.arange(x.shape[1])
    a = (x[:, :, 0] * weights).sum(axis=1)
    b = (x[:, :, 1] * weights).sum(axis=1)
    s = (y[:, :, 0] * weights).sum(axis=1)
    assert np.array_equal(a + b, s), "an example's sum is wrong"
    assert set(np.unique(x)) <= {0.0, 1.0} and set(np.unique(y)) <= {0.0, 1.0}


def save_npz(path, arrays):
    """np.savez's format (stored members) with a fixed timestamp, so the bytes are reproducible."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o600 << 16
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(value), allow_pickle=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bits", type=int, default=8, help="bits per number (default 8; the seed uses 5)")
    parser.add_argument("--train", type=int, default=1000, help="training examples (default 1000)")
    parser.add_argument("--valid", type=int, default=200, help="validation examples (default 200)")
    parser.add_argument("--seed", type=int, default=1, help="numpy RandomState seed (default 1)")
    parser.add_argument("--prefix", default="Specs/seed001-adder", help="writes PREFIX.train.npz and PREFIX.valid.npz")
    args = parser.parse_args()
    if args.bits < 2:
        parser.error("--bits must be at least 2")

    random = np.random.RandomState(args.seed)
    sets = {}
    for name, count in (("train", args.train), ("valid", args.valid)):
        x, y = generate_batch(random, args.bits, count)
        check(x, y)
        sets[name] = (x, y)
    for name, (x, y) in sets.items():
        path = f"{args.prefix}.{name}.npz"
        save_npz(path, {"x": x, "y": y})
        pairs = len({tuple(row) for row in x.reshape(len(x), -1).tolist()})
        print(f"wrote {path}: x {list(x.shape)}, y {list(y.shape)}, {pairs} different pairs")


if __name__ == "__main__":
    main()
