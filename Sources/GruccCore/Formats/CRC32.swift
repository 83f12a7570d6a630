// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) as used by ZIP.

/// Table-driven CRC-32; the table is built once, lazily and thread-safely, as a global.
enum CRC32 {
  private static let table: [UInt32] = (0..<256).map { (n: Int) -> UInt32 in
    var c = UInt32(n)
    for _ in 0..<8 {
      c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1
    }
    return c
  }

  /// CRC-32 of `bytes`; pass a previous result as `crc` to continue a running checksum.
  static func checksum<C: Collection>(_ bytes: C, crc: UInt32 = 0) -> UInt32 where C.Element == UInt8 {
    let table = Self.table
    var c = ~crc
    for b in bytes {
      c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8)
    }
    return ~c
  }
}
