// The IR verifier: structural and type invariants that every pass must keep. It runs after
// IRGen and after every pass; a failure is a compiler bug, reported with the offending node.

/// A broken invariant: which node, and what is wrong with it.
public struct VerifierError: Error, Sendable, CustomStringConvertible {
  public var path: String
  public var problem: String

  public var description: String { "\(path): \(problem)" }
}

public enum Verifier {
  /// Checks `module`. With `requireTypes`, every result must have a type, equal to what the type
  /// rules infer from its operands (true after shape inference).
  public static func verify(_ module: Module, requireTypes: Bool) -> [VerifierError] {
    var errors: [VerifierError] = []
    verify(module.graph, path: "%", module: module, requireTypes: requireTypes, errors: &errors)
    var names = Set<String>()
    for p in module.parameters {
      if !names.insert(p.name).inserted { errors.append(VerifierError(path: "@\(p.name)", problem: "parameter defined twice")) }
      if !p.isPlaceholder && p.shape.reduce(1, *) != p.values.count {
        errors.append(VerifierError(path: "@\(p.name)", problem: "\(p.values.count) values for shape \(shapeText(p.shape))"))
      }
    }
    var outputNames = Set<String>()
    for o in module.graph.outputs where !outputNames.insert(o.name).inserted {
      errors.append(VerifierError(path: "output \(o.name)", problem: "output defined twice"))
    }
    return errors
  }

  private static func verify(
    _ graph: Graph, path: String, module: Module, requireTypes: Bool, errors: inout [VerifierError]
  ) {
    func fail(_ i: Int, _ problem: String) {
      errors.append(VerifierError(path: "\(path)\(i) (\(graph.nodes[i].op.mnemonic))", problem: problem))
    }
    for (i, node) in graph.nodes.enumerated() {
      if node.types.count != node.op.resultCount {
        fail(i, "has \(node.types.count) result types, expected \(node.op.resultCount)")
        continue
      }
      var operandTypes: [TensorType] = []
      var operandsKnown = true
      for (k, v) in node.operands.enumerated() {
        guard v.node >= 0, v.node < i else {
          fail(i, "operand \(k) refers to node \(v.node), which is not defined before it")
          operandsKnown = false
          continue
        }
        guard v.result >= 0, v.result < graph.nodes[v.node].types.count else {
          fail(i, "operand \(k) refers to result \(v.result) of a node with \(graph.nodes[v.node].types.count)")
          operandsKnown = false
          continue
        }
        if let t = graph.nodes[v.node].types[v.result] { operandTypes.append(t) } else { operandsKnown = false }
      }
      if case .scan(let scan) = node.op {
        verify(scan.body, path: "\(path)\(i)/%t", module: module, requireTypes: true, errors: &errors)
        if scan.body.outputs.contains(where: { $0.value.node >= scan.body.nodes.count }) {
          fail(i, "body yields an undefined value")
          continue
        }
      }
      if requireTypes && node.types.contains(where: { $0 == nil }) {
        fail(i, "result type is unknown after shape inference")
        continue
      }
      guard operandsKnown, !node.types.contains(where: { $0 == nil }) else { continue }
      do {
        let inferred = try TypeRules.infer(node.op, operandTypes, module: module)
        if inferred != node.types.map({ $0! }) {
          fail(i, "declared type \(node.types.map { $0!.description }) but operands give \(inferred.map(\.description))")
        }
      } catch {
        fail(i, error.message.text)
      }
    }
    for o in graph.outputs where o.value.node < 0 || o.value.node >= graph.nodes.count
      || o.value.result >= graph.nodes[o.value.node].types.count
    {
      errors.append(VerifierError(path: "\(path) output \(o.name)", problem: "refers to an undefined value"))
    }
  }
}
