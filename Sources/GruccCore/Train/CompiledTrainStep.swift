// grucc train's compiled backend: the C step `--emit train` writes (CTrainStep), compiled with
// the loader shim into a shared library and called per batch. The weights and the optimiser's
// state live in C memory this side owns; they become Swift arrays only when Trainer asks
// (evaluations, checkpoints, the end).

import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

private typealias StepEntry = @convention(c) (
  UnsafeMutableRawPointer?, Int, Int, UnsafePointer<UnsafeRawPointer?>?, UnsafePointer<Int32>?,
  UnsafePointer<UnsafePointer<Double>?>?, Double, UnsafeMutableRawPointer?, UnsafeMutablePointer<Double>?
) -> Int32
private typealias SizeEntry = @convention(c) () -> Int
private typealias ScratchEntry = @convention(c) (Int, Int) -> Int
private typealias PredictEntry = @convention(c) (
  UnsafeRawPointer?, Int, Int, UnsafePointer<UnsafeRawPointer?>?, UnsafePointer<Int32>?,
  UnsafePointer<UnsafeMutableRawPointer?>?, UnsafeMutableRawPointer?
) -> Int32
private typealias InitEntry = @convention(c) (UnsafeMutableRawPointer?) -> Void
private typealias SaveEntry = @convention(c) (
  UnsafeRawPointer?, UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?,
  UnsafeMutablePointer<Double>?, UnsafeMutablePointer<UInt64>?
) -> Void
private typealias LoadEntry = @convention(c) (
  UnsafeMutableRawPointer?, UnsafePointer<Double>?, UnsafePointer<Double>?, UnsafePointer<Double>?,
  UnsafePointer<Double>?, UInt64
) -> Void

/// One model's compiled step, loaded. Immutable: every run keeps its own state and scratch
/// (CompiledStepRun), so one library serves any number of runs. The library stays loaded for
/// the life of the process.
public final class CompiledTrainStep: @unchecked Sendable {
  public let layout: CTrainStepLayout
  public let configuration: TrainStepConfiguration
  let precision: Precision
  fileprivate let step: StepEntry
  fileprivate let scratchBytes: ScratchEntry
  fileprivate let initialise: InitEntry
  fileprivate let save: SaveEntry
  fileprivate let load: LoadEntry
  fileprivate let predict: PredictEntry
  fileprivate let predictScratchBytes: ScratchEntry
  let stateBytes: Int

  private init(
    layout: CTrainStepLayout, configuration: TrainStepConfiguration, precision: Precision, step: StepEntry,
    scratchBytes: ScratchEntry, initialise: InitEntry, save: SaveEntry, load: LoadEntry, predict: PredictEntry,
    predictScratchBytes: ScratchEntry, stateBytes: Int
  ) {
    self.predict = predict
    self.predictScratchBytes = predictScratchBytes
    self.layout = layout
    self.configuration = configuration
    self.precision = precision
    self.step = step
    self.scratchBytes = scratchBytes
    self.initialise = initialise
    self.save = save
    self.load = load
    self.stateBytes = stateBytes
  }

  /// Emits, compiles and loads the step of `module` (lowered through `lower-dense`). The weights
  /// are not compiled in: the run loads them, so the library is the model's structure only.
  public static func build(
    _ module: Module, loss: Loss, optimizer: TrainStepOptimizer, compiler: TrainingCompiler
  ) throws(CompiledGradientError) -> CompiledTrainStep {
    let configuration = TrainStepConfiguration(loss: loss, optimizer: optimizer, embedWeights: false)
    let emitted: (source: String, header: String, layout: CTrainStepLayout)
    do throws(CGraphUnsupported) {
      emitted = try CTrainStep.emit(module, headerName: "step.h", configuration: configuration)
    } catch {
      throw CompiledGradientError(error.message)
    }
    let library = try compiler.load(
      emitted.source + CTrainStep.loaderShim(module, layout: emitted.layout, configuration: configuration),
      headers: [("step.h", emitted.header)], stem: "step")
    let stateSize = try library.symbol("grucc_state_bytes", as: SizeEntry.self)
    return CompiledTrainStep(
      layout: emitted.layout, configuration: configuration, precision: module.precision,
      step: try library.symbol("grucc_step", as: StepEntry.self), scratchBytes: try library.symbol("grucc_scratch_bytes", as: ScratchEntry.self),
      initialise: try library.symbol("grucc_init", as: InitEntry.self), save: try library.symbol("grucc_save", as: SaveEntry.self),
      load: try library.symbol("grucc_load", as: LoadEntry.self), predict: try library.symbol("grucc_predict", as: PredictEntry.self),
      predictScratchBytes: try library.symbol("grucc_predict_scratch_bytes", as: ScratchEntry.self), stateBytes: stateSize())
  }

