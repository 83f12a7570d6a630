// `grucc identify`: which GRU variant, gate order and layout make a weights file reproduce a
// known output. Every combination that fits the file's tensors (LayoutCandidates) is written as a
// .gru model, compiled by the ordinary front end and weight binding, and interpreted in f64 on
// the given input; the table ranks them by max abs error against the expected output, and the
// best match is printed as a model file, checked once more exactly as printed. No I/O here: the
// Driver reads the files and prints the report.

import Foundation

/// An array read from a .npy file, with what is needed to judge it.
struct IdentifyArray {
  /// The path as given, for messages.
  var path: String
  var shape: [Int]
  var values: [Double]
  /// Stored in float64 (so a match must be closer than for float32 data).
  var isDouble: Bool

  var label: String { "\(path) \(shapeText(shape))" }
}

struct IdentifyRequest {
  /// The weights file as given on the command line: the printed model's weights line names it.
  var weightsPath: String
  var tensors: [NamedTensor]
  var x: IdentifyArray
  var y: IdentifyArray
  var hidden: Int?
  var format: WeightsFormat?
  /// `-o FILE`: the matched layer's tensors are written there in grucc's names, and the printed
  /// model reads that file.
  var convertedPath: String?
  /// `-o MODEL.gru`: the model goes to that file, so the report says so instead of printing it.
  var modelPath: String?
  /// At most this many combinations are tried.
  var limit = Identify.defaultLimit
  /// With more sequences than this, every combination is tried on the first ones only and
  /// the matches are checked on all.
  var screenSequences = 8
}

/// What identify found: the report for standard output, and on success the model text.
struct IdentifyReport {
  var text: String
  /// Nil when something matched; else why not (the Driver prints it as the error).
  var failure: String?
  /// The model file for the best match, as printed.
  var model: String?
  /// The best match's tensors in grucc's names, for `-o`.
  var converted: [NamedTensor]?
  var rows: [IdentifyRow]
}

/// One tried combination and how close it came.
struct IdentifyRow {
  var layout: LayerLayout
  var reset: ResetPlacement
  var update: UpdateConvention
  var direction: Direction
  /// Max abs error against the expected output; nil if the model could not be built or run.
  var error: Double?
  var problem: String?
  var index: Int

  var isMatch: Bool = false

  var columns: [String] {
    [
      reset.rawValue, update.rawValue, layout.bias.rawValue, layout.gateOrderText(","),
      layout.orientation,
      direction.rawValue,
    ]
  }
}

enum Identify {
  static let defaultLimit = 2000
  static let header = ["rank", "max abs error", "reset", "update", "bias", "gate order", "orientation", "direction"]

