#!/usr/bin/env python3
"""Writes Tests/Fixtures/seeds/: every system of the seed documents, with its weights saved
under the seed's own variable names and the outputs computed by the seed's own forward code.

Run by hand from the repository root (nothing in the build or the tests runs it):

    /work/venv/bin/python Tools/make-seed-fixtures.py

It needs numpy (2.4.6 made the committed files) and, for seed 003's PyTorch modules, torch
(2.15.0, CPU). The seeds are the four documents in /work/shared/seeds/ (see the README's
"The models in Specs/"):

    000  a custom TensorFlow 1 GRU (class GRU: create_recurrent_unit, unit) and its BiGRU
    001  the Data Blogger adder (class GRU: forward_pass, tf.scan, a dense layer per step)
    002  TF 1.0's GRUCell (__call__, _linear) under dynamic_rnn, and Keras LocallyConnected1D;
         the GRU written for the Theano LSTM tutorial (param_init_lstm, lstm_layer) and the
         tutorial's mean-pooling softmax classifier
    003  PyTorch: GRUCell over cat(x, h) with GRUClassifier, and GRU_cell_AI_SUMMER

For each case, Tests/Fixtures/seeds/<case>/ holds
  case.json     the seed function reproduced, the Spec whose statements model.gru repeats,
                precision, inputs and outputs
  weights.*     the weights as the seed's framework names them: TF1 variables as
                {v.name: value} in an .npz (`gru_init/input_gate_wi:0`, the second
                'forget_gate_wf' uniquified to `forget_gate_wf_1`, unnamed variables
                `Variable:0`, `Variable_1:0`); Theano's params dict (`lstm_W`, `U`, ...) in an
                .npz, as the tutorial's numpy.savez writes it; PyTorch's state_dict in a
                .safetensors file
  model.gru     the statements of Specs/<spec>.gru, then `weights`, `format` and `map` lines
                that read the file above as it is (no renaming in numpy)
  inputs.npz    the inputs, named as the model names them
  expect.npz    the outputs of a line-by-line numpy (or torch, for seed 003) transcription of
                the seed's forward code, not of grucc's equations, in grucc's output shapes

seed000_bigru_exact is Specs/seed000-bigru-as-written.gru: its BiGRU as the seed computes it, with
`padding processed` and `output-order processing` (the padding run through both GRUs, the
backward outputs left in processing order, the mean over all T steps).

Where a seed initialises biases to zero, the fixtures draw them (as training would move them)
so that every tensor matters. Everything is seeded and written with fixed zip timestamps, so a
re-run rewrites byte-identical files for the same library versions.
"""

import json
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Fixtures" / "seeds"
SPECS = ROOT / "Specs"


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------

