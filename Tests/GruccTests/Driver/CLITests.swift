// CLI tests: the Driver in-process on files in temporary directories. Compiling writes .c and .h
// atomically and only on success; `run` reads .csv/.npy/.npz inputs and writes each output format;
// every failure exits 1 with a message and leaves the file system as it was.

import Foundation
import Testing

@testable import GruccCore

@Suite struct CLITests {
  static let adder = """
    model adder
    precision f64
    input x[2]
    gru h = x -> hidden 3, reset before, update takes-candidate, bias single
    output y = dense(h, 1)
    init seed 1

    """

  static let masked = """
    model masked
    precision f64
    input x[2], lengths len
    gru h = x -> hidden 3, reset after, update keeps-state, bias separate, initial given
    output states = h
    output pooled = mean(h)

    """

  static let timeMajor = """
    model tm
    precision f64
    input x[2], layout time-major
    gru h = x -> hidden 2, reset before, update keeps-state, bias single
    output y = h

    """

  // MARK: - Helpers

  /// Writes files into a fresh directory and runs `body` there.
  func inDirectory(_ files: [String: [UInt8]] = [:], _ body: (String) throws -> Void) throws {
    try withScratchDirectory { dir in
      for (name, bytes) in files {
        #expect(FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: Data(bytes)))
      }
      try body(dir)
    }
  }

  func text(_ s: String) -> [UInt8] { Array(s.utf8) }

  func listing(_ dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
  }

