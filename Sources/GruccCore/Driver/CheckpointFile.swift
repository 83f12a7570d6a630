// A training checkpoint as a safetensors file: the weights under their grucc names (in the
// model's precision), the optimizer's vectors, the batch order, the loss history and the batch
// losses as F64/I64 tensors under the reserved prefix `grucc.train.`, and every scalar (the
// step, Adam's step count and β powers, the generator's words, the cursor, the options a resume
// must share) as `grucc.*` metadata in Swift's shortest round-trip decimal, so nothing is rounded.

enum CheckpointFile {
  static let version = "1"
  static let prefix = "grucc.train."

  /// The options that decide the updates: a resumed run must ask for the same ones, or its
  /// weights would not be those of the run that never stopped.
  struct Settings: Equatable {
    var loss: Loss
    var optimizer: OptimizerKind
    var learningRate: Double
    /// SGD's momentum; nil for Adam.
    var momentum: Double?
    /// nil: the whole training set.
    var batch: Int?
    var seed: UInt64

    /// (option, value as the command line spells it), in the order mismatches are reported.
    var fields: [(option: String, value: String)] {
      [("--loss", loss.rawValue), ("--optimizer", optimizer.rawValue), ("--lr", "\(learningRate)"),
       ("--momentum", momentum.map { "\($0)" } ?? "none"), ("--batch", batch.map(String.init) ?? "all"),
       ("--seed", "\(seed)")]
    }
  }

  static func encode(_ state: TrainingState, of module: Module, settings: Settings) -> [UInt8] {
    var tensors = Driver.tensors(of: module.settingValues(state.parameters))
    var metadata: [(String, String)] = [
      ("format", "grucc"), ("grucc.checkpoint", version), ("grucc.model", module.name), ("grucc.step", "\(state.step)"),
      ("grucc.sampler.random", state.sampler.random.map(String.init).joined(separator: " ")),
      ("grucc.sampler.cursor", "\(state.sampler.cursor)"),
    ]
    metadata += zip(["grucc.loss", "grucc.optimizer", "grucc.lr", "grucc.momentum", "grucc.batch", "grucc.seed"],
                    settings.fields.map(\.value)).map { ($0, $1) }
    func vector(_ name: String, _ values: [Double], dtype: TensorDType = .f64) -> NamedTensor {
      NamedTensor(name: prefix + name, dtype: dtype, shape: [values.count], values: values)
    }
    switch state.optimizer {
    case .adam(let steps, let m, let v, let beta1Power, let beta2Power):
      tensors += [vector("adam.m", m), vector("adam.v", v)]
      metadata += [("grucc.adam.steps", "\(steps)"), ("grucc.adam.beta1_power", "\(beta1Power)"),
                   ("grucc.adam.beta2_power", "\(beta2Power)")]
    case .sgd(let velocity):
      tensors.append(vector("sgd.velocity", velocity))
    }
    tensors.append(vector("sampler.order", state.sampler.order.map(Double.init), dtype: .i64))
    // One row per evaluation: step, training loss, validation loss (NaN: no validation set;
    // a real loss is never NaN, training stops first).
    let rows = state.history.flatMap { [Double($0.step), $0.train, $0.valid ?? .nan] }
    tensors.append(NamedTensor(name: prefix + "history", dtype: .f64, shape: [state.history.count, 3], values: rows))
    tensors.append(vector("batch_losses", state.batchLosses))
    return Safetensors.write(tensors, metadata: metadata)
  }

  /// The state a checkpoint holds and the options it was written with, checked against `module`:
  /// the model's name, every parameter's name, shape and precision, and the state's own sizes.
  static func decode(
    _ bytes: [UInt8], of module: Module, budget: MemoryBudget
  ) -> Result<(TrainingState, Settings), FormatError> {
    do throws(FormatError) {
      return .success(try read(bytes, of: module, budget: budget))
    } catch {
      return .failure(error)
    }
  }

