// Little-endian byte access and safe quoting of untrusted names for error messages, shared by
// all the format readers and writers (their size arithmetic is in Limits/Checked.swift).

extension Array where Element == UInt8 {
  /// Little-endian unsigned integer of `size` (1...8) bytes at `offset`.
  /// The caller has already checked `offset + size <= count`.
  func loadLE(at offset: Int, size: Int) -> UInt64 {
    var v: UInt64 = 0
    var i = offset + size
    while i > offset {
      i -= 1
      v = v << 8 | UInt64(self[i])
    }
    return v
  }

  func le16(at offset: Int) -> UInt16 { UInt16(truncatingIfNeeded: loadLE(at: offset, size: 2)) }
  func le32(at offset: Int) -> UInt32 { UInt32(truncatingIfNeeded: loadLE(at: offset, size: 4)) }
  func le64(at offset: Int) -> UInt64 { loadLE(at: offset, size: 8) }

  /// Appends the low `size` bytes of `value`, least significant first.
  mutating func appendLE(_ value: UInt64, size: Int) {
    var v = value
    for _ in 0..<size {
      append(UInt8(truncatingIfNeeded: v))
      v >>= 8
    }
  }

  mutating func appendASCII(_ text: String) {
    append(contentsOf: text.utf8)
  }
}

/// Renders an untrusted name for an error message: single-quoted, control characters
/// escaped and long names shortened, so a hostile file cannot flood or garble the terminal.
func quoted(_ name: String, limit: Int = 80) -> String {
  var out = "'"
  var n = 0
  for scalar in name.unicodeScalars {
    if n == limit {
      out += "..."
      break
    }
    n += 1
    if scalar.value < 0x20 || scalar.value == 0x7F || scalar == "'" || scalar == "\\" {
      out += scalar.escaped(asASCII: true)
    } else {
      out.unicodeScalars.append(scalar)
    }
  }
  return out + "'"
}

/// `[2, 3]` style rendering of a shape for messages.
func shapeText(_ shape: [Int]) -> String {
  "[" + shape.map(String.init).joined(separator: ", ") + "]"
}

/// Checks that `bytes` is well-formed UTF-8 (no overlong forms, surrogates or values
/// above U+10FFFF) and returns the offset of the first bad byte, or `nil` if it is valid.
func firstInvalidUTF8<C: Collection>(_ bytes: C) -> C.Index? where C.Element == UInt8 {
  var i = bytes.startIndex
  while i != bytes.endIndex {
    let start = i
    let b0 = bytes[i]
    bytes.formIndex(after: &i)
    if b0 < 0x80 { continue }
    let extra: Int
    var low: UInt8 = 0x80
    var high: UInt8 = 0xBF
    switch b0 {
    case 0xC2...0xDF: extra = 1
    case 0xE0: extra = 2; low = 0xA0
    case 0xE1...0xEC, 0xEE...0xEF: extra = 2
    case 0xED: extra = 2; high = 0x9F
    case 0xF0: extra = 3; low = 0x90
    case 0xF1...0xF3: extra = 3
    case 0xF4: extra = 3; high = 0x8F
    default: return start
    }
    for k in 0..<extra {
      guard i != bytes.endIndex else { return start }
      let b = bytes[i]
      // Only the first continuation byte has the narrowed range.
      if k == 0 ? (b < low || b > high) : (b < 0x80 || b > 0xBF) { return start }
      bytes.formIndex(after: &i)
    }
  }
  return nil
}
