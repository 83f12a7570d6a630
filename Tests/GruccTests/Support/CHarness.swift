// A C main() for one generated model: it reads batches from a binary file of doubles, runs them
// through <model>_run_batch, <model>_run and (when the model streams) the step-by-step API, and
// prints every output in hexadecimal floating point so Swift reads back the exact values.

import Foundation

@testable import GruccCore

/// One batch for the harness, batch-major whatever the model's layout.
struct HarnessCase: Sendable {
  var batch: Int
  var steps: Int
  /// `[B, T, I]`
  var x: [Double]
  /// Valid steps per sequence; nil passes NULL (every step valid) to a model with lengths.
  var lengths: [Int]?
  /// One `[B, F]` array per caller-given initial state, in model order.
  var initial: [[Double]] = []

  func length(_ b: Int) -> Int { lengths?[b] ?? steps }
}

/// What the harness printed for one case. Sequences are batch-major `[B, T, F]`.
extension HarnessCase {
  /// The case as the independent reference takes it: x per sequence and step, initial states by layer.
  func referenceInputs(for model: RefModel) -> RefInputs {
    let i = model.features
    let x = (0..<batch).map { b in
      (0..<steps).map { t in Array(self.x[((b * steps + t) * i)..<((b * steps + t + 1) * i)]) }
    }
    var initial: [String: [[Double]]] = [:]
    for (j, s) in model.initialStates.enumerated() {
      initial[s.layer] = (0..<batch).map { b in Array(self.initial[j][(b * s.features)..<((b + 1) * s.features)]) }
    }
    return RefInputs(x: x, lengths: lengths, initial: initial)
  }

  /// The case as the interpreter takes it: the model's inputs by name.
  func interpreterInputs(for model: RefModel) -> [String: ArrayValue] {
    var inputs = [model.input: ArrayValue(shape: [batch, steps, model.features], values: x)]
    if let name = model.lengths {
      inputs[name] = ArrayValue(shape: [batch], values: (0..<batch).map { Double(length($0)) })
    }
    for (j, s) in model.initialStates.enumerated() {
      inputs[s.name] = ArrayValue(shape: [batch, s.features], values: initial[j])
    }
    return inputs
  }

  /// A sequence output of run_batch (batch-major, `features` wide) with the steps past each
  /// length zeroed: a stream runs its own valid steps only, so past its end it has nothing to
  /// compare (a layer with past-end hold gives those steps values in run_batch).
  func validStepsOnly(_ batchOutput: [Double], features f: Int) -> [Double] {
    guard let lengths, batchOutput.count == batch * steps * f else { return batchOutput }
    var v = batchOutput
    for b in 0..<batch {
      for t in lengths[b]..<steps { for i in 0..<f { v[(b * steps + t) * f + i] = 0 } }
    }
    return v
  }
}

struct HarnessResult: Sendable {
  var batchStatus: Int
  var batch: [String: [Double]] = [:]
  /// `<model>_run` on sequence 0 alone, every step valid.
  var runStatus: Int
  var run: [String: [Double]] = [:]
  /// Each sequence streamed for its own length; sequence outputs are zero past it.
  var streamStatus: Int?
  var stream: [String: [Double]] = [:]
  /// What check_weights said of the blob (external weights only).
  var weightsStatus: Int?
  /// get_state after each stream, `[B, STATE_SIZE]`.
  var streamState: [Double]?
  /// The status of one step more than a fixed-steps model allows.
  var pastEndStatus: Int?
  /// The status of run_batch called with a T other than a fixed-steps model's.
  var wrongStepsStatus: Int?
  /// Statuses of run_batch with B = 0 and with a length above T and below 0 (each must be
  /// ERROR_ARGUMENT), and whether the outputs were left untouched by those calls.
  var refusals: [String: Int] = [:]
  var untouched = false
}

enum HarnessError: Error, CustomStringConvertible {
  case missing(String)
  case malformed(String)

  var description: String {
    switch self {
    case .missing(let key): return "the harness printed nothing for '\(key)'"
    case .malformed(let line): return "cannot read harness line: \(line.prefix(200))"
    }
  }
}

/// Generates the harness for a model, writes its input file and reads its output back. The model's
/// interface comes from the test-side description; the header's size macros are checked against it
/// at compile time.
struct CHarness: Sendable {
  let model: RefModel
  /// The model was compiled with `--weights external`: the harness loads the blob named by its
  /// second argument, checks it once, and passes it to every function that reads weights.
  var externalWeights = false

