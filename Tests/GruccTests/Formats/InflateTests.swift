// Tests for the DEFLATE decoder: zlib-produced streams of every block type and
// strategy, hand-made edge cases, and corrupt or hostile streams.
import Testing

@testable import GruccCore

/// Assembles a DEFLATE bit stream by hand (values LSB first, Huffman codes MSB first).
struct BitWriter {
  var bytes: [UInt8] = []
  var bitCount = 0

  mutating func bits(_ value: Int, _ count: Int) {
    for i in 0..<count {
      if bitCount % 8 == 0 { bytes.append(0) }
      if value & (1 << i) != 0 { bytes[bytes.count - 1] |= 1 << UInt8(bitCount % 8) }
      bitCount += 1
    }
  }

  mutating func code(_ value: Int, _ length: Int) {
    for i in stride(from: length - 1, through: 0, by: -1) { bits((value >> i) & 1, 1) }
  }

  /// Fixed-Huffman literal/length symbol (RFC 1951 section 3.2.6).
  mutating func fixedSymbol(_ s: Int) {
    switch s {
    case 0...143: code(0x30 + s, 8)
    case 144...255: code(0x190 + s - 144, 9)
    case 256...279: code(s - 256, 7)
    default: code(0xC0 + s - 280, 8)
    }
  }
}

@Suite struct InflateTests {
  @Test(arguments: ["l0", "l1", "l9", "fixed", "huffman", "rle"])
  func inflatesZlibStreams(kind: String) throws {
    let expected = try Fixtures.bytes("deflate_input.bin")
    let compressed = try Fixtures.bytes("deflate_\(kind).bin")
    #expect(try Inflate.inflate(compressed[...], limit: expected.count) == expected)
    expectError("more than the declared \(expected.count - 1) bytes") {
      _ = try Inflate.inflate(compressed[...], limit: expected.count - 1)
    }
    expectError("truncated") { _ = try Inflate.inflate(compressed[..<(compressed.count / 2)], limit: expected.count) }
  }

  @Test func handMadeStreams() throws {
    // Stored block holding "hello".
    let stored: [UInt8] = [0x01, 0x05, 0x00, 0xFA, 0xFF] + Array("hello".utf8)
    #expect(try Inflate.inflate(stored[...], limit: 100) == Array("hello".utf8))
    // Empty fixed block.
    #expect(try Inflate.inflate([0x03, 0x00][...], limit: 0) == [])
    // Fixed block: 'a', then a copy of length 5 at distance 1 (an overlapping copy).
    var w = BitWriter()
    w.bits(1, 1)
    w.bits(1, 2)
    w.fixedSymbol(Int(UInt8(ascii: "a")))
    w.fixedSymbol(259)  // length 5
    w.code(0, 5)  // distance 1
    w.fixedSymbol(256)
    #expect(try Inflate.inflate(w.bytes[...], limit: 6) == Array("aaaaaa".utf8))
    // Two blocks: a non-final stored block then a final fixed one.
    var two: [UInt8] = [0x00, 0x01, 0x00, 0xFE, 0xFF, UInt8(ascii: "x")]
    two += [0x03, 0x00]
    #expect(try Inflate.inflate(two[...], limit: 10) == [UInt8(ascii: "x")])
  }

