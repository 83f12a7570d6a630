// The layers over a sequence's time axis that are not recurrences (issue 15): conv1d, and the
// pad and pool that come with it. Each is a statement shaped like `gru` (`KIND NAME = SOURCE ->
// ...`), checked here into a `SequenceLayer`, and one IR op (`Op.sequenceLayer`).

/// A conv1d statement's choices; the input channels are the source's features, known once
/// shapes are inferred (`geometry(inChannels:)`).
public struct Conv1DLayer: Sendable, Equatable {
  public var filters: Int
  public var kernel: Int
  public var stride: Int = 1
  public var dilation: Int = 1
  public var groups: Int = 1
  public var padding: ConvPadding
  public var bias: Bool = true
  public var activation: Activation = .identity

  public func geometry(inChannels: Int) -> Conv1DGeometry {
    Conv1DGeometry(
      inChannels: inChannels, filters: filters, kernel: kernel, stride: stride, dilation: dilation, groups: groups,
      padding: padding)
  }
}

/// What a pool computes over each window of steps.
public enum PoolKind: String, Sendable, CaseIterable {
  case average, max
}

/// How a pool pads: `valid` (windows inside the sequence) or `same` (Keras's and TensorFlow's:
/// ⌈T / S⌉ windows, the padding split with the smaller half before; padded steps are left out of
/// an average's count and of a max).
public enum PoolPadding: String, Sendable, CaseIterable {
  case valid, same
}

/// A pool statement's choices.
public struct Pool1DLayer: Sendable, Equatable {
  public var kind: PoolKind
  public var size: Int
  public var stride: Int
  public var padding: PoolPadding = .valid

  /// Output steps for `steps` input steps (0 where a valid window does not fit).
  public func outputSteps(_ steps: Int) -> Int {
    switch padding {
    case .valid: return steps < size ? 0 : (steps - size) / stride + 1
    case .same: return (steps + stride - 1) / stride
    }
  }

  /// Steps before step 0 that window 0 starts at (the `same` padding's smaller half).
  public func padBefore(_ steps: Int) -> Int {
    guard padding == .same else { return 0 }
    return max((outputSteps(steps) - 1) * stride + size - steps, 0) / 2
  }
}

/// Whether a conv1d has a bias (`bias yes | no`).
enum YesNo: String, CaseIterable {
  case yes, no
}

/// What a sequence layer computes.
public enum SequenceLayerKind: Sendable, Equatable {
  case conv1d(Conv1DLayer)
  /// Zero steps before the first step and after the last (Keras ZeroPadding1D, F.pad).
  case pad(before: Int, after: Int)
  case pool(Pool1DLayer)

  /// The statement's keyword, for messages and dumps.
  public var keyword: String {
    switch self {
    case .conv1d: return "conv1d"
    case .pad: return "pad"
    case .pool: return "pool"
    }
  }
}

/// One conv1d (pad, pool) statement, checked.
public struct SequenceLayer: Sendable {
  public var name: String
  public var source: String
  public var kind: SequenceLayerKind
  public var range: SourceRange
}

extension Sema {
  /// The options of a conv1d line: `kernel` and `padding` required (the frameworks' defaults differ).
  static let conv1dOptions = ["kernel", "padding", "stride", "dilation", "groups", "bias", "activation"]

  static func checkConv1DOptions(
    _ decl: ConvDecl, _ diagnostics: inout DiagnosticEngine
  ) -> Conv1DLayer? {
    let options = OptionReader(decl.options, declaration: "conv1d", allowed: conv1dOptions)
    let kernel = options.integer("kernel", &diagnostics, minimum: 1)
    let padding = options.choice("padding", ConvPadding.self, &diagnostics)
    let stride = options.integer("stride", &diagnostics, minimum: 1) ?? 1
    let dilation = options.integer("dilation", &diagnostics, minimum: 1) ?? 1
    let groups = options.integer("groups", &diagnostics, minimum: 1) ?? 1
    let bias = options.choice("bias", YesNo.self, &diagnostics) ?? .yes
    let activation = options.activation("activation", &diagnostics) ?? .identity
    options.finish(&diagnostics)
    var ok = true
    for key in ["kernel", "padding"] where !options.mentionedOrMisspelled(key) {
      diagnostics.error(.missingLayerOption(layer: decl.name.text, statement: "conv1d", option: key), at: decl.name.range)
      ok = false
    }
    guard ok, let kernel, let padding else { return nil }
    let layer = Conv1DLayer(
      filters: decl.filters, kernel: kernel, stride: stride, dilation: dilation, groups: groups, padding: padding,
      bias: bias == .yes, activation: activation)
    // The channel count is the source's, checked once shapes are known; groups divide it then.
    if let problem = layer.geometry(inChannels: groups).problem {
      let at = options.clause("groups")?.range ?? options.clause("kernel")?.range ?? decl.filtersClauseRange
      diagnostics.error(.badLayerGeometry(layer: decl.name.text, problem), at: at)
      return nil
    }
    return layer
  }
}

