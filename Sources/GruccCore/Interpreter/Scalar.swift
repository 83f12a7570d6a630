// The element types the interpreter computes in: Float for f32 models, Double for f64, each with
// the C library's exp and tanh so the interpreter and the generated C call the same functions.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A floating-point type with the functions the kernels need.
public protocol InterpreterScalar: BinaryFloatingPoint, Sendable {
  static func exponential(_ x: Self) -> Self
  static func hyperbolicTangent(_ x: Self) -> Self
  static func logOnePlus(_ x: Self) -> Self
  /// e^x − 1 without the cancellation of computing it that way near 0.
  static func exponentialMinusOne(_ x: Self) -> Self
  /// The generated C's fast functions (FastMath), bit for bit.
  static func fastExponential(_ x: Self) -> Self
  static func fastSigmoid(_ x: Self) -> Self
  static func fastTanh(_ x: Self) -> Self
}

extension Float: InterpreterScalar {
  public static func exponential(_ x: Float) -> Float { expf(x) }
  public static func hyperbolicTangent(_ x: Float) -> Float { tanhf(x) }
  public static func logOnePlus(_ x: Float) -> Float { log1pf(x) }
  public static func exponentialMinusOne(_ x: Float) -> Float { expm1f(x) }
  public static func fastExponential(_ x: Float) -> Float { FastMath.exp(x) }
  public static func fastSigmoid(_ x: Float) -> Float { FastMath.sigmoid(x) }
  public static func fastTanh(_ x: Float) -> Float { FastMath.tanh(x) }
}

extension Double: InterpreterScalar {
  public static func exponential(_ x: Double) -> Double { exp(x) }
  public static func hyperbolicTangent(_ x: Double) -> Double { tanh(x) }
  public static func logOnePlus(_ x: Double) -> Double { log1p(x) }
  public static func exponentialMinusOne(_ x: Double) -> Double { expm1(x) }
  public static func fastExponential(_ x: Double) -> Double { FastMath.exp(x) }
  public static func fastSigmoid(_ x: Double) -> Double { FastMath.sigmoid(x) }
  public static func fastTanh(_ x: Double) -> Double { FastMath.tanh(x) }
}
