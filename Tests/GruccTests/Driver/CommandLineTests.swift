// The command line's manners: each command's help (`grucc help T`, `grucc T --help`), near-miss
// suggestions for commands, options and --emit kinds, and the exit statuses and messages that
// scripts depend on.

import Foundation
import Testing

@testable import GruccCore

@Suite struct CommandLineTests {
  /// The options each command's parser knows, which its help must explain.
  static let flags: [(HelpTopic, [String])] = [
    (.compile, Options.compileFlags.filter { $0 != "--help" }),
    (.run, ["-o", "--input"]),
    (.check, ["--json"]),
    (.identify, ["--input", "--expect", "-o", "--hidden", "--format"]),
    (.import, ["-o", "--name"]),
    (.train, Options.trainFlags),
  ]

  @Test(arguments: HelpTopic.allCases)
  func everyCommandHasItsOwnHelp(_ topic: HelpTopic) {
    let text = HelpText.text(for: topic)
    let byWord = Driver.run(["help", topic.rawValue])
    #expect(byWord.exitCode == 0 && byWord.stderr.isEmpty)
    #expect(byWord.stdout == text)
    let flag = Driver.run(topic == .compile ? ["m.gru", "--help"] : [topic.rawValue, "m.gru", "--help"])
    #expect(flag.exitCode == 0 && flag.stdout == text)
    #expect(Driver.run(topic == .compile ? ["-h"] : [topic.rawValue, "-h"]).stdout == (topic == .compile ? HelpText.text : text))
    let usage = topic == .compile ? "grucc MODEL.gru" : "grucc \(topic.rawValue) "
    #expect(text.contains(usage))
    for f in Self.flags.first(where: { $0.0 == topic })!.1 {
      #expect(text.contains("  \(f) "), "help for \(topic.rawValue) does not explain \(f)")
    }
    #expect(text.contains("--max-memory") && text.contains("--diagnostics-format"))
  }

  @Test func anUnknownHelpTopicIsAnError() {
    let r = Driver.run(["help", "trian"])
    #expect(r.exitCode == 1 && r.stdout.isEmpty)
    #expect(r.stderr.hasPrefix("grucc: error: no help for 'trian'; the commands are compile, run"))
    #expect(r.stderr.contains("did you mean 'train'?"))
  }

  /// Every name grucc looks up on the command line suggests the nearest one.
  @Test(arguments: [
    (["trian", "m.gru"], "unknown command 'trian'; did you mean 'train'?", "--help"),
    (["chek", "m.gru"], "unknown command 'chek'; did you mean 'check'?", "--help"),
    (["train", "m.gru", "--step", "5"], "unknown option '--step' for 'train'; did you mean '--steps'?", "help train"),
    (["run", "m.gru", "--inptu", "x.csv"], "unknown option '--inptu' for 'run'; did you mean '--input'?", "help run"),
    (["check", "m.gru", "--jsn"], "unknown option '--jsn' for 'check'; did you mean '--json'?", "help check"),
    (["m.gru", "--emt", "c"], "unknown option '--emt'; did you mean '--emit'?", "help compile"),
    (["m.gru", "--emit", "gradient-iir"], "unknown --emit kind 'gradient-iir'; expected tokens, ast, ir, ir-after=PASS, c, h, gradient-ir, train or weights; did you mean 'gradient-ir'?", "help compile"),
    (["m.gru", "--emit", "ir-after=lower-gr"], "did you mean 'lower-gru'?", "help compile"),
    (["import", "m.onnx", "--nmae", "x"], "unknown option '--nmae' for 'import'; did you mean '--name'?", "help import"),
    (["train", "m.gru", "--max-memroy", "1G"], "unknown option '--max-memroy' for 'train'; did you mean '--max-memory'?", "help train"),
    (["train", "m.gru", "--data", "d.npz", "--steps", "1", "--loss", "mes"], "unknown loss 'mes'; expected quadratic, mse, bce, cce; did you mean 'mse'?", "help train"),
    (["train", "m.gru", "--optimizer", "adma"], "did you mean 'adam'?", "help train"),
    (["identify", "w.npz", "--format", "pytroch"], "did you mean 'pytorch'?", "help identify"),
    (["m.gru", "--diagnostics-format", "jsno"], "'--diagnostics-format' takes 'text' or 'json', not 'jsno'; did you mean 'json'?", "--help"),
  ])
  func nearMissesAreSuggested(_ arguments: [String], _ message: String, _ help: String) {
    let r = Driver.run(arguments)
    #expect(r.exitCode == 1 && r.stdout.isEmpty)
    #expect(r.stderr.hasPrefix("grucc: error: ") && r.stderr.contains(message), "\(r.stderr)")
    #expect(r.stderr.hasSuffix("run 'grucc \(help)' for usage\n"), "\(r.stderr)")
  }

