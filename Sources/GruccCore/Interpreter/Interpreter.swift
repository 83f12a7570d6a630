// The interpreter: executes any IR graph, before or after any pass, in the model's precision.
// It is the living definition of each op (including the high-level `gru`, written straight from
// the equations), so pass equivalence and the C backend are tested against it.

/// Bad inputs given to the interpreter.
public struct InterpreterError: Error, Sendable, CustomStringConvertible {
  public var message: String
  /// The argument whose value is wrong, when the problem is one input's (the driver names its file).
  public var input: String?

  public init(message: String, input: String? = nil) {
    self.message = message
    self.input = input
  }

  public var description: String { message }
}

public enum Interpreter {
  /// Runs the module's graph. Inputs are keyed by argument name: the sequence as `[B, T, F]`
  /// (batch-major whatever the model's layout), lengths as `[B]` whole numbers in 0...T, initial
  /// states as `[B, F]`. Outputs come back in graph order, sequences as `[B, T, F]`.
  ///
  /// B and T must be at least 1, and everything the run holds (weights, every node's result,
  /// the outputs) must fit `budget`; both are checked before anything is allocated.
  /// Sigmoid, tanh and exp are computed as the C of the same `activations` mode computes them.
  public static func run(
    _ module: Module, inputs: [String: ArrayValue], activations: ActivationMode = .fast, budget: MemoryBudget = .standard
  ) throws(InterpreterError) -> [(name: String, value: ArrayValue)] {
    switch module.precision {
    case .f32:
      var evaluator = Evaluator<Float>(module: module, activations: activations)
      return try evaluator.run(inputs, budget: budget)
    case .f64:
      var evaluator = Evaluator<Double>(module: module, activations: activations)
      return try evaluator.run(inputs, budget: budget)
    }
  }
}

/// A value during evaluation.
enum RuntimeValue<S: InterpreterScalar> {
  case tensor(Tensor<S>)
  case lengths([Int])

  var tensor: Tensor<S> {
    if case .tensor(let t) = self { return t }
    preconditionFailure("expected a tensor")
  }

  var lengths: [Int] {
    if case .lengths(let l) = self { return l }
    preconditionFailure("expected lengths")
  }
}

struct Evaluator<S: InterpreterScalar> {
  let module: Module
  let activations: ActivationMode
  private var parameters: [String: Tensor<S>] = [:]
  private var batch = 1
  private var steps = 1

  init(module: Module, activations: ActivationMode) {
    self.module = module
    self.activations = activations
  }

  mutating func run(
    _ inputs: [String: ArrayValue], budget: MemoryBudget
  ) throws(InterpreterError) -> [(name: String, value: ArrayValue)] {
    let graph = module.graph
    var arguments: [RuntimeValue<S>] = []
    let argumentNodes = graph.argumentNodes
    for name in inputs.keys.sorted() where !argumentNodes.contains(where: { argumentName(graph.nodes[$0]) == name }) {
      throw InterpreterError(message: "the model has no input named '\(name)'")
    }
    // The sequence input fixes B and T; the other arguments are checked against them.
    for i in argumentNodes {
      guard case .argument(let name, let type) = graph.nodes[i].op, type.rank == 3 else { continue }
      guard let value = inputs[name] else { throw InterpreterError(message: "missing input '\(name)'") }
      guard value.shape.count == 3, value.shape[2] == type.features else {
        let expected = value.shape.count == 3 ? "[\(value.shape[0]), \(value.shape[1]), \(type.features)]" : "[B, T, \(type.features)]"
        throw InterpreterError(message: "input '\(name)' has shape \(shapeText(value.shape)), expected \(expected)", input: name)
      }
      // An empty batch or sequence has nothing to compute, and beside a huge other axis its
      // sizes overflow: both are mistakes worth a message rather than an empty result.
      guard value.shape[0] >= 1 else {
        throw InterpreterError(
          message: "input '\(name)' has shape \(shapeText(value.shape)): no sequences (B = 0); give at least one",
          input: name)
      }
      guard value.shape[1] >= 1 else {
        throw InterpreterError(
          message: "input '\(name)' has shape \(shapeText(value.shape)): sequences of no steps (T = 0); give at least one step",
          input: name)
      }
      batch = value.shape[0]
      steps = value.shape[1]
    }
    let need = memoryNeeded()
    if let refusal = budget.refusal(need.bytes, for: need.what) {
      throw InterpreterError(message: refusal)
    }
    for p in module.parameters {
      guard !p.isPlaceholder else { throw InterpreterError(message: "internal: weight @\(p.name) has no values") }
      parameters[p.name] = Tensor(shape: p.shape, data: p.values.map { S($0) })
    }
    for i in argumentNodes {
      guard case .argument(let name, let type) = graph.nodes[i].op else { continue }
      guard let value = inputs[name] else { throw InterpreterError(message: "missing input '\(name)'") }
      arguments.append(try convert(value, name: name, type: type))
    }
    let results = try evaluate(graph, arguments: arguments)
    return graph.outputs.map { o in
      let t = results[o.value.node][o.value.result].tensor
      return (o.name, ArrayValue(shape: t.shape, values: t.data.map { Double($0) }))
    }
  }

