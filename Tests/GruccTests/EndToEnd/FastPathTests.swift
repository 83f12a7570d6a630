// The fast paths of the C backend, end to end on every option-coverage model: the activations
// of both modes (fast, the default, and libm), and batches wide enough for the packed products' register blocks (6 rows at a
// time, then the remainder) with a length per sequence.

import Foundation
import Testing

@testable import GruccCore

@Suite struct FastPathTests {
  /// Batches of 13 (two blocks of 6 and one row left over) at 1, 7 and 20 steps, compiled with
  /// `--activations libm` (the other tests compile the default, fast): within the tolerance of
  /// the reference, and of the interpreter computing libm's activations too.
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: OptionCoverageTests.modelNames)
  func libmActivationsOnWideBatches(name: String) throws {
    let index = try #require(OptionCoverageTests.modelNames.firstIndex(of: name))
    let model = OptionCoverageTests.models[index]
    let dir = try EndToEnd.temporaryDirectory("libm-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("\(name).gru").path
    try OptionCoverageTests.gruText(model, seed: UInt64(index) + 1).write(toFile: path, atomically: false, encoding: .utf8)
    let cases = EndToEnd.cases(for: model, seed: UInt64(index) + 3000, steps: [1, 7, 20], batch: 13)
    let check = DifferentialCheck(modelPath: path, model: model, cases: cases, gruccFlags: ["--activations", "libm"])
    let table = try check.run()
    print("e2e libm \(name) (\(model.precision.rawValue)): \(table.summary)")
  }

  /// The mode changes only how activations are computed: the header says which and states the
  /// fast functions' measured error; a model without sigmoid, tanh or exp is emitted the same in
  /// both modes. `exact`, libm's name before fast became the default, still selects it.
  @Test func fastModeIsStatedInTheHeader() throws {
    let text = """
      model m
      input x[3]
      gru h = x -> hidden 4, reset after, update keeps-state, bias separate
      output y = h
      init seed 1
      """
    let fast = try CompileInProcess.c(text, flags: [])
    #expect(fast == (try CompileInProcess.c(text, flags: ["--activations", "fast"])))
    #expect(fast.contains("Activations (fast, the default)"))
    #expect(fast.contains("Maximum errors: sigmoid 8.9e-8, tanh 8.9e-8 (absolute)"))
    #expect(!fast.contains("tanhf(") && !fast.contains("expf("), "fast mode still calls libm")
    let libm = try CompileInProcess.c(text, flags: ["--activations", "libm"])
    #expect(libm.contains("tanhf(") && libm.contains("expf("))
    #expect(libm == (try CompileInProcess.c(text, flags: ["--activations", "exact"])))
    let linear = text.replacing("output y = h", with: "output y = dense(h, 2)").replacing("hidden 4,", with: "hidden 4, gate-activation hard-sigmoid, candidate-activation relu,")
    #expect(try CompileInProcess.c(linear, flags: ["--activations", "libm"]) == CompileInProcess.c(linear, flags: []))
  }

  /// Each fast function is emitted with only the helpers it calls: with tanh and no sigmoid
  /// (hard-sigmoid gates), the lower clamp only sigmoid and exp use was an unused static
  /// function, a warning (the random differential test found it). Every combination compiles
  /// without a warning in both precisions.
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: ["f32", "f64"])
  func everyCombinationOfFastFunctionsCompilesWithoutWarnings(precision: String) throws {
    let clang = try #require(Clang.compiler)
    let dir = try EndToEnd.temporaryDirectory("fast-combinations")
    defer { try? FileManager.default.removeItem(at: dir) }
    // tanh alone, sigmoid alone, exp alone (elu), and all three.
    let layers = [
      "gate-activation hard-sigmoid", "candidate-activation relu", "gate-activation relu, candidate-activation elu", "",
    ]
    for (k, options) in layers.enumerated() {
      let text = """
        model m\(k)
        precision \(precision)
        input x[3]
        gru h = x -> hidden 4, reset after, update keeps-state, bias separate\(options.isEmpty ? "" : ", " + options)
        output y = h
        init seed 1
        """
      let path = dir.appendingPathComponent("m\(k).c").path
      try CompileInProcess.c(text, flags: ["--activations", "fast"]).write(toFile: path, atomically: false, encoding: .utf8)
      let header = try CompileInProcess.header(text, flags: ["--activations", "fast"])
      try header.write(toFile: dir.appendingPathComponent("m\(k).h").path, atomically: false, encoding: .utf8)
      let built = try clang.compile(CCompiler.strictC + ["-c", path, "-o", dir.appendingPathComponent("m\(k).o").path])
      #expect(built.succeeded, "\(options): \(built.summary)")
    }
  }

  /// The errors stated in the header were measured on Tools/fastmath/fast.h: the emitted
  /// functions must use its constants, every one of them.
  @Test func emittedPolynomialsAreTheMeasuredOnes() throws {
    _ = Golden.enterRoot
    let measured = try String(contentsOfFile: "Tools/fastmath/fast.h", encoding: .utf8)
    let emitted = [CFastMath.supportF32, CFastMath.maxF32, CFastMath.expF32, CFastMath.sigmoidF32, CFastMath.tanhF32,
      CFastMath.supportF64, CFastMath.maxF64, CFastMath.expF64, CFastMath.sigmoidF64, CFastMath.tanhF64].joined(separator: "\n")
    let literals = emitted.matches(of: /[0-9]+\.[0-9]+(e[-+]?[0-9]+)?f?|0x[0-9A-Fa-f]+u?/).map { String($0.output.0) }
    #expect(literals.count > 40)
    for literal in Set(literals).sorted() {
      #expect(measured.contains(literal), "\(literal) is emitted but not in Tools/fastmath/fast.h")
    }
  }

  @Test func activationsFlagIsChecked() {
    let result = Driver.run(["m.gru", "--activations", "quick"])
    #expect(result.exitCode != 0)
    #expect(result.stderr.contains("'--activations' takes 'fast' or 'libm', not 'quick'"))
  }
}

/// The generated C of a model given as text, through the Driver.
enum CompileInProcess {
  struct Failed: Error { var stderr: String }

  static func c(_ text: String, flags: [String]) throws -> String { try emit("c", text, flags: flags) }

  static func header(_ text: String, flags: [String]) throws -> String { try emit("h", text, flags: flags) }

  private static func emit(_ kind: String, _ text: String, flags: [String]) throws -> String {
    let dir = try EndToEnd.temporaryDirectory("inprocess")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("m.gru").path
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    let result = Driver.run([path, "--emit", kind] + flags)
    guard result.exitCode == 0 else { throw Failed(stderr: result.stderr) }
    return result.stdout
  }
}
