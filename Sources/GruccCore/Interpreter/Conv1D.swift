// A convolution over time (LANGUAGE.md, "conv1d"): the reference the generated C will be tested
// against. Not yet reached from a .gru file; the language, IR op and C come next (issue 15).

/// How a conv1d pads the sequence before its first step and after its last.
public enum ConvPadding: String, Sendable, CaseIterable {
  case causal, same, valid
}

/// The shape of a conv1d: everything but its weights.
public struct Conv1DGeometry: Sendable, Equatable {
  public var inChannels: Int
  public var filters: Int
  public var kernel: Int
  public var stride: Int = 1
  public var dilation: Int = 1
  public var groups: Int = 1
  public var padding: ConvPadding

  public init(
    inChannels: Int, filters: Int, kernel: Int, stride: Int = 1, dilation: Int = 1, groups: Int = 1,
    padding: ConvPadding
  ) {
    self.inChannels = inChannels
    self.filters = filters
    self.kernel = kernel
    self.stride = stride
    self.dilation = dilation
    self.groups = groups
    self.padding = padding
  }

  /// What is wrong with the geometry, for Sema to report at the option; nil when it is valid.
  public var problem: String? {
    if kernel < 1 { return "kernel must be at least 1" }
    if stride < 1 { return "stride must be at least 1" }
    if dilation < 1 { return "dilation must be at least 1" }
    if groups < 1 { return "groups must be at least 1" }
    if inChannels % groups != 0 { return "\(inChannels) input channels are not divisible into \(groups) groups" }
    if filters % groups != 0 { return "\(filters) filters are not divisible into \(groups) groups" }
    // The span is computed in checked arithmetic by the caller's limits; here it must only fit.
    let (_, overflow) = (kernel - 1).multipliedReportingOverflow(by: dilation)
    return overflow ? "kernel × dilation is too large" : nil
  }

  /// The steps one output reads, first to last: (K − 1)·D + 1.
  public var span: Int { (kernel - 1) * dilation + 1 }

  /// How many output steps `steps` input steps give (0 where a valid conv's span does not fit).
  public func outputSteps(_ steps: Int) -> Int {
    switch padding {
    case .causal: return steps == 0 ? 0 : (steps - 1) / stride + 1
    case .same: return (steps + stride - 1) / stride
    case .valid: return steps < span ? 0 : (steps - span) / stride + 1
    }
  }

  /// The zeros before step 0. `same` splits its padding as Keras and TensorFlow do: the smaller
  /// half before, so an odd total puts the extra zero after the sequence.
  public func padBefore(_ steps: Int) -> Int {
    switch padding {
    case .causal: return span - 1
    case .same:
      let total = max((outputSteps(steps) - 1) * stride + span - steps, 0)
      return total / 2
    case .valid: return 0
    }
  }

  /// Weights per filter: the channels of its group times the kernel.
  public var weightsPerFilter: Int { inChannels / groups * kernel }
}

extension Kernels {
  /// `y[b, t, f] = A(Σ_{c, j} w[f, c, j] · x[b, t·S − P + j·D, g·C/G + c] + bias[f])`, x `[B, T, C]`,
  /// w `[F, C/G, K]` (PyTorch's layout), bias `[F]` or empty, y `[B, T′, F]`. Each sum runs over
  /// the group's channels, then the taps, from 0 up, and adds the bias last, as the C will; taps
  /// that fall in the padding are skipped rather than multiplied by zero, which is the same sum.
  static func conv1d<S: InterpreterScalar>(
    _ x: [S], batch: Int, steps: Int, geometry g: Conv1DGeometry, weights w: [S], bias: [S],
    activation: Activation = .identity, mode: ActivationMode = .fast
  ) -> [S] {
    let c = g.inChannels
    let f = g.filters
    let perGroupIn = c / g.groups
    let perGroupOut = f / g.groups
    let outSteps = g.outputSteps(steps)
    let before = g.padBefore(steps)
    var y = [S](repeating: 0, count: batch * outSteps * f)
    for b in 0..<batch {
      for t in 0..<outSteps {
        let first = t * g.stride - before
        for o in 0..<f {
          let group = o / perGroupOut
          var acc: S = 0
          for ci in 0..<perGroupIn {
            let channel = group * perGroupIn + ci
            for j in 0..<g.kernel {
              let s = first + j * g.dilation
              guard s >= 0, s < steps else { continue }
              acc += w[(o * perGroupIn + ci) * g.kernel + j] * x[(b * steps + s) * c + channel]
            }
          }
          if !bias.isEmpty { acc += bias[o] }
          y[(b * outSteps + t) * f + o] = activate(activation, acc, mode)
        }
      }
    }
    return y
  }
}

extension Kernels {
  /// A sequence layer (conv1d) on x `[B, T, C]` with its parameters in `SequenceLayerOp.parameterNames`
  /// order. Throws when the output would have no steps.
  static func sequenceLayer<S: InterpreterScalar>(
    _ l: SequenceLayerOp, _ x: Tensor<S>, _ parameters: [Tensor<S>], mode: ActivationMode
  ) throws(InterpreterError) -> Tensor<S> {
    let (batch, steps, channels) = (x.shape[0], x.shape[1], x.shape[2])
    switch l.kind {
    case .conv1d(let c):
      let g = c.geometry(inChannels: channels)
      let out = g.outputSteps(steps)
      guard out >= 1 else {
        throw InterpreterError(
          message: "conv1d '\(l.name)' has no output for \(steps) steps: its kernel spans \(g.span)")
      }
      let y = conv1d(
        x.data, batch: batch, steps: steps, geometry: g, weights: parameters[0].data,
        bias: c.bias ? parameters[1].data : [], activation: c.activation, mode: mode)
      return Tensor(shape: [batch, out, c.filters], data: y)
    case .pad(let before, let after):
      return Tensor(
        shape: [batch, steps + before + after, channels],
        data: pad(x.data, batch: batch, steps: steps, channels: channels, before: before, after: after))
    case .pool(let p):
      let out = p.outputSteps(steps)
      guard out >= 1 else {
        throw InterpreterError(message: "pool '\(l.name)' has no output for \(steps) steps: its window is \(p.size)")
      }
      return Tensor(shape: [batch, out, channels], data: pool(x.data, batch: batch, steps: steps, channels: channels, p))
    }
  }
}
