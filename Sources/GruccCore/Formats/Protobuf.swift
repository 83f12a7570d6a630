// A minimal protobuf wire-format decoder, enough for ONNX files: it walks the fields of
// one message and hands out their payloads. Protobuf has no header or overall length, so
// every length read from the input is checked against the bytes that are actually left.

/// How a field's payload is laid out on the wire.
enum WireType: UInt8 {
  case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5

  var name: String {
    switch self {
    case .varint: "varint"
    case .fixed64: "64-bit"
    case .lengthDelimited: "length-delimited"
    case .startGroup, .endGroup: "group"
    case .fixed32: "32-bit"
    }
  }
}

/// The key of one field: its number in the schema, how its payload is encoded, and the
/// byte offset of the key (for messages).
struct ProtoField: Equatable {
  var number: Int
  var wireType: WireType
  var offset: Int
}

/// A cursor over the fields of one message. Sub-messages are readers over a range of the
/// same array, so nothing is copied. Offsets in messages are absolute, from the file start.
struct ProtoReader {
  /// ONNX messages nest about six deep; the bound only stops hostile self-nesting input.
  static let maxDepth = 64

  private let buffer: [UInt8]
  private(set) var position: Int
  private let end: Int
  private let depth: Int

  init(_ bytes: [UInt8]) {
    self.init(bytes, range: 0..<bytes.count, depth: 0)
  }

  private init(_ bytes: [UInt8], range: Range<Int>, depth: Int) {
    buffer = bytes
    position = range.lowerBound
    end = range.upperBound
    self.depth = depth
  }

  var isAtEnd: Bool { position >= end }

  /// The next field's key, or nil at the end of the message.
  mutating func nextField() throws(FormatError) -> ProtoField? {
    guard position < end else { return nil }
    let start = position
    let key = try varint()
    let number = key >> 3
    // 2^29 - 1 is the largest field number protobuf allows; 0 is never valid.
    guard number >= 1, number <= 536_870_911 else {
      throw FormatError("invalid field number \(number) at byte \(start)")
    }
    guard let wireType = WireType(rawValue: UInt8(key & 7)) else {
      throw FormatError("invalid wire type \(key & 7) at byte \(start)")
    }
    // Groups were deprecated before ONNX existed; seeing one means the bytes are not ONNX.
    guard wireType != .startGroup && wireType != .endGroup else {
      throw FormatError("field \(number) at byte \(start) uses the group encoding, which ONNX never uses")
    }
    return ProtoField(number: Int(number), wireType: wireType, offset: start)
  }

  /// Skips the payload of a field this decoder does not care about.
  mutating func skip(_ field: ProtoField) throws(FormatError) {
    switch field.wireType {
    case .varint: _ = try varint()
    case .fixed64: _ = try fixed(size: 8)
    case .fixed32: _ = try fixed(size: 4)
    case .lengthDelimited: _ = try lengthDelimited()
    case .startGroup, .endGroup: preconditionFailure("nextField rejects groups")
    }
  }

  // MARK: Typed fields. Each checks the wire type first, so a schema mismatch is an error.

  mutating func int64(_ field: ProtoField) throws(FormatError) -> Int64 {
    try expect(field, .varint)
    return Int64(bitPattern: try varint())
  }

  /// An int32 or enum field; like protobuf itself, keeps the low 32 bits of the varint
  /// (negative values are sign-extended to ten bytes on the wire).
  mutating func int32(_ field: ProtoField) throws(FormatError) -> Int32 {
    try expect(field, .varint)
    return Int32(truncatingIfNeeded: try varint())
  }

  mutating func float(_ field: ProtoField) throws(FormatError) -> Float {
    try expect(field, .fixed32)
    return Float(bitPattern: UInt32(try fixed(size: 4)))
  }

  mutating func bytes(_ field: ProtoField) throws(FormatError) -> ArraySlice<UInt8> {
    try expect(field, .lengthDelimited)
    return buffer[try lengthDelimited()]
  }

