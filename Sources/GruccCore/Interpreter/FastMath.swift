// The fast activations of the generated C (CEmitter/CFastMath.swift, Tools/fastmath/fast.h) in
// Swift, so that the interpreter computes the same numbers as the C, bit for bit. Each function
// is the C one transcribed: the same operations in the same order, every multiply and add
// rounded on its own (Swift never fuses them, and the C turns contraction off around these
// functions), the clamps as selects that keep NaN, 2^n built in the exponent bits with the same
// wrapping integer arithmetic. Constants are given by their bits: a decimal literal could round
// differently from the C compiler's (Swift may go through an 80-bit value first).

enum FastMath {
  // MARK: f32

  private static let log2eF = Float(bitPattern: 0x3FB8_AA3B)  // 1.44269502f
  private static let magicF = Float(bitPattern: 0x4B40_0000)  // 1.5 * 2^23
  private static let ln2HiF = Float(bitPattern: 0x3F31_7200)  // 0.693145751953125f
  private static let ln2LoF = Float(bitPattern: 0x35BF_BE8E)  // 1.42860677e-06f
  private static let polyF: (Float, Float, Float, Float, Float) = (
    Float(bitPattern: 0x3EFF_FFFF), Float(bitPattern: 0x3E2A_AA58), Float(bitPattern: 0x3D2A_AB3A),
    Float(bitPattern: 0x3C09_13BA), Float(bitPattern: 0x3AB5_F603)
  )  // 0.49999997f, 0.166665435f, 0.0416672006f, 0.00836651959f, 0.00138825213f

  /// `x > hi ? hi : x`: NaN stays.
  @inline(__always) private static func minimum(_ x: Float, _ hi: Float) -> Float { x > hi ? hi : x }
  @inline(__always) private static func maximum(_ x: Float, _ lo: Float) -> Float { x < lo ? lo : x }

  @inline(__always) private static func expm1Poly(_ r: Float) -> Float {
    let r2 = r * r
    let a = polyF.0 + polyF.1 * r
    let b = polyF.2 + polyF.3 * r
    let p = a + r2 * (b + r2 * polyF.4)
    return r + r2 * p
  }

  /// r with x = n·ln2 + r, and the magic sum t whose low mantissa bits hold n.
  @inline(__always) private static func reduce(_ x: Float) -> (r: Float, t: Float) {
    let t = x * log2eF + magicF
    let n = t - magicF
    let r = x - n * ln2HiF
    return (r - n * ln2LoF, t)
  }

  static func exp(_ x: Float) -> Float {
    var x = minimum(x, Float(bitPattern: 0x42B1_999A))  // 88.8f
    x = maximum(x, -104)
    let (r, t) = reduce(x)
    let p = 1 + expm1Poly(r)
    let k = t.bitPattern &- 0x4B3F_FF00
    let k1 = k >> 1
    return (p * Float(bitPattern: (k1 &- 1) << 23)) * Float(bitPattern: (k &- k1 &- 1) << 23)
  }

  static func sigmoid(_ x: Float) -> Float {
    var y = minimum(-x, Float(bitPattern: 0x42B1_999A))  // 88.8f
    y = maximum(y, -87)
    let (r, t) = reduce(y)
    let e = (1 + expm1Poly(r)) * Float(bitPattern: (t.bitPattern &+ 127) << 23)
    return 1 / (1 + e)
  }

  static func tanh(_ x: Float) -> Float {
    let xb = x.bitPattern
    let a = minimum(Float(bitPattern: xb & 0x7FFF_FFFF), Float(bitPattern: 0x4111_999A))  // 9.1f
    let (r, t) = reduce(a + a)
    let q = expm1Poly(r)
    let s = Float(bitPattern: (t.bitPattern &+ 127) << 23)
    let em1 = s * q + (s - 1)
    return Float(bitPattern: (em1 / (em1 + 2)).bitPattern | (xb & 0x8000_0000))
  }