  /// A model file named like a command is still a model file: only bare words are suggested.
  @Test func aFileNamedLikeACommandIsAFile() throws {
    #expect(try Options.parse(["trian.gru"]) == .compile(CompileOptions(input: "trian.gru")))
    #expect(try Options.parse(["dir/trian"]) == .compile(CompileOptions(input: "dir/trian")))
  }

  /// The --emit list in the error is the list in --help.
  @Test func emitKindsInTheErrorAreTheHelpsKinds() {
    let r = Driver.run(["m.gru", "--emit", "asm"])
    for kind in HelpText.emitKinds {
      #expect(r.stderr.contains(kind))
      #expect(HelpText.text.contains(kind))
    }
  }

  // MARK: - Machine-readable output

  func inDirectory(_ files: [String: String], _ body: (String) throws -> Void) throws {
    try withScratchDirectory { dir in
      for (name, text) in files { try Data(text.utf8).write(to: URL(fileURLWithPath: "\(dir)/\(name)")) }
      try body(dir)
    }
  }

  func lines(_ text: String) throws -> [JSONValue] {
    try text.split(separator: "\n").map { try JSON.parse(Array($0.utf8)[...]) }
  }

  static let broken = """
    model tiny
    input x[2]
    gru h = x -> hidden 3, reset aftr, update keeps-state, bias separate
    output y = dense(lst(h), 1)
    output z = state(x)

    """

  /// Every diagnostic is one object on one line, with its place, its notes and its fix-its.
  @Test func jsonDiagnosticsAreOneObjectPerLine() throws {
    try inDirectory(["m.gru": Self.broken]) { dir in
      let r = Driver.run(["\(dir)/m.gru", "--diagnostics-format", "json"])
      #expect(r.exitCode == 1 && r.stdout.isEmpty)
      let objects = try lines(r.stderr)
      #expect(objects.count == 3, "\(r.stderr)")
      #expect(!r.stderr.contains("generated."))
      for o in objects {
        #expect(o["file"] == .string("\(dir)/m.gru"))
        #expect(o["severity"] == .string("error"))
        #expect(o["line"]?.nonNegativeInt != nil && o["column"]?.nonNegativeInt != nil)
        guard case .array = o["notes"], case .array = o["fixits"] else {
          Issue.record("no notes or fixits in \(o)")
          continue
        }
      }
      #expect(objects.map { $0["line"]?.nonNegativeInt } == [3, 4, 5])
      guard case .array(let fixes) = objects[0]["fixits"], let fix = fixes.first else {
        Issue.record("the misspelt 'aftr' has no fix-it")
        return
      }
      #expect(fix["replacement"] == .string("after"))
      #expect(fix["column"]?.nonNegativeInt == 30 && fix["end_column"]?.nonNegativeInt == 34)
    }
  }

  /// Errors outside a model's text are objects too, naming the file when there is one.
  @Test func jsonDriverErrorsNameTheirFile() throws {
    let r = Driver.run(["check", "/nonexistent/m.gru", "--diagnostics-format=json"])
    #expect(r.exitCode == 1)
    let objects = try lines(r.stderr)
    #expect(objects.count == 1)
    #expect(objects.first?["file"] == .string("/nonexistent/m.gru"))
    #expect(objects.first?["message"] == .string("cannot read '/nonexistent/m.gru': no such file or directory"))
    #expect(objects.first?["line"] == .null)
  }