  private func argumentName(_ node: Node) -> String? {
    if case .argument(let name, _) = node.op { return name }
    return nil
  }

  /// What a run holds at most, in bytes (nil: more than an Int counts): the weights, every
  /// node's results (the evaluator keeps them all), the largest step of each scan body, and the
  /// outputs as Doubles. With a description naming the largest tensor, for the message.
  private func memoryNeeded() -> (bytes: Int?, what: String) {
    let size = MemoryLayout<S>.size
    var largest: (bytes: Int, what: String)?
    var sizes: [Int?] = module.parameters.map { Checked.byteCount($0.shape, elementSize: size) }
    func visit(_ graph: Graph) -> [Int?] {
      var held: [Int?] = []
      for node in graph.nodes {
        if case .scan(let s) = node.op { held.append(Checked.sum(visit(s.body))) }
        for type in node.types {
          guard let type else { continue }
          let bytes = Checked.byteCount(concrete(type.dims), elementSize: type.dtype == .i32 ? MemoryLayout<Int>.size : size)
          held.append(bytes)
          if let bytes, bytes > largest?.bytes ?? -1 {
            largest = (bytes, "'\(node.hint ?? node.op.mnemonic)' \(type)")
          }
        }
      }
      return held
    }
    sizes += visit(module.graph)
    for o in module.graph.outputs {
      sizes.append(module.graph.type(of: o.value).flatMap { Checked.byteCount(concrete($0.dims), elementSize: 8) })
    }
    let what = "running the model with B = \(batch), T = \(steps)"
      + (largest.map { " (its largest tensor, \($0.what), is \(MemoryBudget.text($0.bytes)))" } ?? "")
    return (Checked.sum(sizes), what)
  }

  private func concrete(_ dims: [Dim]) -> [Int] {
    dims.map { d in
      switch d {
      case .batch: return batch
      case .time: return steps
      case .fixed(let n): return n
      }
    }
  }

  private func convert(_ value: ArrayValue, name: String, type: TensorType) throws(InterpreterError) -> RuntimeValue<S> {
    let expected = concrete(type.dims)
    guard value.shape == expected, value.values.count == Checked.elementCount(expected) else {
      throw InterpreterError(
        message: "input '\(name)' has shape \(shapeText(value.shape)), expected \(shapeText(expected))", input: name)
    }
    if type.dtype == .i32 {
      var lengths: [Int] = []
      for v in value.values {
        guard v == v.rounded(), v >= 0, v <= Double(steps) else {
          throw InterpreterError(
            message: "lengths '\(name)' must be whole numbers from 0 to T = \(steps), found \(v)", input: name)
        }
        lengths.append(Int(v))
      }
      return .lengths(lengths)
    }
    guard value.values.allSatisfy({ $0.isFinite }) else {
      throw InterpreterError(message: "input '\(name)' has a value that is not finite", input: name)
    }
    let data = value.values.map { S($0) }
    // A finite double can still be beyond f32's range (1e39 becomes infinity).
    if let i = data.firstIndex(where: { !$0.isFinite }) {
      throw InterpreterError(
        message: "input '\(name)' has the value \(value.values[i]) (element \(i)), beyond the range of "
          + "\(module.precision.rawValue) (largest \(S.greatestFiniteMagnitude)), the model's precision", input: name)
    }
    return .tensor(Tensor(shape: expected, data: data))
  }