  var adam: Bool {
    switch configuration.optimizer {
    case .adam: true
    case .sgd: false
    }
  }
}

/// One training run on a compiled step: the C state (weights, optimiser) and the scratch.
final class CompiledStepRun: TrainingStepBackend {
  let program: CompiledTrainStep
  let learningRate: Double
  private let state: UnsafeMutableRawPointer
  private var scratch: UnsafeMutableRawPointer?
  private var scratchSize = 0
  /// Whether any step has run (or the restored state had one): the optimiser's vectors are
  /// empty before, as the Swift optimisers' are.
  private var stepped = false

  init(_ program: CompiledTrainStep, parameters: [Double], learningRate: Double) {
    self.program = program
    self.learningRate = learningRate
    state = UnsafeMutableRawPointer.allocate(byteCount: max(program.stateBytes, 16), alignment: 64)
    program.initialise(state)
    let zeros = [Double](repeating: 0, count: parameters.count)
    program.load(state, parameters, zeros, zeros, [1, 1], 0)
  }

  deinit {
    state.deallocate()
    scratch?.deallocate()
  }

  var parameters: [Double] { saved().parameters }

  var optimizerState: OptimizerState {
    let s = saved()
    guard stepped else { return program.adam ? .adam(steps: 0, m: [], v: [], beta1Power: 1, beta2Power: 1) : .sgd(velocity: []) }
    return program.adam
      ? .adam(steps: Int(s.steps), m: s.a, v: s.b, beta1Power: s.scalars[0], beta2Power: s.scalars[1]) : .sgd(velocity: s.a)
  }

  private func saved() -> (parameters: [Double], a: [Double], b: [Double], scalars: [Double], steps: UInt64) {
    let n = program.layout.parameterCount
    var (p, a, b, scalars) = ([Double](repeating: 0, count: n), [Double](repeating: 0, count: n), [Double](repeating: 0, count: n), [0.0, 0.0])
    var steps: UInt64 = 0
    program.save(state, &p, &a, &b, &scalars, &steps)
    return (p, a, b, scalars, steps)
  }

  func restore(parameters: [Double], optimizer: OptimizerState) throws {
    let n = program.layout.parameterCount
    guard parameters.count == n else { throw TrainingError("the run to resume is not one of this model") }
    let zeros = [Double](repeating: 0, count: n)
    switch (optimizer, program.adam) {
    case (.adam(let steps, let m, let v, let p1, let p2), true):
      guard m.count == v.count, [0, n].contains(m.count), steps >= 0 else { throw TrainingError("the run to resume is not one of this model") }
      program.load(state, parameters, m.isEmpty ? zeros : m, v.isEmpty ? zeros : v, [p1, p2], UInt64(steps))
      stepped = !m.isEmpty
    case (.sgd(let velocity), false):
      guard [0, n].contains(velocity.count) else { throw TrainingError("the run to resume is not one of this model") }
      program.load(state, parameters, velocity.isEmpty ? zeros : velocity, zeros, [1, 1], 0)
      stepped = !velocity.isEmpty
    default:
      throw TrainingError("the run to resume used another optimizer")
    }
  }

  func step(_ batch: TrainingBatch, number: Int) throws -> Double {
    switch program.precision {
    case .f32: return try step(Float.self, batch, number)
    case .f64: return try step(Double.self, batch, number)
    }
  }

