// Exact floating-point literals. Swift's `description` is the shortest decimal that reads back as
// the same value, and C compilers round decimal literals correctly, so the round trip is exact.

enum CLiteral {
  /// A literal of the model's precision: `0.25f` for f32, `0.25` for f64. Values are finite
  /// (weight binding rejects NaN and infinity).
  static func real(_ v: Double, _ precision: Precision) -> String {
    switch precision {
    case .f32: return withPoint(Float(v).description) + "f"
    case .f64: return withPoint(v.description)
    }
  }

  /// `1e-05` is already a floating literal; `3` would be an int, so integers gain `.0`.
  private static func withPoint(_ s: String) -> String {
    s.contains(".") || s.contains("e") || s.contains("E") ? s : s + ".0"
  }
}