  init(_ model: RefModel, externalWeights: Bool = false) {
    self.model = model
    self.externalWeights = externalWeights
  }

  /// The arguments every weight-reading call starts with.
  private var blob: [String] { externalWeights ? ["blob"] : [] }

  private var symbol: String { model.name }
  private var macro: String { model.name.uppercased() }
  private var real: String { model.precision == .f32 ? "float" : "double" }
  private func constant(_ s: String) -> String { "\(macro)_\(s.uppercased())" }

  private var outputs: [(name: String, shape: RefShape)] { model.outputs }
  /// `h.h0` → `initial_h_h0_size`, the header's macro suffix.
  private func initialSize(_ name: String) -> String { "initial_\(name.replacingOccurrences(of: ".", with: "_"))_size" }
  private var vectorOutputs: [Int] { outputs.indices.filter { !outputs[$0].shape.isSequence } }

  // MARK: - The C source

  func source(header: String) -> String {
    let rowBody =
      model.layout == .batchMajor
      ? "(void)B;\n    return (size_t)b * T + t;" : "(void)T;\n    return (size_t)t * B + b;"
    var c = """
      /* harness.c: generated by grucc's end-to-end tests (CHarness.swift) for model '\(model.name)'.
       * Reads batches from the binary file argv[1] (doubles) and prints every output as %a. */
      #include "\(header)"

      #include <math.h>
      #include <stdio.h>
      #include <stdlib.h>
      #include <string.h>

      typedef \(real) real;

      /* The header must agree with the tests' own description of the model. */

      """
    var checks = [("input_size", model.features), ("state_size", model.stateSize)]
    if let steps = model.steps { checks.append(("steps", steps)) }
    for o in outputs { checks.append(("output_\(o.name)_size", o.shape.features)) }
    for s in model.initialStates {
      checks.append((initialSize(s.name), s.features))
    }
    for (name, value) in checks {
      c += "typedef char check_\(name)[(\(constant(name)) == \(value)) ? 1 : -1];\n"
    }
    c += """

      static FILE *input_file;

      static double next_value(void) {
          double v;
          if (fread(&v, sizeof v, 1, input_file) != 1) {
              fprintf(stderr, "harness: the input file is too short\\n");
              exit(2);
          }
          return v;
      }

      static void *allocate(size_t bytes) {
          void *p = malloc(bytes ? bytes : 1);
          if (!p) {
              fprintf(stderr, "harness: out of memory\\n");
              exit(2);
          }
          return p;
      }

      static real *read_values(size_t n) {
          real *p = (real *)allocate(n * sizeof *p);
          size_t i;
          for (i = 0; i < n; i++) p[i] = (real)next_value();
          return p;
      }

      /* NaN marks a value the model never wrote; scratch starts as NaN to show it may hold anything. */
      static real *filled(size_t n, real value) {
          real *p = (real *)allocate(n * sizeof *p);
          size_t i;
          for (i = 0; i < n; i++) p[i] = value;
          return p;
      }

      static void print_values(int k, const char *label, const real *p, size_t n) {
          size_t i;
          printf("@ %d %s", k, label);
          for (i = 0; i < n; i++) printf(" %a", (double)p[i]);
          printf("\\n");
      }

      static void print_status(int k, const char *label, int status) {
          printf("! %d %s %d\\n", k, label, status);
      }

      /* The row of step t of sequence b, in the model's \(model.layout.rawValue) layout. */
      static size_t row(int b, int t, int B, int T) {
          \(rowBody)
      }

      int main(int argc, char **argv) {
          int cases, k;
          \(externalWeights ? "void *blob = NULL;" : "")
          if (argc != \(externalWeights ? 3 : 2) || !(input_file = fopen(argv[1], "rb"))) {
              fprintf(stderr, "usage: harness INPUT\(externalWeights ? " WEIGHTS" : "")\\n");
              return 2;
          }
      \(externalWeights ? loadBlobSource() : "")
          cases = (int)next_value();
          for (k = 0; k < cases; k++) {
              const int B = (int)next_value();
              const int T = (int)next_value();
              int b, t, status;
              int *lengths = NULL;
              (void)b;
              real *x = read_values((size_t)B * T * \(constant("input_size")));
              real *scratch = filled(\(constant("scratch_size"))(B, T), (real)NAN);

      """
    if model.lengths != nil {
      c += """
                if ((int)next_value()) {
                    lengths = (int *)allocate((size_t)B * sizeof *lengths);
                    for (b = 0; b < B; b++) lengths[b] = (int)next_value();
                }

        """
    }
    for (j, s) in model.initialStates.enumerated() {
      c += "        real *h0_\(j) = read_values((size_t)B * \(constant(initialSize(s.name))));  /* \(s.name) */\n"
    }
    for (j, o) in outputs.enumerated() {
      c += "        real *out_\(j) = filled(\(count(o, batch: "B")), (real)NAN);  /* \(o.name) */\n"
    }
    let h0s = model.initialStates.indices.map { "h0_\($0)" }
    let outs = outputs.indices.map { "out_\($0)" }
    let batchArgs = blob + ["x", "B", "T"] + (model.lengths != nil ? ["lengths"] : []) + h0s + outs + ["scratch"]
    c += refusalSource(batchArgs)
    c += "        status = \(symbol)_run_batch(\(batchArgs.joined(separator: ", ")));\n"
    c += "        print_status(k, \"batch\", status);\n"
    for (j, o) in outputs.enumerated() {
      c += "        print_values(k, \"batch.\(o.name)\", out_\(j), \(count(o, batch: "B")));\n"
    }
    c += runSource()
    if model.streams { c += streamSource() }
    if model.steps != nil {
      let wrongSteps = blob + ["x", "B", "T + 1"] + batchArgs.dropFirst(blob.count + 3)
      c += """
                /* A fixed-steps model refuses any other T without touching a buffer. */
                status = \(symbol)_run_batch(\(wrongSteps.joined(separator: ", ")));
                print_status(k, "wrong_steps", status);

        """
    }
    c += "        free(x);\n        free(scratch);\n        free(lengths);\n"
    for j in model.initialStates.indices { c += "        free(h0_\(j));\n" }
    for j in outputs.indices { c += "        free(out_\(j));\n" }
    c += """
          }
          fclose(input_file);
          \(externalWeights ? "free(blob);" : "")
          return 0;
      }

      """
    return c
  }

