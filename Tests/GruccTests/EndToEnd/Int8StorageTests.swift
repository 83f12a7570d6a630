// `weights-storage int8`: int8 weights with a scale per row, int16 inputs with a scale per vector,
// int32 sums (IR/Int8Product.swift). The sums are exact, so the C (whichever of its AVX-512 VNNI,
// AVX2 and plain C99 loops it compiles) equals the interpreter bit for bit; the reference and the
// high-level interpreter, which multiply the dequantised weights by unquantised inputs, and f32
// storage are within the quantisation's error, printed by the tests ('int8 ...' lines) and quoted
// in the README.

import Foundation
import Testing

@testable import GruccCore

@Suite struct Int8StorageTests {
  /// Bound on the difference from the f32 model, and from the unquantised-input computations:
  /// a weight moves by up to half a step of its row (max|w| / 254), which through a few layers
  /// of products moves the outputs by a few 1e-3 at most on these models.
  static let bound = 2e-2

  @Test func quantisationRoundsHalfToEvenAndBoundsTheSums() {
    // Row max 127: the scale is 1, so the values are their own quotients.
    let (scale, q) = Int8Product.quantise(row: [127, 2.5, 3.5, -2.5, -126.5, 0])
    #expect(scale == 1 && q == [127, 2, 4, -2, -126, 0])
    #expect(Int8Product.quantise(row: [0, 0]).scale == 0)
    // The activation rounding is the add-magic one: ties to even, as in the C.
    #expect(Int8Product.round(2.5) == 2 && Int8Product.round(3.5) == 4 && Int8Product.round(-0.5) == 0)
    let (s, v) = Int8Product.quantise(vector: [1, -0.5, 0.25][...], levels: 32767)
    #expect(s == Float(1) / 32767 && v == [32767, -16384, 8192])
    // No sum of k products of ±127 and ±levels(k) leaves an int32.
    for k in [1, 2, 515, 516, 517, 700, 4096, 65536] {
      let l = Int8Product.levels(k: k)
      #expect(l >= 1 && l <= 32767 && 127 * l * CInt8.pairedColumns(k) <= Int(Int32.max), "k = \(k)")
    }
    #expect(Int8Product.levels(k: 516) == 32767 && Int8Product.levels(k: 600) < 32767)
  }

  /// The product against a Double computation of the same quantised operands: the integer sums
  /// and the dequantisation are what they say.
  @Test func productMatchesItsDefinition() {
    var rng = SplitMix64(state: 11)
    func uniform() -> Float { Float(Double(rng.next() >> 11) * 0x1p-53 * 2 - 1) }
    let (rows, k, n) = (3, 701, 5)
    let w = (0..<(n * k)).map { _ in uniform() }
    let x = (0..<(rows * k)).map { _ in uniform() * 3 }
    let quantised = (0..<n).map { Int8Product.quantise(row: Array(w[($0 * k)..<(($0 + 1) * k)])) }
    let y = Int8Product.product(
      x, rows: rows, k: k, q: quantised.flatMap(\.q), scales: quantised.map(\.scale), bias: nil)
    for r in 0..<rows {
      for o in 0..<n {
        let exact = (0..<k).reduce(0.0) { $0 + Double(w[o * k + $1]) * Double(x[r * k + $1]) }
        // Each operand moves by at most half its step: |w| ≤ 1 in steps of 1/127, |x| ≤ 3 in
        // steps of 3 / levels(701).
        let levels = Double(Int8Product.levels(k: k))
        let bound = Double(k) * (0.5 / 127 * 3 + 0.5 * 3 / levels) * 1.01
        #expect(abs(Double(y[r * n + o]) - exact) <= bound)
        let vector = Int8Product.quantise(vector: x[(r * k)..<((r + 1) * k)], levels: Int(levels))
        let sum = (0..<k).reduce(0) { $0 + Int(quantised[o].q[$1]) * Int(vector.q[$1]) }
        #expect(y[r * n + o] == Float(sum) * quantised[o].scale * vector.scale)
      }
    }
  }

