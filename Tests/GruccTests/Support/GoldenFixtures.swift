// Golden inputs that a text editor cannot hold (NUL, invalid UTF-8, an empty file) and the small
// weights files of the weight-error cases. They are committed, built here from code, and checked.

import Foundation

@testable import GruccCore

enum GoldenFixtures {
  /// A file under Tests/Golden, by its path relative to that folder.
  struct File: Sendable {
    var path: String
    var bytes: [UInt8]
  }

  /// RUN lines for generated cases that cannot carry their own (the empty file).
  static let runLines: [String: [String]] = ["diagnostics/empty-file.gru": ["%s"]]

  static let files: [File] = sources + weights

  // MARK: - Sources with bytes a text file cannot hold

  private static func text(_ s: String) -> [UInt8] { Array(s.utf8) }

  private static let tinyModelTail = """
    gru h = x -> hidden 3, reset before, update keeps-state, bias single
    output y = dense(h, 1)

    """

  private static let sources: [File] = [
    File(path: "diagnostics/empty-file.gru", bytes: []),
    File(
      path: "diagnostics/nul-byte-in-source.gru",
      bytes: text(
        "# RUN: grucc %s\n# A NUL byte is an error of its own, and the rest of the line still lexes.\nmodel tiny\n")
        + text("input x[2]") + [0] + text(", steps 4\n") + text(tinyModelTail)),
    File(
      path: "diagnostics/invalid-utf8-in-source.gru",
      bytes: text(
        "# RUN: grucc %s\n# Latin-1 bytes in a comment and a name are invalid UTF-8; each is reported once.\n")
        + text("model tiny  # caf") + [0xE9] + text("\n") + text("input x") + [0xFF, 0xFE] + text("[2]\n")
        + text(tinyModelTail)),
  ]

  // MARK: - Weights files for the model in diagnostics/*weights*.gru

  /// The tensors `model tiny` (input 2, hidden 3, bias single, dense to 1) needs, with simple values.
  static func tinyTensors() -> [NamedTensor] {
    var tensors: [NamedTensor] = []
    var next = 0.0
    func add(_ name: String, _ shape: [Int]) {
      let count = shape.reduce(1, *)
      tensors.append(
        NamedTensor(
          name: name, dtype: .f64, shape: shape,
          values: (0..<count).map { _ in
            next += 0.01
            return next
          }))
    }
    for g in ["r", "z", "n"] { add("h.w_\(g)", [3, 2]) }
    for g in ["r", "z", "n"] { add("h.u_\(g)", [3, 3]) }
    for g in ["r", "z", "n"] { add("h.b_\(g)", [3]) }
    add("y.w", [1, 3])
    add("y.b", [1])
    return tensors
  }

  private static func weightsFile(_ name: String, _ change: (inout [NamedTensor]) -> Void) -> File {
    var tensors = tinyTensors()
    change(&tensors)
    return File(path: "diagnostics/weights/\(name)", bytes: Safetensors.write(tensors))
  }

  private static let weights: [File] = [
    weightsFile("tiny.safetensors") { _ in },
    weightsFile("tiny-without-candidate-recurrent-weights.safetensors") { $0.removeAll { $0.name == "h.u_n" } },
    weightsFile("tiny-with-transposed-input-weights.safetensors") { t in
      let i = t.firstIndex { $0.name == "h.w_z" }!
      t[i].shape = [2, 3]
    },
    weightsFile("tiny-with-nan-in-a-bias.safetensors") { t in
      let i = t.firstIndex { $0.name == "h.b_z" }!
      t[i].values[1] = .nan
    },
    weightsFile("tiny-with-an-extra-tensor.safetensors") { t in
      t.append(NamedTensor(name: "h.w_extra", dtype: .f32, shape: [2], values: [1, 2]))
    },
    weightsFile("tiny-with-integer-bias.safetensors") { t in
      let i = t.firstIndex { $0.name == "y.b" }!
      t[i] = NamedTensor(name: "y.b", dtype: .i32, shape: [1], values: [1])
    },
    File(path: "diagnostics/weights/not-a-safetensors-file.safetensors", bytes: text("these are not weights\n")),
    File(path: "diagnostics/weights/tiny-as-theano.safetensors", bytes: Safetensors.write(stacked(theano: true))),
    File(path: "diagnostics/weights/tiny-as-tf-1.0.safetensors", bytes: Safetensors.write(stacked(theano: false))),
  ]

  /// `tiny`'s tensors stacked as seed 002's Theano GRU (`lstm_W` [I, 3H] = r | u | c, `lstm_U`,
  /// `lstm_b`, the classifier's `U` [H, 1] and `b`) or as TF 1.0's GRUCell names them.
  private static func stacked(theano: Bool) -> [NamedTensor] {
    let t = Dictionary(uniqueKeysWithValues: tinyTensors().map { ($0.name, $0) })
    func transposed(_ name: String) -> [[Double]] {
      let m = t[name]!
      return (0..<m.shape[1]).map { j in (0..<m.shape[0]).map { i in m.values[i * m.shape[1] + j] } }
    }
    func matrix(_ name: String, _ rows: [[Double]]) -> NamedTensor {
      NamedTensor(name: name, dtype: .f64, shape: [rows.count, rows[0].count], values: rows.flatMap { $0 })
    }
    func sideBySide(_ blocks: [[[Double]]]) -> [[Double]] { (0..<blocks[0].count).map { i in blocks.flatMap { $0[i] } } }
    func vector(_ name: String, _ parts: [String]) -> NamedTensor {
      let values = parts.flatMap { t[$0]!.values }
      return NamedTensor(name: name, dtype: .f64, shape: [values.count], values: values)
    }
    if theano {
      return [
        matrix("lstm_W", sideBySide(["r", "z", "n"].map { transposed("h.w_\($0)") })),
        matrix("lstm_U", sideBySide(["r", "z", "n"].map { transposed("h.u_\($0)") })),
        vector("lstm_b", ["h.b_r", "h.b_z", "h.b_n"]),
        matrix("U", transposed("y.w")), vector("b", ["y.b"]),
      ]
    }
    // [x, h] @ Matrix: the input rows, then the state rows.
    return [
      matrix("rnn/GRUCell/Gates/Linear/Matrix", sideBySide(["r", "z"].map { transposed("h.w_\($0)") + transposed("h.u_\($0)") })),
      vector("rnn/GRUCell/Gates/Linear/Bias", ["h.b_r", "h.b_z"]),
      matrix("rnn/GRUCell/Candidate/Linear/Matrix", transposed("h.w_n") + transposed("h.u_n")),
      vector("rnn/GRUCell/Candidate/Linear/Bias", ["h.b_n"]),
      matrix("dense/kernel", transposed("y.w")), vector("dense/bias", ["y.b"]),
    ]
  }

  // MARK: - Writing and checking

  /// Writes every fixture into Tests/Golden (update mode).
  static func write() {
    for f in files {
      let path = "\(Golden.directory)/\(f.path)"
      try? FileManager.default.createDirectory(
        atPath: String(path[..<path.lastIndex(of: "/")!]), withIntermediateDirectories: true)
      if FileManager.default.contents(atPath: path).map({ [UInt8]($0) }) != f.bytes {
        precondition(FileManager.default.createFile(atPath: path, contents: Data(f.bytes)), "cannot write \(path)")
      }
    }
  }

  /// Fixtures whose committed bytes differ from what this file builds.
  static func stale() -> [String] {
    files.filter {
      FileManager.default.contents(atPath: "\(Golden.directory)/\($0.path)").map { [UInt8]($0) } != $0.bytes
    }
    .map(\.path)
  }
}
