// `weights-storage f16 | bf16`: the matrices stored in 16 bits, widened to f32 in the products.
// Bind-weights rounds them, so the interpreter, the reference (given the bound weights) and the C
// compute with the same weights: they agree as closely as with f32 storage. Against the framework
// outputs of the PyTorch and Keras fixtures, and against f32 storage on the Specs' models, the
// error is the storage's own, printed by the tests ('storage ...' lines) and quoted in the README.

import Foundation
import Testing

@testable import GruccCore

@Suite struct WeightStorageTests {
  static let narrow: [WeightElement] = [.f16, .bf16]

  /// The model's text with a `weights-storage` line after its precision.
  static func withStorage(_ text: String, _ element: WeightElement) -> String {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let at = (lines.firstIndex { $0.hasPrefix("precision") } ?? lines.firstIndex { $0.hasPrefix("model") }!) + 1
    lines.insert("weights-storage \(element.rawValue)", at: at)
    return lines.joined(separator: "\n")
  }

  static let f32OptionModels = OptionCoverageTests.models.enumerated()
    .filter { $0.element.precision == .f32 }.map(\.element.name)

  @Test func roundingIsToNearestEvenWithinRange() {
    #expect(WeightElement.bf16.round(1 + 0x1p-8) == 1)  // a tie: to even
    #expect(WeightElement.bf16.round(1 + 3 * 0x1p-8) == 1 + 0x1p-6)
    #expect(WeightElement.f16.round(0x1p-25) == 0)  // half the smallest subnormal: to even (0)
    #expect(WeightElement.f16.round(3 * 0x1p-25) == 0x1p-23)
    #expect(WeightElement.f16.round(65504) == 65504 && WeightElement.f16.round(65520) == nil)
    #expect(WeightElement.f16.bits(-2) == 0xC000 && WeightElement.f16.bits(0x1p-24) == 0x0001)
    #expect(WeightElement.bf16.bits(-2) == 0xC000 && WeightElement.bf16.bits(1) == 0x3F80)
  }

