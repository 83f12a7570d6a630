// The interpreter's fast activations (Interpreter/FastMath.swift) against the C that grucc emits
// for them, bit for bit: exp, sigmoid and tanh of a model's own C, called in loops that the
// compiler vectorises (and at -O0, one call at a time), over edge cases, a dense grid and random
// bit patterns, in f32 and f64, with clang and gcc.

import Foundation
import Testing

@testable import GruccCore

@Suite struct FastMathBitTests {
  /// Values every function must get right: zeros, subnormals, the extremes, infinities, NaNs, and
  /// each side of every clamp and range-reduction boundary.
  static func edgeCases<S: BinaryFloatingPoint>(_: S.Type, clamps: [S]) -> [S] {
    var values: [S] = [
      0, -0, S.leastNonzeroMagnitude, -S.leastNonzeroMagnitude, S.leastNormalMagnitude, -S.leastNormalMagnitude,
      S.leastNormalMagnitude.nextDown, -S.leastNormalMagnitude.nextDown, S.greatestFiniteMagnitude,
      -S.greatestFiniteMagnitude, S.infinity, -S.infinity, S.nan, -S.nan, S.ulpOfOne, 1, -1, 0.5, -0.5, 2, -2,
    ]
    for c in clamps + [S(0.34657359), S(0.69314718), 1e-8, 1e-20] {
      for v in [c, -c] { values += [v, v.nextUp, v.nextDown, v / 2, v * 2] }
    }
    return values
  }

  /// Edge cases, a dense grid over [-40, 40] and [-1e-3, 1e-3], and random bit patterns.
  static func inputs32() -> [Float] {
    var values = edgeCases(Float.self, clamps: [88.8, 87, 104, 9.1, 18.2, 126, 150])
    values += (0..<100_000).map { Float(-40 + 80 * Double($0) / 100_000) }
    values += (0..<20_000).map { Float(-1e-3 + 2e-3 * Double($0) / 20_000) }
    var rng = SplitMix64(state: 32)
    values += (0..<200_000).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
    return values
  }

  static func inputs64() -> [Double] {
    var values = edgeCases(Double.self, clamps: [709.9, 708, 746, 19.5, 39, 1022, 1075])
    values += (0..<100_000).map { -40 + 80 * Double($0) / 100_000 }
    values += (0..<20_000).map { -1e-3 + 2e-3 * Double($0) / 20_000 }
    var rng = SplitMix64(state: 64)
    values += (0..<200_000).map { _ in Double(bitPattern: rng.next()) }
    return values
  }

  /// A model whose C has all three fast functions (exp comes with elu).
  static func model(_ precision: String) -> String {
    """
    model m
    precision \(precision)
    input x[2]
    gru h = x -> hidden 2, reset after, update keeps-state, bias separate, output-activation elu
    output y = h
    init seed 1
    """
  }

  /// Reads the inputs, writes exp, sigmoid and tanh of each as three blocks of raw values; each
  /// function runs in a loop of its own, so an optimising build calls its vectorised form.
  static func harness(_ real: String) -> String {
    """
    #include "m.c"
    #include <stdio.h>
    #include <stdlib.h>

    int main(int argc, char **argv) {
        FILE *in, *out;
        long bytes;
        size_t n, i;
        \(real) *x, *y;
        if (argc != 3 || !(in = fopen(argv[1], "rb"))) return 2;
        fseek(in, 0, SEEK_END);
        bytes = ftell(in);
        fseek(in, 0, SEEK_SET);
        n = (size_t)bytes / sizeof(\(real));
        x = (\(real) *)malloc(n * sizeof(\(real)));
        y = (\(real) *)malloc(3 * n * sizeof(\(real)));
        if (!x || !y || fread(x, sizeof(\(real)), n, in) != n) return 3;
        fclose(in);
        for (i = 0; i < n; i++) y[i] = m_exp(x[i]);
        for (i = 0; i < n; i++) y[n + i] = m_sigmoid(x[i]);
        for (i = 0; i < n; i++) y[2 * n + i] = m_tanh(x[i]);
        if (!(out = fopen(argv[2], "wb")) || fwrite(y, sizeof(\(real)), 3 * n, out) != 3 * n) return 4;
        fclose(out);
        free(x);
        free(y);
        return 0;
    }
    """
  }

  /// The builds compared: vectorised with every instruction this machine has, the compiler's
  /// baseline target, and unoptimised; gcc in ISO C (which does not contract a*b + c).
  static let builds: [(compiler: String, flags: [String])] = [
    ("clang", ["-O3", "-march=native"]), ("clang", ["-O2"]), ("clang", ["-O0"]),
    ("gcc", ["-O3", "-march=native"]), ("gcc", ["-O0"]),
  ]