  static func run(_ request: IdentifyRequest) throws(IdentifyError) -> IdentifyReport {
    let x = request.x
    let y = request.y
    // The data: x is [B, T, I] or one sequence [T, I]; y the output sequence or the final state.
    guard x.shape.count == 2 || x.shape.count == 3, x.shape.allSatisfy({ $0 > 0 }) else {
      throw IdentifyError(
        "\(x.label) is not an input sequence: expected [B, T, I] (a batch) or [T, I] (one sequence), with no empty axis"
      )
    }
    let x3 = x.shape.count == 3 ? x.shape : [1] + x.shape
    let (b, t, i) = (x3[0], x3[1], x3[2])
    let sequence: Bool
    let what =
      x.shape.count == 3
      ? "[\(b), \(t), H] (the output sequence) or [\(b), H] (the final state)"
      : "[\(t), H] (the output sequence) or [H] (the final state)"
    let mismatch = IdentifyError("\(y.label) does not fit \(x.label): expected \(what)")
    switch (x.shape.count, y.shape.count) {
    case (3, 3):
      guard y.shape[0] == b, y.shape[1] == t else { throw mismatch }
      sequence = true
    case (3, 2):
      guard y.shape[0] == b else { throw mismatch }
      sequence = false
    case (2, 2):
      guard y.shape[0] == t else { throw mismatch }
      sequence = true
    case (2, 1): sequence = false
    default: throw mismatch
    }
    let h = y.shape.last!
    guard h > 0 else { throw mismatch }
    if let hidden = request.hidden, hidden != h {
      throw IdentifyError(
        "--hidden \(hidden) disagrees with \(y.label), which has \(h) values per \(sequence ? "step" : "state")")
    }
    for a in [x, y] {
      if let bad = a.values.firstIndex(where: { !$0.isFinite }) {
        throw IdentifyError("\(a.label) has a non-finite value at flat index \(bad)")
      }
    }

    let found = try LayoutCandidates.find(
      request.tensors, hidden: h, inputs: i, format: request.format, data: (x: x.label, y: y.label))
    let ignored = Set(found.ignored.map(\.name))
    for tensor in request.tensors where !ignored.contains(tensor.name) {
      if let bad = tensor.values.firstIndex(where: { !$0.isFinite }) {
        throw IdentifyError("tensor \(LayoutCandidates.describe(tensor)) has a non-finite value at flat index \(bad)")
      }
    }
    let floats = request.tensors.filter { $0.dtype.isFloat }
    let weightsDouble = floats.allSatisfy { $0.dtype == .f64 }
    let precision: Precision = weightsDouble ? .f64 : .f32
    let doubleData = weightsDouble && y.isDouble
    let tolerance = doubleData ? 1e-9 : 1e-4

    // Everything is tried on the first sequences; the matches are checked on all of them.
    let screened = min(b, max(1, request.screenSequences))
    let xAll = ArrayValue(shape: [b, t, i], values: x.values)
    let yAll = ArrayValue(shape: sequence ? [b, t, h] : [b, h], values: y.values)
    let xScreen =
      screened == b ? xAll : ArrayValue(shape: [screened, t, i], values: Array(x.values.prefix(screened * t * i)))
    let yScreen =
      screened == b
      ? yAll
      : ArrayValue(
        shape: sequence ? [screened, t, h] : [screened, h],
        values: Array(y.values.prefix(screened * (sequence ? t * h : h))))
    let output = sequence ? "y" : "hn"
    let modelName = modelName(for: request.weightsPath)

    func combinations(_ layouts: [LayerLayout]) -> [IdentifyRow] {
      var rows: [IdentifyRow] = []
      for layout in layouts {
        for reset in layout.resets {
          for update in [UpdateConvention.keepsState, .takesCandidate] {
            for direction in [Direction.forward, .reverse] {
              rows.append(IdentifyRow(layout: layout, reset: reset, update: update, direction: direction, index: 0))
            }
          }
        }
      }
      return rows
    }
    func text(_ row: IdentifyRow, precision: Precision, printing: Bool, weights: String? = nil) -> String {
      modelText(
        name: modelName, precision: precision, inputs: i, hidden: h, row: row,
        weightsPath: weights ?? request.weightsPath, native: printing)
    }
    let primary = combinations(found.layouts)
    let fallback = combinations(found.fallback)
    var wanted = primary.count
    var tried: [IdentifyRow] = []
    func evaluateAll(_ rows: [IdentifyRow]) {
      for var row in rows where tried.count < request.limit {
        row.index = tried.count
        switch evaluate(
          text(row, precision: .f64, printing: false), tensors: row.layout.tensors, x: xScreen, output: output)
        {
        case .success(let value): row.error = maxAbsError(value, yScreen)
        case .failure(let problem): row.problem = problem.message
        }
        row.isMatch = row.error.map { $0 <= tolerance } ?? false
        tried.append(row)
      }
    }
    evaluateAll(primary)
    if !tried.contains(where: \.isMatch) {
      wanted += fallback.count
      evaluateAll(fallback)
    }
    let capped = tried.count < wanted
    let rows = tried.sorted { a, b in
      switch (a.error, b.error) {
      case (let ea?, let eb?): return ea != eb ? ea < eb : a.index < b.index
      case (.some, nil): return true
      case (nil, .some): return false
      case (nil, nil): return a.index < b.index
      }
    }

    // The report's head.
    var out = "\(request.weightsPath): \(found.summary)\n"
    if !found.ignored.isEmpty { out += "ignored: \(LayoutCandidates.describe(found.ignored))\n" }
    out += "\(x.label) and \(y.label), the \(sequence ? "output sequence" : "final state"): H = \(h), I = \(i)\n"
    if !found.slotNames.isEmpty {
      out += "gate order: the gates of \(found.slotNames.joined(separator: ", ")), in turn\n"
    }
    out += "\(tried.count) combination\(tried.count == 1 ? "" : "s") tried"
    if capped { out += " (capped: \(wanted) fit, the first \(tried.count) were tried)" }
    out += "; a match is within \(doubleData ? "1e-9 (float64 data)" : "1e-4 (float32 data)")"
    if screened < b { out += "; compared on the first \(screened) of \(b) sequences" }
    out += "\n\n" + table(rows)

    // The model file for a row: the file itself when a weights statement reads it, else the
    // tensors in grucc's names (written by -o).
    func printedModel(_ row: IdentifyRow) throws(IdentifyError) -> (
      text: String, comment: String, tensors: [NamedTensor], converted: [NamedTensor]?
    ) {
      let asIs = row.layout.readsFileAsIs && request.convertedPath == nil
      if asIs {
        let printed = text(row, precision: precision, printing: true)
        if !Compiler.frontEnd(SourceFile(path: "identify.gru", text: printed)).diagnostics.hasErrors {
          return (printed, "", request.tensors, nil)
        }
        // A layer named after the file's prefix that the language does not take: keep the maps.
        return (text(row, precision: precision, printing: false), "", request.tensors, nil)
      }
      guard case .success(let module) = bind(text(row, precision: .f64, printing: false), tensors: row.layout.tensors)
      else {
        throw IdentifyError("cannot bind")
      }
      let dtype: TensorDType = precision == .f64 ? .f64 : .f32
      let converted = module.parameters.map {
        NamedTensor(name: $0.name, dtype: dtype, shape: $0.shape, values: $0.values)
      }
      var plain = row
      plain.layout.format = .grucc
      plain.layout.maps = []
      let path = request.convertedPath ?? convertedName(request.weightsPath)
      let printed = text(plain, precision: precision, printing: false, weights: path)
      var comment = ""
      if request.convertedPath == nil {
        let format = row.layout.format
        comment =
          "# No weights statement reads \(request.weightsPath) as it is: its gates are stacked "
          + "\(row.layout.gateOrderText(", ")),\n# where 'format \(format.rawValue)' reads "
          + "\(format.gateOrder.map(\.rawValue).joined(separator: ", ")). Write its tensors in grucc's names with:\n"
          + "#   grucc identify \(request.weightsPath) --input \(x.path) --expect \(y.path) -o \(path)\n"
      }
      return (printed, comment, converted, converted)
    }

    // The best match, printed as a model and checked as printed on all of the data.
    let matches = rows.filter(\.isMatch)
    var report = IdentifyReport(text: out, rows: rows)
    for row in matches {
      guard let printed = try? printedModel(row) else { continue }
      if case .success(let value) = evaluate(
        printed.text, tensors: printed.tensors, x: xAll, output: output, full: true),
        let error = maxAbsError(value, yAll), error <= tolerance
      {
        let summary = conclusion(row, among: matches, error: error, y: y, modelPath: request.modelPath)
        report.text += "\n" + summary + (request.modelPath == nil ? "\n\n" + printed.comment + printed.text : "\n")
        report.model = printed.text
        report.converted = printed.converted
        return report
      }
    }
    guard let best = rows.first, let bestError = best.error else {
      // The first error's message, without the generated model's location and source line.
      let problem = rows.first?.problem?.split(separator: "\n").first.map { line in
        line.range(of: "error: ").map { String(line[$0.upperBound...]) } ?? String(line)
      }
      report.failure = "no combination could be evaluated" + (problem.map { ": \($0)" } ?? "")
      return report
    }
    if !matches.isEmpty {
      report.failure =
        "\(matches.count) combination\(matches.count == 1 ? "" : "s") matched the first \(screened) sequences of \(y.path) but not all \(b); "
        + "the best was rank 1 (\(describe(matches[0])))"
      return report
    }
    report.failure =
      "no combination reproduces \(y.path) within \(doubleData ? "1e-9" : "1e-4"): the closest is rank 1, max abs error "
      + "\(formatError(bestError)) (\(describe(best))). Perhaps the layer is not a plain GRU (other activations, an initial state, "
      + "a normalisation), or \(x.path) and \(y.path) do not belong to these weights"
    return report
  }

