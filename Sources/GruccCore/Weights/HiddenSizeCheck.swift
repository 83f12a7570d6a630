// A weights file made for another hidden size disagrees with every tensor of the layer at once.
// Reporting each tensor would bury the cause; this finds it: when a layer's recurrent weights in
// the file are the expected shape with H' in place of H, the error is at the layer's `hidden N`,
// with a note at the weights line naming the file's tensor that says H', and every mismatch that
// H' explains is left out.

/// A tensor whose shape in the weights file is not the one the model needs.
struct ShapeMismatch {
  var spec: ParameterSpec
  /// The file's tensor and its shape; the shape the model needs in the file's layout.
  var tensor: String
  var found: [Int]
  var expected: [Int]
}

enum HiddenSizeCheck {
  /// The diagnostics for layers whose weights are for another hidden size, and the file tensors
  /// whose mismatches they explain (the others are reported one by one).
  static func explain(
    _ mismatches: [ShapeMismatch], module: Module, file: WeightsFile
  ) -> (diagnostics: [Diagnostic], explained: Set<String>) {
    var diagnostics: [Diagnostic] = []
    var explained = Set<String>()
    let graph = module.graph
    for node in graph.nodes {
      guard case .gru(let g) = node.op else { continue }
      let layer = g.layer
      let own = Set(ParameterSpecs.required(by: node, in: graph).map(\.name))
      // The file's hidden size as the first of the layer's recurrent matrices says it.
      let recurrent = mismatches.first { own.contains($0.spec.name) && $0.spec.role.contains("recurrent weights") }
      guard let r = recurrent, let fileHidden = hidden(r, layerHidden: layer.hidden), fileHidden != layer.hidden
      else { continue }
      let covered = mismatches.filter { m in
        !explained.contains(m.tensor) && fits(m, layerHidden: layer.hidden, fileHidden: fileHidden)
      }
      explained.formUnion(covered.map(\.tensor))
      let note = Diagnostic(.note, .hiddenSizeOfFile(tensor: r.tensor, shape: r.found, hidden: fileHidden), at: file.range)
      diagnostics.append(
        Diagnostic(
          .error, .hiddenSizeMismatch(layer: layer.name, hidden: layer.hidden, file: file.path, fileHidden: fileHidden),
          at: layer.hiddenRange.isNone ? layer.range : layer.hiddenRange, notes: [note]))
    }
    return (diagnostics, explained)
  }

  /// H' when every dimension of the recurrent matrix, a multiple k·H of the layer's H, is k·H' in
  /// the file.
  private static func hidden(_ m: ShapeMismatch, layerHidden h: Int) -> Int? {
    guard m.found.count == m.expected.count, h > 0 else { return nil }
    var candidate: Int?
    for (e, f) in zip(m.expected, m.found) {
      guard e % h == 0, f % (e / h) == 0 else { return nil }
      let value = f / (e / h)
      if let c = candidate, c != value { return nil }
      candidate = value
    }
    return candidate
  }

  /// Whether the file's shape is the expected one with some multiples of H read as multiples of H'.
  private static func fits(_ m: ShapeMismatch, layerHidden h: Int, fileHidden: Int) -> Bool {
    guard m.found.count == m.expected.count else { return false }
    return zip(m.expected, m.found).allSatisfy { e, f in f == e || (e % h == 0 && f == e / h * fileHidden) }
  }
}