  // MARK: - Graphs

  /// Evaluates a graph; the result has one entry per node, one value per result.
  private func evaluate(_ graph: Graph, arguments: [RuntimeValue<S>]) throws(InterpreterError) -> [[RuntimeValue<S>]] {
    var values: [[RuntimeValue<S>]] = []
    var nextArgument = 0
    for node in graph.nodes {
      let operands = node.operands.map { values[$0.node][$0.result] }
      func t(_ i: Int) -> Tensor<S> { operands[i].tensor }
      switch node.op {
      case .argument:
        values.append([arguments[nextArgument]])
        nextArgument += 1
      case .parameter(let name):
        guard let p = parameters[name] else { throw InterpreterError(message: "internal: no parameter @\(name)") }
        values.append([.tensor(p)])
      case .zeros(let type):
        values.append([.tensor(Tensor(zeros: concrete(type.dims)))])
      case .gru(let g):
        values.append(try gru(g, operands).map { .tensor($0) })
      case .dense(let d):
        let x = t(0)
        let w = parameters["\(d.name).w"]!
        let b = parameters["\(d.name).b"]!
        values.append([.tensor(d.unshared ? linearUnshared(x, w, b) : linear(x, w, b))])
      case .sequenceLayer(let l):
        // Lowered, the parameters are operands; before lower-dense, they are looked up by name.
        let p = operands.count > 1 ? operands.dropFirst().map(\.tensor) : l.parameterNames.map { parameters[$0]! }
        values.append([.tensor(try Kernels.sequenceLayer(l, t(0), p, mode: activations))])
      case .norm(let n):
        // Before lower-dense the op reads its tensors by name, as `dense` does.
        let tensors = operands.count > 1 ? operands.dropFirst().map(\.tensor) : n.parameterNames.map { parameters[$0]! }
        values.append([.tensor(Kernels.normalise(n, t(0), tensors))])
      case .scan(let s):
        values.append(try scan(s, operands).map { .tensor($0) })
      case .linear:
        values.append([.tensor(linear(t(0), t(1), operands.count > 2 ? t(2) : nil))])
      case .linearUnshared:
        values.append([.tensor(linearUnshared(t(0), t(1), operands.count > 2 ? t(2) : nil))])
      case .activation, .add, .mul, .scale, .blend:
        values.append([.tensor(elementwise(node.op, operands.map(\.tensor)))])
      case .fused(let f):
        // Step by step on whole tensors: the same arithmetic, in the same order, as unfused.
        var steps: [Tensor<S>] = []
        for step in f.steps {
          let inputs = step.inputs.map { input -> Tensor<S> in
            switch input {
            case .operand(let k): return t(k)
            case .step(let j): return steps[j]
            }
          }
          steps.append(elementwise(step.op, inputs))
        }
        values.append([.tensor(steps[steps.count - 1])])
      case .packedLinear(let p):
        if case .parameter(let name) = graph.nodes[node.operands[1].node].op,
          let rows = module.parameter(named: name)?.int8
        {
          values.append([.tensor(int8Linear(rows, t(0), operands.count > 2 ? t(2) : nil))])
        } else {
          values.append([.tensor(packedLinear(p, t(0), t(1), operands.count > 2 ? t(2) : nil))])
        }
      case .gradient(let g):
        values.append([.tensor(gradient(g, operands))])
      case .slice(let start, let count):
        let x = t(0)
        var data: [S] = []
        data.reserveCapacity(x.rows * count)
        for r in 0..<x.rows { data += x.data[(r * x.features + start)..<(r * x.features + start + count)] }
        values.append([.tensor(Tensor(shape: x.shape.dropLast() + [count], data: data))])
      case .concat(let axis):
        values.append([.tensor(concat(operands.map(\.tensor), axis: axis))])
      case .reduce(let r):
        values.append([.tensor(reduce(r, t(0), operands.count > 1 ? operands[1].lengths : nil))])
      case .mask:
        values.append([.tensor(mask(t(0), operands[1].lengths))])
      case .hold:
        values.append([.tensor(hold(t(0), operands[1].lengths))])
      case .reverseTime:
        values.append([.tensor(reverseTime(t(0), operands.count > 1 ? operands[1].lengths : nil))])
      }
    }
    return values
  }

