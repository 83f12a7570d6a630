// What an importer makes of a framework's model file: a .gru program that says the same thing,
// the weights it names (in grucc's own tensor names), and notes on where grucc's interface differs
// from the original's. `grucc import` writes the program and the weights; `grucc model.onnx`
// compiles them directly.

public struct ImportedModel: Sendable {
  /// The .gru text, with a `weights` statement naming `weightsFile`.
  public var source: String
  var tensors: [NamedTensor]
  public var weightsFile: String
  /// Differences the user should know about (layouts of outputs and initial states).
  public var notes: [String]
  /// The framework's input and output names → grucc's, for callers that feed or check them.
  public var inputNames: [String: String]
  public var outputNames: [String: String]
}

/// An import that cannot be done, with the node it concerns.
public struct ImportError: Error, Sendable, CustomStringConvertible, Equatable {
  public var node: String?
  public var message: String
  /// How far the import got (nodes evaluated): of two attempts, the further one's error is shown.
  var progress: Int = 0

  public var description: String { node.map { "\($0): \(message)" } ?? message }
}

/// A DSL program being written, one statement per line, with unique identifiers.
struct ProgramWriter {
  private(set) var lines: [String] = []
  private var used: Set<String> = []

  mutating func line(_ s: String) { lines.append(s) }

  /// A valid, unused .gru name close to `hint`: letters, digits and `_`, at most 64 characters.
  mutating func name(_ hint: String, fallback: String) -> String {
    var s = String(hint.unicodeScalars.map { c -> Character in
      (c.properties.isASCIIHexDigit || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_")
        && c.isASCII ? Character(c) : "_"
    })
    while s.hasPrefix("_") { s.removeFirst() }
    while s.hasSuffix("_") { s.removeLast() }
    if s.isEmpty || s.first!.isNumber || s.count > 48 || ProgramWriter.reserved.contains(s) { s = fallback }
    var candidate = s
    var k = 2
    while used.contains(candidate) {
      candidate = "\(s)_\(k)"
      k += 1
    }
    used.insert(candidate)
    return candidate
  }

  /// Names the .gru language gives a meaning of its own.
  static let reserved: Set<String> = Set(Parser.statementKeywords + ["hidden", "steps", "seed"])
}
