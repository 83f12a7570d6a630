// A checkpoint file gives back the state and options it was written with, exactly (f64 and f32
// models, Adam and SGD, with and without validation), and a file that is damaged, of another
// model or not a checkpoint is refused with the reason.

import Testing

@testable import GruccCore

@Suite struct CheckpointTests {
  static let settings = CheckpointFile.Settings(
    loss: .quadratic, optimizer: .adam, learningRate: 0.05, momentum: nil, batch: 5, seed: 4)

  func trained(_ text: String, _ optimizer: any Optimizer, validation: Bool) throws -> (Module, TrainingState) {
    let module = try #require(TrainSupport.lowered(text))
    let x = (0..<12).map { Double($0) / 7 - 0.8 }
    let data = TrainingBatch(
      inputs: ["x": ArrayValue(shape: [12, 1, 1], values: x)], targets: ["y": ArrayValue(shape: [12, 1, 1], values: x.map { 3 * $0 })])
    let result = try Trainer(
      options: TrainingOptions(loss: .quadratic, steps: 7, batchSize: 5, seed: 4, every: 3), optimizer: optimizer,
      gradient: FiniteDifferences()
    ).train(module, training: data, validation: validation ? data : nil)
    return (module, result.state)
  }

  @Test(arguments: [("f64", "adam", true), ("f32", "adam", false), ("f64", "sgd", false), ("f32", "sgd", true)])
  func roundTripsExactly(precision: String, optimizer: String, validation: Bool) throws {
    let text = TrainSupport.line.replacingOccurrences(of: "precision f64", with: "precision \(precision)")
    let (module, state) = try trained(
      text, optimizer == "adam" ? Adam(learningRate: 0.05) : SGD(learningRate: 0.1, momentum: 0.9), validation: validation)
    var settings = Self.settings
    if optimizer == "sgd" { (settings.optimizer, settings.momentum, settings.batch) = (.sgd, 0.9, nil) }
    let bytes = CheckpointFile.encode(state, of: module, settings: settings)
    let (decoded, saved) = try CheckpointFile.decode(bytes, of: module, budget: .standard).get()
    #expect(decoded == state)
    #expect(saved == settings)
    #expect(decoded.history.allSatisfy { ($0.valid != nil) == validation })
    // The weights are stored as the model's own file stores them, under their grucc names.
    let tensors = try Safetensors.read(bytes).tensors
    let weights = tensors.filter { !$0.name.hasPrefix(CheckpointFile.prefix) }
    #expect(weights.map(\.name) == ["y.b", "y.w"] || weights.map(\.name) == ["y.w", "y.b"])
    #expect(weights.allSatisfy { $0.dtype == (precision == "f32" ? .f32 : .f64) })
    #expect(CheckpointFile.encode(decoded, of: module, settings: saved) == bytes)
  }

  @Test func namesTheFirstOptionThatDiffers() {
    var asked = Self.settings
    #expect(CheckpointFile.mismatch(saved: Self.settings, asked: asked) == nil)
    asked.learningRate = 0.01
    asked.seed = 9
    #expect(
      CheckpointFile.mismatch(saved: Self.settings, asked: asked)
        == "the checkpoint was trained with --lr 0.05, this run asks for 0.01; a resumed run keeps the options that decide its updates")
    asked = Self.settings
    asked.batch = nil
    #expect(CheckpointFile.mismatch(saved: Self.settings, asked: asked)?.hasPrefix("the checkpoint was trained with --batch 5, this run asks for all") == true)
  }

  @Test func refusesWhatIsNotACheckpointOfThisModel() throws {
    let (module, state) = try trained(TrainSupport.line, Adam(learningRate: 0.05), validation: true)
    let bytes = CheckpointFile.encode(state, of: module, settings: Self.settings)
    func refusal(_ bytes: [UInt8], of m: Module? = nil) -> String? {
      if case .failure(let e) = CheckpointFile.decode(bytes, of: m ?? module, budget: .standard) { return e.message }
      return nil
    }
    let other = try #require(TrainSupport.lowered(TrainSupport.line.replacingOccurrences(of: "model line", with: "model other")))
    #expect(refusal(bytes, of: other) == "a checkpoint of model 'line', not of 'other'")
    let weights = Safetensors.write(Driver.tensors(of: module), metadata: [("format", "grucc")])
    #expect(refusal(weights)?.hasPrefix("not a grucc checkpoint") == true)
    #expect(refusal(Array(bytes.dropLast(3)))?.hasPrefix("truncated") == true)
    var tensors = try Safetensors.read(bytes)
    tensors.tensors.removeAll { $0.name == CheckpointFile.prefix + "adam.v" }
    #expect(refusal(Safetensors.write(tensors.tensors, metadata: tensors.metadata)) == "the checkpoint has no tensor 'grucc.train.adam.v'")
    tensors = try Safetensors.read(bytes)
    tensors.metadata.removeAll { $0.0 == "grucc.step" }
    #expect(refusal(Safetensors.write(tensors.tensors, metadata: tensors.metadata)) == "the checkpoint's metadata has no 'grucc.step'")
    let bigger = try #require(TrainSupport.lowered(TrainSupport.line.replacingOccurrences(of: "dense(x, 1)", with: "dense(x, 2)")))
    let shape = refusal(bytes, of: bigger) ?? ""
    #expect(shape.hasPrefix("tensor 'y.") && shape.contains("has shape [1") && shape.contains("the model's is [2"), "\(shape)")
  }
}