  // MARK: - Ops

  private func elementwise(_ op: Op, _ t: [Tensor<S>]) -> Tensor<S> {
    switch op {
    case .activation(let a):
      return Tensor(shape: t[0].shape, data: Kernels.apply(a, t[0].data, features: t[0].features, mode: activations))
    case .add: return Tensor(shape: t[0].shape, data: zip(t[0].data, t[1].data).map { $0 + $1 })
    case .mul: return Tensor(shape: t[0].shape, data: zip(t[0].data, t[1].data).map { $0 * $1 })
    case .scale(let factor):
      let f = S(factor)
      return Tensor(shape: t[0].shape, data: t[0].data.map { $0 * f })
    case .blend:
      let (z, a, b) = (t[0].data, t[1].data, t[2].data)
      return Tensor(shape: t[0].shape, data: z.indices.map { Kernels.blend(z[$0], a[$0], b[$0]) })
    case .argument, .parameter, .zeros, .gru, .dense, .sequenceLayer, .norm, .scan, .linear, .packedLinear, .linearUnshared, .slice, .concat,
      .reduce, .mask, .hold, .reverseTime, .fused, .gradient:
      preconditionFailure("'\(op.mnemonic)' is not elementwise")
    }
  }

  /// The adjoint ops of gradient graphs (see GradientOp), summing in a fixed order.
  private func gradient(_ g: GradientOp, _ operands: [RuntimeValue<S>]) -> Tensor<S> {
    func t(_ i: Int) -> Tensor<S> { operands[i].tensor }
    switch g {
    case .linearInput:
      let (dy, w) = (t(0), t(1))
      let (n, k) = (w.shape[0], w.shape[1])
      return Tensor(shape: dy.shape.dropLast() + [k], data: Kernels.linearInput(dy.data, rows: dy.rows, n: n, weight: w.data, k: k))
    case .linearWeight:
      let (x, dy) = (t(0), t(1))
      let (k, n) = (x.features, dy.features)
      return Tensor(shape: [n, k], data: Kernels.linearWeight(x.data, dy.data, rows: x.rows, k: k, n: n))
    case .sumRows:
      let dy = t(0)
      var db = [S](repeating: 0, count: dy.features)
      for r in 0..<dy.rows { for i in 0..<dy.features { db[i] += dy.data[r * dy.features + i] } }
      return Tensor(shape: [dy.features], data: db)
    case .unsharedInput:
      let (dy, w) = (t(0), t(1))
      let (batch, steps, n, k) = (dy.shape[0], dy.shape[1], w.shape[1], w.shape[2])
      var dx = [S](repeating: 0, count: batch * steps * k)
      for b in 0..<batch {
        for s in 0..<steps {
          for i in 0..<n {
            let d = dy.data[(b * steps + s) * n + i]
            for j in 0..<k { dx[(b * steps + s) * k + j] += d * w.data[(s * n + i) * k + j] }
          }
        }
      }
      return Tensor(shape: [batch, steps, k], data: dx)
    case .unsharedWeight:
      let (x, dy) = (t(0), t(1))
      let (batch, steps, k, n) = (x.shape[0], x.shape[1], x.shape[2], dy.shape[2])
      var dw = [S](repeating: 0, count: steps * n * k)
      for b in 0..<batch {
        for s in 0..<steps {
          for i in 0..<n {
            let d = dy.data[(b * steps + s) * n + i]
            for j in 0..<k { dw[(s * n + i) * k + j] += d * x.data[(b * steps + s) * k + j] }
          }
        }
      }
      return Tensor(shape: [steps, n, k], data: dw)
    case .sumBatch:
      let dy = t(0)
      let (batch, rest) = (dy.shape[0], dy.data.count / max(1, dy.shape[0]))
      var sum = [S](repeating: 0, count: rest)
      for b in 0..<batch { for i in 0..<rest { sum[i] += dy.data[b * rest + i] } }
      return Tensor(shape: Array(dy.shape.dropFirst()), data: sum)
    case .activation(let a):
      let (x, dy) = (t(0), t(1))
      return Tensor(shape: x.shape, data: Kernels.activationGradient(a, x.data, dy.data, features: x.features, mode: activations))
    case .hold:
      let dy = t(0)
      let lengths = operands[1].lengths
      var dx = Tensor<S>(zeros: dy.shape)
      let (batch, steps, f) = (dy.shape[0], dy.shape[1], dy.shape[2])
      for b in 0..<batch {
        let length = lengths[b]
        for t in 0..<length {
          for i in 0..<f { dx.data[(b * steps + t) * f + i] = dy.data[(b * steps + t) * f + i] }
        }
        guard length > 0 else { continue }
        // In step order, as the forward pass copies step L−1 to each later step.
        for t in length..<steps {
          for i in 0..<f { dx.data[(b * steps + length - 1) * f + i] += dy.data[(b * steps + t) * f + i] }
        }
      }
      return dx
    case .reduce(let r):
      let (x, dy) = (t(0), t(1))
      let lengths = operands.count > 2 ? operands[2].lengths : nil
      let (batch, steps, f) = (x.shape[0], x.shape[1], x.shape[2])
      var dx = [S](repeating: 0, count: x.data.count)
      for b in 0..<batch {
        let length = lengths?[b] ?? steps
        guard length > 0 else { continue }
        for i in 0..<f {
          let d = dy.data[b * f + i]
          func at(_ t: Int) -> Int { (b * steps + t) * f + i }
          switch r {
          case .mean:
            for t in 0..<length { dx[at(t)] = d / S(length) }
          case .max:
            // The first step holding the maximum takes the gradient, as the forward pass chose it.
            var best = 0
            for t in 1..<max(1, length) where x.data[at(t)] > x.data[at(best)] { best = t }
            dx[at(best)] = d
          case .last:
            dx[at(length - 1)] = d
          }
        }
      }
      return Tensor(shape: x.shape, data: dx)
    }
  }