  /// `check --json` lists the same tensors as the text report, with their shapes.
  @Test func checkJSONListsTheTensorsAndShapes() throws {
    try inDirectory(["m.gru": CLITests.adder]) { dir in
      let r = Driver.run(["check", "\(dir)/m.gru", "--json"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      let objects = try lines(r.stdout)
      #expect(objects.count == 1)
      let o = try #require(objects.first)
      #expect(o["model"] == .string("adder"))
      guard case .array(let layers) = o["layers"], layers.count == 2, case .array(let tensors) = layers[0]["tensors"] else {
        Issue.record("no layers in \(r.stdout)")
        return
      }
      #expect(tensors.first?["name"] == .string("h.w_r"))
      #expect(tensors.first?["shape"] == .array([.number("3"), .number("2")]))
      #expect(o["parameters"]?.nonNegativeInt == 58)
    }
  }

  /// `check` still reports a model whose weights file is missing: the tensors it must hold.
  @Test func checkReportsTheTensorsOfAMissingWeightsFile() throws {
    try inDirectory(["m.gru": CLITests.adder.replacingOccurrences(of: "init seed 1", with: "weights \"later.safetensors\"")]) { dir in
      let r = Driver.run(["check", "\(dir)/m.gru"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(r.stdout.contains("tensors: h.w_r [3, 2]"))
      #expect(r.stderr.contains("warning: cannot read 'later.safetensors': no such file or directory"))
      #expect(r.stderr.contains("note: the report lists the tensors the file must hold"))
      // Compiling the same model is still an error.
      #expect(Driver.run(["\(dir)/m.gru", "-o", "\(dir)/m.c"]).exitCode == 1)
    }
  }

  // MARK: - Messages and exit statuses

  /// Reading and writing failures say why, in the system's words.
  @Test func failuresToReadOrWriteSayWhy() throws {
    try inDirectory(["m.gru": CLITests.adder]) { dir in
      let read = Driver.run(["\(dir)/none.gru"])
      #expect(read.stderr == "grucc: error: cannot read '\(dir)/none.gru': no such file or directory\n")
      let write = Driver.run(["\(dir)/m.gru", "-o", "\(dir)/missing/m.c"])
      #expect(write.exitCode == 1)
      #expect(write.stderr == "grucc: error: cannot write '\(dir)/missing/m.c': no such file or directory\n")
      try FileManager.default.createDirectory(atPath: "\(dir)/ro", withIntermediateDirectories: true)
      chmod("\(dir)/ro", 0o555)
      defer { chmod("\(dir)/ro", 0o755) }
      let denied = Driver.run(["\(dir)/m.gru", "-o", "\(dir)/ro/m.c"])
      // Root may write anywhere; everyone else is refused with the reason.
      if getuid() != 0 {
        #expect(denied.stderr == "grucc: error: cannot write '\(dir)/ro/m.c': permission denied\n")
      }
    }
  }

  /// Errors in a model end with clang's count; a clean run prints none.
  @Test func diagnosticsEndWithTheirCount() throws {
    try inDirectory(["m.gru": Self.broken, "ok.gru": CLITests.adder]) { dir in
      #expect(Driver.run(["\(dir)/m.gru"]).stderr.hasSuffix("\n3 errors generated.\n"))
      #expect(Driver.run(["\(dir)/ok.gru", "--emit", "ir"]).stderr.isEmpty)
    }
  }

  /// A CSV input written with spaces or semicolons is an error naming the separator; its first
  /// line is not taken for a header (which would drop a step).
  @Test func csvWithAnotherSeparatorIsAnError() throws {
    try inDirectory(["m.gru": CLITests.adder, "spaces.csv": "1 0\n0 1\n", "header.csv": "a,b\n1,0\n0,1\n"]) { dir in
      let r = Driver.run(["run", "\(dir)/m.gru", "--input", "\(dir)/spaces.csv"])
      #expect(r.exitCode == 1 && r.stdout.isEmpty)
      #expect(
        r.stderr == "grucc: error: \(dir)/spaces.csv: line 1: '1 0' holds numbers separated by spaces; "
          + "grucc's CSV separates the values of a row with commas\n")
      let ok = Driver.run(["run", "\(dir)/m.gru", "--input", "\(dir)/header.csv"])
      #expect(ok.exitCode == 0 && ok.stdout.hasPrefix("# y [1, 2, 1]\n"), "\(ok.stderr)")
    }
  }
}
