// Small ONNX graphs for the importer's tests, written with the protobuf builders of OnnxTests:
// a sequence input, one GRU with seeded weights, and whatever nodes a test adds after it.

import Foundation

@testable import GruccCore

struct OnnxGraphBuilder {
  var nodes: [PB] = []
  var initializers: [PB] = []
  var inputs: [PB] = []
  var outputs: [PB] = []
  var opset: Int64 = 17
  private var counter = 0

  /// A dimension: a number, or a name (dim_param).
  enum Dim { case n(Int64), sym(String) }

  static func dims(_ ds: [Dim]) -> [PB] {
    ds.map { d in
      switch d {
      case .n(let v): return PB().int(1, v)
      case .sym(let s): return PB().string(2, s)
      }
    }
  }

  /// A graph input x [batch, time, features] (batch-major, as PyTorch's batch_first).
  init(features: Int64 = 2, batch: Dim = .sym("batch"), time: Dim = .sym("time"), elemType: Int64 = 1) {
    inputs.append(ONNX.valueInfo("x", elemType: elemType, dims: Self.dims([batch, time, .n(features)])))
  }

  mutating func input(_ name: String, elemType: Int64, dims: [Dim]) {
    inputs.append(ONNX.valueInfo(name, elemType: elemType, dims: Self.dims(dims)))
  }

  mutating func output(_ name: String) { outputs.append(ONNX.valueInfo(name, elemType: 1, dims: nil)) }

  mutating func fresh(_ stem: String) -> String {
    counter += 1
    return "\(stem)_\(counter)"
  }

  /// An INT64 initializer.
  @discardableResult mutating func ints(_ values: [Int64], dims: [Int64]? = nil, name: String? = nil) -> String {
    let n = name ?? fresh("i")
    initializers.append(ONNX.tensor(n, 7, dims: dims ?? [Int64(values.count)]).packedInts(7, values))
    return n
  }

  /// A FLOAT initializer.
  @discardableResult mutating func floats(_ values: [Float], dims: [Int64], name: String? = nil) -> String {
    let n = name ?? fresh("f")
    initializers.append(ONNX.tensor(n, 1, dims: dims).packedFloats(4, values))
    return n
  }

  /// A node with one output (named after the node unless given); returns the output's name.
  @discardableResult mutating func node(
    _ op: String, _ inputs: [String], name: String? = nil, outputs: [String]? = nil, attributes: [PB] = []
  ) -> String {
    let n = name ?? fresh(op)
    let outs = outputs ?? [n]
    nodes.append(ONNX.node(op, name: n, inputs: inputs, outputs: outs, attributes: attributes))
    return outs[0]
  }

  static func intAttribute(_ name: String, _ v: Int64) -> PB { ONNX.attribute(name, type: 2).int(3, v) }
  static func intsAttribute(_ name: String, _ vs: [Int64]) -> PB { ONNX.attribute(name, type: 7).packedInts(8, vs) }
  static func stringAttribute(_ name: String, _ s: String) -> PB { ONNX.attribute(name, type: 3).string(4, s) }

  /// Transpose(x) to [time, batch, F] and a GRU (layout 0) of `hidden` units; returns (Y, Y_h).
  @discardableResult mutating func gru(
    _ source: String = "x", features: Int = 2, hidden: Int = 3, directions: Int = 1, transposeInput: Bool = true,
    lengths: String = "", initial: String = "", name: String = "gru"
  ) -> (y: String, yh: String) {
    let xt = transposeInput ? node("Transpose", [source], attributes: [Self.intsAttribute("perm", [1, 0, 2])]) : source
    let d = Int64(directions)
    let h = Int64(hidden)
    let count = { (n: Int) in (0..<n).map { Float(($0 * 7919) % 17) / 17 - 0.5 } }
    let w = floats(count(directions * 3 * hidden * features), dims: [d, 3 * h, Int64(features)])
    let r = floats(count(directions * 3 * hidden * hidden), dims: [d, 3 * h, h])
    let b = floats(count(directions * 6 * hidden), dims: [d, 6 * h])
    var attributes = [Self.intAttribute("hidden_size", h), Self.intAttribute("linear_before_reset", 1)]
    if directions == 2 { attributes.append(Self.stringAttribute("direction", "bidirectional")) }
    let y = "\(name)_Y"
    let yh = "\(name)_Yh"
    node("GRU", [xt, w, r, b, lengths, initial], name: name, outputs: [y, yh], attributes: attributes)
    return (y, yh)
  }

  func model() -> [UInt8] {
    var m = PB().int(1, 8).string(2, "tests").message(7, ONNX.graph(nodes: nodes, initializers: initializers, inputs: inputs, outputs: outputs))
    m = m.message(8, PB().string(1, "").int(2, opset))
    return m.encoded
  }

  func imported() -> Result<ImportedModel, ImportError> {
    OnnxImporter.importModel(model(), modelName: "m", weightsFile: "m.safetensors", sourceName: "m.onnx")
  }

  /// The imported .gru's statements (comments dropped), or the error's text.
  func result() -> String {
    switch imported() {
    case .success(let m): return m.source.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
    case .failure(let e): return "error: \(e.description)"
    }
  }
}