extension SequenceLayerKind {
  /// The choices as `key value` pairs, in a fixed order: for summaries and IR dumps.
  public var options: [(String, String)] {
    switch self {
    case .conv1d(let c):
      var o: [(String, String)] = [("filters", "\(c.filters)"), ("kernel", "\(c.kernel)")]
      if c.stride != 1 { o.append(("stride", "\(c.stride)")) }
      if c.dilation != 1 { o.append(("dilation", "\(c.dilation)")) }
      if c.groups != 1 { o.append(("groups", "\(c.groups)")) }
      o.append(("padding", c.padding.rawValue))
      if !c.bias { o.append(("bias", "no")) }
      if c.activation != .identity { o.append(("activation", c.activation.spelling)) }
      return o
    case .pad(let before, let after):
      return [("before", "\(before)")] + (after == 0 ? [] : [("after", "\(after)")])
    case .pool(let p):
      var o = [(p.kind.rawValue, "\(p.size)")]
      if p.stride != p.size { o.append(("stride", "\(p.stride)")) }
      if p.padding != .valid { o.append(("padding", p.padding.rawValue)) }
      return o
    }
  }
}

extension SequenceLayerKind {
  /// `filters 16, kernel 20, padding causal`
  public var optionsText: String { options.map { "\($0.0) \($0.1)" }.joined(separator: ", ") }
}

extension SequenceLayer {
  /// As the model summary prints it: `conv1d c = x -> filters 16, kernel 20, padding causal`.
  public var summary: String { "\(kind.keyword) \(name) = \(source) -> " + kind.optionsText }
}

extension Sema {
  /// `pad NAME = SOURCE -> before P [, after Q]` and
  /// `pool NAME = SOURCE -> average N | max N [, stride S] [, padding valid | same]`.
  static func checkSequenceLayerOptions(
    _ decl: SequenceLayerDecl, _ diagnostics: inout DiagnosticEngine
  ) -> SequenceLayerKind? {
    let keyword = decl.keyword.text
    func missing(_ option: String) {
      diagnostics.error(.missingLayerOption(layer: decl.name.text, statement: keyword, option: option), at: decl.name.range)
    }
    switch keyword {
    case "pad":
      let options = OptionReader(decl.options, declaration: "pad", allowed: ["before", "after"])
      let before = options.integer("before", &diagnostics, minimum: 0)
      let after = options.integer("after", &diagnostics, minimum: 0)
      options.finish(&diagnostics)
      if before == nil && !options.mentionedOrMisspelled("before") { missing("before") }
      guard let before, options.clause("after") == nil || after != nil else { return nil }
      return .pad(before: before, after: after ?? 0)
    default:
      let options = OptionReader(decl.options, declaration: "pool", allowed: ["average", "max", "stride", "padding"])
      let average = options.integer("average", &diagnostics, minimum: 1)
      let max = options.integer("max", &diagnostics, minimum: 1)
      let stride = options.integer("stride", &diagnostics, minimum: 1)
      let padding = options.choice("padding", PoolPadding.self, &diagnostics) ?? .valid
      options.finish(&diagnostics)
      if let a = options.clause("average"), let m = options.clause("max") {
        diagnostics.error(
          .optionsConflict("average", "max", reason: "a pool takes the average or the max of its window"),
          at: a.range.start < m.range.start ? m.range : a.range)
        return nil
      }
      if !options.mentionedOrMisspelled("average") && !options.mentionedOrMisspelled("max") { missing("average' or 'max") }
      guard let size = average ?? max else { return nil }
      if options.clause("stride") != nil && stride == nil { return nil }
      return .pool(Pool1DLayer(kind: average != nil ? .average : .max, size: size, stride: stride ?? size, padding: padding))
    }
  }
}