  /// Every f32 option model in int8: the C equals the optimised interpreter bit for bit, and the
  /// reference and the high-level interpreter are within the bound.
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: WeightStorageTests.f32OptionModels)
  func optionModelsEqualTheInterpreter(name: String) throws {
    let index = try #require(OptionCoverageTests.modelNames.firstIndex(of: name))
    let model = OptionCoverageTests.models[index]
    let dir = try EndToEnd.temporaryDirectory("int8-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("\(name).gru").path
    let text = WeightStorageTests.withStorage(OptionCoverageTests.gruText(model, seed: UInt64(index) + 1), .int8)
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    // Unoptimised: the int8 products' optimised builds (-O2, -mavx2, -O3 -march=native) are
    // everyBuildEqualsTheInterpreter's, and every option model's C runs at -O3 in OptionCoverageTests.
    var check = DifferentialCheck(
      modelPath: path, model: model, cases: EndToEnd.cases(for: model, seed: UInt64(index) + 5000),
      cFlags: EndToEnd.unoptimised)
    check.quantised = (reference: Self.bound, exact: 0)
    let table = try check.run()
    print("e2e storage int8 \(name): \(table.summary)")
    #expect(try CompileInProcess.c(text, flags: []).contains("static const int8_t"), "\(name): no int8 weights")
  }

  /// The PyTorch and Keras fixtures: the interpreter and the C against the framework's f32 outputs.
  @Test(
    .enabled(if: Clang.isAvailable, "needs clang in PATH"),
    arguments: FrameworkFixtureTests.gruCases.filter { FrameworkFixture.named($0)?.precision == "f32" })
  func frameworkFixturesWithinTheBound(name: String) throws {
    let fixture = try #require(FrameworkFixture.named(name))
    let dir = try EndToEnd.temporaryDirectory("int8-fixture-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let original = try String(contentsOf: fixture.directory.appendingPathComponent(fixture.model), encoding: .utf8)
    let text = WeightStorageTests.absoluteWeights(
      WeightStorageTests.withStorage(original, .int8), in: fixture.directory.path)
    let path = dir.appendingPathComponent(fixture.model).path
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    let table = try FixtureRunner(fixture: fixture, modelPath: path).run()
    let interpreter = try #require(table.maxError("interpreter"))
    let c = try #require(table.maxError("C"))
    print("storage fixture \(name) int8: interpreter \(String(format: "%.2e", interpreter)), C \(String(format: "%.2e", c))")
    // A layernorm divides each step by the spread of its features: on keras_crnn_layernorm's
    // GRU output that magnifies the quantisation error about tenfold (2.4e-2 measured).
    let bound = original.contains("layernorm ") ? 2.5 * Self.bound : Self.bound
    #expect(c <= bound && interpreter <= bound, "\(name): C \(c), interpreter \(interpreter)")
    // The same computation: the largest errors are the same error.
    #expect(c == interpreter, "\(name): C \(c) and interpreter \(interpreter) differ")
  }

  /// Two models (odd input and state sizes, rows that do not fill a group of 16; 701 inputs, where
  /// the input levels drop below 32767): the C built with its plain loops (baseline x86-64, and
  /// aarch64 under qemu: its gcc contracts nothing under -std=c99), with AVX2 and with AVX-512
  /// VNNI (-march=native here), by clang and gcc,
  /// and under ASan/UBSan, prints the interpreter's outputs bit for bit.
  static let harnessModels: [(name: String, features: Int, hidden: Int)] = [("q", 27, 37), ("wide", 701, 9)]

  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: harnessModels.map(\.name))
  func everyBuildEqualsTheInterpreter(name: String) throws {
    let m = try #require(Self.harnessModels.first { $0.name == name })
    let dir = try EndToEnd.temporaryDirectory("int8-builds-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("\(name).gru").path
    try Self.modelText(m.name, features: m.features, hidden: m.hidden).write(toFile: path, atomically: false, encoding: .utf8)
    let compiled = Driver.run([path, "-o", dir.appendingPathComponent("\(name).c").path])
    try #require(compiled.exitCode == 0, "\(compiled.stderr)")

    let (batch, steps) = (3, 6)
    var rng = SplitMix64(state: 99)
    let x = (0..<(batch * steps * m.features)).map { _ in Float(Double(rng.next() >> 11) * 0x1p-53 * 4 - 2) }
    let (_, optimised) = try EndToEnd.modules(for: path)
    let interpreted = try Interpreter.run(
      optimised, inputs: ["x": ArrayValue(shape: [batch, steps, m.features], values: x.map(Double.init))])
    let want = try #require(interpreted.first?.value.values).map { String(format: "%08x", Float($0).bitPattern) }
    try #require(want.count == batch * steps * m.hidden)

    let harness = dir.appendingPathComponent("main.c").path
    let upper = name.uppercased()
    try """
      #include <stdio.h>
      #include <string.h>
      #include "\(name).h"
      static const float x[] = {\(x.map { "\($0)f" }.joined(separator: ", "))};
      static float out[\(want.count)];
      static float scratch[\(upper)_SCRATCH_SIZE(\(batch), \(steps))];
      int main(void) {
          if (\(name)_run_batch(x, \(batch), \(steps), out, scratch) != 0) return 1;
          for (unsigned i = 0; i < \(want.count)u; i++) {
              unsigned u;
              memcpy(&u, &out[i], sizeof u);
              printf("%08x\\n", u);
          }
          return 0;
      }
      """.write(toFile: harness, atomically: false, encoding: .utf8)
    let sources = [dir.appendingPathComponent("\(name).c").path, harness, "-lm"]
    var builds: [(label: String, compiler: String, flags: [String], runner: String?)] = []
    for compiler in [Clang.path, Clang.gccPath].compactMap({ $0 }) {
      // clang contracts the cell's elementwise arithmetic into FMAs where the target has them
      // (-ffp-contract=on): f32 storage differs from the interpreter there too, in the last bits.
      for target in [["-O2"], ["-O2", "-mavx2", "-ffp-contract=off"], ["-O3", "-march=native", "-ffp-contract=off"]] {
        builds.append(("\(compiler) \(target.joined(separator: " "))", compiler, target, nil))
      }
    }
    if let clang = Clang.path {
      builds.append(("sanitized", clang, ["-O1", "-march=native", "-ffp-contract=off", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"], nil))
    }
    if CrossTools.aarch64 { builds.append(("aarch64", CrossTools.aarch64GCC!, ["-O2", "-static"], CrossTools.qemu)) }
    var plainChecked = false
    for (k, build) in builds.enumerated() {
      let binary = dir.appendingPathComponent("main\(k)").path
      let built = try ProcessRunner.run(build.compiler, CCompiler.strictC + build.flags + sources + ["-o", binary])
      try #require(built.succeeded, "\(build.label): \(built.summary)")
      let ran = try build.runner.map { try ProcessRunner.run($0, [binary], timeout: 120) } ?? ProcessRunner.run(binary, [])
      try #require(ran.succeeded, "\(build.label): \(ran.summary)")
      let got = ran.stdout.split(separator: "\n").map(String.init)
      let differing = zip(got, want).filter { $0 != $1 }.count + abs(got.count - want.count)
      #expect(differing == 0, "\(name) \(build.label): \(differing) of \(want.count) outputs differ from the interpreter")
      if build.flags == ["-O2"] { plainChecked = true }
    }
    #expect(plainChecked)
    // The builds took the paths they are meant to: -march=native here has VNNI (Zen 4).
    let source = try String(contentsOfFile: dir.appendingPathComponent("\(name).c").path, encoding: .utf8)
    #expect(source.contains("_mm512_dpwssd_epi32") && source.contains("_mm256_madd_epi16"))
  }

  static func modelText(_ name: String, features: Int, hidden: Int) -> String {
    """
    model \(name)
    precision f32
    weights-storage int8
    input x[\(features)]
    gru h = x -> hidden \(hidden), reset after, update keeps-state, bias separate
    output states = h
    init seed 3
    init *.w_*, *.u_* normal(0.3)
    init *.b_* normal(0.1)

    """
  }

  /// Warning-free under the firmware flags, as C99 and C++, with clang and gcc, for each of the
  /// kernel's paths, and for a Cortex-M4; the weight bytes count the int8 values, their padding and
  /// the scales.
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"))
  func compilesCleanlyEverywhere() throws {
    let dir = try EndToEnd.temporaryDirectory("int8-firmware")
    defer { try? FileManager.default.removeItem(at: dir) }
    let text = Self.modelText("q", features: 27, hidden: 37)
    let source = dir.appendingPathComponent("q.c").path
    try CompileInProcess.c(text, flags: []).write(toFile: source, atomically: false, encoding: .utf8)
    let header = try CompileInProcess.header(text, flags: [])
    try header.write(to: dir.appendingPathComponent("q.h"), atomically: false, encoding: .utf8)
    var builds: [(String, [String])] = []
    for compiler in [Clang.path, Clang.gccPath].compactMap({ $0 }) {
      for target in [["-O2", "-march=native"], ["-O2", "-mavx2"], ["-O2"]] {
        builds.append((compiler, CCompiler.firmwareC + target))
        builds.append((compiler, CCompiler.firmwareCXX + target))
      }
    }
    if let arm = CrossTools.armGCC { builds.append((arm, CCompiler.firmwareC + CrossTools.cortexM4Flags)) }
    if let a64 = CrossTools.aarch64GCC { builds.append((a64, CCompiler.firmwareC + ["-O2"])) }
    for (compiler, flags) in builds {
      let built = try ProcessRunner.run(compiler, flags + ["-c", source, "-o", dir.appendingPathComponent("q.o").path])
      #expect(built.succeeded && built.stderr.isEmpty, "\(compiler) \(flags): \(built.summary)")
    }
    // 37 hidden: the input matrix 111 x 27 and the recurrent 111 x 37 (rows padded to 112,
    // columns to 28 and 38), a float scale per row; the biases in f32.
    let matrices = 112 * 28 + 112 * 38 + 2 * 4 * 111
    let biases = try #require(header.firstMatch(of: /#define Q_WEIGHT_BYTES (\d+)/)).1
    #expect(Int(biases) == matrices + 4 * 2 * 111, "\(header)")
  }
}
