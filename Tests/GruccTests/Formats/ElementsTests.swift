// Tests for element conversions (exhaustive half and bfloat16 checks against reference
// conversions), integer saturation, and the byte/UTF-8/quoting helpers.
import Testing

@testable import GruccCore

@Suite struct ElementsTests {
  @Test func halfToDoubleMatchesFloat16ForAllBitPatterns() {
    for bits in 0...UInt16.max {
      let mine = narrowFloatToDouble(UInt64(bits), exponentBits: 5, mantissaBits: 10)
      let reference = Double(Float16(bitPattern: bits))
      #expect(sameValue(mine, reference), "f16 0x\(String(bits, radix: 16))")
      if !mine.isNaN {
        // Every half value is exactly a Double, so converting back must restore the bits.
        #expect(doubleToNarrowFloat(mine, exponentBits: 5, mantissaBits: 10) == UInt64(bits))
      }
    }
  }

  @Test func bfloat16ToDoubleMatchesFloatForAllBitPatterns() {
    for bits in 0...UInt16.max {
      let mine = narrowFloatToDouble(UInt64(bits), exponentBits: 8, mantissaBits: 7)
      let reference = Double(Float(bitPattern: UInt32(bits) << 16))
      #expect(sameValue(mine, reference), "bf16 0x\(String(bits, radix: 16))")
      if !mine.isNaN {
        #expect(doubleToNarrowFloat(mine, exponentBits: 8, mantissaBits: 7) == UInt64(bits))
      }
    }
  }

  @Test func doubleToHalfRoundsLikeFloat16() {
    var rng = SplitMix64(state: 42)
    for _ in 0..<200_000 {
      // Random sign and exponents spanning underflow to overflow, random mantissa bits.
      let x = Double(
        sign: Bool.random(using: &rng) ? .minus : .plus, exponent: Int.random(in: -30...17, using: &rng),
        significand: 1 + Double(UInt64.random(in: 0..<(1 << 52), using: &rng)) / Double(1 << 52))
      let mine = doubleToNarrowFloat(x, exponentBits: 5, mantissaBits: 10)
      #expect(mine == UInt64(Float16(x).bitPattern), "f16(\(x))")
    }
  }

