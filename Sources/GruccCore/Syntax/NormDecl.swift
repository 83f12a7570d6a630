// The syntax of the normalisation layers: `batchnorm n = x -> epsilon 1e-5` and
// `layernorm n = h -> epsilon 1e-3`. They read like pad and pool: options after the arrow, no
// size (the size is the source's feature count).

/// Which normalisation a `batchnorm` or `layernorm` statement asks for.
public enum NormKind: String, Sendable, Equatable, CaseIterable {
  /// Per channel, with the running statistics of training (inference form).
  case batch
  /// Per step, over the features of that step.
  case layer

  /// The statement keyword: `batchnorm`, `layernorm`.
  public var keyword: String { "\(rawValue)norm" }

  /// In AST dumps: `BatchNorm`, `LayerNorm`.
  public var spelling: String { self == .batch ? "BatchNorm" : "LayerNorm" }
}

/// `batchnorm NAME = SOURCE -> option {, option}`, and the same for `layernorm`.
public struct NormDecl: Sendable, Equatable {
  public var kind: NormKind
  public var name: Name
  public var source: Name
  public var options: [OptionClause]
}
