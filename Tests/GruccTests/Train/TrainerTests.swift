// The training loop on a tiny model with finite differences: the loss goes down, reports come
// at the promised steps, the same seed gives bit-identical weights, a resumed run gives the
// uninterrupted one's, mini-batches cover every example once per epoch, f32 weights stay
// Floats, and a diverging run stops with an error.

import Testing

@testable import GruccCore

@Suite struct TrainerTests {
  /// t = 2x − 1 on 12 one-step sequences, which y = w·x + b fits exactly.
  func lineData(_ count: Int = 12, offset: Double = 0) -> TrainingBatch {
    let x = (0..<count).map { Double($0) / Double(count) - 0.5 + offset }
    return TrainingBatch(
      inputs: ["x": ArrayValue(shape: [count, 1, 1], values: x)],
      targets: ["y": ArrayValue(shape: [count, 1, 1], values: x.map { 2 * $0 - 1 })])
  }

  func train(
    _ module: Module, options: TrainingOptions, optimizer: any Optimizer = Adam(learningRate: 0.05),
    validation: TrainingBatch? = nil, progress: (TrainingEvent) -> Void = { _ in }
  ) throws -> TrainingResult {
    try Trainer(options: options, optimizer: optimizer, gradient: FiniteDifferences())
      .train(module, training: lineData(), validation: validation, progress: progress)
  }

  @Test func lossGoesDownAndIsReportedEveryKSteps() throws {
    let module = try #require(TrainSupport.lowered(TrainSupport.line))
    var events: [TrainingEvent] = []
    let result = try train(
      module, options: TrainingOptions(loss: .quadratic, steps: 50, every: 20), validation: lineData(5, offset: 0.1)
    ) { events.append($0) }
    #expect(result.history.map(\.step) == [0, 20, 40, 50])
    #expect(result.history.allSatisfy { $0.valid != nil })
    #expect(result.history.last!.train < result.history.first!.train / 10)
    #expect(result.history.last!.valid! < result.history.first!.valid! / 10)
    let steps = events.compactMap { if case .step(let s, _) = $0 { return s } else { return nil } }
    #expect(steps == Array(1...50))
    // The reported loss is the trained module's own.
    let final = try ForwardLoss.value(result.module, batch: lineData(), loss: .quadratic)
    #expect(final == result.history.last!.train)
  }

  @Test func sgdFitsTheLine() throws {
    let module = try #require(TrainSupport.lowered(TrainSupport.line))
    let result = try train(module, options: TrainingOptions(loss: .mse, steps: 300), optimizer: SGD(learningRate: 0.5))
    let w = try #require(result.module.parameter(named: "y.w")).values[0]
    let b = try #require(result.module.parameter(named: "y.b")).values[0]
    #expect(abs(w - 2) < 1e-3 && abs(b + 1) < 1e-3)
    #expect(result.history.count == 21)  // step 0 and every 15 steps
  }

  @Test func sameSeedGivesBitIdenticalWeights() throws {
    let module = try #require(TrainSupport.lowered(TrainSupport.line))
    func weights(seed: UInt64) throws -> [Double] {
      try train(module, options: TrainingOptions(loss: .quadratic, steps: 12, batchSize: 5, seed: seed))
        .module.parameters.flatMap(\.values)
    }
    #expect(try weights(seed: 7) == weights(seed: 7))
    #expect(try weights(seed: 7) != weights(seed: 8))
  }

  @Test func miniBatchesCoverEveryExampleOncePerEpoch() {
    var sampler = BatchSampler(count: 10, batchSize: 3, seed: 1)
    for _ in 0..<4 {
      let epoch = (0..<3).flatMap { _ in sampler.next() }
      #expect(Set(epoch).count == 9)  // three batches of three, no repeats; one example waits
    }
    var whole = BatchSampler(count: 4, batchSize: 10, seed: 1)
    #expect(whole.next() == [0, 1, 2, 3])
  }