  // MARK: f64

  private static let log2eD = Double(bitPattern: 0x3FF7_1547_652B_82FE)  // 1.4426950408889634
  private static let magicD = Double(bitPattern: 0x4338_0000_0000_0000)  // 1.5 * 2^52
  private static let ln2HiD = Double(bitPattern: 0x3FE6_2E42_FEE0_0000)  // 0.69314718036912382
  private static let ln2LoD = Double(bitPattern: 0x3DEA_39EF_3579_3C76)  // 1.9082149292705877e-10
  // The degree-9 minimax polynomial's coefficients, pairwise as the C writes them (a, b, c, d, e).
  private static let polyD: (Double, Double, Double, Double, Double, Double, Double, Double, Double, Double) = (
    Double(bitPattern: 0x3FE0_0000_0000_0005), Double(bitPattern: 0x3FC5_5555_5555_5539),
    Double(bitPattern: 0x3FA5_5555_5555_22C2), Double(bitPattern: 0x3F81_1111_1111_8F8D),
    Double(bitPattern: 0x3F56_C16C_17ED_8C2F), Double(bitPattern: 0x3F2A_01A0_1751_CB5F),
    Double(bitPattern: 0x3EFA_019A_7789_2908), Double(bitPattern: 0x3EC7_1DE8_7FBC_47A5),
    Double(bitPattern: 0x3E92_8A1D_63E6_D4AB), Double(bitPattern: 0x3E5A_E6BA_CAA0_E814)
  )

  @inline(__always) private static func minimum(_ x: Double, _ hi: Double) -> Double { x > hi ? hi : x }
  @inline(__always) private static func maximum(_ x: Double, _ lo: Double) -> Double { x < lo ? lo : x }

  @inline(__always) private static func expm1Poly(_ r: Double) -> Double {
    let c = polyD
    let r2 = r * r
    let r4 = r2 * r2
    let a = c.0 + c.1 * r
    let b = c.2 + c.3 * r
    let cc = c.4 + c.5 * r
    let d = c.6 + c.7 * r
    let e = c.8 + c.9 * r
    let p = (a + r2 * b) + r4 * ((cc + r2 * d) + r4 * e)
    return r + r2 * p
  }

  @inline(__always) private static func reduce(_ x: Double) -> (r: Double, t: Double) {
    let t = x * log2eD + magicD
    let n = t - magicD
    let r = x - n * ln2HiD
    return (r - n * ln2LoD, t)
  }

  static func exp(_ x: Double) -> Double {
    var x = minimum(x, Double(bitPattern: 0x4086_2F33_3333_3333))  // 709.9
    x = maximum(x, -746)
    let (r, t) = reduce(x)
    let p = 1 + expm1Poly(r)
    let k = t.bitPattern &- 0x4337_FFFF_FFFF_F800
    let k1 = k >> 1
    return (p * Double(bitPattern: (k1 &- 1) << 52)) * Double(bitPattern: (k &- k1 &- 1) << 52)
  }

  static func sigmoid(_ x: Double) -> Double {
    var y = minimum(-x, Double(bitPattern: 0x4086_2F33_3333_3333))  // 709.9
    y = maximum(y, -708)
    let (r, t) = reduce(y)
    let e = (1 + expm1Poly(r)) * Double(bitPattern: (t.bitPattern &+ 1023) << 52)
    return 1 / (1 + e)
  }

  static func tanh(_ x: Double) -> Double {
    let xb = x.bitPattern
    let a = minimum(Double(bitPattern: xb & 0x7FFF_FFFF_FFFF_FFFF), 19.5)
    let (r, t) = reduce(a + a)
    let q = expm1Poly(r)
    let s = Double(bitPattern: (t.bitPattern &+ 1023) << 52)
    let em1 = s * q + (s - 1)
    return Double(bitPattern: (em1 / (em1 + 2)).bitPattern | (xb & 0x8000_0000_0000_0000))
  }
}
