// Weights read from blocks of file tensors (`map h.w_r = "lstm_W", columns 0:3, transposed`) and
// from TF1's two naming eras: each test stacks known per-gate tensors the way a framework does,
// binds them through a model's map or format lines, and expects the per-gate values back. Also
// the errors of a block that does not fit, and the listing of a file's tensors when one is missing.

import Testing

@testable import GruccCore

@Suite struct MapBlockTests {
  static let (hidden, inputs) = (3, 2)

  /// Per-gate tensors with distinct values, in grucc's names and shapes (`h.w_r` [H, I], ...).
  static func gateTensors(bias: BiasLayout = .single) -> [String: [[Double]]] {
    var next = 0.0
    func matrix(_ rows: Int, _ columns: Int) -> [[Double]] {
      (0..<rows).map { _ in
        (0..<columns).map { _ in
          next += 1
          return next / 100
        }
      }
    }
    var t: [String: [[Double]]] = [:]
    for g in ["r", "z", "n"] {
      t["w_\(g)"] = matrix(hidden, inputs)
      t["u_\(g)"] = matrix(hidden, hidden)
      switch bias {
      case .single: t["b_\(g)"] = matrix(1, hidden)
      case .separate:
        t["b_i\(g)"] = matrix(1, hidden)
        t["b_h\(g)"] = matrix(1, hidden)
      case .none: break
      }
    }
    return t
  }

  static func transpose(_ m: [[Double]]) -> [[Double]] {
    (0..<m[0].count).map { j in m.map { $0[j] } }
  }

  /// Matrices side by side: `[A | B | C]`.
  static func columns(_ blocks: [[[Double]]]) -> [[Double]] {
    (0..<blocks[0].count).map { i in blocks.flatMap { $0[i] } }
  }

  static func tensor(_ name: String, _ m: [[Double]], vector: Bool = false) -> NamedTensor {
    NamedTensor(
      name: name, dtype: .f64, shape: vector ? [m[0].count] : [m.count, m[0].count], values: m.flatMap { $0 })
  }

  static func model(_ layer: String, _ lines: String) -> String {
    "model m\nprecision f64\ninput x[\(inputs)]\n\(layer)\noutput y = h\n\(lines)"
  }

  static let singleLayer = "gru h = x -> hidden 3, reset before, update takes-candidate, bias single"

  /// The bound parameters by name, or the rendered diagnostics.
  static func bound(_ text: String, _ tensors: [NamedTensor]) -> Result<[String: [Double]], BindingFailure> {
    let run = InProcess.run(text, tensors: tensors)
    guard run.errors.isEmpty, let module = run.module(after: "bind-weights") else {
      return .failure(BindingFailure(text: InProcess.render(run.diagnostics, text), diagnostics: run.diagnostics))
    }
    return .success(Dictionary(uniqueKeysWithValues: module.parameters.map { ($0.name, $0.values) }))
  }

  struct BindingFailure: Error {
    var text: String
    var diagnostics: [Diagnostic]
  }

  func expectGates(
    _ result: Result<[String: [Double]], BindingFailure>, _ gates: [String: [[Double]]],
    sourceLocation: Testing.SourceLocation = #_sourceLocation
  ) {
    switch result {
    case .failure(let f): Issue.record("binding failed:\n\(f.text)", sourceLocation: sourceLocation)
    case .success(let parameters):
      #expect(parameters.count == gates.count, sourceLocation: sourceLocation)
      for (name, m) in gates {
        #expect(parameters["h.\(name)"] == m.flatMap { $0 }, "h.\(name)", sourceLocation: sourceLocation)
      }
    }
  }

  // MARK: - Blocks that fit

  /// Seed 002's Theano GRU: `x W` with `lstm_W` [I, 3H] holding r | u | c as column blocks.
  @Test func theanoColumnBlocks() {
    let g = Self.gateTensors()
    let file = [
      Self.tensor("lstm_W", Self.columns(["r", "z", "n"].map { Self.transpose(g["w_\($0)"]!) })),
      Self.tensor("lstm_U", Self.columns(["r", "z", "n"].map { Self.transpose(g["u_\($0)"]!) })),
      Self.tensor("lstm_b", Self.columns(["r", "z", "n"].map { g["b_\($0)"]! }), vector: true),
    ]
    var lines = "weights \"theano.npz\"\n"
    for (k, gate) in ["r", "z", "n"].enumerated() {
      let range = k == 2 ? "6:" : "\(3 * k):\(3 * k + 3)"
      lines += "map h.w_\(gate) = \"lstm_W\", columns \(range), transposed\n"
      lines += "map h.u_\(gate) = \"lstm_U\", columns \(range), transposed\n"
      lines += "map h.b_\(gate) = \"lstm_b\", \(k == 1 ? "rows" : "columns") \(range)\n"  // a vector takes either
    }
    expectGates(Self.bound(Self.model(Self.singleLayer, lines), file), g)
  }