  // MARK: - Models

  /// A model file for one combination. `native` prints a grucc-named file's layer under its own
  /// prefix without maps, when the maps would only repeat grucc's names.
  static func modelText(
    name: String, precision: Precision, inputs: Int, hidden: Int, row: IdentifyRow, weightsPath: String, native: Bool
  ) -> String {
    let layout = row.layout
    var layer = "h"
    var maps = layout.maps
    if native, let prefix = ownPrefix(layout.maps) {
      layer = prefix
      maps = []
    }
    var s = "model \(name)\nprecision \(precision.rawValue)\ninput x[\(inputs)]\n"
    s +=
      "gru \(layer) = x -> hidden \(hidden), reset \(row.reset.rawValue), update \(row.update.rawValue), bias \(layout.bias.rawValue)"
    if row.direction != .forward { s += ", direction \(row.direction.rawValue)" }
    s += "\noutput y = \(layer)\noutput hn = state(\(layer))\n"
    s +=
      "weights \(stringLiteral(weightsPath))" + (layout.format == .grucc ? "" : ", format \(layout.format.rawValue)")
      + "\n"
    for m in maps {
      s += "map \(m.target.name(in: layer)) = \(stringLiteral(m.source))" + (m.transposed ? ", transposed" : "") + "\n"
    }
    return s
  }

