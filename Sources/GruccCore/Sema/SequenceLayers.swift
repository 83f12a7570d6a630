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

/// Whether a conv1d has a bias (`bias yes | no`).
enum YesNo: String, CaseIterable {
  case yes, no
}

/// What a sequence layer computes.
public enum SequenceLayerKind: Sendable, Equatable {
  case conv1d(Conv1DLayer)

  /// The statement's keyword, for messages and dumps.
  public var keyword: String {
    switch self {
    case .conv1d: return "conv1d"
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
    }
  }
}

extension SequenceLayer {
  /// As the model summary prints it: `conv1d c = x -> filters 16, kernel 20, padding causal`.
  public var summary: String {
    "\(kind.keyword) \(name) = \(source) -> " + kind.options.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
  }
}