  private func count(_ o: (name: String, shape: RefShape), batch: String) -> String {
    let size = constant("output_\(o.name)_size")
    // A conv1d may change the number of steps of the sequence outputs (the header's SEQUENCE_STEPS).
    let steps = model.convs.isEmpty ? "T" : "\(constant("sequence_steps"))(T)"
    return o.shape.isSequence ? "(size_t)\(batch) * \(steps) * \(size)" : "(size_t)\(batch) * \(size)"
  }

  /// Bad arguments (B = 0, a length outside 0...T) must be refused before any output is written,
  /// so this runs while the outputs still hold their NaN markers.
  private func refusalSource(_ batchArgs: [String]) -> String {
    func call(replacing index: Int, with value: String) -> String {
      var args = batchArgs
      args[index] = value
      return "\(symbol)_run_batch(\(args.joined(separator: ", ")))"
    }
    var c = """
              {
                  int untouched = 1;
                  size_t i;
                  status = \(call(replacing: blob.count + 1, with: "0"));
                  print_status(k, "refuse_batch", status);

      """
    if model.lengths != nil {
      c += """
                  {
                      int *bad = (int *)allocate((size_t)B * sizeof *bad);
                      for (b = 0; b < B; b++) bad[b] = lengths ? lengths[b] : T;
                      bad[B - 1] = T + 1;
                      status = \(call(replacing: blob.count + 3, with: "bad"));
                      print_status(k, "refuse_long", status);
                      bad[B - 1] = -1;
                      status = \(call(replacing: blob.count + 3, with: "bad"));
                      print_status(k, "refuse_negative", status);
                      free(bad);
                  }

        """
    }
    for (j, o) in outputs.enumerated() {
      c += "            for (i = 0; i < \(count(o, batch: "B")); i++) if (!isnan(out_\(j)[i])) untouched = 0;\n"
    }
    c += "            print_status(k, \"untouched\", untouched);\n        }\n"
    return c
  }

  /// `<model>_run` on sequence 0, copied out of the batch into its own T rows.
  private func runSource() -> String {
    let inputSize = constant("input_size")
    var c = """
              {
                  real *x0 = (real *)allocate((size_t)T * \(constant("input_size")) * sizeof *x0);

      """
    for (j, o) in outputs.enumerated() {
      c += "            real *run_\(j) = filled(\(count(o, batch: "1")), (real)NAN);\n"
    }
    c += """
                  for (t = 0; t < T; t++) {
                      memcpy(x0 + (size_t)t * \(inputSize), x + row(0, t, B, T) * \(inputSize),
                             \(inputSize) * sizeof *x0);
                  }

      """
    let args =
      blob + ["x0", "T"] + model.initialStates.indices.map { "h0_\($0)" } + outputs.indices.map { "run_\($0)" } + ["scratch"]
    c += "            status = \(symbol)_run(\(args.joined(separator: ", ")));\n"
    c += "            print_status(k, \"run\", status);\n"
    for (j, o) in outputs.enumerated() {
      c += "            print_values(k, \"run.\(o.name)\", run_\(j), \(count(o, batch: "1")));\n"
      c += "            free(run_\(j));\n"
    }
    c += "            free(x0);\n        }\n"
    return c
  }