  /// A string field; protobuf requires UTF-8, and ONNX's `bytes` strings promise it.
  mutating func string(_ field: ProtoField) throws(FormatError) -> String {
    let payload = try bytes(field)
    if let bad = firstInvalidUTF8(payload) {
      throw FormatError("field \(field.number) at byte \(field.offset) is not valid UTF-8 (bad byte at \(bad))")
    }
    return String(decoding: payload, as: UTF8.self)
  }

  mutating func message(_ field: ProtoField) throws(FormatError) -> ProtoReader {
    try expect(field, .lengthDelimited)
    guard depth < Self.maxDepth else {
      throw FormatError("messages nest more than \(Self.maxDepth) deep at byte \(field.offset)")
    }
    return ProtoReader(buffer, range: try lengthDelimited(), depth: depth + 1)
  }

  // MARK: Repeated scalars. Writers may send them packed (one length-delimited run) or one
  // per field, and a parser must accept both; each call appends one run or one value.

  mutating func appendVarints(_ field: ProtoField, to out: inout [UInt64]) throws(FormatError) {
    guard field.wireType == .lengthDelimited else {
      try expect(field, .varint)
      out.append(try varint())
      return
    }
    var run = ProtoReader(buffer, range: try lengthDelimited(), depth: depth)
    while !run.isAtEnd { out.append(try run.varint()) }
  }

  /// Appends 32-bit (`size` 4) or 64-bit (`size` 8) fixed-width values.
  mutating func appendFixed(_ field: ProtoField, size: Int, to out: inout [UInt64]) throws(FormatError) {
    let wireType: WireType = size == 4 ? .fixed32 : .fixed64
    guard field.wireType == .lengthDelimited else {
      try expect(field, wireType)
      out.append(try fixed(size: size))
      return
    }
    let run = try lengthDelimited()
    guard run.count % size == 0 else {
      throw FormatError(
        "packed field \(field.number) at byte \(field.offset) has \(run.count) bytes, not a multiple of \(size)")
    }
    out.reserveCapacity(out.count + run.count / size)  // bounded by the bytes present
    for p in stride(from: run.lowerBound, to: run.upperBound, by: size) {
      out.append(buffer.loadLE(at: p, size: size))
    }
  }

  // MARK: Raw payloads

  private func expect(_ field: ProtoField, _ wireType: WireType) throws(FormatError) {
    guard field.wireType == wireType else {
      throw FormatError(
        "field \(field.number) at byte \(field.offset) has wire type \(field.wireType.name), expected \(wireType.name)")
    }
  }

  private mutating func varint() throws(FormatError) -> UInt64 {
    let start = position
    var value: UInt64 = 0
    for i in 0..<10 {
      guard position < end else { throw truncated("a varint", at: start) }
      let b = buffer[position]
      position += 1
      // The tenth byte holds only bit 63; anything more would not fit in 64 bits.
      if i == 9 && b > 1 { throw FormatError("varint at byte \(start) overflows 64 bits") }
      value |= UInt64(b & 0x7F) << UInt64(7 * i)
      if b < 0x80 { return value }
    }
    throw FormatError("varint at byte \(start) is longer than 10 bytes")
  }

  private mutating func fixed(size: Int) throws(FormatError) -> UInt64 {
    guard end - position >= size else { throw truncated("a \(size * 8)-bit value", at: position) }
    defer { position += size }
    return buffer.loadLE(at: position, size: size)
  }

  private mutating func lengthDelimited() throws(FormatError) -> Range<Int> {
    let start = position
    let length = try varint()
    guard length <= UInt64(end - position) else {
      throw FormatError(
        "truncated: a length-delimited field at byte \(start) declares \(length) bytes but only \(end - position) are left"
      )
    }
    let range = position..<(position + Int(length))
    position = range.upperBound
    return range
  }

  private func truncated(_ what: String, at start: Int) -> FormatError {
    FormatError("truncated: \(what) at byte \(start) runs past the end of its message at byte \(end)")
  }
}
