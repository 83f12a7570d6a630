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
    (["m.gru", "--emit", "gradient-iir"], "unknown --emit kind 'gradient-iir'; expected tokens, ast, ir, ir-after=PASS, c, h, gradient-ir or weights; did you mean 'gradient-ir'?", "help compile"),
    (["m.gru", "--emit", "ir-after=lower-gr"], "did you mean 'lower-gru'?", "help compile"),
    (["import", "m.onnx", "--nmae", "x"], "unknown option '--nmae' for 'import'; did you mean '--name'?", "help import"),
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
}