  /// What is refused: an unknown type, a second statement, narrow storage of an f64 model, and
  /// with `--weights external` (whose blob holds one element type).
  @Test func refusals() throws {
    let base = FastMathBitTests.model("f32")
    func errors(_ text: String, _ flags: [String] = []) throws -> String {
      let dir = try EndToEnd.temporaryDirectory("storage-refusal")
      defer { try? FileManager.default.removeItem(at: dir) }
      let path = dir.appendingPathComponent("m.gru").path
      try text.write(toFile: path, atomically: false, encoding: .utf8)
      let r = Driver.run([path, "-o", dir.appendingPathComponent("m.c").path] + flags)
      #expect(r.exitCode != 0, "accepted: \(text)")
      return r.stderr
    }
    #expect(try errors(base.replacing("precision f32", with: "precision f32\nweights-storage f8"))
      .contains("invalid value 'f8' for option 'weights-storage'"))
    #expect(try errors(Self.withStorage(Self.withStorage(base, .f16), .bf16)).contains("weights-storage"))
    #expect(try errors(Self.withStorage(base.replacing("precision f32", with: "precision f64"), .bf16))
      .contains("'weights-storage bf16' is for f32 models"))
    #expect(try errors(Self.withStorage(base, .f16), ["--weights", "external"]).contains("'--weights external' stores f32 only"))
  }

  /// The C's f16 and bf16 widening against the exact values, on every finite 16-bit pattern: with
  /// _Float16 and the hardware's conversion (-march=native here: F16C) and by bit manipulation
  /// (the compiler's baseline target), through the functions grucc emits.
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: narrow.map(\.rawValue))
  func wideningIsExactOnEveryPattern(storage: String) throws {
    let element = try #require(WeightElement(rawValue: storage))
    let clang = try #require(Clang.compiler)
    let dir = try EndToEnd.temporaryDirectory("widen-\(storage)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let text = Self.withStorage(FastMathBitTests.model("f32"), element)
    try CompileInProcess.c(text, flags: []).write(to: dir.appendingPathComponent("m.c"), atomically: false, encoding: .utf8)
    try CompileInProcess.header(text, flags: []).write(to: dir.appendingPathComponent("m.h"), atomically: false, encoding: .utf8)
    try Self.widenHarness.write(to: dir.appendingPathComponent("widen.c"), atomically: false, encoding: .utf8)
    for flags in [["-O3", "-march=native"], ["-O2"]] {
      let binary = dir.appendingPathComponent("widen").path
      let built = try clang.compile(CCompiler.strictC + flags + [dir.appendingPathComponent("widen.c").path, "-o", binary, "-lm"])
      try #require(built.succeeded, "\(flags): \(built.summary)")
      let ran = try ProcessRunner.run(binary, [])
      try #require(ran.succeeded, "\(ran.summary)")
      let got = ran.stdout.split(separator: "\n").map { UInt32($0, radix: 16)! }
      try #require(got.count == 65536)
      var wrong = 0
      for i in 0..<65536 {
        let exponentAllOnes = element == .f16 ? (i & 0x7C00) == 0x7C00 : (i & 0x7F80) == 0x7F80
        if exponentAllOnes { continue }  // inf and NaN: never a stored weight
        let want = Float(Self.value(UInt16(i), element)).bitPattern
        if got[i] != want { wrong += 1 }
      }
      #expect(wrong == 0, "\(storage) \(flags): \(wrong) patterns widen wrongly")
    }
  }

  /// Prints the float bits m_widen makes of every 16-bit pattern, one per line.
  static let widenHarness = """
    #include "m.c"
    #include <stdio.h>
    int main(void) {
        for (unsigned i = 0; i < 65536u; i++) {
            float f = m_widen((uint16_t)i);
            uint32_t u;
            memcpy(&u, &f, sizeof u);
            printf("%08x\\n", (unsigned)u);
        }
        return 0;
    }
    """

  /// The C of each storage compiles without a warning under the firmware flags, as C99 and C++,
  /// with clang and gcc, with and without -march=native (the two ways of widening f16), and for a
  /// Cortex-M4; the aarch64 build (which widens through _Float16) widens every pattern as x86 does.
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: narrow.map(\.rawValue))
  func compilesCleanlyEverywhere(storage: String) throws {
    let element = try #require(WeightElement(rawValue: storage))
    let dir = try EndToEnd.temporaryDirectory("storage-builds-\(storage)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let text = Self.withStorage(FastMathBitTests.model("f32"), element)
    let source = dir.appendingPathComponent("m.c").path
    try CompileInProcess.c(text, flags: []).write(toFile: source, atomically: false, encoding: .utf8)
    try CompileInProcess.header(text, flags: []).write(to: dir.appendingPathComponent("m.h"), atomically: false, encoding: .utf8)
    var builds: [(String, [String])] = []
    for compiler in [Clang.path, Clang.gccPath].compactMap({ $0 }) {
      for target in [["-O2", "-march=native"], ["-O2"]] {
        builds.append((compiler, CCompiler.firmwareC + target))
        builds.append((compiler, CCompiler.firmwareCXX + target))
      }
    }
    if let arm = CrossTools.armGCC { builds.append((arm, CCompiler.firmwareC + CrossTools.cortexM4Flags)) }
    for (compiler, flags) in builds {
      let built = try ProcessRunner.run(compiler, flags + ["-c", source, "-o", dir.appendingPathComponent("m.o").path])
      #expect(built.succeeded && built.stderr.isEmpty, "\(compiler) \(flags): \(built.summary)")
    }
    guard CrossTools.aarch64, let clang = Clang.compiler else { return }
    let harness = dir.appendingPathComponent("widen.c").path
    try Self.widenHarness.write(toFile: harness, atomically: false, encoding: .utf8)
    let x86 = dir.appendingPathComponent("widen-x86").path
    let arm = dir.appendingPathComponent("widen-aarch64").path
    let builtX86 = try clang.compile(CCompiler.strictC + ["-O2", "-march=native", harness, "-o", x86, "-lm"])
    try #require(builtX86.succeeded, "\(builtX86.summary)")
    let builtArm = try ProcessRunner.run(CrossTools.aarch64GCC!, CCompiler.strictC + ["-O2", "-static", harness, "-o", arm, "-lm"])
    try #require(builtArm.succeeded && builtArm.stderr.isEmpty, "\(builtArm.summary)")
    let onX86 = try ProcessRunner.run(x86, [])
    let onArm = try ProcessRunner.run(CrossTools.qemu!, [arm], timeout: 120)
    try #require(onX86.succeeded && onArm.succeeded, "\(onX86.summary)\n\(onArm.summary)")
    #expect(onArm.stdout == onX86.stdout, "\(storage): aarch64 widens differently from x86")
  }

  /// The value of a 16-bit pattern, decoded arithmetically (independent of the C's method).
  static func value(_ bits: UInt16, _ element: WeightElement) -> Double {
    let negative = bits & 0x8000 != 0
    let (exponentBits, mantissaBits, bias): (Int, Int, Int) = element == .f16 ? (5, 10, 15) : (8, 7, 127)
    let e = Int(bits >> mantissaBits) & ((1 << exponentBits) - 1)
    let m = Double(Int(bits) & ((1 << mantissaBits) - 1))
    let scale = Double(1 << mantissaBits)
    let magnitude = e == 0
      ? m / scale * Double(sign: .plus, exponent: 1 - bias, significand: 1)
      : (1 + m / scale) * Double(sign: .plus, exponent: e - bias, significand: 1)
    return negative ? -magnitude : magnitude
  }

  /// Every f32 option model with each narrow storage: the C against the interpreter and against
  /// the reference on the bound (rounded) weights, within the f32 tolerance.
  @Test(
    .enabled(if: Clang.isAvailable, "needs clang in PATH"),
    arguments: narrow.map(\.rawValue), f32OptionModels)
  func optionModelsAgreeOnTheStoredWeights(storage: String, name: String) throws {
    let element = try #require(WeightElement(rawValue: storage))
    let index = try #require(OptionCoverageTests.modelNames.firstIndex(of: name))
    let model = OptionCoverageTests.models[index]
    let dir = try EndToEnd.temporaryDirectory("storage-\(storage)-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("\(name).gru").path
    let text = Self.withStorage(OptionCoverageTests.gruText(model, seed: UInt64(index) + 1), element)
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    // Unoptimised: the widening's optimised builds are wideningIsExactOnEveryPattern's, and every option
    // model's C runs at -O3 in OptionCoverageTests (EndToEnd.unoptimised).
    let check = DifferentialCheck(
      modelPath: path, model: model, cases: EndToEnd.cases(for: model, seed: UInt64(index) + 5000),
      cFlags: EndToEnd.unoptimised)
    // run() expects every comparison within the f32 tolerance.
    let table = try check.run()
    print("e2e storage \(storage) \(name): \(table.summary)")
    // The storage took effect: the matrices are 16-bit arrays.
    #expect(try CompileInProcess.c(text, flags: []).contains("static const uint16_t"), "\(name): no 16-bit weights")
  }

  /// The PyTorch and Keras fixtures: the interpreter and the C against the framework's f32
  /// outputs. The error is the storage's; the C and the interpreter must show the same.
  @Test(
    .enabled(if: Clang.isAvailable, "needs clang in PATH"),
    arguments: narrow.map(\.rawValue),
    FrameworkFixtureTests.gruCases.filter { FrameworkFixture.named($0)?.precision == "f32" })
  func frameworkFixturesWithinTheStoragesError(storage: String, name: String) throws {
    let element = try #require(WeightElement(rawValue: storage))
    let fixture = try #require(FrameworkFixture.named(name))
    let dir = try EndToEnd.temporaryDirectory("storage-fixture-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let original = try String(
      contentsOf: fixture.directory.appendingPathComponent(fixture.model), encoding: .utf8)
    // The copy reads the fixture's weights where they are.
    let text = Self.absoluteWeights(Self.withStorage(original, element), in: fixture.directory.path)
    let path = dir.appendingPathComponent(fixture.model).path
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    let table = try FixtureRunner(fixture: fixture, modelPath: path).run()
    let interpreter = try #require(table.maxError("interpreter"))
    let c = try #require(table.maxError("C"))
    print("storage fixture \(name) \(storage): interpreter \(String(format: "%.2e", interpreter)), C \(String(format: "%.2e", c))")
    // Rounding a weight moves it by at most 2^-11 (f16) or 2^-8 (bf16) of itself; through a few
    // layers of products the outputs move by about as much.
    let bound = element == .f16 ? 5e-3 : 4e-2
    #expect(c <= bound && interpreter <= bound, "\(name) \(storage): C \(c), interpreter \(interpreter)")
    #expect(abs(c - interpreter) <= 1e-5, "\(name) \(storage): C \(c) and interpreter \(interpreter) differ")
  }

  /// Each narrow storage and the bound of its error against f32 storage on the Specs' models.
  static let specStorages: [(element: WeightElement, bound: Double)] = [
    (.f16, 5e-3), (.bf16, 4e-2), (.int8, Int8StorageTests.bound),
  ]

  /// The Specs' f32 models (their init weights): each storage (int8 included) against f32 storage,
  /// interpreted on the same random input.
  @Test func specsAgainstF32Storage() throws {
    _ = Golden.enterRoot
    let specs = try FileManager.default.contentsOfDirectory(atPath: "Specs").filter { $0.hasSuffix(".gru") }.sorted()
    var checked = 0
    for spec in specs {
      let text = try String(contentsOfFile: "Specs/\(spec)", encoding: .utf8)
      guard !text.contains("precision f64") else { continue }
      let dir = try EndToEnd.temporaryDirectory("storage-spec")
      defer { try? FileManager.default.removeItem(at: dir) }
      var outputs: [[Double]] = []
      for element in [WeightElement.f32] + Self.specStorages.map(\.element) {
        let path = dir.appendingPathComponent("\(element.rawValue)-\(spec)").path
        // Weights files are read from Specs/.
        let absolute = Self.absoluteWeights(text, in: FileManager.default.currentDirectoryPath + "/Specs")
        try Self.withStorage(absolute, element).write(toFile: path, atomically: false, encoding: .utf8)
        let (_, optimised) = try EndToEnd.modules(for: path)
        let inputs = try Self.randomInputs(optimised)
        outputs.append(try Interpreter.run(optimised, inputs: inputs).flatMap(\.value.values))
      }
      for (k, storage) in Self.specStorages.enumerated() {
        let error = zip(outputs[0], outputs[k + 1]).map { abs($0 - $1) }.max() ?? 0
        print("storage spec \(spec) \(storage.element.rawValue): \(String(format: "%.2e", error)) against f32")
        #expect(error > 0 && error <= storage.bound, "\(spec) \(storage.element.rawValue): \(error)")
      }
      checked += 1
    }
    #expect(checked >= 5)
  }

  /// The text with its `weights "FILE"` line reading FILE from `directory`.
  static func absoluteWeights(_ text: String, in directory: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
      guard line.hasPrefix("weights \"") else { return String(line) }
      return "weights \"\(directory)/" + line.dropFirst("weights \"".count)
    }.joined(separator: "\n")
  }

  /// Two sequences of 9 steps (or the model's fixed steps) of uniform values in [-1, 1), full lengths.
  static func randomInputs(_ module: Module) throws -> [String: ArrayValue] {
    var rng = SplitMix64(state: 7)
    func uniform() -> Double { Double(rng.next() >> 11) * 0x1p-53 * 2 - 1 }
    let steps = module.steps ?? 9
    var inputs: [String: ArrayValue] = [:]
    for node in module.graph.nodes {
      guard case .argument(let name, let type) = node.op else { continue }
      if type.rank == 1 {
        inputs[name] = ArrayValue(shape: [2], values: [Double(steps), Double(steps)])
      } else {
        let features = type.features
        let count = type.isSequence ? 2 * steps * features : 2 * features
        inputs[name] = ArrayValue(
          shape: type.isSequence ? [2, steps, features] : [2, features], values: (0..<count).map { _ in uniform() })
      }
    }
    return inputs
  }
}
