// Hostile inputs (Tests/Fixtures/hostile): every file that crashed grucc or made it use gigabytes,
// run by the grucc executable as a child process, whose CPU time and peak memory are measured
// (wait4). Each must end with exit status 0 or 1, never a signal, with a message naming the file
// and what is wrong, within 2 s of CPU and 300 MB. Then the smaller defects of the same issue.

import Foundation
import Testing

@testable import GruccCore

@Suite struct HostileInputTests {
  static let directory = Golden.root + "/Tests/Fixtures/hostile"
  static let adder = Golden.root + "/Specs/seed001-adder.gru"
  static var executable: String? { DeterminismTests.executable }
  /// The child processes are measured through a small C helper (MeasuredProcess).
  static var canMeasure: Bool { executable != nil && Clang.isAvailable }

  /// 2 s of CPU and 300 MB for a release build. The tests run the debug build, several times
  /// slower on the passes (the memory is the same), so its time limit is scaled.
  #if DEBUG
    static let cpuLimit = 8.0
  #else
    static let cpuLimit = 2.0
  #endif
  static let memoryLimit = 300.0

  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var arguments: [String]
    var status: Int32
    /// Every one must be in stderr (or in stdout, for a success).
    var says: [String]
    var testDescription: String { name }
  }

  static func file(_ name: String) -> String { directory + "/" + name }

  static let cases: [Case] = [
    Case(
      name: "a Fortran-order array with an empty axis beside a huge one is refused by its shape",
      arguments: ["run", adder, "--input", file("npy-fortran-zero-axis-overflow.npy")], status: 1,
      says: ["npy-fortran-zero-axis-overflow.npy: input 'x' has shape [4611686018427387904, 4, 0], expected"]),
    Case(
      name: "an empty batch beside a huge number of steps is refused, not a segfault (npy)",
      arguments: ["run", adder, "--input", file("npy-B0-hugeT-segv.npy")], status: 1,
      says: ["npy-B0-hugeT-segv.npy: input 'x' has shape [0, 4611686018427387904, 2]: no sequences (B = 0)"]),
    Case(
      name: "an empty batch beside a huge number of steps is refused, not a segfault (npz)",
      arguments: ["run", adder, "--input", file("npz-B0-hugeT-segv.npz")], status: 1,
      says: ["npz-B0-hugeT-segv.npz: input 'x' has shape [0, 4611686018427387904, 2]: no sequences (B = 0)"]),
    Case(
      name: "a huge batch of empty sequences is refused, not an overflow trap",
      arguments: ["run", adder, "--input", file("npy-hugeB-T0-sigill.npy")], status: 1,
      says: ["npy-hugeB-T0-sigill.npy: input 'x' has shape [4611686018427387904, 0, 2]: sequences of no steps (T = 0)"]),
    Case(
      name: "an empty batch is refused before any work",
      arguments: ["run", adder, "--input", file("npy-B0-T1e8-slow.npy")], status: 1,
      says: ["npy-B0-T1e8-slow.npy: input 'x' has shape [0, 100000000, 2]: no sequences (B = 0)"]),
    Case(
      name: "an npz bomb is refused from its header before it is inflated",
      arguments: ["run", adder, "--input", file("npz-bomb-1GB.npz")], status: 1,
      says: [
        "npz-bomb-1GB.npz: member 'x.npy' (the array [1, 500000000, 2] of dtype '|u1')", "would need 8.4 GiB",
        "over grucc's limit of 4 GiB", "--max-memory",
      ]),
    Case(
      name: "hidden 65536 is checked without making its weights",
      arguments: ["check", file("gru-hidden-65536.gru")], status: 0,
      says: ["parameters: ", "h.u_r [65536, 65536]", "multiply-adds per step: 12885360640"]),
    Case(
      name: "hidden 65536 compiled is a memory-limit error naming the tensor, the size and the option",
      arguments: [file("gru-hidden-65536.gru"), "-o", "/dev/null/never.c"], status: 1,
      says: ["gru-hidden-65536.gru:3:1: error:", "'h.u_r' [65536, 65536], is 32 GiB", "--max-memory"]),
    Case(
      name: "hidden 8192 is checked in a moment",
      arguments: ["check", file("gru-hidden-8192.gru")], status: 0, says: ["multiply-adds per step: 201375744"]),
    Case(
      name: "a CSV value beyond f32's range is an error, not infinity",
      arguments: ["run", file("num.gru"), "--input", file("f32ovf.csv")], status: 1,
      says: ["f32ovf.csv: input 'x' has the value 1e+39 (element 0), beyond the range of f32"]),
  ]

  @Test(.enabled(if: canMeasure, "needs the grucc executable and clang"), arguments: cases)
  func reproducerEndsCleanlyWithinTheLimits(_ c: Case) throws {
    let run = try MeasuredProcess.run(try #require(Self.executable), c.arguments)
    print("hostile: \(c.name): exit \(run.status), \(String(format: "%.2f", run.cpuSeconds)) s CPU, \(String(format: "%.0f", run.peakMegabytes)) MB")
    #expect(run.signal == nil && !run.timedOut, "\(run.summary)")
    #expect(run.status == c.status, "\(run.summary)")
    let text = c.status == 0 ? run.stdout : run.stderr
    for s in c.says { #expect(text.contains(s), "'\(s)' not in:\n\(text)") }
    if c.status != 0 { #expect(run.stdout.isEmpty) }
    #expect(run.cpuSeconds <= Self.cpuLimit, "\(run.summary)")
    #expect(run.peakMegabytes <= Self.memoryLimit, "\(run.summary)")
  }

  /// The measurement is the child's own: with 300 MB held here, a child that holds almost nothing
  /// must not be reported with this process's memory (a plain wait4 would report 300 MB).
  @Test(.enabled(if: canMeasure, "needs the grucc executable and clang"))
  func theMeasurementIsTheChildsOwn() throws {
    var held = [UInt8](repeating: 1, count: 300 << 20)
    for i in stride(from: 0, to: held.count, by: 4096) { held[i] = UInt8(i & 0x7f) }
    let run = try MeasuredProcess.run(try #require(Self.executable), ["--version"])
    #expect(run.status == 0, "\(run.summary)")
    #expect(run.peakMegabytes < 100, "\(run.summary)")
    #expect(held[4096] == 0)
  }

  // MARK: - Linear time

  /// N stacked layers, as in the issue's gru-1000-layers.gru.
  static func stacked(_ n: Int) -> String {
    var text = "model m\ninput x[2]\ngru h0 = x -> hidden 2, reset after, update keeps-state, bias separate\n"
    for i in 1..<n { text += "gru h\(i) = h\(i - 1) -> hidden 2, reset after, update keeps-state, bias separate\n" }
    return text + "output y = dense(h\(n - 1), 1)\ninit seed 1\n"
  }

  static func chainedLets(_ n: Int) -> String {
    var text = "model m\ninput x[2]\ngru h = x -> hidden 2, reset after, update keeps-state, bias separate\nlet a0 = tanh(h)\n"
    for i in 1..<n { text += "let a\(i) = tanh(a\(i - 1))\n" }
    return text + "output y = a\(n - 1)\ninit seed 1\n"
  }

  /// Four times the layers or lets must cost about four times as much (quadratic would be 16):
  /// checking 1,000 layers took 11 s in a release build, 2,000 took 52 s.
  @Test(.enabled(if: canMeasure, "needs the grucc executable and clang"), arguments: [("layers", 250, 1000), ("lets", 5000, 20000)])
  func checkingIsLinearInTheModelSize(kind: String, small: Int, large: Int) throws {
    try withScratchDirectory { dir in
      func cost(_ n: Int) throws -> MeasuredRun {
        let path = "\(dir)/\(kind)\(n).gru"
        try (kind == "layers" ? Self.stacked(n) : Self.chainedLets(n)).write(toFile: path, atomically: false, encoding: .utf8)
        let run = try MeasuredProcess.run(try #require(Self.executable), ["check", path], timeout: 120)
        #expect(run.status == 0 && run.signal == nil, "\(run.summary)")
        return run
      }
      let a = try cost(small)
      let b = try cost(large)
      print("hostile: check of \(small) \(kind) \(String(format: "%.2f", a.cpuSeconds)) s, of \(large) \(String(format: "%.2f", b.cpuSeconds)) s CPU, \(String(format: "%.0f", b.peakMegabytes)) MB")
      let ratio = b.cpuSeconds / max(a.cpuSeconds, 0.05)
      #expect(ratio < 7, "\(kind): \(small) took \(a.cpuSeconds) s, \(large) took \(b.cpuSeconds) s (ratio \(ratio))")
      #expect(b.cpuSeconds <= Self.cpuLimit, "\(kind) \(large): \(b.summary)")
      #expect(b.peakMegabytes <= Self.memoryLimit, "\(kind) \(large): \(b.summary)")
    }
  }

  /// 40 pools that each take a step, before the gru and after it: the header's SEQUENCE_STEPS and
  /// SCRATCH_SIZE name T once per stride, not twice per layer (26 such layers made a macro of
  /// 2^26 terms: 19 GB and no end in sight), and the C compiles, warning-free, at once.
  @Test(.enabled(if: canMeasure, "needs the grucc executable and clang"), arguments: ["before", "after"])
  func aDeepChainOfSequenceLayersCompilesInLinearSize(placement: String) throws {
    try withScratchDirectory { dir in
      var lines = ["model deep", "input x[2]"]
      var previous = "x"
      if placement == "after" {
        lines.append("gru h = x -> hidden 2, reset after, update keeps-state, bias separate")
        previous = "h"
      }
      for i in 0..<40 {
        lines.append("pool p\(i) = \(previous) -> max 2, stride \(i % 10 == 9 ? 2 : 1)")
        previous = "p\(i)"
      }
      if placement == "before" { lines.append("gru h = \(previous) -> hidden 2, reset after, update keeps-state, bias separate") }
      lines += ["output y = \(placement == "before" ? "h" : previous)", "init seed 1"]
      let path = "\(dir)/deep.gru"
      try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
      let run = try MeasuredProcess.run(try #require(Self.executable), [path, "-o", "\(dir)/deep.c"], timeout: 120)
      #expect(run.status == 0 && run.signal == nil, "\(run.summary)")
      #expect(run.cpuSeconds <= Self.cpuLimit, "\(run.summary)")
      let header = try String(contentsOfFile: "\(dir)/deep.h", encoding: .utf8)
      #expect(header.utf8.count < 20_000, "the header has \(header.utf8.count) bytes")
      let built = try #require(Clang.compiler).compile(CCompiler.strictC + ["-c", "\(dir)/deep.c", "-o", "\(dir)/deep.o"])
      #expect(built.succeeded, "\(built.stderr.prefix(2000))")
      print("hostile: 40 pools \(placement) the gru: \(String(format: "%.2f", run.cpuSeconds)) s CPU, header \(header.utf8.count) bytes")
    }
  }

  // MARK: - The generated C

  /// step-null.c (the issue's reproducer) and the same for read and the state functions, under
  /// the sanitizers: NULL is refused with ERROR_ARGUMENT (or ignored by the void functions).
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"))
  func streamingFunctionsRefuseNullPointers() throws {
    let clang = try #require(Clang.compiler)
    try withScratchDirectory { dir in
      let model = """
        model s
        precision f64
        input x[2]
        gru h = x -> hidden 3, reset after, update keeps-state, bias separate
        output y = dense(h, 1)
        output m = mean(h)
        init seed 1

        """
      try model.write(toFile: "\(dir)/s.gru", atomically: false, encoding: .utf8)
      let compiled = Driver.run(["\(dir)/s.gru", "-o", "\(dir)/s.c"])
      #expect(compiled.exitCode == 0, "\(compiled.stderr)")
      let program = """
        #include "s.h"
        int main(void) {
            double x[2] = {0.5, -0.5}, y, m[3], state[S_STATE_SIZE];
            s_state st;
            int bad = 0;
            s_reset(NULL);
            s_set_state(NULL, state);
            s_get_state(NULL, state);
            s_reset(&st);
            s_set_state(&st, NULL);
            s_get_state(&st, NULL);
            bad |= s_step(NULL, x, &y) != S_ERROR_ARGUMENT;
            bad |= s_step(&st, NULL, &y) != S_ERROR_ARGUMENT;
            bad |= s_step(&st, x, NULL) != S_ERROR_ARGUMENT;
            bad |= s_read(NULL, m) != S_ERROR_ARGUMENT;
            bad |= s_read(&st, NULL) != S_ERROR_ARGUMENT;
            bad |= s_step(&st, x, &y) != S_OK;
            bad |= s_read(&st, m) != S_OK;
            return bad;
        }

        """
      try program.write(toFile: "\(dir)/main.c", atomically: false, encoding: .utf8)
      let sanitize = Clang.sanitizersWork ? ["-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"] : []
      for (main, sources) in [("\(dir)/main.c", ["\(dir)/s.c"]), (Self.file("step-null.c"), [Golden.root + "/Generated/seed001-adder.c"])] {
        let binary = "\(dir)/prog"
        let built = try clang.compile(
          CCompiler.strictC + sanitize + ["-I", dir, "-I", Golden.root + "/Generated", main] + sources + ["-o", binary, "-lm"])
        try #require(built.succeeded, "\(built.summary)")
        let ran = try ProcessRunner.run(binary, [], timeout: 60, environment: Clang.sanitizerEnvironment)
        #expect(ran.succeeded && ran.stderr.isEmpty, "\(main): \(ran.summary)")
      }
    }
  }

  /// elu(x) = α(eˣ − 1) for x < 0 was computed as written, which is 0 for x = -1e-30; expm1
  /// keeps the digits, in the interpreter and in both kinds of C.
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"))
  func eluOfATinyNegativeNumberIsNotZero() throws {
    let clang = try #require(Clang.compiler)
    try withScratchDirectory { dir in
      for precision in ["f32", "f64"] {
        let model = """
          model e
          precision \(precision)
          input x[1]
          gru h = x -> hidden 1, reset none, update keeps-state, bias none
          output y = elu(x)
          output z = elu(x, 0.5)
          output s = state(h)
          init seed 1

          """
        try model.write(toFile: "\(dir)/e.gru", atomically: false, encoding: .utf8)
        try "-1e-30\n".write(toFile: "\(dir)/x.csv", atomically: false, encoding: .utf8)
        let run = Driver.run(["run", "\(dir)/e.gru", "--input", "\(dir)/x.csv"])
        #expect(run.stdout.contains("# y [1, 1, 1]\n-1e-30\n# z [1, 1, 1]\n-5e-31\n"), "\(precision): \(run.stdout)\(run.stderr)")
        let real = precision == "f32" ? "float" : "double"
        let program = """
          #include <stdio.h>
          #include "e.h"
          int main(void) {
              \(real) x = (\(real))-1e-30, y, z, s, scratch[E_SCRATCH_SIZE(1, 1)];
              if (e_run(&x, 1, &y, &z, &s, scratch) != E_OK) return 2;
              return !(y < 0 && (double)y > -1.000001e-30 && (double)y < -0.999999e-30);
          }

          """
        try program.write(toFile: "\(dir)/main.c", atomically: false, encoding: .utf8)
        for flags in [[String](), ["--activations", "libm"]] {
          let compiled = Driver.run(["\(dir)/e.gru", "-o", "\(dir)/e.c"] + flags)
          #expect(compiled.exitCode == 0, "\(compiled.stderr)")
          let built = try clang.compile(CCompiler.strictC + ["-I", dir, "\(dir)/main.c", "\(dir)/e.c", "-o", "\(dir)/prog", "-lm"])
          try #require(built.succeeded, "\(built.summary)")
          let ran = try ProcessRunner.run("\(dir)/prog", [])
          #expect(ran.succeeded, "\(precision) \(flags): elu(-1e-30) is not -1e-30 in C")
        }
      }
    }
  }

  // MARK: - Files that are not what they say

  /// Runs grucc in-process in a directory holding `files`.
  func grucc(_ arguments: [String], files: [String: String] = [:]) throws -> (DriverResult, String) {
    try withScratchDirectory { dir in
      for (name, text) in files { try text.write(toFile: "\(dir)/\(name)", atomically: false, encoding: .utf8) }
      return (Driver.run(arguments.map { $0.replacingOccurrences(of: "DIR", with: dir) }), dir)
    }
  }

  @Test(arguments: [
    ("x.csv", "0x10,1\n", "x.csv: line 1, column 1: '0x10' is not a decimal number (hexadecimal is not accepted)"),
    ("x.csv", "a,b\n", "x.csv: no rows of numbers (its first line, 'a,b', is a header of column names)"),
    ("x.csv", "", "x.csv: no rows of numbers"),
  ])
  func csvThatIsNotDecimalNumbersIsAnError(name: String, text: String, message: String) throws {
    let (r, dir) = try grucc(["run", Self.adder, "--input", "DIR/\(name)"], files: [name: text])
    #expect(r.exitCode == 1)
    #expect(r.stderr == "grucc: error: \(dir)/\(message)\n")
  }

  /// Lengths are one per sequence, `[B]`: a `[1, 2]` array is not a list of two lengths. A CSV
  /// file may hold them in one column or on one line.
  @Test func lengthsMustBeOneDimensional() throws {
    let model = "model m\nprecision f64\ninput x[1], lengths len\ngru h = x -> hidden 2, reset none, update keeps-state, bias none\noutput y = h\ninit seed 1\n"
    try withScratchDirectory { dir in
      try model.write(toFile: "\(dir)/m.gru", atomically: false, encoding: .utf8)
      let x = Npy.write(values: [1, 2, 3, 4], shape: [2, 2, 1], dtype: .f64)
      _ = FileManager.default.createFile(atPath: "\(dir)/x.npy", contents: Data(x))
      _ = FileManager.default.createFile(atPath: "\(dir)/len.npy", contents: Data(Npy.write(values: [1, 2], shape: [1, 2], dtype: .f64)))
      let bad = Driver.run(["run", "\(dir)/m.gru", "--input", "\(dir)/x.npy", "--input", "len=\(dir)/len.npy"])
      #expect(bad.exitCode == 1)
      #expect(bad.stderr == "grucc: error: \(dir)/len.npy: input 'len' has shape [1, 2], expected [2]\n")
      for text in ["1,2\n", "1\n2\n"] {
        try text.write(toFile: "\(dir)/len.csv", atomically: false, encoding: .utf8)
        let good = Driver.run(["run", "\(dir)/m.gru", "--input", "\(dir)/x.npy", "--input", "len=\(dir)/len.csv"])
        #expect(good.exitCode == 0, "\(good.stderr)")
      }
    }
  }

  /// A FIFO would block a read forever and /dev/zero never ends: neither is a weights file, and
  /// the message says so rather than "permission denied".
  @Test func weightsThatAreNotARegularFileAreNamedForWhatTheyAre() throws {
    try withScratchDirectory { dir in
      #expect(mkfifo("\(dir)/fifo", 0o644) == 0)
      for (weights, reason) in [("\(dir)/fifo", "it is a FIFO (named pipe), not a regular file"), ("/dev/zero", "it is a character device, not a regular file")] {
        let model = "model m\ninput x[1]\ngru h = x -> hidden 1, reset none, update keeps-state, bias none\noutput y = h\nweights \"\(weights)\"\n"
        try model.write(toFile: "\(dir)/m.gru", atomically: false, encoding: .utf8)
        let r = Driver.run(["check", "\(dir)/m.gru"])
        #expect(r.exitCode == 1)
        #expect(r.stderr.contains("m.gru:5:1: error: cannot read '\(weights)': \(reason)"), "\(r.stderr)")
      }
      let input = Driver.run(["run", Self.adder, "--input", "/dev/zero"])
      #expect(input.stderr == "grucc: error: cannot read '/dev/zero': it is a character device, not a regular file\n")
    }
  }

  @Test func failedWritesSayWhy() throws {
    let r = Driver.run([Self.adder, "-o", "/nonexistent-grucc-dir/adder.c"])
    #expect(r.exitCode == 1)
    #expect(r.stderr == "grucc: error: cannot write '/nonexistent-grucc-dir/adder.c': no such file or directory\n")
  }

  // MARK: - The memory budget

  @Test func maxMemoryLowersAndRaisesTheLimit() throws {
    // 2 KiB holds the model file but not its weights file: the file is refused before it is read.
    let (low, _) = try grucc(["run", Self.adder, "--max-memory", "2K", "--input", "DIR/x.csv"], files: ["x.csv": "1,0\n0,1\n"])
    #expect(low.exitCode == 1)
    #expect(low.stderr.contains("cannot read 'seed001-adder.safetensors': the file ("), "\(low.stderr)")
    #expect(low.stderr.contains("over grucc's limit of 2 KiB"), "\(low.stderr)")
    let small = Driver.run(["--max-memory=10K", "check", Self.adder])
    #expect(small.exitCode == 1)
    #expect(small.stderr.contains("over grucc's limit of 10 KiB; raise the limit with '--max-memory SIZE'"), "\(small.stderr)")
    #expect(Driver.run(["check", Self.adder, "--max-memory", "1G"]).exitCode == 0)
    for bad in ["0", "-5", "4X", "G", "1.5G", ""] {
      let r = Driver.run(["check", Self.adder, "--max-memory", bad])
      #expect(r.exitCode == 1)
      #expect(r.stderr.hasPrefix("grucc: error: '--max-memory' takes a size in bytes"), "\(bad): \(r.stderr)")
    }
  }

  @Test func budgetSizesParseAndPrint() {
    #expect(MemoryBudget.parse("4096") == 4096)
    #expect(MemoryBudget.parse("64K") == 64 << 10)
    #expect(MemoryBudget.parse("512MiB") == 512 << 20)
    #expect(MemoryBudget.parse("16g") == 16 << 30)
    #expect(MemoryBudget.parse("2TB") == 2 << 40)
    #expect(MemoryBudget.parse("99999999999T") == nil)
    #expect(MemoryBudget.text(512) == "512 B")
    #expect(MemoryBudget.text(1536) == "1.5 KiB")
    #expect(MemoryBudget.text(4 << 30) == "4 GiB")
    #expect(MemoryBudget.standard.refusal(4 << 30, for: "x") == nil)
    #expect(MemoryBudget.standard.refusal(nil, for: "x") == "x would need more memory than a 64-bit size can count")
  }

  // MARK: - The readers, in-process

  /// The reader-level reproducers and whatever the fuzzers found (fuzz/TARGET/FILE) go through
  /// their readers in this process: a value or a FormatError, never a trap.
  @Test func readersTakeEveryHostileFileWithoutATrap() throws {
    let budget = MemoryBudget(limit: 256 << 20)
    var files = try FileManager.default.contentsOfDirectory(atPath: Self.directory).filter { $0.hasSuffix(".npy") || $0.hasSuffix(".npz") }
      .sorted().map { (String($0.split(separator: ".").last!), Self.file($0)) }
    let fuzz = Self.directory + "/fuzz"
    for target in ((try? FileManager.default.contentsOfDirectory(atPath: fuzz)) ?? []).sorted() {
      for name in ((try? FileManager.default.contentsOfDirectory(atPath: "\(fuzz)/\(target)")) ?? []).sorted() {
        files.append((target, "\(fuzz)/\(target)/\(name)"))
      }
    }
    #expect(files.count >= 6)
    var outcomes: [String: String] = [:]
    for (reader, path) in files {
      let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
      do throws(FormatError) {
        switch reader {
        case "npy": _ = try Npy.read(bytes, budget: budget)
        case "npz": _ = try Npz.read(bytes, budget: budget)
        case "safetensors": _ = try Safetensors.read(bytes, budget: budget)
        case "onnx": _ = try Onnx.read(bytes)
        case "csv": _ = try CSV.readTable(bytes, budget: budget)
        case "json": _ = try JSON.parse(bytes[...])
        case "gru": _ = InProcess.run(bytes: bytes)
        default: Issue.record("no reader for '\(reader)' (\(path))")
        }
        outcomes[URL(fileURLWithPath: path).lastPathComponent] = "read"
      } catch {
        outcomes[URL(fileURLWithPath: path).lastPathComponent] = error.message
      }
    }
    // The Fortran-order array with no values reads as what it is: an empty array.
    #expect(outcomes["npy-fortran-zero-axis-overflow.npy"] == "read")
    #expect(outcomes["npz-bomb-1GB.npz"]?.contains("would need 8.4 GiB of memory") == true, "\(outcomes)")
  }

  /// IRGen's module is verified before the first pass: a broken one is reported as a bug in
  /// grucc at the stage that made it.
  @Test func theVerifierChecksWhatIRGenMade() throws {
    var module = try #require(InProcess.frontEnd(SemaTests.tiny()).module)
    module.graph.nodes[module.graph.nodes.count - 1].operands = [ValueRef(module.graph.nodes.count + 5)]
    var diagnostics = DiagnosticEngine()
    let result = PassPipeline.standard(weights: .initialise(seed: 0, rules: [])).run(module, diagnostics: &diagnostics)
    guard case .failure(.verifier(let pass, let errors, _)) = result else {
      Issue.record("a broken IRGen module went through the pipeline")
      return
    }
    #expect(pass == "irgen")
    #expect(errors.contains { $0.problem.contains("not defined before it") })
  }
}