  /// K steps at once, and k steps then a resume to K from the state the first run ended in,
  /// give the same weights bit for bit. Mini-batches of 5 of 12 stop the first run mid-epoch,
  /// so the batch order, the cursor and the generator all have to carry over; a naive restart
  /// from the first run's weights (fresh optimizer and sampler) does not give them.
  @Test(arguments: ["adam", "sgd"])
  func resumingGivesTheUninterruptedWeights(optimizer kind: String) throws {
    let module = try #require(TrainSupport.lowered(TrainSupport.line))
    func optimizer() -> any Optimizer { kind == "adam" ? Adam(learningRate: 0.05) : SGD(learningRate: 0.1, momentum: 0.9) }
    func trainer(_ steps: Int) -> Trainer {
      Trainer(
        options: TrainingOptions(loss: .quadratic, steps: steps, batchSize: 5, seed: 4, every: 4), optimizer: optimizer(),
        gradient: FiniteDifferences())
    }
    let whole = try trainer(13).train(module, training: lineData())
    var saved: [Int] = []
    let part = try trainer(7).train(
      module, training: lineData(), validation: nil, resuming: nil, progress: { _ in }, checkpoint: { saved.append($0.step) })
    #expect(saved == [4, 7])
    #expect(part.state.sampler.cursor == 5 && part.state.optimizer.length == 2)
    let resumed = try trainer(13).train(
      module, training: lineData(), validation: nil, resuming: part.state, progress: { _ in }, checkpoint: { _ in })
    let weights = whole.module.parameters.flatMap(\.values)
    #expect(resumed.module.parameters.flatMap(\.values) == weights)
    #expect(resumed.state.parameters == weights)
    #expect(resumed.state.optimizer == whole.state.optimizer)
    #expect(resumed.state.sampler == whole.state.sampler)
    #expect(resumed.batchLosses == whole.batchLosses && resumed.batchLosses.count == 13)
    #expect(resumed.history.map(\.step) == [0, 4, 7, 8, 12, 13])
    let naive = try trainer(6).train(part.module, training: lineData())
    #expect(naive.module.parameters.flatMap(\.values) != weights)
  }

  @Test func resumingRefusesAStateThatDoesNotFit() throws {
    let module = try #require(TrainSupport.lowered(TrainSupport.line))
    let options = TrainingOptions(loss: .quadratic, steps: 6, batchSize: 5)
    let part = try Trainer(options: options, optimizer: Adam(), gradient: FiniteDifferences()).train(module, training: lineData())
    func resume(_ trainer: Trainer, _ state: TrainingState, data: TrainingBatch? = nil) throws {
      _ = try trainer.train(
        module, training: data ?? lineData(), validation: nil, resuming: state, progress: { _ in }, checkpoint: { _ in })
    }
    var longer = options
    longer.steps = 9
    let adam = Trainer(options: longer, optimizer: Adam(), gradient: FiniteDifferences())
    #expect(throws: TrainingError.self) { try resume(Trainer(options: options, optimizer: Adam(), gradient: FiniteDifferences()), part.state) }
    #expect(throws: TrainingError.self) { try resume(Trainer(options: longer, optimizer: SGD(), gradient: FiniteDifferences()), part.state) }
    #expect(throws: TrainingError.self) { try resume(adam, part.state, data: lineData(13)) }
    try resume(adam, part.state)
  }

  @Test func aSamplerRebuiltFromItsStateDrawsTheSameBatches() {
    var sampler = BatchSampler(count: 10, batchSize: 3, seed: 5)
    for _ in 0..<4 { _ = sampler.next() }
    var copy = BatchSampler(count: 10, batchSize: 3, state: sampler.state)!
    #expect((0..<9).map { _ in copy.next() } == (0..<9).map { _ in sampler.next() })
    var state = sampler.state
    state.order[0] = state.order[1]
    #expect(BatchSampler(count: 10, batchSize: 3, state: state) == nil)  // not a permutation
    #expect(BatchSampler(count: 11, batchSize: 3, state: sampler.state) == nil)
    state = sampler.state
    state.random = [0, 0, 0, 0]
    #expect(BatchSampler(count: 10, batchSize: 3, state: state) == nil)
  }

  @Test func f32WeightsStayFloats() throws {
    let text = TrainSupport.line.replacingOccurrences(of: "precision f64", with: "precision f32")
    let module = try #require(TrainSupport.lowered(text))
    let result = try train(module, options: TrainingOptions(loss: .quadratic, steps: 5))
    for v in result.module.parameters.flatMap(\.values) { #expect(Double(Float(v)) == v) }
    #expect(result.history.last!.train < result.history.first!.train)
  }

  @Test func divergingTrainingStopsWithAnError() throws {
    let module = try #require(TrainSupport.lowered(TrainSupport.line))
    #expect(throws: TrainingError.self) {
      try train(module, options: TrainingOptions(loss: .quadratic, steps: 2000), optimizer: SGD(learningRate: 1e4))
    }
  }
}