  /// Each sequence through reset (and set_state), one step per valid step, read and get_state.
  private func streamSource() -> String {
    let state = constant("state_size")
    var c = """
              {
                  \(symbol)_state s;
                  real *state = filled(\(state), 0);
                  real *final_states = filled((size_t)B * \(state), (real)NAN);
                  int stream_status = \(constant("ok"));

      """
    if model.steps != nil { c += "            int past_end = \(constant("error_steps"));\n" }
    for (j, o) in outputs.enumerated() {
      // Sequence outputs start at zero: streaming writes only the valid steps.
      c +=
        "            real *stream_\(j) = filled(\(count(o, batch: "B")), \(o.shape.isSequence ? "0" : "(real)NAN"));\n"
      if o.shape.isSequence && model.steps != nil {
        c += "            real *spare_\(j) = filled(\(o.shape.features), 0);\n"
      }
    }
    c += """
                  for (b = 0; b < B; b++) {
                      const int len = lengths ? lengths[b] : T;
                      \(symbol)_reset(&s);

      """
    if !model.initialStates.isEmpty {
      c += "                memset(state, 0, \(state) * sizeof *state);\n"
      var offset = 0
      var given = 0
      for layer in model.layers {
        let size = layer.hidden * layer.directions
        if layer.initialGiven {
          c +=
            "                memcpy(state + \(offset), h0_\(given) + (size_t)b * \(size), \(size) * sizeof *state);\n"
          given += 1
        }
        offset += size
      }
      c += "                \(symbol)_set_state(&s, state);\n"
    }
    let stepOutputs = outputs.indices.filter { outputs[$0].shape.isSequence }
    let stepArgs =
      blob + ["&s", "x + row(b, t, B, T) * \(constant("input_size"))"]
      + stepOutputs.map { "stream_\($0) + row(b, t, B, T) * \(outputs[$0].shape.features)" }
    c += """
                      for (t = 0; t < len; t++) {
                          status = \(symbol)_step(\(stepArgs.joined(separator: ", ")));
                          if (status != \(constant("ok")) && stream_status == \(constant("ok"))) stream_status = status;
                      }

      """
    if !vectorOutputs.isEmpty {
      let readArgs = blob + ["&s"] + vectorOutputs.map { "stream_\($0) + (size_t)b * \(outputs[$0].shape.features)" }
      c += "                \(symbol)_read(\(readArgs.joined(separator: ", ")));\n"
    }
    c += "                \(symbol)_get_state(&s, final_states + (size_t)b * \(state));\n"
    if model.steps != nil {
      let args = blob + ["&s", "x"] + stepOutputs.map { "spare_\($0)" }
      c += """
                        if (len == \(constant("steps"))) {
                            status = \(symbol)_step(\(args.joined(separator: ", ")));
                            if (status != \(constant("error_steps"))) past_end = status;
                        }

        """
    }
    c += "            }\n"
    c += "            print_status(k, \"stream\", stream_status);\n"
    if model.steps != nil { c += "            print_status(k, \"past_end\", past_end);\n" }
    for (j, o) in outputs.enumerated() {
      c += "            print_values(k, \"stream.\(o.name)\", stream_\(j), \(count(o, batch: "B")));\n"
      c += "            free(stream_\(j));\n"
      if o.shape.isSequence && model.steps != nil { c += "            free(spare_\(j));\n" }
    }
    c += """
                  print_values(k, "stream.state", final_states, (size_t)B * \(state));
                  free(state);
                  free(final_states);
              }

      """
    return c
  }

  /// Reads the weights blob into memory malloc aligns, and prints what check_weights says of it.
  private func loadBlobSource() -> String {
    """
        {
            FILE *f = fopen(argv[2], "rb");
            long bytes;
            if (!f || fseek(f, 0, SEEK_END) != 0 || (bytes = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
                fprintf(stderr, "harness: cannot read the weights blob %s\\n", argv[2]);
                return 2;
            }
            blob = allocate((size_t)bytes + 1);
            if (fread(blob, 1, (size_t)bytes, f) != (size_t)bytes) {
                fprintf(stderr, "harness: the weights blob is short\\n");
                return 2;
            }
            fclose(f);
            print_status(0, "weights", \(symbol)_check_weights(blob, (size_t)bytes));
        }

    """
  }

