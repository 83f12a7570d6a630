// A small deterministic random number generator for weight initialisation. The same seed gives
// the same weights on every machine and in every run (no system randomness, no hashing).

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// xoshiro256** (Blackman and Vigna), seeded through SplitMix64.
public struct Xoshiro256: Sendable {
  private var s: (UInt64, UInt64, UInt64, UInt64)

  public init(seed: UInt64) {
    var sm = seed
    func splitMix() -> UInt64 {
      sm &+= 0x9E37_79B9_7F4A_7C15
      var z = sm
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s = (splitMix(), splitMix(), splitMix(), splitMix())
  }

  /// A generator for one named tensor: each tensor gets its own stream, so adding a layer to a
  /// model does not change the initial values of the others.
  public init(seed: UInt64, stream name: String) {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
    for b in name.utf8 {
      hash ^= UInt64(b)
      hash = hash &* 0x100_0000_01B3
    }
    self.init(seed: seed ^ hash)
  }

  /// The generator's four state words, to save it and go on with the same stream (checkpoints).
  var words: [UInt64] { [s.0, s.1, s.2, s.3] }

  /// A generator that continues from saved `words`; nil unless there are four, not all zero
  /// (the one state xoshiro256 never reaches).
  init?(words: [UInt64]) {
    guard words.count == 4, words.contains(where: { $0 != 0 }) else { return nil }
    s = (words[0], words[1], words[2], words[3])
  }

  public mutating func next() -> UInt64 {
    let result = rotl(s.1 &* 5, 7) &* 9
    let t = s.1 << 17
    s.2 ^= s.0
    s.3 ^= s.1
    s.1 ^= s.2
    s.0 ^= s.3
    s.2 ^= t
    s.3 = rotl(s.3, 45)
    return result
  }

  private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  /// Uniform in [0, 1) with 53 random bits.
  public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

  /// Standard normal, by the Box–Muller transform (one value per call, so the stream is simple).
  public mutating func normal() -> Double {
    var u1 = uniform()
    while u1 == 0 { u1 = uniform() }
    let u2 = uniform()
    return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
  }
}