  @Test func doubleToBfloat16RoundsToNearestEven() {
    var rng = SplitMix64(state: 7)
    for _ in 0..<200_000 {
      // For values that are exactly Floats, rounding the Float's bits is a correct reference.
      let f = Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng))
      if f.isNaN { continue }
      let b = f.bitPattern
      let reference = (UInt64(b) + 0x7FFF + UInt64((b >> 16) & 1)) >> 16
      #expect(doubleToNarrowFloat(Double(f), exponentBits: 8, mantissaBits: 7) == reference, "bf16(\(f))")
    }
  }

  @Test func narrowRoundingEdgeCases() {
    func h(_ x: Double) -> UInt64 { doubleToNarrowFloat(x, exponentBits: 5, mantissaBits: 10) }
    #expect(h(65504) == 0x7BFF)
    #expect(h(65519.99) == 0x7BFF)
    #expect(h(65520) == 0x7C00)  // tie between 65504 and 65536 rounds to even: infinity
    #expect(h(1e300) == 0x7C00)
    #expect(h(-1e300) == 0xFC00)
    #expect(h(0x1p-25) == 0)  // tie between 0 and the smallest subnormal rounds to even 0
    #expect(h(0x1.000001p-25) == 1)
    #expect(h(0x1.8p-24) == 2)  // tie between subnormals 1 and 2 rounds to even 2
    #expect(h(0x1.ffcp-15) == 0x0400)  // rounds up from the largest subnormal to the smallest normal
    #expect(h(-0.0) == 0x8000)
    #expect(h(.leastNonzeroMagnitude) == 0)
    #expect(h(.infinity) == 0x7C00)
    #expect(narrowFloatToDouble(h(.nan), exponentBits: 5, mantissaBits: 10).isNaN)
    #expect(h(1 + 0x1p-11) == 0x3C00)  // tie rounds to even mantissa
    #expect(h(1 + 0x1.8p-10) == 0x3C02)
  }

  @Test func integerConversions() {
    let i32 = ElementKind.int(bytes: 4)
    #expect(i32.fromDouble(2.5) == 2)
    #expect(i32.fromDouble(3.5) == 4)
    #expect(i32.fromDouble(-1) == 0xFFFF_FFFF_FFFF_FFFF)
    #expect(i32.toDouble(i32.fromDouble(-1) & 0xFFFF_FFFF) == -1)
    #expect(i32.fromDouble(1e10) == 0x7FFF_FFFF)
    #expect(i32.fromDouble(-1e10) == UInt64(bitPattern: -2_147_483_648))
    #expect(i32.fromDouble(.nan) == 0)
    let i64 = ElementKind.int(bytes: 8)
    #expect(i64.fromDouble(1e30) == UInt64(Int64.max))
    #expect(i64.fromDouble(-0x1p63) == UInt64(bitPattern: Int64.min))
    #expect(i64.toDouble(UInt64(bitPattern: Int64.min)) == -0x1p63)
    #expect(ElementKind.int(bytes: 1).toDouble(0x80) == -128)
    #expect(ElementKind.int(bytes: 2).toDouble(0xFFFE) == -2)
    #expect(ElementKind.uint(bytes: 8).toDouble(UInt64.max) == 0x1p64)
    #expect(ElementKind.uint(bytes: 8).fromDouble(1e30) == UInt64.max)
    #expect(ElementKind.uint(bytes: 2).fromDouble(-5) == 0)
    #expect(ElementKind.uint(bytes: 2).fromDouble(70000) == 0xFFFF)
    #expect(ElementKind.bool.toDouble(2) == 1)
    #expect(ElementKind.bool.fromDouble(0.5) == 1)
  }

  @Test func decodeBigEndian() {
    let bytes: [UInt8] = [0xFF, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0]
    #expect(decodeElements(bytes, from: 1, count: 1, kind: .f64, bigEndian: true) == [1.0])
    #expect(decodeElements([0, 0, 0x80, 0x3F], from: 0, count: 1, kind: .f32) == [1.0])
  }

  @Test func checkedArithmetic() {
    #expect(Checked.elementCount([]) == 1)
    #expect(Checked.elementCount([2, 0, Int.max]) == 0)
    #expect(Checked.elementCount([Int.max, Int.max, 0]) == 0)
    #expect(Checked.elementCount([1 << 32, 1 << 32]) == nil)
    #expect(Checked.add(Int.max, 1) == nil)
    #expect(Checked.multiply(3, 4) == 12)
  }

  @Test func quotingEscapesAndTruncates() {
    #expect(quoted("w") == "'w'")
    #expect(quoted("a\nb\u{1B}") == #"'a\nb\u{1B}'"#)
    #expect(quoted("it's") == #"'it\'s'"#)
    #expect(quoted(String(repeating: "x", count: 200)) == "'" + String(repeating: "x", count: 80) + "...'")
    #expect(shapeText([2, 3]) == "[2, 3]")
    #expect(shapeText([]) == "[]")
  }

  @Test func utf8Validation() {
    #expect(firstInvalidUTF8(Array("héllo 😀".utf8)) == nil)
    #expect(firstInvalidUTF8([0x61, 0xC0, 0x80]) == 1)
    #expect(firstInvalidUTF8([0x61, 0x62, 0xE2, 0x82]) == 2)
    #expect(firstInvalidUTF8([0xED, 0xBF, 0xBF]) == 0)  // encoded surrogate
    #expect(firstInvalidUTF8([0xF4, 0x8F, 0xBF, 0xBF]) == nil)  // U+10FFFF
    #expect(firstInvalidUTF8([0xF5, 0x80, 0x80, 0x80]) == 0)
  }

  @Test func crc32KnownValues() {
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(CRC32.checksum([UInt8]()) == 0)
    let whole = CRC32.checksum(Array("hello world".utf8))
    #expect(CRC32.checksum(Array(" world".utf8), crc: CRC32.checksum(Array("hello".utf8))) == whole)
  }
}