  // MARK: - Input and output

  /// The input file: the number of cases, then per case B, T, x in the model's layout, the lengths
  /// (a flag, then B values) if the model takes them, and each initial state.
  func inputFile(_ cases: [HarnessCase]) -> Data {
    var values: [Double] = [Double(cases.count)]
    for k in cases {
      values += [Double(k.batch), Double(k.steps)]
      values += fromBatchMajor(k.x, batch: k.batch, steps: k.steps, features: model.features)
      if model.lengths != nil {
        if let lengths = k.lengths {
          values.append(1)
          values += lengths.map(Double.init)
        } else {
          values.append(0)
        }
      }
      for h0 in k.initial { values += h0 }
    }
    return values.withUnsafeBufferPointer { Data(buffer: $0) }
  }

  func parse(_ stdout: String, cases: [HarnessCase]) throws -> [HarnessResult] {
    var arrays: [String: [Double]] = [:]
    var statuses: [String: Int] = [:]
    for line in stdout.split(separator: "\n") {
      let fields = line.split(separator: " ")
      guard fields.count >= 3, let k = Int(fields[1]) else { throw HarnessError.malformed(String(line)) }
      let key = "\(k) \(fields[2])"
      switch fields[0] {
      case "@": arrays[key] = fields.dropFirst(3).map { Double(String($0)) ?? .nan }
      case "!":
        guard fields.count == 4, let status = Int(fields[3]) else { throw HarnessError.malformed(String(line)) }
        statuses[key] = status
      default: throw HarnessError.malformed(String(line))
      }
    }
    func array(_ key: String) throws -> [Double] {
      guard let a = arrays[key] else { throw HarnessError.missing(key) }
      return a
    }
    func status(_ key: String) throws -> Int {
      guard let s = statuses[key] else { throw HarnessError.missing(key) }
      return s
    }
    var results: [HarnessResult] = []
    for (k, c) in cases.enumerated() {
      var r = HarnessResult(batchStatus: try status("\(k) batch"), runStatus: try status("\(k) run"))
      if externalWeights { r.weightsStatus = try status("0 weights") }
      for o in outputs {
        let seq = o.shape.isSequence
        let f = o.shape.features
        let batch = try array("\(k) batch.\(o.name)")
        r.batch[o.name] = seq ? toBatchMajor(batch, batch: c.batch, steps: model.outputSteps(c.steps), features: f) : batch
        r.run[o.name] = try array("\(k) run.\(o.name)")
        if model.streams {
          let stream = try array("\(k) stream.\(o.name)")
          r.stream[o.name] = seq ? toBatchMajor(stream, batch: c.batch, steps: c.steps, features: f) : stream
        }
      }
      if model.streams {
        r.streamStatus = try status("\(k) stream")
        r.streamState = try array("\(k) stream.state")
        if model.steps != nil { r.pastEndStatus = try status("\(k) past_end") }
      }
      if model.steps != nil { r.wrongStepsStatus = try status("\(k) wrong_steps") }
      for refusal in ["refuse_batch"] + (model.lengths != nil ? ["refuse_long", "refuse_negative"] : []) {
        r.refusals[refusal] = try status("\(k) \(refusal)")
      }
      r.untouched = try status("\(k) untouched") == 1
      results.append(r)
    }
    return results
  }

  private func toBatchMajor(_ v: [Double], batch: Int, steps: Int, features: Int) -> [Double] {
    guard model.layout == .timeMajor, v.count == batch * steps * features else { return v }
    var out = [Double](repeating: 0, count: v.count)
    for t in 0..<steps {
      for b in 0..<batch {
        for i in 0..<features { out[(b * steps + t) * features + i] = v[(t * batch + b) * features + i] }
      }
    }
    return out
  }

  private func fromBatchMajor(_ v: [Double], batch: Int, steps: Int, features: Int) -> [Double] {
    guard model.layout == .timeMajor else { return v }
    var out = [Double](repeating: 0, count: v.count)
    for t in 0..<steps {
      for b in 0..<batch {
        for i in 0..<features { out[(t * batch + b) * features + i] = v[(b * steps + t) * features + i] }
      }
    }
    return out
  }
}
