// SHA-1 (FIPS 180-4), for the one place a file format names it: the `checksum` entry of ONNX
// external data. Not for security; it only tells a stale or swapped data file from the right one.

struct SHA1 {
  private var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
  private var pending: [UInt8] = []
  private var total: UInt64 = 0

  mutating func update(_ bytes: some Collection<UInt8>) {
    total &+= UInt64(bytes.count)
    pending.append(contentsOf: bytes)
    var start = 0
    while pending.count - start >= 64 {
      block(pending, at: start)
      start += 64
    }
    pending.removeFirst(start)
  }

  /// The digest as 40 lower-case hexadecimal digits.
  mutating func hexDigest() -> String {
    let bits = total &* 8
    var tail = pending + [0x80]
    while tail.count % 64 != 56 { tail.append(0) }
    for k in (0..<8).reversed() { tail.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(k)))) }
    for start in stride(from: 0, to: tail.count, by: 64) { block(tail, at: start) }
    pending = []
    return [h.0, h.1, h.2, h.3, h.4].map { word in
      let s = String(word, radix: 16)
      return String(repeating: "0", count: 8 - s.count) + s
    }.joined()
  }

  private mutating func block(_ bytes: [UInt8], at start: Int) {
    var w = [UInt32](repeating: 0, count: 80)
    for i in 0..<16 {
      let p = start + 4 * i
      w[i] = UInt32(bytes[p]) << 24 | UInt32(bytes[p + 1]) << 16 | UInt32(bytes[p + 2]) << 8 | UInt32(bytes[p + 3])
    }
    for i in 16..<80 {
      let x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
      w[i] = x << 1 | x >> 31
    }
    var (a, b, c, d, e) = h
    for i in 0..<80 {
      let (f, k): (UInt32, UInt32) =
        switch i {
        case 0..<20: ((b & c) | (~b & d), 0x5A82_7999)
        case 20..<40: (b ^ c ^ d, 0x6ED9_EBA1)
        case 40..<60: ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
        default: (b ^ c ^ d, 0xCA62_C1D6)
        }
      let t = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[i]
      e = d
      d = c
      c = b << 30 | b >> 2
      b = a
      a = t
    }
    h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
  }
}
