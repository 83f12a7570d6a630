// `grucc identify`: for weights trained elsewhere (the PyTorch and Keras fixtures) and for a
// hand-written per-gate cell, identify must find exactly the variant that produced the expected
// output, and the model it prints must compile and reproduce that output. Errors are messages
// with exit status 1, never crashes.

import Foundation
import Testing

@testable import GruccCore

@Suite struct IdentifyTests {
  // MARK: - Helpers

  /// x and y of a fixture as .npy files, and its weights file, in `dir`.
  func fixtureFiles(_ name: String, expect key: String, in dir: String) throws -> (
    weights: String, x: String, y: String
  ) {
    let fixture = try #require(FrameworkFixture.named(name))
    let x = try #require(try fixture.arrays("inputs.npz").first { $0.name == "x" }?.array)
    let y = try #require(try fixture.arrays("expect.npz").first { $0.name == key }?.array)
    let dtype: NpyDType = fixture.precision == "f64" ? .f64 : .f32
    let weightsName = try #require(
      (try FileManager.default.contentsOfDirectory(atPath: fixture.directory.path)).first { $0.hasPrefix("weights.") })
    let weights = "\(dir)/\(weightsName)"
    try FileManager.default.copyItem(
      atPath: fixture.directory.appendingPathComponent(weightsName).path, toPath: weights)
    try write(Npy.write(values: x.values, shape: x.shape, dtype: dtype), to: "\(dir)/x.npy")
    try write(Npy.write(values: y.values, shape: y.shape, dtype: dtype), to: "\(dir)/y.npy")
    return (weights, "\(dir)/x.npy", "\(dir)/y.npy")
  }

  func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
  }

  /// The table rows of a report: the cells of each line between the header and the first blank line.
  func tableRows(_ report: String) -> [[String]] {
    let lines = report.split(separator: "\n", omittingEmptySubsequences: false)
    guard let start = lines.firstIndex(where: { $0.hasPrefix("rank  ") }) else { return [] }
    return lines[(start + 1)...].prefix { !$0.isEmpty && !$0.hasPrefix("  ...") }.map { line in
      line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
  }

  /// The matching rows' columns reset, update, bias, gate order, orientation, direction.
  func matches(_ report: String) -> [[String]] {
    tableRows(report).filter { $0.last == "match" }.map { Array($0[2..<8]) }
  }

  /// The model file at the end of a report, written beside the weights.
  func printedModel(_ report: String) -> String? {
    guard let start = report.range(of: "\nmodel ") else { return nil }
    return String(report[report.index(after: start.lowerBound)...])
  }

  /// Writes the printed model to `dir`, runs it with `grucc run` and returns the max abs error
  /// of output `output` against `expected`.
  func runPrinted(_ report: String, in dir: String, x: String, output: String, expected: [Double]) throws -> Double {
    let model = try #require(printedModel(report))
    try write(Array(model.utf8), to: "\(dir)/identified.gru")
    let r = Driver.run(["run", "\(dir)/identified.gru", "--input", x, "-o", "\(dir)/out.npz"])
    #expect(r.exitCode == 0, "\(r.stderr)")
    let out = try Npz.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/out.npz"))))
    let values = try #require(out.first { $0.name == output }?.array.values)
    #expect(values.count == expected.count)
    return zip(values, expected).map { abs($0 - $1) }.max() ?? .infinity
  }

  func npyValues(_ path: String) throws -> [Double] {
    try Npy.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))).values
  }

  // MARK: - Framework fixtures

  @Test func pytorchFileIsResetAfterKeepsStateSeparateRZN() throws {
    try withScratchDirectory { dir in
      let f = try fixtureFiles("pt_basic", expect: "y", in: dir)
      let r = Driver.run(["identify", f.weights, "--input", f.x, "--expect", f.y])
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(
        matches(r.stdout) == [["after", "keeps-state", "separate", "r,z,n", "[out,in]", "forward"]], "\(r.stdout)")
      #expect(r.stdout.contains("weights \"\(f.weights)\", format pytorch\n"))
      #expect(!r.stdout.contains("\nmap "))
      let error = try runPrinted(r.stdout, in: dir, x: f.x, output: "y", expected: try npyValues(f.y))
      #expect(error <= 1e-5)
    }
  }

  /// `-o MODEL.gru`: the ranking stays on stdout, the model goes to the file with its tensors in
  /// grucc's names beside it, named relative to the model, and it runs as written.
  @Test func outputModelGoesToItsFileWithItsWeightsBesideIt() throws {
    try withScratchDirectory { dir in
      let f = try fixtureFiles("pt_basic", expect: "y", in: dir)
      try FileManager.default.createDirectory(atPath: "\(dir)/out", withIntermediateDirectories: true)
      let r = Driver.run(["identify", f.weights, "--input", f.x, "--expect", f.y, "-o", "\(dir)/out/found.gru"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(matches(r.stdout).count == 1)
      #expect(printedModel(r.stdout) == nil, "the model is in the file, not on stdout")
      #expect(r.stdout.contains("\nThe model written to \(dir)/out/found.gru reproduces \(f.y) with max abs error "))
      #expect(r.stdout.hasSuffix("wrote \(dir)/out/found.gru\nwrote \(dir)/out/found.safetensors\n"), "\(r.stdout)")
      let model = try String(contentsOfFile: "\(dir)/out/found.gru", encoding: .utf8)
      #expect(model.contains("weights \"found.safetensors\""), "\(model)")
      let run = Driver.run(["run", "\(dir)/out/found.gru", "--input", f.x, "-o", "\(dir)/out.npz"])
      #expect(run.exitCode == 0, "\(run.stderr)")
      let out = try Npz.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/out.npz"))))
      let values = try #require(out.first { $0.name == "y" }?.array.values)
      let error = zip(values, try npyValues(f.y)).map { abs($0 - $1) }.max() ?? .infinity
      #expect(error <= 1e-5)
    }
  }

  @Test func kerasResetAfterFalseIsResetBeforeSingleZRN() throws {
    try withScratchDirectory { dir in
      // The final state this time.
      let f = try fixtureFiles("keras_reset_before", expect: "hn", in: dir)
      let r = Driver.run(["identify", f.weights, "--input", f.x, "--expect", f.y])
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(r.stdout.contains("the final state: H = 5, I = 3"))
      #expect(
        matches(r.stdout) == [["before", "keeps-state", "single", "z,r,n", "[in,out]", "forward"]], "\(r.stdout)")
      #expect(r.stdout.contains(", format keras\n"))
      let error = try runPrinted(r.stdout, in: dir, x: f.x, output: "hn", expected: try npyValues(f.y))
      #expect(error <= 1e-5)
    }
  }

  @Test func kerasDefaultIsResetAfterSeparate() throws {
    try withScratchDirectory { dir in
      let f = try fixtureFiles("keras_reset_after", expect: "y", in: dir)
      let r = Driver.run(["identify", f.weights, "--input", f.x, "--expect", f.y, "--format", "keras", "--hidden", "6"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(
        matches(r.stdout) == [["after", "keeps-state", "separate", "z,r,n", "[in,out]", "forward"]], "\(r.stdout)")
    }
  }

  @Test func tableHeader() throws {
    try withScratchDirectory { dir in
      let f = try fixtureFiles("pt_basic", expect: "y", in: dir)
      let r = Driver.run(["identify", f.weights, "--input", f.x, "--expect", f.y])
      let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      #expect(
        lines[0]
          == "\(f.weights): PyTorch names: 'gru.weight_ih_l0' [18, 4], 'gru.weight_hh_l0' [18, 6], 'gru.bias_ih_l0' [18], 'gru.bias_hh_l0' [18]"
      )
      #expect(lines[1] == "\(f.x) [3, 5, 4] and \(f.y) [3, 5, 6], the output sequence: H = 6, I = 4")
      #expect(lines[2] == "48 combinations tried; a match is within 1e-4 (float32 data)")
      #expect(lines[4] == "rank  max abs error  reset   update           bias      gate order  orientation  direction")
      #expect(
        lines[5].hasPrefix("   1  ")
          && lines[5].hasSuffix("after   keeps-state      separate  r,z,n       [out,in]     forward    match"))
      #expect(lines.contains { $0.hasPrefix("  ... 38 more, max abs error ") })
    }
  }

  /// The README's example run is what identify prints.
  @Test func readmeExampleIsRealOutput() throws {
    let block = try #require(ReadmeTests.blocks("").first { $0.hasPrefix("$ grucc identify gru.npz") })
    try withScratchDirectory { dir in
      let f = try fixtureFiles("keras_reset_before", expect: "y", in: dir)
      try FileManager.default.moveItem(atPath: f.weights, toPath: "\(dir)/gru.npz")
      let r = Driver.run(["identify", "\(dir)/gru.npz", "--input", f.x, "--expect", f.y])
      #expect(r.exitCode == 0, "\(r.stderr)")
      let shown =
        "$ grucc identify gru.npz --input x.npy --expect y.npy\n"
        + r.stdout.replacingOccurrences(of: "\(dir)/", with: "")
      #expect(shown == block)
    }
  }

  /// A PyTorch-named file whose gate blocks are stacked z, r, n: no format line reads it, so
  /// the printed model reads the tensors identify writes in grucc's names with -o.
  @Test func gateOrderOtherThanTheFormatsNeedsConvertedWeights() throws {
    try withScratchDirectory { dir in
      let f = try fixtureFiles("pt_basic", expect: "y", in: dir)
      let tensors = try Safetensors.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: f.weights)))).tensors
      let permuted = tensors.map {
        LayoutCandidates.reorder($0, axis: 0, block: 6, from: ["r", "z", "n"], to: ["z", "r", "n"])
      }
      try write(Safetensors.write(permuted), to: "\(dir)/perm.safetensors")
      let r = Driver.run(["identify", "\(dir)/perm.safetensors", "--input", f.x, "--expect", f.y])
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(
        matches(r.stdout) == [["after", "keeps-state", "separate", "z,r,n", "[out,in]", "forward"]], "\(r.stdout)")
      #expect(r.stdout.contains("# No weights statement reads \(dir)/perm.safetensors as it is"))
      #expect(!FileManager.default.fileExists(atPath: "\(dir)/perm.grucc.safetensors"))
      let converted = "\(dir)/converted.safetensors"
      let w = Driver.run(["identify", "\(dir)/perm.safetensors", "--input", f.x, "--expect", f.y, "-o", converted])
      #expect(w.exitCode == 0, "\(w.stderr)")
      #expect(w.stdout.contains("weights \"\(converted)\"\n"))
      let error = try runPrinted(w.stdout, in: dir, x: f.x, output: "y", expected: try npyValues(f.y))
      #expect(error <= 1e-5)
    }
  }

  // MARK: - A hand-written per-gate cell

  static let (cellI, cellH, cellB, cellT) = (3, 4, 2, 6)

  /// The seeds' cell: `r = σ(x Wr + h Ur + br)`, ..., `n = tanh(x Wh + (r*h) Uh + bh)`,
  /// `h' = (1-z) h + z n`, with Wr [I, H] and Ur [H, H] multiplied from the right, as grucc
  /// tensors `[out, in]` (the file stores their transposes).
  static func cellTensors() -> (grucc: [NamedTensor], file: [String: (values: [Double], shape: [Int])]) {
    let (i, h) = (cellI, cellH)
    var rng = Xoshiro256(seed: 42)
    var grucc: [NamedTensor] = []
    var file: [String: (values: [Double], shape: [Int])] = [:]
    func transpose(_ v: [Double], rows: Int, columns: Int) -> [Double] {
      (0..<columns).flatMap { c in (0..<rows).map { r in v[r * columns + c] } }
    }
    for (gate, letter) in [("r", "r"), ("z", "z"), ("n", "h")] {
      let w = (0..<(h * i)).map { _ in rng.normal() * 0.6 }
      let u = (0..<(h * h)).map { _ in rng.normal() * 0.6 }
      let b = (0..<h).map { _ in rng.normal() * 0.4 }
      grucc += [
        NamedTensor(name: "h.w_\(gate)", dtype: .f64, shape: [h, i], values: w),
        NamedTensor(name: "h.u_\(gate)", dtype: .f64, shape: [h, h], values: u),
        NamedTensor(name: "h.b_\(gate)", dtype: .f64, shape: [h], values: b),
      ]
      file["W\(letter)"] = (transpose(w, rows: h, columns: i), [i, h])
      file["U\(letter)"] = (transpose(u, rows: h, columns: h), [h, h])
      file["b\(letter)"] = (b, [h])
    }
    return (grucc, file)
  }

  /// x, and y as grucc's interpreter computes it from grucc-named tensors.
  static func cellData(output: String) throws -> (x: [Double], y: ArrayValue) {
    var rng = Xoshiro256(seed: 7)
    let x = (0..<(cellB * cellT * cellI)).map { _ in rng.normal() }
    let model = """
      model cell
      precision f64
      input x[\(cellI)]
      gru h = x -> hidden \(cellH), reset before, update takes-candidate, bias single
      output y = h
      output hn = state(h)
      weights "cell.safetensors"

      """
    let module = try #require(try Identify.compile(model, tensors: cellTensors().grucc, through: nil).get())
    let outputs = try Interpreter.run(module, inputs: ["x": ArrayValue(shape: [cellB, cellT, cellI], values: x)])
    return (x, try #require(outputs.first { $0.name == output }?.value))
  }

  func writeCell(in dir: String, names: [String: String] = [:], output: String = "y") throws -> (
    weights: String, x: String, y: String, expected: [Double]
  ) {
    let (x, y) = try Self.cellData(output: output)
    let file = Self.cellTensors().file
    let members = ["Wr", "Wz", "Wh", "Ur", "Uz", "Uh", "br", "bz", "bh"].map { key in
      (name: names[key] ?? key, values: file[key]!.values, shape: file[key]!.shape, dtype: NpyDType.f64)
    }
    try write(Npz.write(members), to: "\(dir)/cell.npz")
    try write(Npy.write(values: x, shape: [Self.cellB, Self.cellT, Self.cellI], dtype: .f64), to: "\(dir)/x.npy")
    try write(Npy.write(values: y.values, shape: y.shape, dtype: .f64), to: "\(dir)/y.npy")
    return ("\(dir)/cell.npz", "\(dir)/x.npy", "\(dir)/y.npy", y.values)
  }

  @Test func seedStyleCellWithNamedGates() throws {
    try withScratchDirectory { dir in
      let f = try writeCell(in: dir)
      let r = Driver.run(["identify", f.weights, "--input", f.x, "--expect", f.y])
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(r.stdout.contains("per-gate tensors (gates from their names)"))
      #expect(r.stdout.contains("a match is within 1e-9 (float64 data)"))
      #expect(
        matches(r.stdout) == [["before", "takes-candidate", "single", "r,z,n", "[in,out]", "forward"]], "\(r.stdout)")
      let model = try #require(printedModel(r.stdout))
      #expect(model.contains("weights \"\(f.weights)\"\n"))
      for line in [
        "map h.w_r = \"Wr\", transposed", "map h.w_n = \"Wh\", transposed", "map h.u_z = \"Uz\", transposed",
        "map h.b_n = \"bh\"",
      ] {
        #expect(model.contains(line + "\n"), "\(model)")
      }
      let error = try runPrinted(r.stdout, in: dir, x: f.x, output: "y", expected: f.expected)
      #expect(error <= 1e-12)
    }
  }

  /// TF 1.0's GRUCell names (`Gates/Linear/Matrix`, ...) are read as TF1 tensors.
  @Test func tf1CellUnderTF10Names() throws {
    try withScratchDirectory { dir in
      let f = try writeCell(in: dir)
      let cell = Self.cellTensors().file
      let (i, h) = (Self.cellI, Self.cellH)
      // [x, h] @ Matrix: per gate, the input rows then the state rows; r | u side by side.
      func stacked(_ letters: [String]) -> [Double] {
        var out: [Double] = []
        for row in 0..<(i + h) {
          for l in letters {
            let (matrix, r) = row < i ? (cell["W\(l)"]!.values, row) : (cell["U\(l)"]!.values, row - i)
            out += matrix[(r * h)..<((r + 1) * h)]
          }
        }
        return out
      }
      let members: [(name: String, values: [Double], shape: [Int], dtype: NpyDType)] = [
        ("rnn/GRUCell/Gates/Linear/Matrix:0", stacked(["r", "z"]), [i + h, 2 * h], .f64),
        ("rnn/GRUCell/Gates/Linear/Bias:0", cell["br"]!.values + cell["bz"]!.values, [2 * h], .f64),
        ("rnn/GRUCell/Candidate/Linear/Matrix:0", stacked(["h"]), [i + h, h], .f64),
        ("rnn/GRUCell/Candidate/Linear/Bias:0", cell["bh"]!.values, [h], .f64),
      ]
      try write(Npz.write(members), to: "\(dir)/tf1.npz")
      let r = Driver.run(["identify", "\(dir)/tf1.npz", "--input", f.x, "--expect", f.y])
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(r.stdout.contains("TF1 names: 'rnn/GRUCell/Candidate/Linear/Matrix:0'") || r.stdout.contains("TF1 names: 'rnn/GRUCell/Gates/Linear/Matrix:0'"), "\(r.stdout)")
      #expect(
        matches(r.stdout) == [["before", "takes-candidate", "single", "r,z,n", "[in,out]", "forward"]], "\(r.stdout)")
      #expect(r.stdout.contains(", format tf1\n"))
      let error = try runPrinted(r.stdout, in: dir, x: f.x, output: "y", expected: f.expected)
      #expect(error <= 1e-12)
    }
  }

  @Test func perGateCellWhoseNamesSayNothingTriesEveryAssignment() throws {
    try withScratchDirectory { dir in
      let names = [
        "Wr": "p1", "Wz": "p2", "Wh": "p3", "Ur": "q1", "Uz": "q2", "Uh": "q3", "br": "v1", "bz": "v2", "bh": "v3",
      ]
      let f = try writeCell(in: dir, names: names, output: "hn")
      let r = Driver.run(["identify", f.weights, "--input", f.x, "--expect", f.y])
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(r.stdout.contains("names do not say the gates"))
      #expect(r.stdout.contains("gate order: the gates of p1/q1/v1, p2/q2/v2, p3/q3/v3, in turn"))
      #expect(
        matches(r.stdout) == [["before", "takes-candidate", "single", "r,z,n", "[in,out]", "forward"]], "\(r.stdout)")
      #expect(r.stdout.contains("map h.w_z = \"p2\", transposed\n"))
    }
  }

  /// A cell without reset gate stored in grucc's own names: the printed layer takes the file's
  /// prefix as its name and needs no map lines.
  @Test func twoGateCellInGruccNames() throws {
    try withScratchDirectory { dir in
      let (i, h, b, t) = (3, 3, 2, 5)
      var rng = Xoshiro256(seed: 3)
      func values(_ n: Int) -> [Double] { (0..<n).map { _ in Double(Float(rng.normal() * 0.5)) } }
      let tensors = [
        NamedTensor(name: "cell.w_z", dtype: .f32, shape: [h, i], values: values(h * i)),
        NamedTensor(name: "cell.w_n", dtype: .f32, shape: [h, i], values: values(h * i)),
        NamedTensor(name: "cell.u_z", dtype: .f32, shape: [h, h], values: values(h * h)),
        NamedTensor(name: "cell.u_n", dtype: .f32, shape: [h, h], values: values(h * h)),
        NamedTensor(name: "cell.b_z", dtype: .f32, shape: [h], values: values(h)),
        NamedTensor(name: "cell.b_n", dtype: .f32, shape: [h], values: values(h)),
      ]
      let model = """
        model m
        precision f64
        input x[\(i)]
        gru cell = x -> hidden \(h), reset none, update keeps-state, bias single, direction reverse
        output y = cell
        weights "w.safetensors"

        """
      let module = try #require(try Identify.compile(model, tensors: tensors, through: nil).get())
      let x = values(b * t * i)
      let y = try #require(
        try Interpreter.run(module, inputs: ["x": ArrayValue(shape: [b, t, i], values: x)]).first?.value)
      try write(Safetensors.write(tensors), to: "\(dir)/w.safetensors")
      try write(Npy.write(values: x, shape: [b, t, i], dtype: .f32), to: "\(dir)/x.npy")
      try write(Npy.write(values: y.values, shape: y.shape, dtype: .f32), to: "\(dir)/y.npy")
      let r = Driver.run(["identify", "\(dir)/w.safetensors", "--input", "\(dir)/x.npy", "--expect", "\(dir)/y.npy"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      // safetensors keeps its tensors sorted by name: w_n comes first.
      #expect(
        r.stdout.contains("gate order: the gates of cell.w_n/cell.u_n/cell.b_n, cell.w_z/cell.u_z/cell.b_z, in turn\n"))
      #expect(matches(r.stdout) == [["none", "keeps-state", "single", "n,z", "[out,in]", "reverse"]], "\(r.stdout)")
      #expect(
        r.stdout.contains("gru cell = x -> hidden 3, reset none, update keeps-state, bias single, direction reverse\n"))
      #expect(!r.stdout.contains("\nmap "))
      let error = try runPrinted(r.stdout, in: dir, x: "\(dir)/x.npy", output: "y", expected: y.values)
      #expect(error <= 1e-5)
    }
  }

  // MARK: - In process: ties and the cap

  func request(_ f: (weights: String, x: String, y: String)) throws -> IdentifyRequest {
    func array(_ path: String) throws -> IdentifyArray {
      let a = try Npy.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
      return IdentifyArray(path: path, shape: a.shape, values: a.values, isDouble: a.dtype == "<f8")
    }
    let tensors = try WeightFiles.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: f.weights))), path: f.weights)
    return IdentifyRequest(weightsPath: f.weights, tensors: tensors, x: try array(f.x), y: try array(f.y))
  }

  @Test func oneStepCannotTellForwardFromReverse() throws {
    try withScratchDirectory { dir in
      let f = try fixtureFiles("pt_basic", expect: "y", in: dir)
      var req = try request(f)
      // The first step of each sequence only.
      req.x = IdentifyArray(
        path: "x1.npy", shape: [3, 1, 4], values: (0..<3).flatMap { Array(req.x.values[($0 * 20)..<($0 * 20 + 4)]) },
        isDouble: false)
      req.y = IdentifyArray(
        path: "y1.npy", shape: [3, 1, 6], values: (0..<3).flatMap { Array(req.y.values[($0 * 30)..<($0 * 30 + 6)]) },
        isDouble: false)
      let report = try Identify.run(req)
      #expect(report.failure == nil)
      #expect(report.rows.filter(\.isMatch).map(\.direction) == [.forward, .reverse])
      #expect(
        report.text.contains("2 combinations match: these data do not tell them apart (they differ in direction)"))
    }
  }

  @Test func theNumberOfCombinationsIsCapped() throws {
    try withScratchDirectory { dir in
      let f = try fixtureFiles("pt_basic", expect: "y", in: dir)
      var req = try request(f)
      req.limit = 5
      let report = try Identify.run(req)
      #expect(report.rows.count == 5)
      #expect(report.text.contains("5 combinations tried (capped: 48 fit, the first 5 were tried)"))
      #expect(report.failure == nil)  // the file's own gate order comes first, and the fifth is the match
    }
  }

  @Test func sequencesBeyondTheFirstAreCheckedOnTheMatch() throws {
    try withScratchDirectory { dir in
      let f = try fixtureFiles("pt_basic", expect: "y", in: dir)
      var req = try request(f)
      req.screenSequences = 1
      var report = try Identify.run(req)
      #expect(report.failure == nil)
      #expect(report.text.contains("compared on the first 1 of 3 sequences"))
      // Spoil the last sequence: the first still matches, the whole does not.
      req.y.values[req.y.values.count - 1] += 0.5
      report = try Identify.run(req)
      #expect(
        report.failure?.contains("matched the first 1 sequences of \(f.y) but not all 3") == true,
        "\(report.failure ?? "")")
    }
  }

  // MARK: - Errors

  @Test func nothingMatches() throws {
    try withScratchDirectory { dir in
      let f = try fixtureFiles("pt_basic", expect: "y", in: dir)
      var rng = Xoshiro256(seed: 5)
      try write(
        Npy.write(values: (0..<90).map { _ in rng.normal() * 0.3 }, shape: [3, 5, 6], dtype: .f32),
        to: "\(dir)/noise.npy")
      let r = Driver.run(["identify", f.weights, "--input", f.x, "--expect", "\(dir)/noise.npy"])
      #expect(r.exitCode == 2, "no match has its own exit status, apart from errors (1)")
      #expect(r.stdout.contains("rank  max abs error"))
      #expect(
        r.stderr.hasPrefix(
          "grucc: error: no combination reproduces \(dir)/noise.npy within 1e-4: the closest is rank 1, max abs error ")
      )
      #expect(printedModel(r.stdout) == nil)
    }
  }

  @Test func errorsAreMessages() throws {
    try withScratchDirectory { dir in
      let f = try fixtureFiles("pt_basic", expect: "y", in: dir)
      try write(
        Npz.write([
          ("a", [Double](repeating: 0, count: 9), [3, 3], .f32), ("b", [Double](repeating: 0, count: 7), [7], .f32),
        ]), to: "\(dir)/odd.npz")
      try write(
        Npy.write(values: [Double](repeating: 0, count: 105), shape: [3, 5, 7], dtype: .f32), to: "\(dir)/y7.npy")
      try write(Npy.write(values: [Double](repeating: 0, count: 12), shape: [2, 6], dtype: .f32), to: "\(dir)/y2.npy")
      try write(Array("garbage".utf8), to: "\(dir)/junk.safetensors")
      try write(
        Npz.write([
          ("weight_ih_l0", [Double](repeating: 0, count: 72), [18, 4], .f32),
          ("weight_hh_l0", [Double](repeating: 0, count: 90), [18, 5], .f32),
        ]), to: "\(dir)/skewed.npz")
      try write(
        Npz.write([
          ("weight_ih_l0", [Double](repeating: 0, count: 72), [18, 4], .f32),
          ("weight_hh_l0", [Double.nan] + [Double](repeating: 0, count: 107), [18, 6], .f32),
        ]), to: "\(dir)/nan.npz")
      let stacked = FrameworkFixture.root.appendingPathComponent("pt_stacked_bidir_timemajor/weights.safetensors").path
      let cases: [([String], String)] = [
        (
          ["\(dir)/none.safetensors", "--input", f.x, "--expect", f.y],
          "grucc: error: cannot read '\(dir)/none.safetensors': no such file or directory\n"
        ),
        (
          [f.weights, "--input", "\(dir)/none.npy", "--expect", f.y],
          "grucc: error: cannot read '\(dir)/none.npy': no such file or directory\n"
        ),
        (["\(dir)/junk.safetensors", "--input", f.x, "--expect", f.y], "grucc: error: \(dir)/junk.safetensors: "),
        (
          ["\(dir)/odd.npz", "--input", f.x, "--expect", f.y],
          "grucc: error: \(dir)/odd.npz: the tensors 'a' [3, 3], 'b' [7] fit no GRU layout"
        ),
        (
          ["\(dir)/skewed.npz", "--input", f.x, "--expect", f.y],
          "grucc: error: \(dir)/skewed.npz: 'weight_hh_l0' [18, 5] does not fit a PyTorch GRU layer, whose weight_hh is [3H, H]\n"
        ),
        (
          ["\(dir)/nan.npz", "--input", f.x, "--expect", f.y],
          "grucc: error: \(dir)/nan.npz: tensor 'weight_hh_l0' [18, 6] has a non-finite value at flat index 0\n"
        ),
        (
          [f.weights, "--input", f.x, "--expect", "\(dir)/y7.npy"],
          "grucc: error: \(f.weights): the weights are a layer of 6 units ('gru.weight_hh_l0' [18, 6]), but \(dir)/y7.npy [3, 5, 7] has 7"
        ),
        (
          [f.weights, "--input", f.x, "--expect", "\(dir)/y2.npy"],
          "grucc: error: \(f.weights): \(dir)/y2.npy [2, 6] does not fit \(f.x) [3, 5, 4]: expected [3, 5, H] (the output sequence) or [3, H] (the final state)"
        ),
        (
          [f.weights, "--input", f.x, "--expect", f.y, "--hidden", "5"],
          "grucc: error: \(f.weights): --hidden 5 disagrees with \(f.y) [3, 5, 6]"
        ),
        (
          [f.weights, "--input", f.x, "--expect", f.y, "--format", "keras"],
          "grucc: error: \(f.weights): the file has no GRU tensors in Keras names"
        ),
        (
          [stacked, "--input", f.x, "--expect", f.y],
          "grucc: error: \(stacked): the file holds 2 GRU layers in PyTorch names"
        ),
        ([f.weights, "--input", f.x], "grucc: error: 'identify' needs --expect Y.npy"),
        ([f.weights, "--input", f.x, "--expect", f.y, "--format", "jax"], "grucc: error: unknown format 'jax'"),
        (
          [f.weights, "--input", f.x, "--expect", f.y, "--hidden", "0"],
          "grucc: error: '--hidden' needs a positive whole number"
        ),
        (
          [f.weights, "--input", f.x, "--expect", f.y, "--frobnicate"],
          "grucc: error: unknown option '--frobnicate' for 'identify'"
        ),
        (
          [f.weights, "--input", f.x, "--expect", f.y, "-o", "\(dir)/w.npz"],
          "grucc: error: 'identify -o' writes the model (FILE.gru) or its tensors in grucc's names (FILE.safetensors)"
        ),
      ]
      for (args, message) in cases {
        let r = Driver.run(["identify"] + args)
        #expect(r.exitCode == 1, "\(args)")
        #expect(r.stderr.hasPrefix(message), "\(args): \(r.stderr)")
      }
    }
  }
}
