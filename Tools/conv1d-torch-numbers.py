# Prints the PyTorch numbers Tests/GruccTests/Interpreter/Conv1DTests.swift holds: one conv1d
# (4 channels in, 6 filters, kernel 3, dilation 2, stride 2, groups 2) over a 7-step sequence,
# padded causal, valid and same (TensorFlow's split: the smaller half before) by F.pad first.
# Run: /work/venv/bin/python Tools/conv1d-torch-numbers.py
import torch
import torch.nn.functional as F

x = torch.arange(28, dtype=torch.float64).reshape(1, 7, 4) / 10 - 1
w = (torch.arange(36, dtype=torch.float64).reshape(6, 2, 3) % 5 - 2) / 4
b = torch.tensor([0.5, -0.25, 0, 1, -1, 0.125], dtype=torch.float64)
T, S, E = 7, 2, (3 - 1) * 2 + 1


def conv(before, after):
    p = F.pad(x.transpose(1, 2), (before, after))
    return F.conv1d(p, w, b, stride=S, dilation=2, groups=2).transpose(1, 2)


out = -(-T // S)
total = max((out - 1) * S + E - T, 0)
for name, before, after in [("causal", E - 1, 0), ("valid", 0, 0), ("same", total // 2, total - total // 2)]:
    y = conv(before, after)
    print(name, list(y.shape), [round(v, 10) for v in y.flatten().tolist()])
