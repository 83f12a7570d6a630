// Sema for the normalisation layers, `batchnorm` and `layernorm` (Specs/LANGUAGE.md,
// "batchnorm" and "layernorm"): their options, and the layer the model records.

/// A `batchnorm` (inference form, running statistics) or `layernorm` layer over a sequence.
///
///     batchnorm:  y[c] = x[c] * s[c] + (beta[c] - mean[c] * s[c]),  s[c] = gamma[c] / sqrt(variance[c] + eps)
///     layernorm:  y[c] = gamma[c] * (x[c] - mu) / sqrt(var + eps) + beta[c], mu and var over the step's features
public struct NormLayer: Sendable {
  public var kind: NormKind
  public var name: String
  public var source: String
  public var epsilon: Double
  /// Whether the layer has gamma (`scale no`: gamma is 1).
  public var scale: Bool
  /// Whether the layer has beta (`center no`: beta is 0).
  public var center: Bool
  public var range: SourceRange
}

extension Definition {
  /// Whether the definition is a layer whose weights a `map NAME = "prefix"` line can place.
  var isLayer: Bool {
    switch self {
    case .gru, .sequence, .norm: return true
    case .value: return false
    }
  }
}

extension Model {
  public var norms: [NormLayer] {
    definitions.compactMap { if case .norm(let l) = $0 { return l } else { return nil } }
  }
}

extension Sema {
  /// `batchnorm n = x -> epsilon 1e-5 [, scale no] [, center no]`, and the same for `layernorm`.
  /// The source must be a sequence: a name Sema knows as one is checked here, a `let` binding
  /// (whose shape only shape inference knows) there.
  mutating func checkNorm(_ decl: NormDecl, range: SourceRange) -> NormLayer? {
    let keyword = decl.kind.keyword
    let sourceKind = resolve(decl.source)
    let options = OptionReader(decl.options, declaration: keyword, allowed: ["epsilon", "scale", "center"])
    let epsilon = options.positiveNumber("epsilon", &diagnostics)
    let scale = options.choice("scale", YesNo.self, &diagnostics) ?? .yes
    let center = options.choice("center", YesNo.self, &diagnostics) ?? .yes
    options.finish(&diagnostics)
    if epsilon == nil && !options.mentionedOrMisspelled("epsilon") {
      diagnostics.error(.missingEpsilon(statement: keyword, layer: decl.name.text), at: decl.name.range)
    }
    let okName = declare(decl.name, .norm, what: "layer name")
    guard okName, sourceKind != nil, let epsilon else { return nil }
    return NormLayer(
      kind: decl.kind, name: decl.name.text, source: decl.source.text, epsilon: epsilon, scale: scale == .yes,
      center: center == .yes, range: range)
  }
}

extension Sema {
  /// The batchnorms that fold into the conv1d they read (one with no activation, read by the
  /// batchnorm alone), by name: the sequence-layer chain may pass through them, because
  /// fold-batchnorm removes them before the C computes the chain. (With `--weights external`
  /// nothing folds; fold-batchnorm then refuses such a batchnorm, at its line.)
  static func foldableBatchnorms(_ definitions: [Definition], uses: [String: Int]) -> [String: NormLayer] {
    var convs: [String: Conv1DLayer] = [:]
    var result: [String: NormLayer] = [:]
    for d in definitions {
      switch d {
      case .sequence(let l):
        if case .conv1d(let c) = l.kind { convs[l.name] = c }
      case .norm(let n):
        guard n.kind == .batch, let c = convs[n.source], c.activation == .identity, uses[n.source, default: 0] == 1 else {
          continue
        }
        result[n.name] = n
      case .gru, .value:
        continue
      }
    }
    return result
  }
}
