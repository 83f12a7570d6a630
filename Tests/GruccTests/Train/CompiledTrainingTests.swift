// The compiled training backend against the interpreter's: on every model the gradient checks
// use, one batch's loss and gradients from the C (CGraphProgram through CompiledGradient) equal
// Autodiff's within 1e-12, 100 Adam steps give the same weights (1e-12 in f64, 1e-5 in f32), and
// two compiled runs give identical weights. The generated C compiles without warnings.

import Foundation
import Testing

@testable import GruccCore

/// The compiler the compiled backend finds here, or nil.
enum TrainingCompilers {
  /// -O0: these tests check numbers, not speed, and every level gives the same bits here (x86-64
  /// rounds each double and float operation in SSE registers, -ffp-contract=off rules out FMA, and
  /// no level turns on -ffast-math), while the compile is most of this suite's time: the largest
  /// library took 0.31 CPU-s at -O0 against 2.2 at -O1 with gcc 12. The shipped -O3 is what
  /// `grucc train` uses (TrainCLITests, CI's adder).
  static let found: TrainingCompiler? = (try? TrainingCompiler.find().get()).map {
    var c = $0
    c.optimisation = "-O0"
    return c
  }
}

@Suite(.serialized, .enabled(if: Clang.isAvailable && TrainingCompilers.found != nil))
struct CompiledTrainingTests {
  static var compiler: TrainingCompiler? { TrainingCompilers.found }

  struct Problem {
    var module: Module
    var batch: TrainingBatch
  }

  /// The model lowered, with seeded inputs (lengths including 0 and T) and random targets.
  static func problem(_ variant: VariantModel, batch: Int = 3, steps: Int = 4) throws -> Problem {
    let run = InProcess.run(variant.text)
    let module = try #require(run.module(after: "lower-dense"), "\(run.errors)")
    var random = RandomInputs(seed: UInt64(variant.name.utf8.reduce(7) { $0 &* 31 &+ UInt64($1) }))
    let inputs = random.inputs(for: module, batch: batch, steps: steps)
    let outputs = try Interpreter.run(module, inputs: inputs)
    var targets: [String: ArrayValue] = [:]
    for o in outputs {
      targets[o.name] = ArrayValue(shape: o.value.shape, values: o.value.values.map { _ in random.uniform(-1, 1) })
    }
    return Problem(module: module, batch: TrainingBatch(inputs: inputs, targets: targets))
  }

  static func largestDifference(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
  }

  @Test(arguments: ModelVariants.all(precision: .f64))
  func oneBatchMatchesTheInterpreter(_ variant: VariantModel) throws {
    let compiled = CompiledGradient(compiler: try #require(Self.compiler))
    let p = try Self.problem(variant)
    let reference = try Autodiff().evaluate(p.module, batch: p.batch, loss: .quadratic)
    let result = try compiled.evaluate(p.module, batch: p.batch, loss: .quadratic)
    var worst = abs(reference.loss - result.loss)
    var bitEqual = reference.loss == result.loss
    var compared = 0
    for parameter in p.module.parameters {
      let want = try #require(reference.gradients[parameter.name])
      let got = try #require(result.gradients[parameter.name])
      #expect(got.count == parameter.count)
      worst = max(worst, Self.largestDifference(want, got))
      bitEqual = bitEqual && want == got
      compared += want.count
    }
    #expect(compared > 0)
    #expect(reference.loss > 0)
    #expect(worst <= 1e-12, "\(variant.name): worst difference \(worst)")
    print("compiled gradient \(variant.name): \(compared) values, worst difference \(worst)\(bitEqual ? " (bit-equal)" : "")")
  }

  static func trained(_ p: Problem, _ gradient: any LossGradient) throws -> [Double] {
    let trainer = Trainer(
      options: TrainingOptions(loss: .quadratic, steps: 100, batchSize: 2, seed: 3, every: 100),
      optimizer: Adam(learningRate: 0.01), gradient: gradient)
    return try trainer.train(p.module, training: p.batch).module.parameters.flatMap(\.values)
  }

  /// Every f64 model (their libraries are cached from the test above) and every fourth f32 one.
  static let trainingModels = ModelVariants.all(precision: .f64)
    + ModelVariants.all(precision: .f32).enumerated().filter { $0.offset % 4 == 0 }.map(\.element)

  @Test(arguments: trainingModels)
  func hundredAdamStepsMatchTheInterpreter(_ variant: VariantModel) throws {
    let compiled = CompiledGradient(compiler: try #require(Self.compiler))
    let p = try Self.problem(variant)
    let start = p.module.parameters.flatMap(\.values)
    let interpreted = try Self.trained(p, Autodiff())
    let first = try Self.trained(p, compiled)
    let second = try Self.trained(p, compiled)
    #expect(first == second, "two compiled runs differ")
    #expect(Self.largestDifference(first, start) > 0, "training changed nothing")
    let worst = Self.largestDifference(first, interpreted)
    let tolerance = p.module.precision == .f64 ? 1e-12 : 1e-5
    #expect(worst <= tolerance, "\(variant.name): weights differ by \(worst) after 100 steps")
    print("100 Adam steps \(variant.name): worst weight difference \(worst)\(first == interpreted ? " (bit-equal)" : "")")
  }

  /// The C of the model with every head and its gradient, under the firmware warnings.
  @Test func generatedCCompilesWithoutWarnings() throws {
    let clang = try #require(Clang.compiler)
    let variant = try #require(ModelVariants.all(precision: .f32).first { $0.name.hasSuffix("every-head") })
    let p = try Self.problem(variant)
    let gradient = try Autodiff.gradientModule(p.module)
    let (source, _) = try CGraphProgram.emit([("f", p.module), ("g", gradient)])
    let (again, _) = try CGraphProgram.emit([("f", p.module), ("g", gradient)])
    #expect(source == again)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grucc-cgraph-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("program.c").path
    try Data(source.utf8).write(to: URL(fileURLWithPath: file))
    let flags = CCompiler.strictC + ["-Wconversion", "-Wsign-conversion", "-Wshadow", "-Wdouble-promotion"]
    let out = try clang.compile(flags + ["-c", file, "-o", dir.appendingPathComponent("program.o").path])
    #expect(out.succeeded, "\(out)")
  }

  @Test func aGraphItCannotEmitIsAnErrorNotACrash() throws {
    let variant = try #require(ModelVariants.all(precision: .f64).first)
    let run = InProcess.run(variant.text)
    // Before lower-dense the graph still holds `gru` and `dense`.
    let module = try #require(run.module(after: "irgen"), "\(run.errors)")
    #expect(throws: CGraphUnsupported.self) { try CGraphProgram.emit([("f", module)]) }
  }
}
