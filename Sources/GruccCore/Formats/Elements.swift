// Element encodings shared by safetensors and .npy: decoding raw little- or big-endian
// elements to Double and encoding Doubles back, with exact half/bfloat16 conversions.

/// The binary layout of one array element, independent of which file format names it.
enum ElementKind: Equatable {
  case f16, bf16, f32, f64
  /// Two's-complement signed integer of 1, 2, 4 or 8 bytes.
  case int(bytes: Int)
  /// Unsigned integer of 1, 2, 4 or 8 bytes.
  case uint(bytes: Int)
  /// One byte, zero is false and anything else true (numpy writes 0 or 1).
  case bool

  var byteSize: Int {
    switch self {
    case .f16, .bf16: 2
    case .f32: 4
    case .f64: 8
    case .int(let n), .uint(let n): n
    case .bool: 1
    }
  }

  /// Converts one raw element (already assembled into the low bits of `raw`) to Double.
  /// Every kind converts exactly except 64-bit integers beyond 2^53, which round to nearest.
  func toDouble(_ raw: UInt64) -> Double {
    switch self {
    case .f16: return narrowFloatToDouble(raw, exponentBits: 5, mantissaBits: 10)
    case .bf16: return narrowFloatToDouble(raw, exponentBits: 8, mantissaBits: 7)
    case .f32: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw)))
    case .f64: return Double(bitPattern: raw)
    case .int(let n):
      let shift = UInt64(64 - 8 * n)
      return Double(Int64(bitPattern: raw << shift) >> shift)
    case .uint: return Double(raw)
    case .bool: return raw != 0 ? 1 : 0
    }
  }

  /// Converts a Double to this kind's raw bits: floats round to nearest-even (overflowing
  /// to infinity), integers round to nearest-even and saturate, NaN becomes 0.
  func fromDouble(_ x: Double) -> UInt64 {
    switch self {
    case .f16: return doubleToNarrowFloat(x, exponentBits: 5, mantissaBits: 10)
    case .bf16: return doubleToNarrowFloat(x, exponentBits: 8, mantissaBits: 7)
    case .f32: return UInt64(Float(x).bitPattern)
    case .f64: return x.bitPattern
    case .int(let n):
      let maxValue = Int64.max >> Int64(64 - 8 * n)
      return UInt64(bitPattern: saturatingInt(x, min: -maxValue - 1, max: maxValue))
    case .uint(let n):
      // Saturate through Int64 for sizes below 8; UInt64 needs its own upper bound.
      if n == 8 {
        if x.isNaN || x <= 0 { return 0 }
        let r = x.rounded(.toNearestOrEven)
        return r >= 18_446_744_073_709_551_616.0 ? UInt64.max : UInt64(r)
      }
      return UInt64(saturatingInt(x, min: 0, max: (1 << Int64(8 * n)) - 1))
    case .bool: return x != 0 && !x.isNaN ? 1 : 0
    }
  }
}

/// Decodes `count` elements of `kind` starting at `start`. The caller has already checked
/// that `start + count * kind.byteSize <= bytes.count`.
func decodeElements(
  _ bytes: [UInt8], from start: Int, count: Int, kind: ElementKind, bigEndian: Bool = false
) -> [Double] {
  let size = kind.byteSize
  var out = [Double]()
  out.reserveCapacity(count)
  var p = start
  for _ in 0..<count {
    var raw: UInt64
    if bigEndian {
      raw = 0
      for i in p..<(p + size) { raw = raw << 8 | UInt64(bytes[i]) }
    } else {
      raw = bytes.loadLE(at: p, size: size)
    }
    out.append(kind.toDouble(raw))
    p += size
  }
  return out
}

/// Appends `values` encoded as little-endian `kind` elements.
func encodeElements(_ values: [Double], kind: ElementKind, into out: inout [UInt8]) {
  out.reserveCapacity(out.count + values.count * kind.byteSize)
  for v in values {
    out.appendLE(kind.fromDouble(v), size: kind.byteSize)
  }
}

/// Rounds to the nearest integer (ties to even) and clamps into `min...max`; NaN gives 0.
func saturatingInt(_ x: Double, min: Int64, max: Int64) -> Int64 {
  if x.isNaN { return 0 }
  let r = x.rounded(.toNearestOrEven)
  if r <= Double(min) { return min }
  // Double(max) may round up past max (for Int64.max it is 2^63), so compare with >=.
  if r >= Double(max) { return max }
  return Int64(r)
}

/// Exact value of an IEEE-style binary float with the given field widths (f16: 5/10,
/// bfloat16: 8/7), stored in the low bits of `bits`.
func narrowFloatToDouble(_ bits: UInt64, exponentBits e: Int, mantissaBits m: Int) -> Double {
  let sign: FloatingPointSign = (bits >> UInt64(e + m)) & 1 == 1 ? .minus : .plus
  let expField = Int((bits >> UInt64(m)) & ((1 << UInt64(e)) - 1))
  let mantissa = bits & ((1 << UInt64(m)) - 1)
  let bias = (1 << (e - 1)) - 1
  if expField == (1 << e) - 1 {
    if mantissa != 0 { return .nan }
    return sign == .minus ? -.infinity : .infinity
  }
  if expField == 0 {
    return Double(sign: sign, exponent: 1 - bias - m, significand: Double(mantissa))
  }
  return Double(sign: sign, exponent: expField - bias - m, significand: Double((1 << UInt64(m)) | mantissa))
}

/// Rounds a Double to the nearest binary float with the given field widths (ties to even,
/// gradual underflow, overflow to infinity) and returns its bits. Rounding directly from
/// Double avoids the double rounding that going through Float would introduce.
func doubleToNarrowFloat(_ x: Double, exponentBits e: Int, mantissaBits m: Int) -> UInt64 {
  let signBit: UInt64 = x.sign == .minus ? 1 << UInt64(e + m) : 0
  let infinity = UInt64((1 << e) - 1) << UInt64(m)
  if x.isNaN { return infinity | (1 << UInt64(m - 1)) }
  if x.isInfinite { return signBit | infinity }
  let a = x.magnitude
  // Double subnormals lie far below the smallest f16/bfloat16 subnormal.
  if a == 0 || a.isSubnormal { return signBit }
  let bias = (1 << (e - 1)) - 1
  let minNormalExponent = 1 - bias
  let exponent = Int(a.exponent)
  let significand = (UInt64(1) << 52) | a.significandBitPattern
  var shift = 52 - m
  if exponent < minNormalExponent { shift += minNormalExponent - exponent }
  if shift > 63 { return signBit }
  var q = significand >> UInt64(shift)
  let rest = significand & ((1 << UInt64(shift)) - 1)
  let half = UInt64(1) << UInt64(shift - 1)
  if rest > half || (rest == half && q & 1 == 1) { q += 1 }
  var bits: UInt64
  if exponent < minNormalExponent {
    bits = q  // a carry out of the mantissa lands on the smallest normal, as it should
  } else {
    let biased = exponent + bias
    if biased >= (1 << e) - 1 { return signBit | infinity }
    bits = (UInt64(biased - 1) << UInt64(m)) + q  // q includes the implicit bit
  }
  if bits >= infinity { bits = infinity }
  return signBit | bits
}