  /// The product of int8 weights and int16 activations (Int8Product), in f32 (int8 storage is for
  /// f32 models only).
  private func int8Linear(_ rows: Int8Rows, _ x: Tensor<S>, _ b: Tensor<S>?) -> Tensor<S> {
    let n = rows.scales.count
    let y = Int8Product.product(
      x.data.map { Float($0) }, rows: x.rows, k: x.features, q: rows.q, scales: rows.scales,
      bias: b.map { $0.data.map { Float($0) } })
    return Tensor(shape: x.shape.dropLast() + [n], data: y.map { S(Double($0)) })
  }

  /// Reads the panels back into a row-major `[N, K]` matrix, so the product is the plain one.
  private func packedLinear(_ p: PackedLinear, _ x: Tensor<S>, _ packed: Tensor<S>, _ b: Tensor<S>?) -> Tensor<S> {
    let k = x.features
    var w = [S](repeating: 0, count: p.outputs * k)
    for n in 0..<p.outputs {
      let (panel, lane) = n.quotientAndRemainder(dividingBy: p.panel)
      let width = panel == p.panels - 1 ? p.lastPanel : p.panel
      for j in 0..<k { w[n * k + j] = packed.data[panel * p.panel * k + j * width + lane] }
    }
    return linear(x, Tensor(shape: [p.outputs, k], data: w), b)
  }