  /// Seed 003's GRUCell: `nn.Linear(I + H, H)` over `cat(x, h)`, weight [H, I+H].
  @Test func linearOverConcatenatedInputAndState() {
    let g = Self.gateTensors()
    let names = ["r": "reset_gate", "z": "update_gate", "n": "hidden_transform"]
    var file: [NamedTensor] = []
    var lines = "weights \"cell.safetensors\"\n"
    for (gate, module) in names.sorted(by: { $0.key < $1.key }) {
      file.append(Self.tensor("\(module).weight", Self.columns([g["w_\(gate)"]!, g["u_\(gate)"]!])))
      file.append(Self.tensor("\(module).bias", g["b_\(gate)"]!, vector: true))
      lines += "map h.w_\(gate) = \"\(module).weight\", columns 0:2\n"
      lines += "map h.u_\(gate) = \"\(module).weight\", columns 2:\n"
      lines += "map h.b_\(gate) = \"\(module).bias\"\n"
    }
    expectGates(Self.bound(Self.model(Self.singleLayer, lines), file), g)
  }

  /// Rows of a matrix, and a row of a [2, 3H] bias for a [H] one (axes of size 1 aside).
  @Test func rowBlocksAndARowOfABias() {
    let g = Self.gateTensors(bias: .separate)
    let layer = "gru h = x -> hidden 3, reset after, update keeps-state, bias separate"
    let w = ["r", "z", "n"].flatMap { g["w_\($0)"]! }  // [3H, I], PyTorch's stacking
    let u = ["r", "z", "n"].flatMap { g["u_\($0)"]! }
    let b = [["r", "z", "n"].flatMap { g["b_i\($0)"]![0] }, ["r", "z", "n"].flatMap { g["b_h\($0)"]![0] }]
    let file = [Self.tensor("W", w), Self.tensor("U", u), Self.tensor("B", b)]
    var lines = "weights \"w.npz\"\n"
    for (k, gate) in ["r", "z", "n"].enumerated() {
      lines += "map h.w_\(gate) = \"W\", rows \(3 * k):\(3 * k + 3)\n"
      lines += "map h.u_\(gate) = \"U\", rows \(3 * k):\(3 * k + 3), columns 0:3\n"
      lines += "map h.b_i\(gate) = \"B\", rows 0:1, columns \(3 * k):\(3 * k + 3)\n"
      lines += "map h.b_h\(gate) = \"B\", rows 1:, columns \(3 * k):\(3 * k + 3)\n"
    }
    expectGates(Self.bound(Self.model(layer, lines), file), g)
  }

  /// Keras's LocallyConnected1D kernel [T, K, N] is one [in, out] matrix per step: `transposed`
  /// turns each into grucc's [N, K], so the unshared dense gets [T, N, K].
  @Test func transposedPerStepMatrices() throws {
    let (steps, k, n) = (3, 2, 4)
    let kernel = (0..<(steps * k * n)).map { Double($0) }
    let text = """
      model m
      input x[2], steps 3
      output y = dense(x, 4, unshared)
      weights "lc.npz"
      map y.w = "locally_connected1d/kernel", transposed
      map y.b = "locally_connected1d/bias"
      """
    let file = [
      NamedTensor(name: "locally_connected1d/kernel", dtype: .f64, shape: [steps, k, n], values: kernel),
      NamedTensor(name: "locally_connected1d/bias", dtype: .f64, shape: [steps, n], values: .init(repeating: 0, count: 12)),
    ]
    let parameters = try Self.bound(text, file).get()
    var expected: [Double] = []
    for t in 0..<steps { for o in 0..<n { for i in 0..<k { expected.append(kernel[(t * k + i) * n + o]) } } }
    #expect(parameters["y.w"] == expected.map { Double(Float($0)) })
  }