def save_npz(path, arrays):
    """np.savez's format (stored members) with a fixed timestamp, members in the given order."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o600 << 16
            with zf.open(info, "w") as f:
                np.lib.format.write_array(f, np.ascontiguousarray(value), allow_pickle=False)


SAFETENSORS_DTYPES = {np.dtype("float32"): "F32", np.dtype("float64"): "F64"}


def save_safetensors(path, arrays):
    """The safetensors layout: a little-endian u64 header length, a JSON header (names sorted,
    as the safetensors library writes them, padded with spaces to 8 bytes), the raw data."""
    header, blobs, offset = {}, [], 0
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        data = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": SAFETENSORS_DTYPES[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load_safetensors(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": "<f4", "F64": "<f8"}[h["dtype"]]
        b, e = h["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + b:8 + n + e], dtype=dtype).reshape(h["shape"])
    return out


def spec_statements(spec):
    """The statements of a Spec that say what the model computes (model, precision, input, gru,
    let, output), without comments; a line ending in ',' continues on the next."""
    lines, pending = [], ""
    for raw in (SPECS / f"{spec}.gru").read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        pending = pending + " " + line.strip() if pending else line
        if pending.endswith(","):
            continue
        if pending.split()[0] in ("model", "precision", "input", "gru", "let", "output"):
            lines.append(pending)
        pending = ""
    return lines


def write_case(name, *, spec, seed_function, precision, weights, inputs, expect, maps, description,
               weights_file="weights.npz", weights_line=None, notes=""):
    d = OUT / name
    d.mkdir(parents=True)
    if weights_file.endswith(".safetensors"):
        save_safetensors(d / weights_file, weights)
    else:
        save_npz(d / weights_file, weights)
    save_npz(d / "inputs.npz", inputs)
    save_npz(d / "expect.npz", expect)
    meta = {"source": "seed", "seed_function": seed_function, "spec": spec, "precision": precision}
    if maps is not None:
        meta["model"] = "model.gru"
        text = [f"# {description}",
                f"# The statements of Specs/{spec}.gru; the weights as the seed names them.",
                *spec_statements(spec),
                weights_line or f'weights "{weights_file}"',
                *maps]
        (d / "model.gru").write_text("\n".join(text) + "\n")
    meta.update({"inputs": {k: k for k in inputs}, "outputs": list(expect),
                 "weights": {k: list(v.shape) for k, v in weights.items()},
                 "description": description,
                 "reference": "a line-by-line transcription of the seed's forward code "
                              + ("(torch)" if weights_file.endswith(".safetensors") else "(numpy)")})
    if notes:
        meta["notes"] = notes
    (d / "case.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{name}: " + ", ".join(f"{k} {list(v.shape)}" for k, v in expect.items()))


# --------------------------------------------------------------------------------------------
# TensorFlow 1 names: a graph hands out unique op names, so a variable's name is its scope, its
# own name (uniquified: the second 'forget_gate_wf' is 'forget_gate_wf_1'), and ':0'.
# --------------------------------------------------------------------------------------------

class TFNames:
    def __init__(self):
        self.used = set()

    def unique(self, name):
        if name not in self.used:
            self.used.add(name)
            return name
        i = 1
        while f"{name}_{i}" in self.used:
            i += 1
        self.used.add(f"{name}_{i}")
        return f"{name}_{i}"

    def scope(self, name):
        """tf.variable_scope('gru_init') opened again opens name scope 'gru_init_1'."""
        return self.unique(name) + "/"

    def variable(self, scope, name):
        return self.unique(scope + name) + ":0"


def sigmoid(x):
    return (1 / (1 + np.exp(-x))).astype(x.dtype)


# --------------------------------------------------------------------------------------------
# Seed 000: class GRU of "Build a Custom GRU Network Using TensorFlow"
# --------------------------------------------------------------------------------------------

class Seed000GRU:
    """GRU.__init__, create_recurrent_unit and its unit, in numpy (float32, as TF computes)."""

    def __init__(self, names, rng, inputs, emb_dim, hidden_dim, sequence_length=None, revers=False,
                 reset_gate=True):
        self.emb_dim, self.hidden_dim = emb_dim, hidden_dim
        self.time_step, self.batch_size = inputs.shape[1], inputs.shape[0]
        if revers:
            if sequence_length is not None:
                inputs = reverse_sequence(inputs, sequence_length)
            else:
                inputs = inputs[:, ::-1]
        self.inputs = inputs.transpose(1, 0, 2)
        scope = names.scope("gru_init")
        self.variables = {}
        self.g_recurrent_unit = self.create_recurrent_unit(names, scope, rng, reset_gate)
        self.g_output_unit = lambda hidden_state: hidden_state
        h0 = np.zeros([self.batch_size, self.hidden_dim], np.float32)
        # tf.while_loop: step i reads inputs[i] (the next x is looked up at min(i + 1, T - 1)).
        gen_o = []
        i, x_t, h_tm1 = 0, self.inputs[0], h0
        while i < self.time_step:
            h_t = self.g_recurrent_unit(x_t, h_tm1)
            gen_o.append(self.g_output_unit(h_t))
            i_next = i + 1 if i < self.time_step - 1 else self.time_step - 1
            i, x_t, h_tm1 = i + 1, self.inputs[i_next], h_t
        self.outputs = np.stack(gen_o).transpose(1, 0, 2)

    def create_recurrent_unit(self, names, scope, rng, reset_gate):
        e, h = self.emb_dim, self.hidden_dim

        def var(name, value):
            key = names.variable(scope, name)
            self.variables[key] = value
            return value

        def init_matrix(shape):  # tf.random_normal(shape, stddev=0.1)
            return (rng.standard_normal(shape) * 0.1).astype(np.float32)

        def init_vector(shape):  # tf.zeros in the seed; drawn here, as training would move them
            return (rng.standard_normal(shape) * 0.1).astype(np.float32)

        if reset_gate:
            Wi = var("input_gate_wi", init_matrix([e, h]))
            Ui = var("input_gate_ui", init_matrix([h, h]))
            bi = var("input_gate_bias", init_vector([h]))
        Wf = var("forget_gate_wf", init_matrix([e, h]))
        Uf = var("forget_gate_wf", init_matrix([h, h]))  # the seed names both 'forget_gate_wf'
        bf = var("forget_gate_bias", init_vector([h]))
        Wc = var("control_gate_wc", init_matrix([e, h]))
        Uc = var("control_gate_uc", init_matrix([h, h]))
        bc = var("control_gate_bias", init_vector([h]))

        def unit(x, previous_hidden_state):
            if reset_gate:
                r = sigmoid(x @ Wi + previous_hidden_state @ Ui + bi)
            z = sigmoid(x @ Wf + previous_hidden_state @ Uf + bf)
            if reset_gate:
                n = np.tanh(x @ Wc + (r * previous_hidden_state) @ Uc + bc)
            else:  # section 3.4, "Remove reset gate": the candidate sees the whole state
                n = np.tanh(x @ Wc + previous_hidden_state @ Uc + bc)
            current_hidden_state = (1 - z) * n + z * previous_hidden_state
            return current_hidden_state

        return unit

    def output(self):
        return self.outputs


def reverse_sequence(x, lengths):
    """tf.reverse_sequence(x, seq_lengths, seq_axis=1, batch_axis=0): each sequence's first
    lengths[b] steps reversed, the rest left where they are."""
    out = x.copy()
    for b, n in enumerate(lengths):
        out[b, :n] = x[b, :n][::-1]
    return out


SEED000_MAPS = {  # grucc tensor -> the seed's variable
    "h.w_r": "input_gate_wi", "h.u_r": "input_gate_ui", "h.b_r": "input_gate_bias",
    "h.w_z": "forget_gate_wf", "h.u_z": "forget_gate_wf_1", "h.b_z": "forget_gate_bias",
    "h.w_n": "control_gate_wc", "h.u_n": "control_gate_uc", "h.b_n": "control_gate_bias",
}


def seed000_maps(scope, reset_gate=True, layer="h"):
    lines = []
    for target, var in SEED000_MAPS.items():
        if not reset_gate and target.endswith("_r"):
            continue
        target = layer + target[1:]
        lines.append(f'map {target} = "{scope}{var}:0"' + ("" if ".b_" in target else ", transposed"))
    return lines


def seed000_cases():
    rng = np.random.default_rng(0)
    B, T, E, H = 3, 7, 28, 50
    x = rng.standard_normal([B, T, E]).astype(np.float32)
    for name, spec, reset_gate in [("seed000_gru", "seed000-gru", True),
                                   ("seed000_no_reset", "seed000-no-reset", False)]:
        names = TFNames()
        gru = Seed000GRU(names, rng, x, E, H, reset_gate=reset_gate)
        output = gru.output()
        output_y = output.mean(axis=1)  # tf.reduce_mean(output, 1)
        write_case(
            name, spec=spec, precision="f32", weights=gru.variables, inputs={"x": x},
            expect={"states": output, "mean_state": output_y},
            seed_function="GRU.__init__ / create_recurrent_unit / unit" + ("" if reset_gate else ", section 3.4 without r")
                          + "; tf.reduce_mean(output, 1)",
            description=f"Seed 000's custom TF GRU{'' if reset_gate else ' without its reset gate (3.4)'}: "
                        "every step's state and their mean over time",
            maps=seed000_maps("gru_init/", reset_gate),
            notes="Weights: {v.name: value} of the tf.Variables, scope gru_init; the seed's biases start at zero, "
                  "drawn here. The recurrent weight of z is 'forget_gate_wf_1': the seed names two variables "
                  "'forget_gate_wf' and TF uniquifies the second.")

    # 3.5: a BiGRU from two GRUs, the second reading tf.reverse_sequence(x, len). As the seed
    # computes it: the forward GRU runs over all T steps, padding included; the backward one
    # over the reversed valid prefix and then the padding; the two output sequences are joined
    # step by step as computed (the backward one is not put back in input order); the mean runs
    # over all T steps.
    names = TFNames()
    lengths = np.array([7, 4, 1], np.int32)
    xp = x.copy()
    for b, n in enumerate(lengths):
        xp[b, n:] = 0  # padded batches hold zeros past each end
    fw = Seed000GRU(names, rng, xp, E, H)
    bw = Seed000GRU(names, rng, xp, E, H, sequence_length=lengths, revers=True)
    states = np.concatenate([fw.output(), bw.output()], axis=2)
    write_case(
        "seed000_bigru_exact", spec="seed000-bigru-as-written", precision="f32",
        weights={**fw.variables, **bw.variables}, inputs={"x": xp, "len": lengths},
        expect={"states": states, "mean_state": states.mean(axis=1)},
        seed_function="section 3.5: GRU(x) and GRU(x, sequence_length, revers=True), outputs concatenated, "
                      "tf.reduce_mean(output, 1)",
        description="Seed 000's BiGRU exactly as the seed computes it (padding processed, backward outputs in "
                    "processing order, mean over all T steps)",
        maps=seed000_maps("gru_init/", layer="h.fw") + seed000_maps("gru_init_1/", layer="h.bw"),
        notes="Forward weights under gru_init/, backward under gru_init_1/ (the variable scope opened again). "
              "The padding is zeros, which both GRUs process as steps.")


# --------------------------------------------------------------------------------------------
# Seed 001: class GRU of the Data Blogger adder, and its output layer
# --------------------------------------------------------------------------------------------

def as_bytes(num, final_size):
    res = []
    for _ in range(final_size):
        res.append(num % 2)
        num //= 2
    return res


def seed001_case():
    # The weights grucc train wrote for Specs/seed001-adder.gru, under the seed's names: the
    # seed's x @ Wr is [in, out], grucc's w_r [out, in].
    trained = load_safetensors(SPECS / "seed001-adder.safetensors")
    v = {}
    for gate, letter in [("r", "r"), ("z", "z"), ("n", "h")]:
        v[f"W{letter}:0"] = trained[f"h.w_{gate}"].T.copy()
    for gate, letter in [("r", "r"), ("z", "z"), ("n", "h")]:
        v[f"U{letter}:0"] = trained[f"h.u_{gate}"].T.copy()
    for gate, letter in [("r", "r"), ("z", "z"), ("n", "h")]:
        v[f"b{letter}:0"] = trained[f"h.b_{gate}"].copy()
    v["Variable:0"] = trained["y.w"].T.copy()  # W_output, created without a name
    v["Variable_1:0"] = trained["y.b"].copy()  # b_output
    order = ["Wr", "Wz", "Wh", "Ur", "Uz", "Uh", "br", "bz", "bh"]
    variables = {f"{k}:0": v[f"{k}:0"] for k in order}
    variables["Variable:0"], variables["Variable_1:0"] = v["Variable:0"], v["Variable_1:0"]

    Wr, Wz, Wh = v["Wr:0"], v["Wz:0"], v["Wh:0"]
    Ur, Uz, Uh = v["Ur:0"], v["Uz:0"], v["Uh:0"]
    br, bz, bh = v["br:0"], v["bz:0"], v["bh:0"]
    W_output, b_output = v["Variable:0"], v["Variable_1:0"]

    def forward_pass(h_tm1, x_t):
        z_t = sigmoid(x_t @ Wz + h_tm1 @ Uz + bz)
        r_t = sigmoid(x_t @ Wr + h_tm1 @ Ur + br)
        h_proposal = np.tanh(x_t @ Wh + (r_t * h_tm1) @ Uh + bh)
        return (1 - z_t) * h_tm1 + z_t * h_proposal

    # Section (4): a = 1024, b = 16 on 20 bits, and more additions of the same length.
    rng = np.random.default_rng(1)
    bits = 20
    pairs = [(1024, 16)] + [tuple(int(n) for n in rng.integers(0, 2 ** (bits - 1) - 1, 2)) for _ in range(5)]
    X = np.zeros((len(pairs), bits, 2))
    for i, (a, b) in enumerate(pairs):
        X[i] = np.vstack([as_bytes(a, bits), as_bytes(b, bits)]).T

    x_t = X.transpose(1, 0, 2)  # tf.transpose(input_layer, [1, 0, 2])
    h_0 = x_t[0, :, :] @ np.zeros((2, 16))
    h, states = h_0, []
    for step in x_t:  # tf.scan(forward_pass, x_t, initializer=h_0)
        h = forward_pass(h, step)
        states.append(h)
    h_t = np.stack(states).transpose(1, 0, 2)
    output = np.stack([h @ W_output + b_output for h in h_t])  # tf.map_fn over the batch

    sums = []
    for row in output:
        y_bits = 1 * (row > 0.5)[:, 0]
        sums.append(int("".join(str(int(bit)) for bit in y_bits.tolist())[::-1], 2))
    right = sum(s == a + b for s, (a, b) in zip(sums, pairs))
    print(f"seed001 adder: 1024 + 16 = {sums[0]}; {right} of {len(pairs)} sums right")

    letters = [("r", "r"), ("z", "z"), ("n", "h")]  # the seed's Wh, Uh, bh are the candidate's
    maps = [f'map h.w_{g} = "W{l}:0", transposed' for g, l in letters]
    maps += [f'map h.u_{g} = "U{l}:0", transposed' for g, l in letters]
    maps += [f'map h.b_{g} = "b{l}:0"' for g, l in letters]
    maps += ['map y.w = "Variable:0", transposed             # W_output, created without a name',
             'map y.b = "Variable_1:0"                       # b_output']
    write_case(
        "seed001_adder", spec="seed001-adder", precision="f64", weights=variables, inputs={"x": X},
        expect={"y": output},
        seed_function="GRU.forward_pass under tf.scan, then tf.map_fn(h_t @ W_output + b_output)",
        description="Seed 001's adder (Chung et al.'s GRU, float64) with the weights grucc train made, "
                    "under the seed's variable names",
        maps=maps,
        notes="Weights: Specs/seed001-adder.safetensors saved as the seed's tf.Variables {v.name: value}; "
              "W_output and b_output have no name, so TF calls them Variable and Variable_1. "
              f"Inputs: 1024 + 16 and five random 19-bit additions, 20 bits each; the transcription adds "
              f"{right} of {len(pairs)} right.")


# --------------------------------------------------------------------------------------------
# Seed 002: TF 1.0's GRUCell with LocallyConnected1D; the Theano tutorial's GRU and classifier
# --------------------------------------------------------------------------------------------

def glorot(rng, shape, fan_in, fan_out):
    limit = np.sqrt(6 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(np.float32)


def seed002_tf1_case():
    rng = np.random.default_rng(2)
    B, T, I, H, N = 4, 10, 4, 16, 8
    scope = "rnn/GRUCell/"  # dynamic_rnn's scope, then the cell's: type(self).__name__
    v = {
        f"{scope}Gates/Linear/Matrix:0": glorot(rng, [I + H, 2 * H], I + H, 2 * H),
        # "We start with bias of 1.0 to not reset and not update", moved a little by training.
        f"{scope}Gates/Linear/Bias:0": (1.0 + 0.2 * rng.standard_normal(2 * H)).astype(np.float32),
        f"{scope}Candidate/Linear/Matrix:0": glorot(rng, [I + H, H], I + H, H),
        f"{scope}Candidate/Linear/Bias:0": (0.2 * rng.standard_normal(H)).astype(np.float32),
        # tf.keras LocallyConnected1D(8, 1): kernel (output_length, kernel_size * input_dim, filters).
        "locally_connected1d/kernel:0": glorot(rng, [T, H, N], H, N),
        "locally_connected1d/bias:0": (0.2 * rng.standard_normal([T, N])).astype(np.float32),
    }

    def _linear(args, matrix, bias):
        res = np.concatenate(args, axis=1) @ matrix if len(args) > 1 else args[0] @ matrix
        return res + bias

    def gru_cell(inputs, state):
        r, u = np.split(_linear([inputs, state], v[f"{scope}Gates/Linear/Matrix:0"],
                                v[f"{scope}Gates/Linear/Bias:0"]), 2, axis=1)
        r, u = sigmoid(r), sigmoid(u)
        c = np.tanh(_linear([inputs, r * state], v[f"{scope}Candidate/Linear/Matrix:0"],
                            v[f"{scope}Candidate/Linear/Bias:0"]))
        new_h = u * state + (1 - u) * c
        return new_h, new_h

    x = rng.standard_normal([B, T, I]).astype(np.float32)
    state, outputs = np.zeros([B, H], np.float32), []
    for t in range(T):  # tf.nn.dynamic_rnn, batch-major, zero initial state
        out, state = gru_cell(x[:, t], state)
        outputs.append(out)
    rnn_out = np.stack(outputs, axis=1)

    # LocallyConnected1D(8, 1, 1): K.local_conv1d, kernel_size 1, stride 1, then the bias.
    kernel, bias = v["locally_connected1d/kernel:0"], v["locally_connected1d/bias:0"]
    xs = [rnn_out[:, i:i + 1, :].reshape(1, -1, H) for i in range(T)]
    x_aggregate = np.concatenate(xs, axis=0)  # [output_length, B, kernel_size * input_dim]
    output = np.einsum("tbk,tkn->tbn", x_aggregate, kernel).transpose(1, 0, 2) + bias
    write_case(
        "seed002_tf1_gru_cell", spec="seed002-tf1-gru-cell", precision="f32", weights=v, inputs={"x": x},
        expect={"y": output.astype(np.float32)},
        seed_function="GRUCell.__call__ with _linear (TF 1.0) under dynamic_rnn; LocallyConnected1D(8, 1, 1)",
        description="Seed 002's TF 1.0 GRUCell under its TF 1.0 variable names, and a dense layer per step "
                    "(LocallyConnected1D)",
        weights_line='weights "weights.npz", format tf1                    # rnn/GRUCell/Gates/Linear/Matrix, ...',
        maps=['map y.w = "locally_connected1d/kernel", transposed  # [T, in, out] per step',
              'map y.b = "locally_connected1d/bias"'],
        notes="Weights: {v.name: value}; format tf1 reads TF 1.0's Gates/Linear/Matrix names and drops ':0'. "
              "Flatten() after LocallyConnected1D gives [B, 80], the same values as grucc's [B, 10, 8].")


def ortho_weight(rng, ndim):
    W = rng.standard_normal((ndim, ndim))
    u, s, v = np.linalg.svd(W)
    return u.astype(np.float32)


def seed002_theano_case():
    rng = np.random.default_rng(3)
    dim, ydim, T, B = 32, 2, 9, 4
    params = {}
    # param_init_lstm (the question's GRU): W and U stack r | u | c as column blocks.
    params["lstm_W"] = np.concatenate([ortho_weight(rng, dim), ortho_weight(rng, dim), ortho_weight(rng, dim)], axis=1)
    params["lstm_U"] = np.concatenate([ortho_weight(rng, dim), ortho_weight(rng, dim), ortho_weight(rng, dim)], axis=1)
    params["lstm_b"] = (0.1 * rng.standard_normal(3 * dim)).astype(np.float32)  # zeros in the seed
    # The tutorial's classifier: U = 0.01 * randn(dim_proj, ydim), b zeros (drawn here).
    params["U"] = (0.01 * rng.standard_normal((dim, ydim))).astype(np.float32)
    params["b"] = (0.1 * rng.standard_normal(ydim)).astype(np.float32)

    def _slice(_x, n, dim):
        if _x.ndim == 3:
            return _x[:, :, n * dim:(n + 1) * dim]
        return _x[:, n * dim:(n + 1) * dim]

    def lstm_layer(state_below, mask):
        U = params["lstm_U"]

        def _step(m_, x_, h_):
            preact = h_ @ U
            preact = preact + x_
            r = sigmoid(_slice(preact, 0, dim))
            u = sigmoid(_slice(preact, 1, dim))
            U_h_t = _slice(U, 2, dim)
            x_h_t = _slice(x_, 2, dim)
            h_t_temp = np.tanh((r * h_) @ U_h_t + x_h_t)
            h = (1. - u) * h_ + u * h_t_temp
            h = m_[:, None] * h + (1. - m_)[:, None] * h_
            return h

        state_below = state_below @ params["lstm_W"] + params["lstm_b"]
        h, rval = np.zeros((state_below.shape[1], dim), np.float32), []
        for m_, x_ in zip(mask, state_below):  # theano.scan over the steps
            h = _step(m_, x_, h)
            rval.append(h)
        return np.stack(rval)

    emb = rng.standard_normal((T, B, dim)).astype(np.float32)  # the embedded words, time-major
    lengths = np.array([9, 5, 2, 7], np.int32)
    mask = np.zeros((T, B), np.float32)
    for i, n in enumerate(lengths):  # prepare_data: x_mask[:lengths[idx], idx] = 1.
        mask[:n, i] = 1.
    proj = lstm_layer(emb, mask)
    proj = (proj * mask[:, :, None]).sum(axis=0)  # build_model, encoder 'lstm' (mean pooling)
    proj = proj / mask.sum(axis=0)[:, None]
    logits = proj @ params["U"] + params["b"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    pred = e / e.sum(axis=1, keepdims=True)  # tensor.nnet.softmax
    maps = []
    for k, gate in enumerate(["r", "z", "n"]):
        cols = f"{k * dim}:{(k + 1) * dim}"
        maps += [f'map h.w_{gate} = "lstm_W", columns {cols}, transposed',
                 f'map h.u_{gate} = "lstm_U", columns {cols}, transposed',
                 f'map h.b_{gate} = "lstm_b", columns {cols}']
    maps += ['map p.w = "U", transposed                      # pred = softmax(dot(proj, U) + b)',
             'map p.b = "b"']
    write_case(
        "seed002_theano_masked", spec="seed002-theano-masked", precision="f32", weights=params,
        inputs={"x": emb, "mask_len": lengths}, expect={"p": pred.astype(np.float32)},
        seed_function="param_init_lstm / lstm_layer (the question's GRU) with the tutorial's mean pooling "
                      "and softmax classifier",
        description="Seed 002's Theano GRU (lstm_W [dim, 3 dim] = r | u | c) under the tutorial's "
                    "parameter names, masked, mean-pooled, softmax",
        maps=maps,
        notes="Weights: the tutorial's params dict (numpy.savez(saveto, **params)) without Wemb; the model's "
              "input is the embedded sequence. The mask is a prefix of ones (prepare_data), given as "
              "lengths; dropout off (use_dropout=False).")


# --------------------------------------------------------------------------------------------
# Seed 003: PyTorch's GRUCell with GRUClassifier, and GRU_cell_AI_SUMMER
# --------------------------------------------------------------------------------------------

def seed003_cases():
    import torch
    import torch.nn as nn

    torch.manual_seed(4)
    torch.set_num_threads(1)

    class GRUCell(nn.Module):
        def __init__(self, input_size, hidden_size):
            super().__init__()
            self.input_size, self.hidden_size = input_size, hidden_size
            self.reset_gate = nn.Linear(input_size + hidden_size, hidden_size)
            self.update_gate = nn.Linear(input_size + hidden_size, hidden_size)
            self.hidden_transform = nn.Linear(input_size + hidden_size, hidden_size)

        def forward(self, input, hidden):
            combined = torch.cat((input, hidden), dim=1)
            reset_gate = torch.sigmoid(self.reset_gate(combined))
            update_gate = torch.sigmoid(self.update_gate(combined))
            combined = torch.cat((input, reset_gate * hidden), dim=1)
            hidden_transform = torch.tanh(self.hidden_transform(combined))
            next_hidden = (1 - update_gate) * hidden + update_gate * hidden_transform
            output = torch.tanh(next_hidden)
            return next_hidden, output

    def over_time(cell, x, h0):
        """The cell over the steps of a time-major x, carrying next_hidden: the two values it
        returns, stacked per step, in the order it returns them."""
        h, firsts, seconds = h0, [], []
        for x_t in x:
            first, second = cell(x_t, h)
            firsts.append(first)
            seconds.append(second)
            h = first
        return torch.stack(firsts), torch.stack(seconds)

    class GRUClassifier(nn.Module):
        def __init__(self, input_size, hidden_size, num_classes):
            super().__init__()
            self.gru = GRUCell(input_size, hidden_size)
            self.fc = nn.Linear(hidden_size, num_classes)

        def forward(self, x, h0):
            out, hn = over_time(self.gru, x, h0)  # the seed: out, hn = self.gru(x, h0)
            out = self.fc(out[-1, :])
            return out

    I, H, C, T, B = 10, 20, 5, 6, 3
    classifier = GRUClassifier(I, H, C).eval()
    x = torch.randn(T, B, I)
    h0 = torch.randn(B, H)
    with torch.no_grad():
        logits = classifier(x, h0)
    state = {k: v.detach().numpy().copy() for k, v in classifier.state_dict().items()}
    maps = []
    for gate, module in [("r", "reset_gate"), ("z", "update_gate"), ("n", "hidden_transform")]:
        maps += [f'map h.w_{gate} = "gru.{module}.weight", columns 0:{I}      # nn.Linear over cat(x, h): [H, I+H]',
                 f'map h.u_{gate} = "gru.{module}.weight", columns {I}:',
                 f'map h.b_{gate} = "gru.{module}.bias"']
    maps += ['map logits.w = "fc.weight"', 'map logits.b = "fc.bias"']
    write_case(
        "seed003_gru_cell_classifier", spec="seed003-gru-cell-classifier", precision="f32", weights=state,
        inputs={"x": x.numpy(), "h.h0": h0.numpy()}, expect={"logits": logits.numpy()},
        weights_file="weights.safetensors",
        seed_function="GRUCell.forward over a time-major sequence; GRUClassifier.forward: out, hn = self.gru(x, h0), "
                      "fc(out[-1, :])",
        description="Seed 003's GRUCell (three nn.Linear over cat(x, h)) and GRUClassifier: fc reads "
                    "next_hidden of the last step, not its tanh",
        maps=maps,
        notes="Weights: safetensors of GRUClassifier.state_dict(). The seed calls its cell once, on x [B, I]; as a "
              "sequence model, the cell runs over each step of a time-major x [T, B, I] from the given h0, and "
              "out[-1, :] is the last step. GRUCell.forward returns (next_hidden, tanh(next_hidden)), so 'out' is "
              "next_hidden.")

    class GRU_cell_AI_SUMMER(nn.Module):
        def __init__(self, input_length=10, hidden_length=20):
            super().__init__()
            self.input_length, self.hidden_length = input_length, hidden_length
            self.linear_reset_w1 = nn.Linear(self.input_length, self.hidden_length, bias=True)
            self.linear_reset_r1 = nn.Linear(self.hidden_length, self.hidden_length, bias=True)
            self.linear_reset_w2 = nn.Linear(self.input_length, self.hidden_length, bias=True)
            self.linear_reset_r2 = nn.Linear(self.hidden_length, self.hidden_length, bias=True)
            self.activation_1 = nn.Sigmoid()
            self.linear_gate_w3 = nn.Linear(self.input_length, self.hidden_length, bias=True)
            self.linear_gate_r3 = nn.Linear(self.hidden_length, self.hidden_length, bias=True)
            self.activation_2 = nn.Sigmoid()
            self.activation_3 = nn.Tanh()

        def reset_gate(self, x, h):
            x_1 = self.linear_reset_w1(x)
            h_1 = self.linear_reset_r1(h)
            return self.activation_1(x_1 + h_1)

        def update_gate(self, x, h):
            x_2 = self.linear_reset_w2(x)
            h_2 = self.linear_reset_r2(h)
            return self.activation_2(h_2 + x_2)

        def update_component(self, x, h, r):
            x_3 = self.linear_gate_w3(x)
            h_3 = r * self.linear_gate_r3(h)
            return self.activation_3(x_3 + h_3)

        def forward(self, x, h):
            r = self.reset_gate(x, h)
            z = self.update_gate(x, h)
            n = self.update_component(x, h, r)
            return (1 - z) * n + z * h

    cell = GRU_cell_AI_SUMMER(I, H).eval()
    xb = torch.randn(B, T, I)
    with torch.no_grad():
        h, states = torch.zeros(B, H), []
        for t in range(T):  # batch-major, from a zero state
            h = cell(xb[:, t], h)
            states.append(h)
        states = torch.stack(states, dim=1)
    state = {k: v.detach().numpy().copy() for k, v in cell.state_dict().items()}
    maps = []
    for gate, (w, r) in {"r": ("linear_reset_w1", "linear_reset_r1"), "z": ("linear_reset_w2", "linear_reset_r2"),
                         "n": ("linear_gate_w3", "linear_gate_r3")}.items():
        maps += [f'map h.w_{gate} = "{w}.weight"', f'map h.b_i{gate} = "{w}.bias"',
                 f'map h.u_{gate} = "{r}.weight"', f'map h.b_h{gate} = "{r}.bias"']
    write_case(
        "seed003_reset_after_cell", spec="seed003-reset-after-cell", precision="f32", weights=state,
        inputs={"x": xb.numpy()}, expect={"states": states.numpy()}, weights_file="weights.safetensors",
        seed_function="GRU_cell_AI_SUMMER.forward over a batch-major sequence from a zero state",
        description="Seed 003's GRU_cell_AI_SUMMER (six nn.Linear with biases, r after the recurrent product) "
                    "under its state_dict names",
        maps=maps,
        notes="Weights: safetensors of GRU_cell_AI_SUMMER.state_dict(). The update gate's Linear layers are "
              "named linear_reset_w2/r2 in the seed, the candidate's linear_gate_w3/r3.")


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    seed000_cases()
    seed001_case()
    seed002_tf1_case()
    seed002_theano_case()
    seed003_cases()
    (OUT / "README.md").write_text(
        "# Seed fixtures\n\n"
        "Written by `Tools/make-seed-fixtures.py` (do not edit by hand; re-run it). Each directory holds one\n"
        "system of the seed documents: its weights under the seed's own variable names (`weights.npz` or\n"
        "`weights.safetensors`), `inputs.npz`, `expect.npz` (the outputs of a transcription of the seed's own\n"
        "forward code) and `case.json` (which seed function, which Spec). `model.gru` repeats the statements\n"
        "of `Specs/<spec>.gru` and reads the weights with `weights`, `format` and `map` lines alone;\n"
        "`SeedFixtureTests` runs it through the interpreter and the generated C and checks that its statements\n"
        "are still the Spec's.\n")


if __name__ == "__main__":
    main()
