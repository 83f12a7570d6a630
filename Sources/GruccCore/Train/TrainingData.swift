// The examples training works on: a TrainingBatch holds whole data sets as well as mini-batches
// (every array's first axis is the example), so choosing a mini-batch is choosing rows. Also the
// forward-only loss that training reports and that finite differences perturb.

/// A training or differentiation problem that cannot go on: data that does not fit the model, a
/// loss that is no longer finite, a gradient that breaks the LossGradient contract.
public struct TrainingError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public var description: String { message }

  public init(_ message: String) { self.message = message }
}

extension ArrayValue {
  /// The rows `indices` of the first axis, in that order.
  func rows(_ indices: [Int]) -> ArrayValue {
    let count = shape.first ?? 0
    let width = count == 0 ? 0 : values.count / count
    var picked: [Double] = []
    picked.reserveCapacity(indices.count * width)
    for i in indices { picked += values[(i * width)..<((i + 1) * width)] }
    return ArrayValue(shape: [indices.count] + shape.dropFirst(), values: picked)
  }
}

extension TrainingBatch {
  /// The number of examples: the first axis of the arrays (all agree; the caller checked).
  public var exampleCount: Int {
    (inputs.values.first ?? targets.values.first)?.shape.first ?? 0
  }

  /// The examples `indices`, in that order, of every input and target.
  public func examples(_ indices: [Int]) -> TrainingBatch {
    TrainingBatch(inputs: inputs.mapValues { $0.rows(indices) }, targets: targets.mapValues { $0.rows(indices) })
  }

  /// The sequence lengths, if the model has a lengths input: Loss leaves out the padded steps.
  public func lengths(for module: Module) -> [Int]? {
    for i in module.graph.argumentNodes {
      guard case .argument(let name, let type) = module.graph.nodes[i].op, type.dtype == .i32 else { continue }
      return inputs[name].map { $0.values.map { Int($0) } }
    }
    return nil
  }
}

/// The loss of a batch from a forward run alone: what training reports and what finite
/// differences perturb. The loss of a model with several trained outputs is the sum of theirs.
public enum ForwardLoss {
  public static func value(_ module: Module, batch: TrainingBatch, loss: Loss) throws -> Double {
    let outputs: [(name: String, value: ArrayValue)]
    do throws(InterpreterError) {
      outputs = try Interpreter.run(module, inputs: batch.inputs)
    } catch {
      throw TrainingError(error.message)
    }
    for name in batch.targets.keys.sorted() where !outputs.contains(where: { $0.name == name }) {
      throw TrainingError("the model has no output named '\(name)' to compare with that target")
    }
    let lengths = batch.lengths(for: module)
    var total = 0.0
    for (name, output) in outputs {
      guard let target = batch.targets[name] else { continue }
      guard target.shape == output.shape else {
        throw TrainingError(
          "target '\(name)' has shape \(shapeText(target.shape)); the output is \(shapeText(output.shape))")
      }
      total += loss.evaluate(output: output, target: target, lengths: lengths).value
    }
    return total
  }
}