  private static func read(
    _ bytes: [UInt8], of module: Module, budget: MemoryBudget
  ) throws(FormatError) -> (TrainingState, Settings) {
    let (tensors, metadataList) = try Safetensors.read(bytes, budget: budget)
    var metadata: [String: String] = [:]
    for (key, value) in metadataList { metadata[key] = value }
    guard let version = metadata["grucc.checkpoint"] else {
      throw FormatError("not a grucc checkpoint (its metadata has no 'grucc.checkpoint'); a weights file is read with the model's 'weights' clause")
    }
    guard version == Self.version else {
      throw FormatError("a checkpoint of format version \(version); this grucc reads version \(Self.version)")
    }
    func text(_ key: String) throws(FormatError) -> String {
      guard let value = metadata[key] else { throw FormatError("the checkpoint's metadata has no '\(key)'") }
      return value
    }
    func number<T: LosslessStringConvertible>(_ key: String, _ type: T.Type) throws(FormatError) -> T {
      let value = try text(key)
      guard let n = T(value) else { throw FormatError("the checkpoint's '\(key)' is '\(value)', not a number") }
      return n
    }
    let name = try text("grucc.model")
    guard name == module.name else { throw FormatError("a checkpoint of model '\(name)', not of '\(module.name)'") }

    var byName: [String: NamedTensor] = [:]
    for t in tensors { byName[t.name] = t }
    let dtype: TensorDType = module.precision == .f32 ? .f32 : .f64
    var parameters: [Double] = []
    for p in module.parameters {
      guard let t = byName.removeValue(forKey: p.name) else {
        throw FormatError("the checkpoint has no tensor '\(p.name)' (\(p.role)) of model '\(module.name)'")
      }
      guard t.shape == p.shape else {
        throw FormatError("tensor '\(p.name)' has shape \(shapeText(t.shape)), the model's is \(shapeText(p.shape))")
      }
      guard t.dtype == dtype else {
        throw FormatError("tensor '\(p.name)' is \(t.dtype.rawValue), the model is \(module.precision.rawValue)")
      }
      parameters += t.values
    }
    func vector(_ name: String, dtype: TensorDType = .f64) throws(FormatError) -> [Double] {
      guard let t = byName.removeValue(forKey: prefix + name) else {
        throw FormatError("the checkpoint has no tensor '\(prefix + name)'")
      }
      guard t.dtype == dtype, t.shape.count == 1 else {
        throw FormatError("tensor '\(prefix + name)' is \(t.dtype.rawValue) \(shapeText(t.shape)), expected a vector of \(dtype.rawValue)")
      }
      return t.values
    }
    // The optimizer's vectors are empty before its first step, else one value per parameter.
    func moments(_ name: String) throws(FormatError) -> [Double] {
      let v = try vector(name)
      guard v.isEmpty || v.count == parameters.count else {
        throw FormatError("tensor '\(prefix + name)' has \(v.count) values for the model's \(parameters.count) parameters")
      }
      return v
    }

    let kind = try text("grucc.optimizer")
    let optimizer: OptimizerState
    switch OptimizerKind(rawValue: kind) {
    case .adam:
      let (m, v) = (try moments("adam.m"), try moments("adam.v"))
      guard m.count == v.count else { throw FormatError("tensors '\(prefix)adam.m' and '\(prefix)adam.v' differ in size") }
      optimizer = .adam(
        steps: try number("grucc.adam.steps", Int.self), m: m, v: v,
        beta1Power: try number("grucc.adam.beta1_power", Double.self),
        beta2Power: try number("grucc.adam.beta2_power", Double.self))
    case .sgd: optimizer = .sgd(velocity: try moments("sgd.velocity"))
    case nil: throw FormatError("the checkpoint's optimizer '\(kind)' is neither adam nor sgd")
    }

    let order = try vector("sampler.order", dtype: .i64)
    let words = try text("grucc.sampler.random").split(separator: " ").compactMap { UInt64($0) }
    let sampler = BatchSampler.State(
      random: words, order: order.map { Int(exactly: $0) ?? -1 }, cursor: try number("grucc.sampler.cursor", Int.self))

    guard let rows = byName.removeValue(forKey: prefix + "history"), rows.dtype == .f64, rows.shape.count == 2,
      rows.shape[1] == 3
    else { throw FormatError("the checkpoint has no tensor '\(prefix)history' of F64 [R, 3]") }
    var history: [LossRecord] = []
    for r in 0..<rows.shape[0] {
      let (s, train, valid) = (rows.values[r * 3], rows.values[r * 3 + 1], rows.values[r * 3 + 2])
      guard let step = Int(exactly: s) else { throw FormatError("row \(r) of '\(prefix)history' has no whole step") }
      history.append(LossRecord(step: step, train: train, valid: valid.isNaN ? nil : valid))
    }
    let batchLosses = try vector("batch_losses")
    let step = try number("grucc.step", Int.self)
    guard step >= 0, batchLosses.count == step else {
      throw FormatError("the checkpoint is at step \(step) but holds \(batchLosses.count) batch losses")
    }
    if let stray = byName.keys.sorted().first {
      throw FormatError("tensor '\(stray)' is neither a parameter of model '\(module.name)' nor checkpoint state")
    }

    let settings = Settings(
      loss: try parse("grucc.loss", text, Loss.init(rawValue:)), optimizer: try parse("grucc.optimizer", text, OptimizerKind.init(rawValue:)),
      learningRate: try number("grucc.lr", Double.self),
      momentum: try text("grucc.momentum") == "none" ? nil : try number("grucc.momentum", Double.self),
      batch: try text("grucc.batch") == "all" ? nil : try number("grucc.batch", Int.self),
      seed: try number("grucc.seed", UInt64.self))
    let state = TrainingState(
      step: step, parameters: parameters, optimizer: optimizer, sampler: sampler, history: history, batchLosses: batchLosses)
    return (state, settings)
  }

  private static func parse<T>(
    _ key: String, _ text: (String) throws(FormatError) -> String, _ make: (String) -> T?
  ) throws(FormatError) -> T {
    let value = try text(key)
    guard let v = make(value) else { throw FormatError("the checkpoint's '\(key)' is '\(value)', which grucc does not know") }
    return v
  }

  /// The first option the resumed run asks differently for, as an error message; nil if none.
  static func mismatch(saved: Settings, asked: Settings) -> String? {
    for (s, a) in zip(saved.fields, asked.fields) where s.value != a.value {
      return "the checkpoint was trained with \(s.option) \(s.value), this run asks for \(a.value); "
        + "a resumed run keeps the options that decide its updates"
    }
    return nil
  }
}