  /// The batch's inputs in the model's precision and its lengths, checked as the interpreter
  /// checks them, with B and T.
  private func prepared<S: InterpreterScalar>(_: S.Type, _ batch: TrainingBatch) throws -> (
    B: Int, T: Int, inputs: [[S]], lengths: [Int32]?
  ) {
    let layout = program.layout
    let (B, T) = try Self.batchSize(layout, batch)
    var buffers: [[S]] = []
    for (k, name) in layout.inputNames.enumerated() {
      guard let value = batch.inputs[name] else { throw TrainingError("missing input '\(name)'") }
      let shape = CompiledGradient.concrete(layout.inputDims[k], B: B, T: T)
      guard value.shape == shape, value.values.count == shape.reduce(1, *) else {
        throw TrainingError("input '\(name)' has shape \(shapeText(value.shape)), expected \(shapeText(shape))")
      }
      buffers.append(
        try value.values.map { v in
          let x = S(v)
          guard x.isFinite else { throw TrainingError("input '\(name)' has the value \(v), not finite in the model's precision") }
          return x
        })
    }
    var lengths: [Int32]?
    if let name = layout.lengthsName {
      guard let value = batch.inputs[name] else { throw TrainingError("missing input '\(name)'") }
      guard value.values.count == B else { throw TrainingError("lengths '\(name)' has \(value.values.count) values for B = \(B)") }
      lengths = try value.values.map { v in
        guard v == v.rounded(), v >= 0, v <= Double(T) else {
          throw TrainingError("lengths '\(name)' must be whole numbers from 0 to T = \(T), found \(v)")
        }
        return Int32(v)
      }
    }
    return (B, T, buffers, lengths)
  }