  private func linear(_ x: Tensor<S>, _ w: Tensor<S>, _ b: Tensor<S>?) -> Tensor<S> {
    let n = w.shape[0]
    let y = Kernels.linear(x.data, rows: x.rows, k: x.features, weight: w.data, n: n, bias: b?.data)
    return Tensor(shape: x.shape.dropLast() + [n], data: y)
  }

  private func linearUnshared(_ x: Tensor<S>, _ w: Tensor<S>, _ b: Tensor<S>?) -> Tensor<S> {
    let (batch, steps, k) = (x.shape[0], x.shape[1], x.shape[2])
    let n = w.shape[1]
    var y = [S](repeating: 0, count: batch * steps * n)
    for t in 0..<steps {
      let weight = Array(w.data[(t * n * k)..<((t + 1) * n * k)])
      let bias = b.map { Array($0.data[(t * n)..<((t + 1) * n)]) }
      for bi in 0..<batch {
        let row = Array(x.data[((bi * steps + t) * k)..<((bi * steps + t + 1) * k)])
        let out = Kernels.linear(row, rows: 1, k: k, weight: weight, n: n, bias: bias)
        y.replaceSubrange(((bi * steps + t) * n)..<((bi * steps + t + 1) * n), with: out)
      }
    }
    return Tensor(shape: [batch, steps, n], data: y)
  }

  /// Joins row-major tensors along `axis`.
  private func concat(_ parts: [Tensor<S>], axis: Int) -> Tensor<S> {
    let (shape, data) = RowMajor.concatenate(parts.map { ($0.shape, $0.data) }, axis: axis)
    return Tensor(shape: shape, data: data)
  }


  /// Mean, max or last over the valid steps of each sequence; zero for an empty sequence.
  private func reduce(_ r: Reduction, _ x: Tensor<S>, _ lengths: [Int]?) -> Tensor<S> {
    let (batch, steps, f) = (x.shape[0], x.shape[1], x.shape[2])
    var y = [S](repeating: 0, count: batch * f)
    for b in 0..<batch {
      let length = lengths?[b] ?? steps
      guard length > 0 else { continue }
      for i in 0..<f {
        func at(_ t: Int) -> S { x.data[(b * steps + t) * f + i] }
        switch r {
        case .mean:
          var sum: S = 0
          for t in 0..<length { sum += at(t) }
          y[b * f + i] = sum / S(length)
        case .max:
          var m = at(0)
          for t in 1..<max(1, length) where at(t) > m { m = at(t) }
          y[b * f + i] = m
        case .last:
          y[b * f + i] = at(length - 1)
        }
      }
    }
    return Tensor(shape: [batch, f], data: y)
  }

  private func mask(_ x: Tensor<S>, _ lengths: [Int]) -> Tensor<S> {
    var y = x
    let (batch, steps, f) = (x.shape[0], x.shape[1], x.shape[2])
    for b in 0..<batch where lengths[b] < steps {
      for i in ((b * steps + lengths[b]) * f)..<((b + 1) * steps * f) { y.data[i] = 0 }
    }
    return y
  }

  private func hold(_ x: Tensor<S>, _ lengths: [Int]) -> Tensor<S> {
    var y = x
    let (batch, steps, f) = (x.shape[0], x.shape[1], x.shape[2])
    for b in 0..<batch where lengths[b] < steps {
      let last = lengths[b] - 1
      for t in lengths[b]..<steps {
        for i in 0..<f { y.data[(b * steps + t) * f + i] = last < 0 ? 0 : x.data[(b * steps + last) * f + i] }
      }
    }
    return y
  }

  private func reverseTime(_ x: Tensor<S>, _ lengths: [Int]?) -> Tensor<S> {
    var y = x
    let (batch, steps, f) = (x.shape[0], x.shape[1], x.shape[2])
    for b in 0..<batch {
      let length = lengths?[b] ?? steps
      for t in 0..<length {
        let from = (b * steps + length - 1 - t) * f
        y.data.replaceSubrange(((b * steps + t) * f)..<((b * steps + t + 1) * f), with: x.data[from..<(from + f)])
      }
    }
    return y
  }

