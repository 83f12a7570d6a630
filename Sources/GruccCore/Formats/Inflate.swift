// A raw DEFLATE (RFC 1951) decoder, enough to read np.savez_compressed archives.
// Written for clarity and safety over speed: every read is bounds-checked.

/// Decompresses raw DEFLATE data (no zlib or gzip wrapper).
enum Inflate {
  /// Inflates `input`, refusing to produce more than `limit` bytes (the size the archive
  /// declares), so a hostile stream cannot make us allocate without bound.
  static func inflate(_ input: ArraySlice<UInt8>, limit: Int) throws(FormatError) -> [UInt8] {
    var state = InflateState(input: input, limit: limit)
    try state.run()
    return state.output
  }

  /// The first `count` bytes `input` inflates to (fewer if it is shorter), decoding no further:
  /// enough to read what a member holds before deciding to inflate all of it.
  static func inflatePrefix(_ input: ArraySlice<UInt8>, count: Int) throws(FormatError) -> [UInt8] {
    var state = InflateState(input: input, limit: count, stopAtLimit: true)
    do throws(FormatError) {
      try state.run()
    } catch {
      guard state.stopped else { throw error }
    }
    return state.output
  }

  /// The most bytes `compressedSize` bytes of DEFLATE data can inflate to. The densest code
  /// spends at least 2 bits on a 258-byte copy, so no stream expands more than 1032 times (plus
  /// a little for the first literal and the block headers).
  static func maximumOutput(compressedSize: Int) -> Int? {
    Checked.multiply(compressedSize, 1032).flatMap { Checked.add($0, 1032) }
  }
}

/// A canonical Huffman code as a direct lookup table indexed by the next `maxLength`
/// input bits (LSB first); each entry packs `symbol << 4 | codeLength`, 0 when unused.
private struct Huffman {
  var table: [UInt16]
  var maxLength: Int

  /// Builds the decoder from per-symbol code lengths (0 = unused). Over-subscribed code
  /// sets are rejected; incomplete ones are allowed and fail only if an unused code appears.
  init(lengths: [Int], what: String) throws(FormatError) {
    var counts = [Int](repeating: 0, count: 16)
    for l in lengths { counts[l] += 1 }
    counts[0] = 0
    var left = 1
    for len in 1...15 {
      left = left * 2 - counts[len]
      if left < 0 { throw FormatError("deflate: over-subscribed \(what) code") }
    }
    maxLength = max(1, lengths.max() ?? 1)
    table = [UInt16](repeating: 0, count: 1 << maxLength)
    // First canonical code of each length (RFC 1951 section 3.2.2).
    var next = [Int](repeating: 0, count: 16)
    var code = 0
    for len in 1...15 {
      code = (code + counts[len - 1]) << 1
      next[len] = code
    }
    for (symbol, len) in lengths.enumerated() where len > 0 {
      let c = next[len]
      next[len] += 1
      // Codes are sent MSB first but the bit reader is LSB first, so index by the reversed code.
      var reversed = 0
      for i in 0..<len where c & (1 << i) != 0 { reversed |= 1 << (len - 1 - i) }
      var index = reversed
      while index < table.count {
        table[index] = UInt16(symbol << 4 | len)
        index += 1 << len
      }
    }
  }
}

private struct InflateState {
  let input: ArraySlice<UInt8>
  let limit: Int
  /// Reaching `limit` ends decoding (setting `stopped`) instead of being an error.
  let stopAtLimit: Bool
  var stopped = false
  var pos: Int
  var bitBuffer: UInt64 = 0
  var bitCount = 0
  var output: [UInt8] = []

  init(input: ArraySlice<UInt8>, limit: Int, stopAtLimit: Bool = false) {
    self.input = input
    self.limit = limit
    self.stopAtLimit = stopAtLimit
    self.pos = input.startIndex
    // Reserve only what the input could plausibly expand to, not a hostile declared size.
    output.reserveCapacity(min(limit, 1 << 20))
  }

  static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
  static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
  static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
  static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
  static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

  /// Tops the bit buffer up to at least `n` bits if input remains; returns false at the end.
  mutating func fill(_ n: Int) -> Bool {
    while bitCount < n {
      guard pos < input.endIndex else { return false }
      bitBuffer |= UInt64(input[pos]) << UInt64(bitCount)
      pos += 1
      bitCount += 8
    }
    return true
  }

  mutating func bits(_ n: Int) throws(FormatError) -> Int {
    if n == 0 { return 0 }
    guard fill(n) else { throw FormatError("deflate: truncated compressed data") }
    let v = Int(bitBuffer & ((1 << UInt64(n)) - 1))
    bitBuffer >>= UInt64(n)
    bitCount -= n
    return v
  }

  mutating func decode(_ h: Huffman) throws(FormatError) -> Int {
    // Near the end of the input fewer than maxLength bits may remain; the missing high
    // bits read as zero, and the length check below catches codes that needed them.
    _ = fill(h.maxLength)
    let entry = Int(h.table[Int(bitBuffer & ((1 << UInt64(h.maxLength)) - 1))])
    let len = entry & 15
    if len == 0 { throw FormatError("deflate: invalid Huffman code") }
    if len > bitCount { throw FormatError("deflate: truncated compressed data") }
    bitBuffer >>= UInt64(len)
    bitCount -= len
    return entry >> 4
  }