  /// TF 1.0 (`Gates/Linear/Matrix`) and later TF 1.x (`gates/kernel`) name the same tensors.
  @Test(arguments: ["rnn/GRUCell/Gates/Linear/", "rnn/gru_cell/gates/"])
  func tf1NamesOfBothEras(prefix: String) {
    let g = Self.gateTensors()
    let old = prefix.contains("Linear")
    let (kernel, bias) = old ? ("Matrix", "Bias") : ("kernel", "bias")
    let candidate = old ? "rnn/GRUCell/Candidate/Linear/" : "rnn/gru_cell/candidate/"
    // [x, h] @ K: the input rows, then the state rows; r | u as column blocks.
    let gates = Self.columns(["r", "z"].map { Self.transpose(g["w_\($0)"]!) + Self.transpose(g["u_\($0)"]!) })
    let file = [
      Self.tensor("\(prefix)\(kernel):0", gates),
      Self.tensor("\(prefix)\(bias):0", Self.columns([g["b_r"]!, g["b_z"]!]), vector: true),
      Self.tensor("\(candidate)\(kernel):0", Self.transpose(g["w_n"]!) + Self.transpose(g["u_n"]!)),
      Self.tensor("\(candidate)\(bias):0", g["b_n"]!, vector: true),
    ]
    let layer = "gru h = x -> hidden 3, reset before, update keeps-state, bias single"
    expectGates(Self.bound(Self.model(layer, "weights \"tf1.npz\", format tf1\n"), file), g)
  }

  // MARK: - Blocks that do not fit

  static let theanoFile = [
    NamedTensor(name: "lstm_W", dtype: .f32, shape: [2, 9], values: .init(repeating: 0.5, count: 18)),
    NamedTensor(name: "lstm_b", dtype: .f32, shape: [9], values: .init(repeating: 0.5, count: 9)),
  ]

  func failure(_ line: String, file: [NamedTensor] = theanoFile) -> BindingFailure? {
    let text = Self.model(Self.singleLayer, "weights \"w.npz\"\n\(line)\n")
    guard case .failure(let f) = Self.bound(text, file) else { return nil }
    return f
  }

  @Test func blockOutsideTheTensorIsAnErrorAtItsRange() throws {
    let f = try #require(failure(#"map h.w_r = "lstm_W", columns 6:12, transposed"#))
    let error = try #require(f.diagnostics.first { $0.message.caseName == "mapBlockOutOfBounds" })
    #expect(error.position == "7:23")
    #expect(error.message.text == "'columns 6:12' is outside tensor 'lstm_W' [2, 9], which has 9 columns")
  }

  @Test func blockOfTheWrongShapeSaysWhetherToTranspose() throws {
    let f = try #require(failure(#"map h.w_r = "lstm_W", columns 0:3"#))
    let error = try #require(f.diagnostics.first { $0.message.caseName == "mapBlockShape" })
    #expect(error.message.text == "'h.w_r' is [3, 2], but the block this map takes from 'lstm_W' [2, 9] is [2, 3]")
    #expect(error.notes.map(\.message.text) == ["add 'transposed': the block is [in, out]"])
  }

  @Test func rowsAndColumnsOfAVectorIsAnError() throws {
    let f = try #require(failure(#"map h.b_r = "lstm_b", rows 0:3, columns 0:3"#))
    #expect(f.diagnostics.contains { $0.message.caseName == "mapOptionMisplaced" && $0.position == "7:23" }, "\(f.text)")
  }

  @Test func missingSourceListsTheFilesTensors() throws {
    let f = try #require(failure(#"map h.w_r = "lstm_w", columns 0:3, transposed"#))
    let error = try #require(f.diagnostics.first { $0.message.caseName == "missingWeight" })
    #expect(error.position == "7:1")
    #expect(error.notes.map(\.message.text).last == "the file has 2 tensors: 'lstm_W' [2, 9], 'lstm_b' [9]")
  }

  /// A big file lists the ten tensors named most like the missing one, and how many it leaves out.
  @Test func bigFilesAreListedByLikeness() throws {
    var file: [NamedTensor] = []
    for k in 0..<30 {
      file.append(NamedTensor(name: "layer\(k)/kernel", dtype: .f32, shape: [2], values: [0, 0]))
    }
    file.insert(NamedTensor(name: "lstm_W", dtype: .f32, shape: [2, 9], values: .init(repeating: 0, count: 18)), at: 17)
    let f = try #require(failure(#"map h.w_r = "lstm_Wx", columns 0:3, transposed"#, file: file))
    let note = try #require(f.diagnostics.first { $0.message.caseName == "missingWeight" }?.notes.last)
    #expect(note.message.text.hasPrefix("the file has 31 tensors; the 10 named most like 'lstm_Wx': 'lstm_W' [2, 9], 'layer0/kernel' [2]"))
    #expect(note.message.text.hasSuffix(", and 21 more"))
  }
}