  func contents(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: path).map { [UInt8]($0) } }

  /// The model's outputs as the interpreter computes them, for inputs in batch-major form.
  func expected(_ model: String, _ inputs: [String: ArrayValue]) throws -> [(name: String, value: ArrayValue)] {
    let module = try #require(InProcess.optimised(model))
    return try Interpreter.run(module, inputs: inputs)
  }

  /// The blocks of `grucc run`'s CSV output: `# name [shape]` then rows.
  func parseCSV(_ s: String) -> [(name: String, shape: String, values: [Double])] {
    var blocks: [(name: String, shape: String, values: [Double])] = []
    for line in s.split(separator: "\n") {
      if line.hasPrefix("# ") {
        let parts = line.dropFirst(2).split(separator: " ", maxSplits: 1)
        blocks.append((String(parts[0]), String(parts[1]), []))
      } else {
        blocks[blocks.count - 1].values += line.split(separator: ",").map { Double(String($0))! }
      }
    }
    return blocks
  }

  func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-12) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
  }

  static let sequence: [Double] = [1, 0, 0, 1, 1, 1, 0, 0]  // 4 steps of 2 features

  // MARK: - Compiling

  @Test func compileWritesTheCFileAndItsHeader() throws {
    try inDirectory(["m.gru": text(Self.adder)]) { dir in
      let r = Driver.run(["\(dir)/m.gru", "-o", "\(dir)/out.c"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(r.stdout.isEmpty && r.stderr.isEmpty)
      #expect(listing(dir) == ["m.gru", "out.c", "out.h"])
      let c = String(decoding: contents("\(dir)/out.c") ?? [], as: UTF8.self)
      #expect(c.contains("#include \"out.h\""))
      #expect(!(contents("\(dir)/out.h") ?? []).isEmpty)
    }
  }

  @Test(arguments: ["tokens", "ast", "ir", "ir-after=lower-gru", "c", "h"])
  func emitWritesOneFile(kind: String) throws {
    try inDirectory(["m.gru": text(Self.adder)]) { dir in
      let printed = Driver.run(["\(dir)/m.gru", "--emit", kind])
      let r = Driver.run(["\(dir)/m.gru", "--emit", kind, "-o", "\(dir)/out.txt"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(r.stdout.isEmpty)
      #expect(listing(dir) == ["m.gru", "out.txt"])
      #expect(contents("\(dir)/out.txt") == text(printed.stdout))
    }
  }

  @Test func outputMustEndInDotC() throws {
    try inDirectory(["m.gru": text(Self.adder)]) { dir in
      let r = Driver.run(["\(dir)/m.gru", "-o", "\(dir)/out.cc"])
      #expect(r.exitCode == 1)
      #expect(
        r.stderr == "grucc: error: output file '\(dir)/out.cc' must end in '.c' (the header goes beside it as '.h')\n")
      #expect(listing(dir) == ["m.gru"])
    }
  }

  /// Models that fail in each stage, and (for weights) the file they name.
  static let failingModels: [(name: String, model: String, weights: [UInt8]?)] = [
    ("syntax error", "model m\ninput x[2\n", nil),
    ("sema error", SemaTests.tiny("output z = nope"), nil),
    ("shape error", SemaTests.tiny("output z = mean(last(h))"), nil),
    ("missing weights file", SemaTests.tiny("weights \"none.safetensors\""), nil),
    ("invalid weights file", SemaTests.tiny("weights \"w.safetensors\""), Array("garbage".utf8)),
    (
      "weights missing a tensor", SemaTests.tiny("weights \"w.safetensors\""),
      Safetensors.write(SemaTests.tinyTensors { $0.removeLast() })
    ),
    (
      "weights with the wrong shape", SemaTests.tiny("weights \"w.safetensors\""),
      Safetensors.write(SemaTests.tinyTensors { $0[0].shape = [3, 2] })
    ),
    ("init that cannot apply", SemaTests.tiny("init *.b_* orthogonal"), nil),
  ]

  @Test(arguments: failingModels.indices)
  func aFailingCompileLeavesExistingOutputsAlone(_ i: Int) throws {
    let c = Self.failingModels[i]
    var files = ["m.gru": text(c.model), "out.c": text("previous C\n"), "out.h": text("previous H\n")]
    if let w = c.weights { files["w.safetensors"] = w }
    try inDirectory(files) { dir in
      let before = listing(dir)
      for extra in [[], ["--emit", "c"], ["--emit", "h"], ["--emit", "ir"]] {
        let r = Driver.run(["\(dir)/m.gru", "-o", "\(dir)/out.c"] + extra)
        #expect(r.exitCode == 1, "\(c.name)")
        #expect(r.stderr.contains("error"), "\(c.name): \(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(listing(dir) == before, "\(c.name): a file was left behind")
        #expect(contents("\(dir)/out.c") == text("previous C\n"))
        #expect(contents("\(dir)/out.h") == text("previous H\n"))
      }
    }
  }

  @Test func aFailingCompileCreatesNothing() throws {
    try inDirectory(["m.gru": text(SemaTests.tiny("output z = nope"))]) { dir in
      let r = Driver.run(["\(dir)/m.gru", "-o", "\(dir)/out.c"])
      #expect(r.exitCode == 1)
      #expect(listing(dir) == ["m.gru"])
    }
  }

  /// The header cannot be written (a directory has its name): the C file must stay as it was.
  @Test func outputsChangeTogetherOrNotAtAll() throws {
    try inDirectory(["m.gru": text(Self.adder), "out.c": text("previous C\n")]) { dir in
      try FileManager.default.createDirectory(atPath: "\(dir)/out.h", withIntermediateDirectories: true)
      let r = Driver.run(["\(dir)/m.gru", "-o", "\(dir)/out.c"])
      #expect(r.exitCode == 1)
      #expect(r.stderr == "grucc: error: cannot write '\(dir)/out.h': it is a directory\n")
      #expect(contents("\(dir)/out.c") == text("previous C\n"))
      #expect(listing(dir) == ["m.gru", "out.c", "out.h"])
    }
  }

  @Test func aSuccessfulCompileReplacesExistingOutputs() throws {
    try inDirectory(["m.gru": text(Self.adder), "out.c": text("old"), "out.h": text("old")]) { dir in
      #expect(Driver.run(["\(dir)/m.gru", "-o", "\(dir)/out.c"]).exitCode == 0)
      #expect(contents("\(dir)/out.c") != text("old"))
      #expect(contents("\(dir)/out.h") != text("old"))
      #expect(listing(dir) == ["m.gru", "out.c", "out.h"])
    }
  }

  /// However the path is spelled, grucc never writes over the model it reads.
  @Test(arguments: [
    ["MODEL", "-o", "DIR/m.c"],
    ["MODEL", "-o", "DIR/./sub/../m.c"],
    ["MODEL", "--emit", "ast", "-o", "DIR/m.c"],
    ["MODEL", "--emit", "ir", "-o", "LINK/m.c"],
    ["run", "MODEL", "--input", "DIR/x.csv", "-o", "DIR/m.c"],
  ])
  func outputThatWouldOverwriteTheInputIsRefused(arguments: [String]) throws {
    // The model file is named m.c so that the .c output can collide with it.
    try inDirectory(["m.c": text(Self.adder), "x.csv": text("1,0\n0,1\n")]) { dir in
      try FileManager.default.createDirectory(atPath: "\(dir)/sub", withIntermediateDirectories: true)
      try FileManager.default.createSymbolicLink(atPath: "\(dir)/link", withDestinationPath: dir)
      let args = arguments.map {
        $0.replacingOccurrences(of: "MODEL", with: "\(dir)/m.c").replacingOccurrences(of: "DIR", with: dir)
          .replacingOccurrences(of: "LINK", with: "\(dir)/link")
      }
      let r = Driver.run(args)
      #expect(r.exitCode == 1)
      #expect(
        r.stderr.contains("would overwrite the input file") || r.stderr.contains("unknown output format"),
        "\(r.stderr)")
      #expect(contents("\(dir)/m.c") == text(Self.adder))
      #expect(listing(dir) == ["link", "m.c", "sub", "x.csv"])
    }
  }

  @Test func aModelReadThroughALinkIsStillProtected() throws {
    try inDirectory(["m.c": text(Self.adder)]) { dir in
      try FileManager.default.createSymbolicLink(atPath: "\(dir)/alias.gru", withDestinationPath: "\(dir)/m.c")
      let r = Driver.run(["\(dir)/alias.gru", "-o", "\(dir)/m.c"])
      #expect(r.exitCode == 1)
      #expect(r.stderr == "grucc: error: output '\(dir)/m.c' would overwrite the input file\n")
      #expect(contents("\(dir)/m.c") == text(Self.adder))
    }
  }

  /// Writing to a link replaces the link itself, so the model it points to is safe.
  @Test func anOutputThatIsALinkToTheModelReplacesTheLink() throws {
    try inDirectory(["m.gru": text(Self.adder)]) { dir in
      try FileManager.default.createSymbolicLink(atPath: "\(dir)/out.c", withDestinationPath: "\(dir)/m.gru")
      let r = Driver.run(["\(dir)/m.gru", "-o", "\(dir)/out.c"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(contents("\(dir)/m.gru") == text(Self.adder))
      #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/out.c")) == nil)
    }
  }

  @Test func theHeaderMayNotOverwriteTheInputEither() throws {
    try inDirectory(["m.h": text(Self.adder)]) { dir in
      let r = Driver.run(["\(dir)/m.h", "-o", "\(dir)/m.c"])
      #expect(r.exitCode == 1)
      #expect(r.stderr == "grucc: error: output '\(dir)/m.h' would overwrite the input file\n")
      #expect(listing(dir) == ["m.h"])
    }
  }

  // MARK: - grucc run

  @Test func runReadsCSVAndPrintsCSV() throws {
    try inDirectory(["m.gru": text(Self.adder), "x.csv": text("# a bit of a and b per row\n1,0\n0,1\n1,1\n0,0\n")]) {
      dir in
      let r = Driver.run(["run", "\(dir)/m.gru", "--input", "\(dir)/x.csv"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      let blocks = parseCSV(r.stdout)
      let want = try expected(Self.adder, ["x": ArrayValue(shape: [1, 4, 2], values: Self.sequence)])
      #expect(blocks.map(\.name) == ["y"])
      #expect(blocks.first?.shape == "[1, 4, 1]")
      #expect(close(blocks.first?.values ?? [], want[0].value.values))
    }
  }

  @Test(arguments: [[4, 2], [1, 4, 2]])
  func runReadsNpy(shape: [Int]) throws {
    let x = Npy.write(values: Self.sequence, shape: shape, dtype: .f64)
    try inDirectory(["m.gru": text(Self.adder), "x.npy": x]) { dir in
      let r = Driver.run(["run", "\(dir)/m.gru", "--input", "\(dir)/x.npy", "-o", "\(dir)/y.npy"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(r.stdout.isEmpty)
      let y = try Npy.read(try #require(contents("\(dir)/y.npy")))
      let want = try expected(Self.adder, ["x": ArrayValue(shape: [1, 4, 2], values: Self.sequence)])
      #expect(y.shape == [1, 4, 1])
      #expect(y.dtype == "<f8")
      #expect(close(y.values, want[0].value.values))
    }
  }

  @Test func runWithABatchLengthsAndInitialStateFromNamedFiles() throws {
    let batch = 3
    let steps = 4
    var random = RandomInputs(seed: 3)
    let xs = (0..<(batch * steps * 2)).map { _ in random.uniform(-1, 1) }
    let h0 = (0..<(batch * 3)).map { _ in random.uniform(-1, 1) }
    let lengths: [Double] = [0, 4, 2]
    let files = [
      "m.gru": text(Self.masked), "x.npy": Npy.write(values: xs, shape: [batch, steps, 2], dtype: .f64),
      "len.csv": text("0\n4\n2\n"), "h0.npy": Npy.write(values: h0, shape: [batch, 3], dtype: .f64),
    ]
    try inDirectory(files) { dir in
      let r = Driver.run([
        "run", "\(dir)/m.gru", "--input", "\(dir)/x.npy", "--input", "len=\(dir)/len.csv",
        "-i", "h.h0=\(dir)/h0.npy", "-o", "\(dir)/out.npz",
      ])
      #expect(r.exitCode == 0, "\(r.stderr)")
      let out = try Npz.read(try #require(contents("\(dir)/out.npz")))
      let want = try expected(
        Self.masked,
        [
          "x": ArrayValue(shape: [batch, steps, 2], values: xs), "len": ArrayValue(shape: [batch], values: lengths),
          "h.h0": ArrayValue(shape: [batch, 3], values: h0),
        ])
      #expect(out.map(\.name) == want.map(\.name))
      for (o, w) in zip(out, want) {
        #expect(o.array.shape == w.value.shape)
        #expect(close(o.array.values, w.value.values), "\(o.name)")
      }
      // The first sequence is empty: its states are zero and its mean is zero.
      #expect(out[0].array.values.prefix(steps * 3).allSatisfy { $0 == 0 })
    }
  }

  @Test func runReadsEveryInputFromOneNpz() throws {
    let xs = Self.sequence + Self.sequence.reversed()
    let npz = Npz.write([
      (name: "x", values: xs, shape: [2, 4, 2], dtype: .f32), (name: "len", values: [4, 3], shape: [2], dtype: .i32),
      (name: "h.h0", values: [0.5, 0, -0.5, 1, 1, 1], shape: [2, 3], dtype: .f64),
    ])
    try inDirectory(["m.gru": text(Self.masked), "in.npz": npz]) { dir in
      let r = Driver.run(["run", "\(dir)/m.gru", "--input", "\(dir)/in.npz", "-o", "\(dir)/out.csv"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      let blocks = parseCSV(String(decoding: contents("\(dir)/out.csv") ?? [], as: UTF8.self))
      let want = try expected(
        Self.masked,
        [
          "x": ArrayValue(shape: [2, 4, 2], values: xs), "len": ArrayValue(shape: [2], values: [4, 3]),
          "h.h0": ArrayValue(shape: [2, 3], values: [0.5, 0, -0.5, 1, 1, 1]),
        ])
      #expect(blocks.map(\.name) == ["states", "pooled"])
      #expect(blocks.map(\.shape) == ["[2, 4, 3]", "[2, 3]"])
      for (b, w) in zip(blocks, want) { #expect(close(b.values, w.value.values), "\(b.name)") }
    }
  }

  /// A time-major model reads `[T, B, F]` and writes its sequences as `[T, B, F]`.
  @Test func runKeepsATimeMajorLayout() throws {
    let (t, b) = (3, 2)
    let xs = (0..<(t * b * 2)).map { Double($0) / 10 - 0.5 }
    try inDirectory(["m.gru": text(Self.timeMajor), "x.npy": Npy.write(values: xs, shape: [t, b, 2], dtype: .f64)]) {
      dir in
      let r = Driver.run(["run", "\(dir)/m.gru", "--input", "\(dir)/x.npy", "-o", "\(dir)/y.npy"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      let y = try Npy.read(try #require(contents("\(dir)/y.npy")))
      let batchMajor = DataFiles.swapLeadingAxes(ArrayValue(shape: [t, b, 2], values: xs))
      let want = try expected(Self.timeMajor, ["x": batchMajor])
      #expect(y.shape == [t, b, 2])
      #expect(close(y.values, DataFiles.swapLeadingAxes(want[0].value).values))
    }
  }

  @Test func runWritesF32OutputsForAnF32Model() throws {
    let model = Self.adder.replacingOccurrences(of: "precision f64", with: "precision f32")
    try inDirectory(["m.gru": text(model), "x.csv": text("1,0\n0,1\n")]) { dir in
      let r = Driver.run(["run", "\(dir)/m.gru", "--input", "\(dir)/x.csv", "-o", "\(dir)/y.npy"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      let y = try Npy.read(try #require(contents("\(dir)/y.npy")))
      #expect(y.dtype == "<f4")
    }
  }

  /// Failures of `run`: each exits 1 with one clear message and writes nothing.
  @Test(arguments: [
    (["--input", "DIR/nothing.csv"], "grucc: error: cannot read 'DIR/nothing.csv': no such file"),
    (["--input", "DIR/x3.csv"], "grucc: error: DIR/x3.csv: input 'x' has shape [1, 2, 3], expected [1, 2, 2]"),
    (
      ["--input", "DIR/x.csv", "--input", "len=DIR/bad-len.csv"],
      "grucc: error: DIR/bad-len.csv: lengths 'len' must be whole numbers from 0 to T = 2, found 3.0"
    ),
    (
      ["--input", "DIR/x.csv", "--input", "len=DIR/half-len.csv"],
      "grucc: error: DIR/half-len.csv: lengths 'len' must be whole numbers from 0 to T = 2, found 1.5"
    ),
    (
      ["--input", "DIR/x.csv", "--input", "size=DIR/len.csv"],
      "grucc: error: the model has no input named 'size' (its inputs are 'x', 'len', 'h.h0')"
    ),
    (["--input", "DIR/x.csv"], "grucc: error: missing input 'len'"),
    (
      ["--input", "DIR/x.csv", "--input", "len=DIR/len.csv", "--input", "len=DIR/len.csv"],
      "grucc: error: input 'len' is given twice"
    ),
    (
      ["--input", "DIR/x.csv", "--input", "len=DIR/len.csv", "--input", "h.h0=DIR/x3.csv"],
      "grucc: error: DIR/x3.csv: input 'h.h0' has shape [2, 3], expected [1, 3]"
    ),
    (["--input", "DIR/garbage.npy"], "grucc: error: DIR/garbage.npy: "),
    (
      ["--input", "DIR/x.csv", "--input", "len=DIR/len.csv", "--input", "h.h0=DIR/h0.csv", "-o", "DIR/out.npy"],
      "grucc: error: the model has 2 outputs ('states', 'pooled'); write them to a .npz file, or to .csv"
    ),
    (
      ["--input", "DIR/x.csv", "--input", "len=DIR/len.csv", "--input", "h.h0=DIR/h0.csv", "-o", "DIR/out.json"],
      "grucc: error: unknown output format for 'DIR/out.json'; use .npy, .npz or .csv"
    ),
  ])
  func runErrors(arguments: [String], message: String) throws {
    let files = [
      "m.gru": text(Self.masked), "x.csv": text("1,2\n3,4\n"), "x3.csv": text("1,2,3\n4,5,6\n"),
      "len.csv": text("2\n"), "bad-len.csv": text("3\n"), "half-len.csv": text("1.5\n"), "h0.csv": text("0,0,0\n"),
      "garbage.npy": text("not numpy"),
    ]
    try inDirectory(files) { dir in
      let before = listing(dir)
      let r = Driver.run(["run", "\(dir)/m.gru"] + arguments.map { $0.replacingOccurrences(of: "DIR", with: dir) })
      #expect(r.exitCode == 1)
      #expect(r.stderr.hasPrefix(message.replacingOccurrences(of: "DIR", with: dir)), "\(r.stderr)")
      #expect(r.stderr.split(separator: "\n").count == 1)
      #expect(r.stdout.isEmpty)
      #expect(listing(dir) == before)
    }
  }

  // MARK: - check, help, version, usage

  @Test func checkReportsAModel() throws {
    try inDirectory(["m.gru": text(Self.masked)]) { dir in
      let r = Driver.run(["check", "\(dir)/m.gru"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(r.stdout.hasPrefix("model masked (f64, batch-major), from \(dir)/m.gru\n"))
      #expect(r.stdout.contains("  input len: i32[B]\n"))
      #expect(r.stdout.contains("parameters: "))
      #expect(r.stdout.contains("streaming: "))
      #expect(listing(dir) == ["m.gru"])
    }
  }

  @Test func checkFailsLikeCompiling() throws {
    try inDirectory(["m.gru": text(SemaTests.tiny("output z = mean(last(h))"))]) { dir in
      let r = Driver.run(["check", "\(dir)/m.gru"])
      #expect(r.exitCode == 1)
      #expect(r.stdout.isEmpty)
      #expect(r.stderr.hasPrefix("\(dir)/m.gru:5:12: error: 'mean' needs a sequence"))
    }
  }

  @Test(arguments: [["--help"], ["-h"], ["help"]])
  func helpPrintsTheHelpText(arguments: [String]) {
    let r = Driver.run(arguments)
    #expect(r.exitCode == 0)
    #expect(r.stdout == HelpText.text)
    #expect(r.stderr.isEmpty)
  }

  @Test func helpNamesEveryPass() {
    for pass in PassPipeline.standardNames { #expect(HelpText.text.contains(pass)) }
  }

  @Test func versionPrintsTheVersion() {
    let r = Driver.run(["--version"])
    #expect(r.exitCode == 0)
    #expect(r.stdout == "grucc \(Compiler.version)\n")
  }

  /// Command lines that make no sense: exit 1, a usage error on stderr, nothing on stdout.
  @Test(arguments: [
    [], ["--frobnicate"], ["m.gru", "--frobnicate"], ["m.gru", "-o"], ["m.gru", "--emit"], ["m.gru", "--emit", "asm"],
    ["m.gru", "--emit=ir-after=nothing"], ["a.gru", "b.gru"], ["run"], ["run", "m.gru"],
    ["run", "m.gru", "--input"], ["run", "m.gru", "--input", "x.csv", "--bogus"],
    ["run", "a.gru", "b.gru", "--input", "x"],
    ["check"], ["check", "a.gru", "b.gru"], ["check", "--verbose", "a.gru"], ["-"],
    ["m.onnx", "--name"], ["m.onnx", "--name", "2fast"], ["m.onnx", "--name", "kws-v2"], ["import", "m.onnx", "--name", ""],
    ["import", "m.onnx", "--name", "model"],
  ])
  func usageErrors(arguments: [String]) {
    let r = Driver.run(arguments)
    #expect(r.exitCode == 1)
    #expect(r.stdout.isEmpty)
    #expect(r.stderr.hasPrefix("grucc: error: "), "\(r.stderr)")
    let hint = r.stderr.split(separator: "\n").last ?? ""
    #expect(hint == "run 'grucc --help' for usage" || hint.hasPrefix("run 'grucc help ") || r.stderr.contains("cannot read"))
  }

  @Test func optionsParseIntoCommands() throws {
    #expect(try Options.parse(["m.gru"]) == .compile(CompileOptions(input: "m.gru")))
    #expect(
      try Options.parse(["--emit=ir-after=lower-gru", "m.gru", "-o", "x.ir", "--print-ir-after-all"])
        == .compile(
          CompileOptions(input: "m.gru", output: "x.ir", emit: .ir(after: "lower-gru"), printIRAfterAll: true)))
    #expect(
      try Options.parse(["m.gru", "--emit", "header"]) == .compile(CompileOptions(input: "m.gru", emit: .header)))
    #expect(
      try Options.parse(["run", "m.gru", "-i", "x.npy", "--input", "len=l.csv", "--input", "dir/a=b.csv"])
        == .run(
          RunOptions(model: "m.gru", inputs: [(nil, "x.npy"), ("len", "l.csv"), (nil, "dir/a=b.csv")], output: nil)))
    #expect(try Options.parse(["check", "m.gru"]) == .check("m.gru"))
    #expect(try Options.parse(["m.onnx", "--name", "kws", "-o", "a.c"]) == .compile(CompileOptions(input: "m.onnx", output: "a.c", name: "kws")))
    #expect(try Options.parse(["import", "m.onnx", "--name", "wake_word"]) == .importModel("m.onnx", output: nil, name: "wake_word"))
    #expect(try Options.parse(["import", "m.onnx", "-o", "x.gru"]) == .importModel("m.onnx", output: "x.gru", name: nil))
  }

  /// An imported model is named after the file written (so two never both become model_*), or
  /// after --name; the name must be a C identifier.
  @Test func importedModelsAreNamedAfterTheirOutputOrName() throws {
    let onnx = FrameworkFixture.root.appendingPathComponent("onnx_node_lbr0/model.onnx").path
    try inDirectory { dir in
      #expect(Driver.run(["import", onnx, "-o", dir + "/kws-v2.gru"]).exitCode == 0)
      let first = try String(contentsOfFile: dir + "/kws-v2.gru", encoding: .utf8)
      #expect(first.contains("\nmodel kws_v2\n"))
      #expect(FileManager.default.fileExists(atPath: dir + "/kws-v2.safetensors"))
      #expect(Driver.run(["import", onnx, "-o", dir + "/a.gru", "--name", "wake"]).exitCode == 0)
      let second = try String(contentsOfFile: dir + "/a.gru", encoding: .utf8)
      #expect(second.contains("\nmodel wake\n"))
      // Without -o, the model's own file name.
      let header = Driver.run([onnx, "--emit", "h"])
      #expect(header.exitCode == 0 && header.stdout.contains("int model_run_batch("), "\(header.stderr)")
      let named = Driver.run([onnx, "--emit", "h", "--name", "gate"])
      #expect(named.stdout.contains("int gate_run_batch("))
    }
  }

  /// Whatever the arguments and files, the Driver returns a status instead of crashing.
  @Test func everyFailureExitsNonZero() throws {
    try inDirectory([
      "empty.gru": [], "binary.gru": (0...255).map(UInt8.init), "ok.gru": text(Self.adder), "x.csv": text("1,2\n"),
    ]) { dir in
      try FileManager.default.createDirectory(atPath: "\(dir)/dir.gru", withIntermediateDirectories: true)
      let lines: [[String]] = [
        ["DIR/empty.gru"], ["DIR/binary.gru"], ["DIR/dir.gru"], ["DIR/none.gru"], ["check", "DIR/binary.gru"],
        ["run", "DIR/empty.gru", "--input", "DIR/x.csv"], ["run", "DIR/ok.gru", "--input", "DIR/dir.gru"],
        ["run", "DIR/ok.gru", "--input", "DIR/binary.gru"], ["run", "DIR/ok.gru", "--input", "DIR/empty.gru"],
        ["DIR/ok.gru", "-o", "DIR/dir.gru/../nonexistent/out.c"], ["DIR/ok.gru", "-o", "DIR/dir.gru"],
      ]
      for line in lines {
        let r = Driver.run(line.map { $0.replacingOccurrences(of: "DIR", with: dir) })
        #expect(r.exitCode == 1, "\(line)")
        #expect(r.stderr.contains("error"), "\(line): \(r.stderr)")
      }
    }
  }
}