  /// Scratch of at least `bytes`, kept for the next call.
  private func scratch(_ bytes: Int) -> UnsafeMutableRawPointer {
    if bytes > scratchSize || scratch == nil {
      scratch?.deallocate()
      scratch = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 16), alignment: 64)
      scratchSize = max(bytes, 16)
    }
    return scratch!
  }

  func fullLoss(_ batch: TrainingBatch, loss: Loss) throws -> Double {
    switch program.precision {
    case .f32: return try fullLoss(Float.self, batch, loss)
    case .f64: return try fullLoss(Double.self, batch, loss)
    }
  }

  /// ForwardLoss.value with the forward graph in C: the outputs, then Loss.evaluate in Swift.
  private func fullLoss<S: InterpreterScalar>(_: S.Type, _ batch: TrainingBatch, _ loss: Loss) throws -> Double {
    let layout = program.layout
    for name in batch.targets.keys.sorted() where !layout.outputNames.contains(name) {
      throw TrainingError("the model has no output named '\(name)' to compare with that target")
    }
    let (B, T, inputs, lengths) = try prepared(S.self, batch)
    let shapes = layout.outputDims.map { CompiledGradient.concrete($0, B: B, T: T) }
    let outputs = shapes.map { UnsafeMutableBufferPointer<S>.allocate(capacity: max(1, $0.reduce(1, *))) }
    defer { for o in outputs { o.deallocate() } }
    let outputPointers = outputs.map { UnsafeMutableRawPointer($0.baseAddress) }
    let work = scratch(program.predictScratchBytes(B, T))
    let status = withPointers(inputs) { i in
      i.withUnsafeBufferPointer { ip in
        outputPointers.withUnsafeBufferPointer { op in
          if let lengths {
            return lengths.withUnsafeBufferPointer { l in program.predict(state, B, T, ip.baseAddress, l.baseAddress, op.baseAddress, work) }
          }
          return program.predict(state, B, T, ip.baseAddress, nil, op.baseAddress, work)
        }
      }
    }
    guard status == 0 else { throw TrainingError("internal: the compiled forward refused the lengths") }
    let batchLengths = lengths.map { $0.map { Int($0) } }
    var total = 0.0
    for (k, name) in layout.outputNames.enumerated() {
      guard let target = batch.targets[name] else { continue }
      guard target.shape == shapes[k] else {
        throw TrainingError("target '\(name)' has shape \(shapeText(target.shape)); the output is \(shapeText(shapes[k]))")
      }
      let output = ArrayValue(shape: shapes[k], values: (0..<shapes[k].reduce(1, *)).map { Double(outputs[k][$0]) })
      total += loss.evaluate(output: output, target: target, lengths: batchLengths).value
    }
    return total
  }

  private func step<S: InterpreterScalar>(_: S.Type, _ batch: TrainingBatch, _ number: Int) throws -> Double {
    let layout = program.layout
    let (B, T, buffers, lengths) = try prepared(S.self, batch)
    var targets: [[Double]?] = []
    for (k, name) in layout.outputNames.enumerated() {
      guard let target = batch.targets[name] else {
        targets.append(nil)
        continue
      }
      let shape = CompiledGradient.concrete(layout.outputDims[k], B: B, T: T)
      guard target.values.count == shape.reduce(1, *) else {
        throw TrainingError("target '\(name)' has shape \(shapeText(target.shape)), expected \(shapeText(shape))")
      }
      targets.append(target.values)
    }
    let work = scratch(program.scratchBytes(B, T))
    var loss = 0.0
    let status = withPointers(buffers) { inputPointers in
      withPointers(targets) { targetPointers in
        inputPointers.withUnsafeBufferPointer { i in
          targetPointers.withUnsafeBufferPointer { t in
            if let lengths {
              return lengths.withUnsafeBufferPointer { l in
                program.step(state, B, T, i.baseAddress, l.baseAddress, t.baseAddress, learningRate, work, &loss)
              }
            }
            return program.step(state, B, T, i.baseAddress, nil, t.baseAddress, learningRate, work, &loss)
          }
        }
      }
    }
    switch CTrainStep.Status(rawValue: status) {
    case .ok?:
      stepped = true
      return loss
    case .lossNotFinite?: throw TrainingError.lossNotFinite(number)
    case .weightNotFinite?: throw TrainingError.weightNotFinite(number)
    case .badLengths?: throw TrainingError("internal: the compiled step refused the lengths")
    case nil: throw TrainingError("internal: the compiled step returned \(status)")
    }
  }

  /// B and T from the sequence input, as the interpreter takes them.
  private static func batchSize(_ layout: CTrainStepLayout, _ batch: TrainingBatch) throws -> (Int, Int) {
    for (k, dims) in layout.inputDims.enumerated() where dims.count == 3 {
      let name = layout.inputNames[k]
      guard let value = batch.inputs[name] else { throw TrainingError("missing input '\(name)'") }
      guard value.shape.count == 3, value.shape[0] >= 1, value.shape[1] >= 1, case .fixed(let f) = dims[2], value.shape[2] == f else {
        throw TrainingError("input '\(name)' has shape \(shapeText(value.shape)), expected [B, T, \(dims[2])]")
      }
      return (value.shape[0], value.shape[1])
    }
    throw TrainingError("internal: the model has no sequence input")
  }
}

/// Calls `body` with a pointer to each array's storage (nil for a nil array), valid inside it.
private func withPointers<E, R>(_ arrays: [[E]], _ body: ([UnsafeRawPointer?]) -> R) -> R {
  func go(_ k: Int, _ acc: [UnsafeRawPointer?]) -> R {
    if k == arrays.count { return body(acc) }
    return arrays[k].withUnsafeBytes { go(k + 1, acc + [$0.baseAddress]) }
  }
  return go(0, [])
}

private func withPointers<R>(_ arrays: [[Double]?], _ body: ([UnsafePointer<Double>?]) -> R) -> R {
  func go(_ k: Int, _ acc: [UnsafePointer<Double>?]) -> R {
    if k == arrays.count { return body(acc) }
    guard let a = arrays[k] else { return go(k + 1, acc + [nil]) }
    return a.withUnsafeBufferPointer { go(k + 1, acc + [$0.baseAddress]) }
  }
  return go(0, [])
}
