// `grucc identify WEIGHTS --input X --expect Y [-o FILE]`: reads the weights, x and y, tries every
// GRU variant and layout that fits (Identify/), prints the ranking and the matching model (or
// writes the model to -o FILE.gru). Exit status 0 on a match, 2 when nothing matches, 1 on errors.

extension Driver {
  mutating func identify(_ options: IdentifyOptions) throws(DriverError) {
    let weightBytes = try read(options.weights)
    let tensors: [NamedTensor]
    do throws(FormatError) {
      tensors = try WeightFiles.read(weightBytes, path: options.weights, budget: budget)
    } catch {
      throw .invalidFile(options.weights, reason: error.message)
    }
    let x = try identifyArray(options.input)
    let y = try identifyArray(options.expect)
    // -o MODEL.gru: the model reads its tensors in grucc's names from MODEL.safetensors beside it,
    // named relative to the model file.
    let modelPath = options.output.flatMap { $0.hasSuffix(".gru") ? $0 : nil }
    let tensorsName = modelPath.map { baseName($0) + ".safetensors" }
    let tensorsPath = modelPath.map { directory(of: $0) + tensorsName! } ?? options.output
    let request = IdentifyRequest(
      weightsPath: options.weights, tensors: tensors, x: x, y: y, hidden: options.hidden, format: options.format,
      convertedPath: tensorsName ?? options.output, modelPath: modelPath)
    let report: IdentifyReport
    do throws(IdentifyError) {
      report = try Identify.run(request)
    } catch {
      throw .invalidFile(options.weights, reason: error.message)
    }
    if let failure = report.failure {
      stdout += report.text
      throw .noMatch(failure)
    }
    var files: [(path: String, bytes: [UInt8])] = []
    stdout += report.text
    if let modelPath, let model = report.model { files.append((modelPath, Array(model.utf8))) }
    if let tensorsPath, let converted = report.converted {
      files.append((tensorsPath, Safetensors.write(converted, metadata: [("format", "grucc")])))
    }
    guard !files.isEmpty else { return }
    for path in [options.input, options.expect] {
      for f in files where samePath(path, f.path) { throw .overwrites(f.path, what: "the input file") }
    }
    try write(files, input: options.weights)
    if modelPath != nil { stdout += files.map { "wrote \($0.path)\n" }.joined() }
  }

  /// One array from a .npy file, or a .npz file that holds exactly one.
  private func identifyArray(_ path: String) throws(DriverError) -> IdentifyArray {
    let bytes = try read(path)
    let members: [NpyArray]
    do throws(FormatError) {
      members =
        path.hasSuffix(".npz") ? try Npz.read(bytes, budget: budget).map(\.array) : [try Npy.read(bytes, budget: budget)]
    } catch {
      throw .invalidFile(path, reason: error.message)
    }
    guard members.count == 1 else { throw .invalidFile(path, reason: "expected one array, found \(members.count)") }
    let a = members[0]
    let isDouble = !a.dtype.hasSuffix("f4") && !a.dtype.hasSuffix("f2")
    return IdentifyArray(path: path, shape: a.shape, values: a.values, isDouble: isDouble)
  }
}
