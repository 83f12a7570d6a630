// Reading and writing the numbers `grucc run` consumes and produces (.npy, .npz, .csv), the
// weight files models name (.safetensors, .npz), and the layout conversions between the user's
// arrays and the interpreter's batch-major ones.

enum WeightFiles {
  /// The tensors of a weights file, by file extension.
  static func read(_ bytes: [UInt8], path: String, budget: MemoryBudget = .standard) throws(FormatError) -> [NamedTensor] {
    if path.hasSuffix(".npz") {
      return try Npz.read(bytes, budget: budget).map { member in
        NamedTensor(name: member.name, dtype: member.array.dtype.hasSuffix("f4") ? .f32 : .f64,
                    shape: member.array.shape, values: member.array.values)
      }
    }
    return try Safetensors.read(bytes, budget: budget).tensors
  }
}

enum DataFiles {
  /// The arrays in an input file; a name is given only by formats that carry one (.npz).
  static func read(
    _ bytes: [UInt8], path: String, budget: MemoryBudget = .standard
  ) throws(FormatError) -> [(String?, ArrayValue)] {
    if path.hasSuffix(".npz") {
      return try Npz.read(bytes, budget: budget).map { ($0.name, ArrayValue(shape: $0.array.shape, values: $0.array.values)) }
    }
    if isText(path) {
      let table = try CSV.readTable(bytes, budget: budget)
      guard let columns = table.rows.first?.count else {
        let header = table.header.map { " (its first line, \(quoted($0.joined(separator: ","), limit: 40)), is a header of column names)" }
        throw FormatError("no rows of numbers\(header ?? "")")
      }
      return [(nil, ArrayValue(shape: [table.rows.count, columns], values: table.rows.flatMap { $0 }))]
    }
    let array = try Npy.read(bytes, budget: budget)
    return [(nil, ArrayValue(shape: array.shape, values: array.values))]
  }

  /// Whether `read` takes the file as CSV text.
  static func isText(_ path: String) -> Bool { path.hasSuffix(".csv") || path.hasSuffix(".txt") }

  /// The user's array in the interpreter's form: sequences `[B, T, F]` (a 2-D array is one
  /// sequence `[T, F]`), lengths `[B]`, states `[B, F]` (a 1-D array is one state). Lengths
  /// must be one-dimensional, except from a CSV file (`text`), where one length per line or
  /// all on one line are both lists.
  static func canonical(_ a: ArrayValue, for type: TensorType, layout: SequenceLayout, text: Bool = false) -> ArrayValue {
    if type.dtype == .i32 {
      guard text, a.shape.count == 2, a.shape.contains(1) else { return a }
      return ArrayValue(shape: [a.values.count], values: a.values)
    }
    if type.isSequence {
      if a.shape.count == 2 { return ArrayValue(shape: [1] + a.shape, values: a.values) }
      if a.shape.count == 3 && layout == .timeMajor { return swapLeadingAxes(a) }
      return a
    }
    if a.shape.count == 1 { return ArrayValue(shape: [1] + a.shape, values: a.values) }
    return a
  }

  /// An interpreter result in the user's layout.
  static func presented(_ a: ArrayValue, layout: SequenceLayout) -> ArrayValue {
    a.shape.count == 3 && layout == .timeMajor ? swapLeadingAxes(a) : a
  }

  /// `[A, B, F]` → `[B, A, F]`.
  static func swapLeadingAxes(_ a: ArrayValue) -> ArrayValue {
    let (d0, d1, f) = (a.shape[0], a.shape[1], a.shape[2])
    var values = [Double](repeating: 0, count: a.values.count)
    for i in 0..<d0 {
      for j in 0..<d1 {
        for k in 0..<f { values[(j * d0 + i) * f + k] = a.values[(i * d1 + j) * f + k] }
      }
    }
    return ArrayValue(shape: [d1, d0, f], values: values)
  }

  /// The shortest text that reads back as the same value in the model's precision.
  static func text(_ v: Double, _ precision: Precision) -> String {
    precision == .f32 ? Float(v).description : v.description
  }

  /// Outputs as CSV blocks: a `# name [shape]` line, then one row per vector (last axis).
  static func csv(_ outputs: [(String, ArrayValue)], precision: Precision) -> String {
    var out = ""
    for (name, a) in outputs {
      out += "# \(name) \(shapeText(a.shape))\n"
      let f = a.shape.last ?? 1
      for r in 0..<(f == 0 ? 0 : a.values.count / f) {
        out += a.values[(r * f)..<((r + 1) * f)].map { text($0, precision) }.joined(separator: ",") + "\n"
      }
    }
    return out
  }

  struct EncodeError: Error { var message: String }

  /// Outputs in the file format the path's extension names.
  static func encode(_ outputs: [(String, ArrayValue)], path: String, precision: Precision) throws(EncodeError) -> [UInt8] {
    let dtype: NpyDType = precision == .f32 ? .f32 : .f64
    if path.hasSuffix(".npz") {
      return Npz.write(outputs.map { (name: $0.0, values: $0.1.values, shape: $0.1.shape, dtype: dtype) })
    }
    if path.hasSuffix(".csv") { return Array(csv(outputs, precision: precision).utf8) }
    if path.hasSuffix(".npy") {
      guard outputs.count == 1 else {
        throw EncodeError(
          message: "the model has \(outputs.count) outputs (\(outputs.map { "'\($0.0)'" }.joined(separator: ", "))); "
            + "write them to a .npz file, or to .csv")
      }
      return Npy.write(values: outputs[0].1.values, shape: outputs[0].1.shape, dtype: dtype)
    }
    throw EncodeError(message: "unknown output format for '\(path)'; use .npy, .npz or .csv")
  }
}