  /// P when every map reads `P.<grucc name>` untransposed, so a layer named P needs no maps.
  static func ownPrefix(_ maps: [LayerLayout.TensorMap]) -> String? {
    guard let first = maps.first, let dot = first.source.lastIndex(of: ".") else { return nil }
    let prefix = String(first.source[..<dot])
    guard isIdentifier(prefix), !["x", "y", "hn"].contains(prefix) else { return nil }
    return maps.allSatisfy({ !$0.transposed && $0.source == $0.target.name(in: prefix) }) ? prefix : nil
  }

  static func isIdentifier(_ s: String) -> Bool {
    guard let first = s.unicodeScalars.first, s.unicodeScalars.count <= 40 else { return false }
    func letter(_ c: Unicode.Scalar) -> Bool { (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" }
    return letter(first) && s.unicodeScalars.allSatisfy { letter($0) || ($0 >= "0" && $0 <= "9") }
  }

  /// The model's name: the weights file's base name when it is an identifier.
  static func modelName(for path: String) -> String {
    var base = path.split(separator: "/").last.map(String.init) ?? path
    if let dot = base.firstIndex(of: ".") { base = String(base[..<dot]) }
    base = String(base.map { $0 == "-" || $0 == " " ? "_" : $0 })
    guard isIdentifier(base) else { return "identified" }
    let front = Compiler.frontEnd(SourceFile(path: "m.gru", text: "model \(base)\ninput x[1]\noutput y = x\n"))
    return front.diagnostics.hasErrors ? "identified" : base
  }

  static func convertedName(_ path: String) -> String {
    var base = path
    for ext in [".safetensors", ".npz"] where base.hasSuffix(ext) { base = String(base.dropLast(ext.count)) }
    return base + ".grucc.safetensors"
  }

  static func stringLiteral(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }

  /// The module with its weights bound (types inferred, nothing lowered yet).
  static func bind(_ text: String, tensors: [NamedTensor]) -> Result<Module, IdentifyError> {
    compile(text, tensors: tensors, through: "bind-weights")
  }

  static func compile(_ text: String, tensors: [NamedTensor], through last: String?) -> Result<Module, IdentifyError> {
    let front = Compiler.frontEnd(SourceFile(path: "identify.gru", text: text))
    func rendered(_ d: [Diagnostic]) -> IdentifyError {
      IdentifyError(
        DiagnosticRenderer(source: front.source).render(Compiler.sorted(d.filter { $0.severity == .error })))
    }
    guard let model = front.model, let module = front.module else {
      return .failure(rendered(front.diagnostics.diagnostics))
    }
    var pipeline = PassPipeline.standard(weights: Compiler.weightSource(for: model, file: tensors))
    if let last, let prefix = pipeline.prefix(through: last) { pipeline = prefix }
    var diagnostics = front.diagnostics
    switch pipeline.run(module, diagnostics: &diagnostics) {
    case .success(let m): return .success(m)
    case .failure(.diagnostics): return .failure(rendered(diagnostics.diagnostics))
    case .failure(.verifier(let pass, let errors, _)):
      return .failure(
        IdentifyError(
          "internal: IR verification failed after '\(pass)': \(errors.map { "\($0)" }.joined(separator: "; "))"))
    }
  }

  /// One output of the model on x: the high-level graph after weight binding (the interpreter's
  /// reference semantics), or with `full` the whole pipeline, as `grucc run` does.
  static func evaluate(_ text: String, tensors: [NamedTensor], x: ArrayValue, output: String, full: Bool = false)
    -> Result<ArrayValue, IdentifyError>
  {
    let module: Module
    switch compile(text, tensors: tensors, through: full ? nil : "bind-weights") {
    case .success(let m): module = m
    case .failure(let e): return .failure(e)
    }
    do throws(InterpreterError) {
      let outputs = try Interpreter.run(module, inputs: ["x": x])
      guard let value = outputs.first(where: { $0.name == output })?.value else {
        return .failure(IdentifyError("internal: the model has no output '\(output)'"))
      }
      return .success(value)
    } catch {
      return .failure(IdentifyError(error.message))
    }
  }

  static func maxAbsError(_ a: ArrayValue, _ b: ArrayValue) -> Double? {
    guard a.shape == b.shape else { return nil }
    var worst = 0.0
    for (u, v) in zip(a.values, b.values) {
      let d = abs(u - v)
      if !(d <= worst) { worst = d }  // NaN wins
    }
    return worst
  }

  // MARK: - Report

  static func formatError(_ e: Double) -> String {
    e.isNaN ? "nan" : e == 0 ? "0" : String(format: "%.2e", e)
  }

  static func describe(_ row: IdentifyRow) -> String {
    "reset \(row.reset.rawValue), update \(row.update.rawValue), bias \(row.layout.bias.rawValue), gate order "
      + "\(row.layout.gateOrderText(",")), \(row.layout.orientation), \(row.direction.rawValue)"
  }

  /// The table: every match, and the closest others up to ten rows in all.
  static func table(_ rows: [IdentifyRow]) -> String {
    let matchCount = rows.filter(\.isMatch).count
    let shown = rows.prefix(max(10, matchCount + 3))
    let cells: [[String]] = shown.enumerated().map { k, row in
      ["\(k + 1)", row.error.map(formatError) ?? "failed"] + row.columns + [row.isMatch ? "match" : ""]
    }
    var widths = header.map(\.count) + [0]
    for line in cells { for (c, cell) in line.enumerated() { widths[c] = max(widths[c], cell.count) } }
    func render(_ line: [String]) -> String {
      var s = ""
      for (c, cell) in line.enumerated() {
        let pad = String(repeating: " ", count: widths[c] - cell.count)
        s += c == 0 ? pad + cell : "  " + cell + (c == line.count - 1 ? "" : pad)
      }
      return String(s.reversed().drop { $0 == " " }.reversed()) + "\n"
    }
    var out = render(header + [""])
    for line in cells { out += render(line) }
    if rows.count > shown.count {
      let rest = rows.dropFirst(shown.count)
      let errors = rest.compactMap(\.error)
      out += "  ... \(rest.count) more"
      if let lo = errors.min(), let hi = errors.max() {
        out += ", max abs error \(formatError(lo)) to \(formatError(hi))"
      }
      out += "\n"
    }
    return out
  }

  static func conclusion(
    _ row: IdentifyRow, among matches: [IdentifyRow], error: Double, y: IdentifyArray, modelPath: String? = nil
  ) -> String {
    var s = "Match: \(describe(row))"
    if let known = knownAs(row) { s += " (\(known))" }
    s += "."
    if matches.count > 1 {
      let fields = ["reset", "update", "bias", "gate order", "orientation", "direction"]
      let differing = fields.indices.filter { c in Set(matches.map { $0.columns[c] }).count > 1 }.map { fields[$0] }
      s +=
        "\n\(matches.count) combinations match: these data do not tell them apart (they differ in "
        + differing.joined(separator: ", ") + "); longer or more varied sequences would. The first is shown."
    }
    let model = modelPath.map { "The model written to \($0)" } ?? "The model below"
    s += "\n\(model) reproduces \(y.path) with max abs error \(formatError(error))" + (modelPath == nil ? ":" : ".")
    return s
  }

  static func knownAs(_ row: IdentifyRow) -> String? {
    switch (row.reset, row.update, row.layout.bias) {
    case (.none, _, _): return "a GRU without reset gate"
    case (_, .takesCandidate, _): return "z takes the candidate, as in Chung et al. 2014"
    case (.after, .keepsState, .separate):
      return "PyTorch nn.GRU, cuDNN, Keras reset_after=True, ONNX linear_before_reset=1"
    case (.before, .keepsState, .single): return "TF1 GRUCell, Keras reset_after=False"
    case (.before, .keepsState, .separate): return "ONNX linear_before_reset=0"
    default: return nil
    }
  }
}
