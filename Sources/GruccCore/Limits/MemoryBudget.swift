// The memory budget: how many bytes one grucc command may set aside for numbers. Readers, weight
// binding and the interpreter ask it before they allocate, so a file or model that would need
// 34 GB is an error naming what needed it, instead of an abort (or a machine swapping).

/// A limit on the bytes a command allocates for arrays: decoded file contents (widened to 8-byte
/// values), bound weights and the tensors of an interpreter run. `--max-memory` sets it.
public struct MemoryBudget: Sendable, Equatable {
  /// The most bytes one request may need.
  public var limit: Int

  /// 4 GiB: more than any model or data set in this repository needs by a factor of a hundred,
  /// and little enough that a mistaken size fails at once on a laptop.
  public static let defaultLimit = 4 << 30
  public static let standard = MemoryBudget(limit: defaultLimit)

  /// The option that raises the limit, for messages.
  static let option = "--max-memory"

  public init(limit: Int) { self.limit = limit }

  /// Why `bytes` (`nil`: more than an Int can count) is too much for `what`, or nil when it fits.
  /// `what` says what would hold the memory: "tensor 'h.u_r' [65536, 65536]".
  func refusal(_ bytes: Int?, for what: String) -> String? {
    guard let bytes else {
      return "\(what) would need more memory than a 64-bit size can count"
    }
    guard bytes > limit else { return nil }
    return "\(what) would need \(Self.text(bytes)) of memory, over grucc's limit of \(Self.text(limit)); "
      + "raise the limit with '\(Self.option) SIZE' (e.g. \(Self.option) \(Self.suggestion(for: bytes)))"
  }

  /// Bytes as people read them: `512 B`, `1.5 KiB`, `34.0 GiB`, `4 GiB` (binary units, as
  /// `--max-memory` takes them).
  static func text(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    let tenths = (value * 10).rounded() / 10
    if unit == 0 || tenths == tenths.rounded() { return "\(Int(tenths)) \(units[unit])" }
    return "\(tenths) \(units[unit])"
  }

  /// A whole number of GiB (or MiB) at least `bytes`, for the hint in messages.
  static func suggestion(for bytes: Int) -> String {
    let mib = (bytes >> 20) + 1
    return mib < 1024 ? "\(mib)M" : "\((bytes >> 30) + 1)G"
  }

  /// Parses a `--max-memory` value: a whole number of bytes, or with a binary suffix `K`, `M`,
  /// `G` or `T` (KiB...; `KB`, `KiB` and lower case are accepted too). nil if it is not one, or
  /// is zero.
  static func parse(_ text: String) -> Int? {
    var digits = Substring(text)
    var shift = 0
    let suffixes: [(String, Int)] = [("t", 40), ("g", 30), ("m", 20), ("k", 10)]
    let lower = text.lowercased()
    for (letter, bits) in suffixes {
      for form in [letter, letter + "b", letter + "ib"] where lower.hasSuffix(form) && lower.count > form.count {
        digits = digits.dropLast(form.count)
        shift = bits
        break
      }
      if shift != 0 { break }
    }
    guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits), n > 0 else {
      return nil
    }
    return Checked.multiply(n, 1 << shift)
  }
}