  /// Runs a scan body once per step; see `Scan` for the meaning of lengths.
  private func scan(_ s: Scan, _ operands: [RuntimeValue<S>]) throws(InterpreterError) -> [Tensor<S>] {
    let sequences = operands[0..<s.sequences].map(\.tensor)
    var states = operands[s.sequences..<(s.sequences + s.states)].map(\.tensor)
    let lengths = s.hasLengths ? operands[operands.count - 1].lengths : nil
    let (batch, steps) = (sequences[0].shape[0], sequences[0].shape[1])
    var outputs: [Tensor<S>?] = Array(repeating: nil, count: s.outputs)
    let order = s.direction == .forward ? Array(0..<steps) : Array((0..<steps).reversed())
    for t in order {
      let active = (0..<batch).map { t < (lengths?[$0] ?? steps) }
      guard active.contains(true) else { continue }
      let stepArguments: [RuntimeValue<S>] = sequences.map { seq in
        let f = seq.shape[2]
        var data: [S] = []
        for b in 0..<batch { data += seq.data[((b * steps + t) * f)..<((b * steps + t + 1) * f)] }
        return .tensor(Tensor(shape: [batch, f], data: data))
      } + states.map { .tensor($0) }
      let values = try evaluate(s.body, arguments: stepArguments)
      let yielded = s.body.outputs.map { values[$0.value.node][$0.value.result].tensor }
      for j in 0..<s.states {
        let f = states[j].features
        for b in 0..<batch where active[b] {
          states[j].data.replaceSubrange((b * f)..<((b + 1) * f), with: yielded[j].data[(b * f)..<((b + 1) * f)])
        }
      }
      for j in 0..<s.outputs {
        let step = yielded[s.states + j]
        let f = step.features
        if outputs[j] == nil { outputs[j] = Tensor(zeros: [batch, steps, f]) }
        for b in 0..<batch where active[b] {
          outputs[j]!.data.replaceSubrange(
            ((b * steps + t) * f)..<((b * steps + t + 1) * f), with: step.data[(b * f)..<((b + 1) * f)])
        }
      }
    }
    // A scan that never ran (all lengths zero) still has outputs of the right shape.
    let features = s.body.outputs.dropFirst(s.states).map { s.body.type(of: $0.value)?.features ?? 0 }
    return states + outputs.enumerated().map { j, o in o ?? Tensor(zeros: [batch, steps, features[j]]) }
  }

  // MARK: - The high-level GRU, from the equations