  @Test func rejectsCorruptStreams() {
    expectError("deflate: invalid block type 3") { _ = try Inflate.inflate([0x07][...], limit: 10) }
    expectError("stored block length does not match its complement") {
      _ = try Inflate.inflate([0x01, 0x05, 0x00, 0x00, 0x00][...], limit: 10)
    }
    expectError("truncated") { _ = try Inflate.inflate([UInt8]()[...], limit: 10) }
    expectError("truncated") { _ = try Inflate.inflate([0x01, 0x05, 0x00, 0xFA, 0xFF, 0x41][...], limit: 10) }
    expectError("truncated") { _ = try Inflate.inflate([0x02][...], limit: 10) }  // non-final block, then nothing

    var far = BitWriter()
    far.bits(1, 1)
    far.bits(1, 2)
    far.fixedSymbol(257)
    far.code(0, 5)
    expectError("back-reference distance 1 before the start of the data") { _ = try Inflate.inflate(far.bytes[...], limit: 10) }

    var badDistance = BitWriter()
    badDistance.bits(1, 1)
    badDistance.bits(1, 2)
    badDistance.fixedSymbol(65)
    badDistance.fixedSymbol(257)
    badDistance.code(30, 5)
    expectError("invalid distance symbol 30") { _ = try Inflate.inflate(badDistance.bytes[...], limit: 10) }

    var badLength = BitWriter()
    badLength.bits(1, 1)
    badLength.bits(1, 2)
    badLength.fixedSymbol(286)
    expectError("invalid length symbol 286") { _ = try Inflate.inflate(badLength.bytes[...], limit: 10) }

    // Dynamic block whose code-length code gives every symbol length 1: over-subscribed.
    var over = BitWriter()
    over.bits(1, 1)
    over.bits(2, 2)
    over.bits(0, 5)
    over.bits(0, 5)
    over.bits(15, 4)
    for _ in 0..<19 { over.bits(1, 3) }
    expectError("over-subscribed code length code") { _ = try Inflate.inflate(over.bytes[...], limit: 10) }

    // Dynamic block starting with a repeat code (16) that has nothing to repeat.
    var repeatFirst = BitWriter()
    repeatFirst.bits(1, 1)
    repeatFirst.bits(2, 2)
    repeatFirst.bits(0, 5)
    repeatFirst.bits(0, 5)
    repeatFirst.bits(0, 4)  // 4 code length codes: 16, 17, 18, 0
    // All length 2; canonical codes follow symbol order: 0 -> 00, 16 -> 01, 17 -> 10, 18 -> 11.
    for _ in 0..<4 { repeatFirst.bits(2, 3) }
    repeatFirst.code(1, 2)  // symbol 16
    expectError("repeat code with no previous length") { _ = try Inflate.inflate(repeatFirst.bytes[...], limit: 10) }

    // Dynamic block where the zero-run overflows the declared number of lengths.
    var overflow = BitWriter()
    overflow.bits(1, 1)
    overflow.bits(2, 2)
    overflow.bits(0, 5)
    overflow.bits(0, 5)
    overflow.bits(0, 4)
    for _ in 0..<4 { overflow.bits(2, 3) }
    for _ in 0..<3 {
      overflow.code(3, 2)  // symbol 18: 11 + 7 bits zeros
      overflow.bits(127, 7)
    }
    expectError("code lengths overflow the declared count") { _ = try Inflate.inflate(overflow.bytes[...], limit: 10) }

    // Dynamic block where every literal/length has length 0 (no end-of-block code).
    var noEnd = BitWriter()
    noEnd.bits(1, 1)
    noEnd.bits(2, 2)
    noEnd.bits(0, 5)
    noEnd.bits(0, 5)
    noEnd.bits(0, 4)
    for _ in 0..<4 { noEnd.bits(2, 3) }
    noEnd.code(3, 2)
    noEnd.bits(127, 7)  // 138 zeros
    noEnd.code(3, 2)
    noEnd.bits(109, 7)  // 120 more zeros: 258 lengths, all zero
    expectError("no end-of-block code") { _ = try Inflate.inflate(noEnd.bytes[...], limit: 10) }
  }

  @Test(arguments: ["fixed", "l9", "huffman"])
  func fuzzNeverCrashes(kind: String) throws {
    let compressed = try Fixtures.bytes("deflate_\(kind).bin")
    let rejected = fuzz(compressed, positions: samplePositions(count: compressed.count, samples: 60), randomRounds: 100) {
      _ = try Inflate.inflate($0[...], limit: 30_000)
    }
    #expect(rejected > 0)
  }
}
