// `grucc train --checkpoint FILE` and `--resume FILE`: where a checkpoint may be written, and a
// checkpoint read back and checked against this run (its model, its options, its data) before
// the Trainer continues from it. The file format is CheckpointFile's.

extension Driver {
  /// A checkpoint may not replace what the run reads or writes, nor the weights or the plot the
  /// checkpoint it resumes (which `--checkpoint` may replace: that run's state is in the new one).
  func checkCheckpointPath(_ options: TrainOptions, weights: String) throws(DriverError) {
    if let resume = options.resume {
      for case let output? in [weights, options.plot] where samePath(resume, output) {
        throw .overwrites(output, what: "the checkpoint to resume")
      }
    }
    guard let path = options.checkpoint else { return }
    let others = [(options.data, "the data file"), (options.valid, "the validation file"), (weights, "the trained weights"),
                  (options.plot, "the plot")]
    for case (let other?, let what) in others where samePath(other, path) { throw .overwrites(path, what: what) }
  }

  /// The state to continue from, read from `path` and refused with the file's name unless it is
  /// a checkpoint of this model, with these options, over as many examples, short of `steps`.
  func resumeState(
    _ path: String, of module: Module, settings: CheckpointFile.Settings, steps: Int, batch: Int?, examples: Int
  ) throws(DriverError) -> TrainingState {
    let bytes = try read(path)
    let (state, saved): (TrainingState, CheckpointFile.Settings)
    switch CheckpointFile.decode(bytes, of: module, budget: budget) {
    case .success(let decoded): (state, saved) = decoded
    case .failure(let error): throw .invalidFile(path, reason: error.message)
    }
    if let problem = CheckpointFile.mismatch(saved: saved, asked: settings) { throw .invalidFile(path, reason: problem) }
    guard state.sampler.order.count == examples else {
      throw .invalidFile(
        path, reason: "the checkpoint drew its batches from \(state.sampler.order.count) examples; '--data' has \(examples)")
    }
    guard BatchSampler(count: examples, batchSize: batch ?? examples, state: state.sampler) != nil else {
      throw .invalidFile(path, reason: "the checkpoint's batch order or generator state is damaged")
    }
    guard state.step < steps else {
      throw .invalidFile(
        path, reason: "the checkpoint is at step \(state.step) already; '--steps' counts the whole run: give more than \(state.step)")
    }
    return state
  }
}