  /// Runs every build on `bytes` and returns each build's label and output bytes.
  func outputs(precision: String, real: String, bytes: Data) throws -> [(String, Data)] {
    let dir = try EndToEnd.temporaryDirectory("fastmath-\(precision)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let gru = dir.appendingPathComponent("m.gru").path
    try Self.model(precision).write(toFile: gru, atomically: false, encoding: .utf8)
    let emitted = Driver.run([gru, "-o", dir.appendingPathComponent("m.c").path])
    try #require(emitted.exitCode == 0, "\(emitted.stderr)")
    let harness = dir.appendingPathComponent("harness.c").path
    try Self.harness(real).write(toFile: harness, atomically: false, encoding: .utf8)
    let input = dir.appendingPathComponent("in.bin")
    try bytes.write(to: input)
    var results: [(String, Data)] = []
    for (name, flags) in Self.builds {
      guard let compiler = name == "clang" ? Clang.compiler : Clang.gcc else { continue }
      let label = ([name] + flags).joined(separator: " ")
      let binary = dir.appendingPathComponent("harness-\(results.count)").path
      let built = try compiler.compile(CCompiler.strictC + flags + [harness, "-o", binary, "-lm"])
      try #require(built.succeeded, "\(label): \(built.summary)")
      let output = dir.appendingPathComponent("out-\(results.count).bin")
      let ran = try ProcessRunner.run(binary, [input.path, output.path])
      try #require(ran.succeeded, "\(label): \(ran.summary)")
      results.append((label, try Data(contentsOf: output)))
    }
    return results
  }

  /// Bits equal (equal values of the same sign), or both NaN: the payload of a NaN result depends
  /// on the order of operands the compiler picks for a commutative operation.
  static func mismatches<S: BinaryFloatingPoint>(_ x: [S], _ got: [S], _ want: [S], _ name: String) -> [String] {
    var found: [String] = []
    for i in x.indices where !(got[i].isNaN && want[i].isNaN) && !(got[i] == want[i] && got[i].sign == want[i].sign) {
      found.append("\(name)(\(x[i])): C \(got[i]), interpreter \(want[i])")
    }
    return found
  }

  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"))
  func f32ActivationsMatchTheInterpreterBitForBit() throws {
    let x = Self.inputs32()
    try expectBitForBit(x, [x.map(FastMath.exp), x.map(FastMath.sigmoid), x.map(FastMath.tanh)], precision: "f32", real: "float")
  }

  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"))
  func f64ActivationsMatchTheInterpreterBitForBit() throws {
    let x = Self.inputs64()
    try expectBitForBit(x, [x.map(FastMath.exp), x.map(FastMath.sigmoid), x.map(FastMath.tanh)], precision: "f64", real: "double")
  }

  /// Every build's exp, sigmoid and tanh of `x` (in that order) against the interpreter's (`want`).
  private func expectBitForBit<S: BinaryFloatingPoint>(_ x: [S], _ want: [[S]], precision: String, real: String) throws {
    let bytes = x.withUnsafeBufferPointer { Data(buffer: $0) }
    for (label, data) in try outputs(precision: precision, real: real, bytes: bytes) {
      let got = data.withUnsafeBytes { Array($0.bindMemory(to: S.self)) }
      try #require(got.count == 3 * x.count, "\(label): \(got.count) values")
      var bad: [String] = []
      for (k, name) in ["exp", "sigmoid", "tanh"].enumerated() {
        bad += Self.mismatches(x, Array(got[(k * x.count)..<((k + 1) * x.count)]), want[k], name)
      }
      let examples = bad.prefix(5).joined(separator: "; ")
      #expect(bad.count == 0, "\(label): \(bad.count) of \(3 * x.count) differ, e.g. \(examples)")
      print("fast math \(precision) \(label): \(3 * x.count) values, \(bad.count) differ")
    }
  }

  /// The fast functions are accurate as the header says, also where the interpreter is the only
  /// one computing them: against libm in double (f32) over the same inputs.
  @Test func f32FastFunctionsAreWithinTheirStatedError() {
    var worst = (exp: 0.0, sigmoid: 0.0, tanh: 0.0)
    for x in Self.inputs32() where x.isFinite && abs(x) < 80 {
      let d = Double(x)
      let e = Foundation.exp(d)
      if e > 1e-37 { worst.exp = max(worst.exp, abs(Double(FastMath.exp(x)) - e) / e) }
      worst.sigmoid = max(worst.sigmoid, abs(Double(FastMath.sigmoid(x)) - 1 / (1 + Foundation.exp(-d))))
      worst.tanh = max(worst.tanh, abs(Double(FastMath.tanh(x)) - Foundation.tanh(d)))
    }
    #expect(worst.exp <= 8.6e-8 && worst.sigmoid <= 8.9e-8 && worst.tanh <= 8.9e-8, "\(worst)")
  }
}