  mutating func run() throws(FormatError) {
    var last = false
    while !last {
      last = try bits(1) == 1
      switch try bits(2) {
      case 0: try storedBlock()
      case 1: try fixedBlock()
      case 2: try dynamicBlock()
      default: throw FormatError("deflate: invalid block type 3")
      }
    }
  }

  mutating func storedBlock() throws(FormatError) {
    // Drop the bits up to the byte boundary; whole bytes already buffered are re-read.
    bitBuffer >>= UInt64(bitCount % 8)
    bitCount -= bitCount % 8
    let length = try bits(16)
    let complement = try bits(16)
    guard length == ~complement & 0xFFFF else {
      throw FormatError("deflate: stored block length does not match its complement")
    }
    for _ in 0..<length {
      try emit(UInt8(try bits(8)))
    }
  }

  mutating func emit(_ byte: UInt8) throws(FormatError) {
    guard output.count < limit else { throw overLimit() }
    output.append(byte)
  }

  mutating func overLimit() -> FormatError {
    stopped = stopAtLimit
    return FormatError("deflate: data inflates to more than the declared \(limit) bytes")
  }

  mutating func fixedBlock() throws(FormatError) {
    var lengths = [Int](repeating: 8, count: 288)
    for i in 144..<256 { lengths[i] = 9 }
    for i in 256..<280 { lengths[i] = 7 }
    let literals = try Huffman(lengths: lengths, what: "literal/length")
    // Codes 30 and 31 exist in the fixed code but are invalid; decoding them is reported below.
    let distances = try Huffman(lengths: [Int](repeating: 5, count: 32), what: "distance")
    try codes(literals: literals, distances: distances)
  }

  mutating func dynamicBlock() throws(FormatError) {
    let literalCount = try bits(5) + 257
    let distanceCount = try bits(5) + 1
    let codeLengthCount = try bits(4) + 4
    guard literalCount <= 286, distanceCount <= 30 else {
      throw FormatError("deflate: too many length or distance codes")
    }
    var codeLengthLengths = [Int](repeating: 0, count: 19)
    for i in 0..<codeLengthCount {
      codeLengthLengths[Self.codeLengthOrder[i]] = try bits(3)
    }
    let codeLengthCode = try Huffman(lengths: codeLengthLengths, what: "code length")

    var lengths: [Int] = []
    let total = literalCount + distanceCount
    while lengths.count < total {
      let symbol = try decode(codeLengthCode)
      var repeatValue = 0
      let repeatCount: Int
      switch symbol {
      case 0...15:
        lengths.append(symbol)
        continue
      case 16:
        guard let previous = lengths.last else {
          throw FormatError("deflate: repeat code with no previous length")
        }
        repeatValue = previous
        repeatCount = 3 + (try bits(2))
      case 17: repeatCount = 3 + (try bits(3))
      default: repeatCount = 11 + (try bits(7))
      }
      guard lengths.count + repeatCount <= total else {
        throw FormatError("deflate: code lengths overflow the declared count")
      }
      lengths.append(contentsOf: repeatElement(repeatValue, count: repeatCount))
    }
    guard lengths[256] != 0 else { throw FormatError("deflate: block has no end-of-block code") }
    let literals = try Huffman(lengths: Array(lengths[0..<literalCount]), what: "literal/length")
    let distances = try Huffman(lengths: Array(lengths[literalCount...]), what: "distance")
    try codes(literals: literals, distances: distances)
  }

  /// Decodes literal/length and distance symbols until the end-of-block code.
  mutating func codes(literals: Huffman, distances: Huffman) throws(FormatError) {
    while true {
      let symbol = try decode(literals)
      if symbol < 256 {
        try emit(UInt8(symbol))
        continue
      }
      if symbol == 256 { return }
      let lengthIndex = symbol - 257
      guard lengthIndex < Self.lengthBase.count else {
        throw FormatError("deflate: invalid length symbol \(symbol)")
      }
      let length = Self.lengthBase[lengthIndex] + (try bits(Self.lengthExtra[lengthIndex]))
      let distanceSymbol = try decode(distances)
      guard distanceSymbol < Self.distanceBase.count else {
        throw FormatError("deflate: invalid distance symbol \(distanceSymbol)")
      }
      let distance = Self.distanceBase[distanceSymbol] + (try bits(Self.distanceExtra[distanceSymbol]))
      guard distance <= output.count else {
        throw FormatError("deflate: back-reference distance \(distance) before the start of the data")
      }
      guard length <= limit - output.count || stopAtLimit else { throw overLimit() }
      // Byte by byte, because a copy may overlap the bytes it produces (distance < length).
      var from = output.count - distance
      for _ in 0..<min(length, limit - output.count) {
        output.append(output[from])
        from += 1
      }
      if output.count == limit && stopAtLimit { throw overLimit() }
    }
  }
}
