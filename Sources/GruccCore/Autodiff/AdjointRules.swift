// The adjoint of each forward op: given ∂loss/∂result, what each operand receives. One case per
// op, in the notation of the forward definitions (Op.swift).

struct AdjointRules {
  var builder: GraphBuilder
  let range: SourceRange
  /// Inside a scan body a product's weight gradient is not formed per step: the weight's entry
  /// is the product's output adjoint itself, which the backward scan yields for summing later.
  var inBody = false

  init(builder: GraphBuilder, range: SourceRange, inBody: Bool = false) {
    self.builder = builder
    self.range = range
    self.inBody = inBody
  }

  private mutating func add(_ op: Op, _ operands: [ValueRef]) -> ValueRef {
    builder.add(op, operands, range: range)
  }

  private mutating func zeros(like v: ValueRef) -> ValueRef {
    add(.zeros(builder.type(of: v)!), [])
  }

  /// The contributions (operand index, adjoint) of `op` applied to `x`, whose result is `y` with
  /// adjoint `dy`. Operands that receive nothing (lengths) are left out.
  mutating func adjoints(_ op: Op, operands x: [ValueRef], result y: ValueRef, dy: ValueRef) -> [(Int, ValueRef)] {
    switch op {
    case .linear:
      var out = [(0, add(.gradient(.linearInput), [dy, x[1]]))]
      if inBody {
        out.append((1, dy))
      } else {
        out.append((1, add(.gradient(.linearWeight), [x[0], dy])))
        if x.count > 2 { out.append((2, add(.gradient(.sumRows), [dy]))) }
      }
      return out
    case .linearUnshared:
      var out = [(0, add(.gradient(.unsharedInput), [dy, x[1]])), (1, add(.gradient(.unsharedWeight), [x[0], dy]))]
      if x.count > 2 { out.append((2, add(.gradient(.sumBatch), [dy]))) }
      return out
    case .activation(let a):
      return [(0, add(.gradient(.activation(a)), [x[0], dy]))]
    case .add:
      return [(0, dy), (1, dy)]
    case .mul:
      return [(0, add(.mul, [dy, x[1]])), (1, add(.mul, [dy, x[0]]))]
    case .scale(let f):
      return [(0, add(.scale(f), [dy]))]
    case .blend:
      // y = z·a + (1 − z)·b: dz = dy·(a − b), da = dy·z, db = dy·(1 − z) = blend(z, 0, dy).
      let difference = add(.add, [x[1], add(.scale(-1), [x[2]])])
      return [
        (0, add(.mul, [dy, difference])), (1, add(.mul, [dy, x[0]])),
        (2, add(.blend, [x[0], zeros(like: dy), dy])),
      ]
    case .slice(let start, let count):
      // Back into the operand's features, zeros around.
      let type = builder.type(of: x[0])!
      var parts: [ValueRef] = []
      if start > 0 { parts.append(add(.zeros(type.withFeatures(start)), [])) }
      parts.append(dy)
      let after = type.features - start - count
      if after > 0 { parts.append(add(.zeros(type.withFeatures(after)), [])) }
      return [(0, parts.count == 1 ? dy : add(.concat(axis: type.rank - 1), parts))]
    case .concat(let axis):
      let type = builder.type(of: y)!
      precondition(axis == type.rank - 1, "concat along axis \(axis) in a differentiated graph")
      var start = 0
      var out: [(Int, ValueRef)] = []
      for (k, v) in x.enumerated() {
        let n = builder.type(of: v)!.features
        out.append((k, add(.slice(start: start, count: n), [dy])))
        start += n
      }
      return out
    case .reduce(let r):
      return [(0, add(.gradient(.reduce(r)), [x[0], dy] + x.dropFirst()))]
    case .mask:
      return [(0, add(.mask, [dy, x[1]]))]
    case .hold:
      return [(0, add(.gradient(.hold), [dy, x[1]]))]
    case .reverseTime:
      // A permutation of the steps that is its own inverse.
      return [(0, add(.reverseTime, [dy] + x.dropFirst()))]
    case .argument, .parameter, .zeros:
      return []
    case .gru, .dense, .sequenceLayer, .norm, .scan, .packedLinear, .fused, .gradient:
      preconditionFailure("'\(op.mnemonic)' is differentiated before lowering, by its scan, or not at all")
    }
  }
}