  /// A `gru` op computed directly: per batch element, per direction, per valid step.
  private func gru(_ g: GRUOp, _ operands: [RuntimeValue<S>]) throws(InterpreterError) -> [Tensor<S>] {
    let layer = g.layer
    let x = operands[0].tensor
    let lengths = g.hasLengths ? operands[1].lengths : nil
    let h0 = g.hasInitialState ? operands[operands.count - 1].tensor : nil
    let (batch, steps, inputSize) = (x.shape[0], x.shape[1], x.shape[2])
    let hidden = layer.hidden
    let directions = g.directionPrefixes
    var outputs = directions.map { _ in Tensor<S>(zeros: [batch, steps, hidden]) }
    var finals = Tensor<S>(zeros: [batch, hidden * directions.count])

    for (d, prefix) in directions.enumerated() {
      func p(_ parameter: CellParameter?) -> [S]? { parameter.flatMap { parameters[$0.name(in: prefix)]?.data } }
      func matvec(_ w: [S]?, _ v: [S], _ k: Int, _ bias: [S]?) -> [S] {
        Kernels.linear(v, rows: 1, k: k, weight: w!, n: hidden, bias: bias)
      }
      func inputBias(_ gate: Gate) -> [S]? { p(layer.inputBias(gate)) }
      func recurrentBias(_ gate: Gate) -> [S]? { p(layer.recurrentBias(gate)) }
      let pass = layer.direction(d)
      func activate(_ a: Activation, _ pre: S) -> S {
        Kernels.activate(a, layer.clip.map { Kernels.activate(.clip($0), pre, activations) } ?? pre, activations)
      }
      let reverse = layer.direction == .reverse || d == 1
      let processed = layer.padding == .processed
      for b in 0..<batch {
        let length = lengths?[b] ?? steps
        var h = h0.map { Array($0.data[(b * hidden * directions.count + d * hidden)..<(b * hidden * directions.count + (d + 1) * hidden)]) }
          ?? [S](repeating: 0, count: hidden)
        // The steps in the order the pass visits them. Skipping the padding, a reverse pass
        // visits the steps past the end first, as no-ops; processing it, a reverse pass reads
        // the valid prefix backwards and then the padding, as tf.reverse_sequence arranges it.
        let visits: [Int]
        switch (reverse, processed) {
        case (false, _): visits = Array(0..<steps)
        case (true, false): visits = Array((0..<steps).reversed())
        case (true, true): visits = Array((0..<length).reversed()) + Array(length..<steps)
        }
        var previous = [S](repeating: 0, count: hidden)
        for (k, t) in visits.enumerated() {
          let position = reverse && layer.outputOrder == .processing ? k : t
          let at = ((b * steps + position) * hidden)..<((b * steps + position + 1) * hidden)
          guard processed || t < length else {
            // A step past the end: zeros, or with `past-end hold` the output visited before it.
            if layer.pastEnd == .hold { outputs[d].data.replaceSubrange(at, with: previous) }
            continue
          }
          let xt = Array(x.data[((b * steps + t) * inputSize)..<((b * steps + t + 1) * inputSize)])
          func gate(_ g: Gate) -> [S] {
            let a = matvec(p(.init(.inputWeight, g)), xt, inputSize, inputBias(g))
            let c = matvec(p(.init(.recurrentWeight, g)), h, hidden, recurrentBias(g))
            return zip(a, c).map { activate(pass.gateActivation, $0 + $1) }
          }
          let r = layer.reset == .none ? nil : gate(.r)
          let z = gate(.z)
          let un = p(.init(.recurrentWeight, .n))
          let xn = matvec(p(.init(.inputWeight, .n)), xt, inputSize, inputBias(.n))
          let hn: [S]
          switch layer.reset {
          case .before: hn = matvec(un, zip(r!, h).map { $0 * $1 }, hidden, recurrentBias(.n))
          case .after: hn = zip(r!, matvec(un, h, hidden, recurrentBias(.n))).map { $0 * $1 }
          case .none: hn = matvec(un, h, hidden, recurrentBias(.n))
          }
          let n = zip(xn, hn).map { activate(pass.candidateActivation, $0 + $1) }
          h = (0..<hidden).map { i in
            layer.update == .keepsState ? Kernels.blend(z[i], h[i], n[i]) : Kernels.blend(z[i], n[i], h[i])
          }
          let out = Kernels.apply(layer.outputActivation, h, features: hidden, mode: activations)
          outputs[d].data.replaceSubrange(at, with: out)
          previous = out
        }
        let offset = b * hidden * directions.count + d * hidden
        finals.data.replaceSubrange(offset..<(offset + hidden), with: h)
      }
    }
    guard directions.count == 2 else { return [outputs[0], finals] }
    let (f, bw) = (outputs[0], outputs[1])
    let merged: Tensor<S>
    switch layer.merge {
    case .concat: merged = concat([f, bw], axis: 2)
    case .sum: merged = Tensor(shape: f.shape, data: zip(f.data, bw.data).map { $0 + $1 })
    case .mul: merged = Tensor(shape: f.shape, data: zip(f.data, bw.data).map { $0 * $1 })
    case .mean: merged = Tensor(shape: f.shape, data: zip(f.data, bw.data).map { ($0 + $1) * S(0.5) })
    }
    return [merged, finals]
  }
}
