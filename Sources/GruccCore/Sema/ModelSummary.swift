// A few lines describing a checked model, for the headers of generated files and for reports.

public enum ModelSummary {
  public static func lines(_ model: Model) -> [String] {
    let input = model.input
    var first = "input \(input.name): \(input.features) values per step, "
    first += input.steps.map { "\($0) steps" } ?? "any number of steps"
    first += ", \(input.layout.rawValue)"
    if let lengths = input.lengths { first += ", lengths '\(lengths)'" }
    var lines = [first]
    for d in model.definitions {
      switch d {
      case .gru(let l): lines.append(layer(l))
      case .sequence(let l): lines.append(l.summary)
      case .norm(let l): lines.append(NormOp(layer: l).summary)
      case .value(let v): lines.append("\(v.isOutput ? "output" : "let") \(v.name) = \(expression(v.value))")
      }
    }
    return lines
  }

  public static func layer(_ l: GRULayer) -> String {
    var s = "gru \(l.name) = \(l.source) -> hidden \(l.hidden): reset \(l.reset.rawValue), update \(l.update.rawValue), "
    s += "bias \(l.bias.rawValue), \(l.direction.rawValue)"
    if l.direction == .bidirectional { s += ", merge \(l.merge.rawValue)" }
    if l.initial == .given { s += ", initial given" }
    if l.gateActivation != .sigmoid { s += ", gate-activation \(l.gateActivation.spelling)" }
    if l.candidateActivation != .tanh { s += ", candidate-activation \(l.candidateActivation.spelling)" }
    if let a = l.backwardGateActivation { s += ", backward-gate-activation \(a.spelling)" }
    if let a = l.backwardCandidateActivation { s += ", backward-candidate-activation \(a.spelling)" }
    if let c = l.clip { s += ", clip \(c)" }
    if l.outputActivation != .identity { s += ", output-activation \(l.outputActivation.spelling)" }
    if l.pastEnd != .zero { s += ", past-end \(l.pastEnd.rawValue)" }
    if l.outputOrder != .input { s += ", output-order \(l.outputOrder.rawValue)" }
    if l.padding != .skipped { s += ", padding \(l.padding.rawValue)" }
    return s
  }

  public static func expression(_ e: HeadExpr) -> String {
    switch e {
    case .ref(let n, _): return n
    case .state(let n, _): return "state(\(n))"
    case .dense(let x, let units, let unshared, _): return "dense(\(expression(x)), \(units)\(unshared ? ", unshared" : ""))"
    case .activation(let a, let x, _):
      let p = a.parameters.map { ", \(Activation.format($0))" }.joined()
      return "\(a.name)(\(expression(x))\(p))"
    case .reduce(let r, let x, _): return "\(r.rawValue)(\(expression(x)))"
    }
  }
}
