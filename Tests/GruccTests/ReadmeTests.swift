// The README's examples are executable claims: its C program compiles against the committed
// adder and runs, its sample model compiles, and its sample error is what grucc prints.

import Foundation
import Testing

@testable import GruccCore

@Suite struct ReadmeTests {
  static let readme: String = (try? String(contentsOfFile: Golden.root + "/README.md", encoding: .utf8)) ?? ""

  /// The fenced blocks of the README with the given info string, in order.
  static func blocks(_ info: String) -> [String] {
    var blocks: [String] = []
    var current: [Substring]?
    var currentInfo: Substring = ""
    for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
      // Every fence opens a block, whatever its language, so the fences stay paired.
      if current == nil, line.hasPrefix("```") {
        current = []
        currentInfo = line.dropFirst(3)
      } else if current != nil, line == "```" {
        if currentInfo == info { blocks.append(current!.joined(separator: "\n") + "\n") }
        current = nil
      } else {
        current?.append(line)
      }
    }
    return blocks
  }

  @Test(.enabled(if: Clang.isAvailable))
  func embeddingExampleCompilesAndRuns() throws {
    let program = try #require(Self.blocks("c").first { $0.contains("int main(void)") })
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grucc-readme-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try program.write(toFile: "\(dir)/add.c", atomically: true, encoding: .utf8)
    let built = try Clang.compiler!.compile(
      CCompiler.strictC + ["-O2", "-I\(Golden.root)/Generated", "\(dir)/add.c",
                           "\(Golden.root)/Generated/seed001-adder.c", "-lm", "-o", "\(dir)/add"])
    #expect(built.succeeded, "\(built.summary)")
    let ran = try ProcessRunner.run("\(dir)/add", [])
    #expect(ran.succeeded, "\(ran.summary)")
    // Eight bits, most significant first: the trained adder's 23 + 42, as the README says.
    #expect(ran.stdout == "01000001\n")
    #expect(Self.readme.contains("It prints `01000001`: 65, which is 23 + 42."))
  }

  /// The identify example runs as written on the files in Examples/identify and prints what the
  /// README shows (the paths given relative to that folder).
  @Test func identifyExampleRunsOnItsFiles() throws {
    let block = try #require(Self.blocks("").first { $0.hasPrefix("$ grucc identify ") })
    let command = block.prefix { $0 != "\n" }.dropFirst("$ grucc ".count).split(separator: " ").map(String.init)
    #expect(command == ["identify", "gru.npz", "--input", "x.npy", "--expect", "y.npy"])
    let folder = Golden.root + "/Examples/identify/"
    let files = Set(["gru.npz", "x.npy", "y.npy"])
    let r = Driver.run(command.map { files.contains($0) ? folder + $0 : $0 })
    #expect(r.exitCode == 0, "\(r.stderr)")
    #expect(r.stdout.replacingOccurrences(of: folder, with: "") == String(block.drop { $0 != "\n" }.dropFirst()))
  }

  /// The CSV example: its file, read by `grucc run` with the adder, gives the bits of 23 + 10.
  @Test func csvExampleRuns() throws {
    let csv = try #require(Self.blocks("").first { $0.hasPrefix("a,b\n") })
    try withScratchDirectory { dir in
      try csv.write(toFile: "\(dir)/x.csv", atomically: true, encoding: .utf8)
      let r = Driver.run(["run", Golden.root + "/Specs/seed001-adder.gru", "--input", "\(dir)/x.csv"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      let lines = r.stdout.split(separator: "\n")
      #expect(lines.first == "# y [1, 5, 1]")
      #expect(lines.dropFirst().map { Double(String($0))!.rounded() } == [1, 0, 0, 0, 0])
    }
    #expect(Self.readme.contains("`grucc run Specs/seed001-adder.gru --input x.csv`"))
  }

  @Test func sampleModelCompiles() throws {
    let model = try #require(Self.blocks("").first { $0.hasPrefix("model classifier") })
    // The sample names a weights file that does not exist; its init rules stand in for it.
    let text = model.replacingOccurrences(of: "weights \"classifier.safetensors\"", with: "init seed 1")
    let front = Compiler.frontEnd(SourceFile(path: "classifier.gru", text: text))
    #expect(!front.diagnostics.hasErrors, "\(DiagnosticRenderer(source: front.source).render(front.diagnostics.diagnostics))")
  }

  /// The CRNN section: its model is the Keras fixture's (Tests/Fixtures/import/keras_crnn_edge,
  /// made by the section's Keras code), compiled as the section says, and its streaming program,
  /// fed one sequence of the fixture line by line, prints Keras's output.
  @Test(.enabled(if: Clang.isAvailable))
  func crnnExampleStreamsTheKerasModel() throws {
    let model = try #require(Self.blocks("").first { $0.hasPrefix("model crnn\n") })
    let program = try #require(Self.blocks("c").first { $0.contains("crnn_step(") })
    let fixture = try #require(FrameworkFixture.named("keras_crnn_edge"))
    let fixtureModel = try String(contentsOf: fixture.directory.appendingPathComponent("model.gru"), encoding: .utf8)
    #expect(model == fixtureModel.replacingOccurrences(of: "\"weights.npz\"", with: "\"crnn.npz\""))
    #expect(Self.readme.contains("`grucc crnn.gru -o\ncrnn.c`"))
    let x = try #require(try fixture.arrays("inputs.npz").first { $0.name == "x" }?.array)
    let y = try #require(try fixture.arrays("expect.npz").first { $0.name == "y" }?.array)
    try withScratchDirectory { dir in
      try model.write(toFile: "\(dir)/crnn.gru", atomically: true, encoding: .utf8)
      try FileManager.default.copyItem(atPath: fixture.directory.appendingPathComponent("weights.npz").path, toPath: "\(dir)/crnn.npz")
      let compiled = Driver.run(["\(dir)/crnn.gru", "-o", "\(dir)/crnn.c"])
      try #require(compiled.exitCode == 0, "\(compiled.stderr)")
      try program.write(toFile: "\(dir)/main.c", atomically: true, encoding: .utf8)
      let built = try Clang.compiler!.compile(
        CCompiler.strictC + ["-O2", "-I\(dir)", "\(dir)/main.c", "\(dir)/crnn.c", "-lm", "-o", "\(dir)/main"])
      try #require(built.succeeded, "\(built.summary)")
      // Sequence 0 of the fixture, one step per line.
      let (steps, features) = (x.shape[1], x.shape[2])
      let lines = (0..<steps).map { t in (0..<features).map { "\(x.values[t * features + $0])" }.joined(separator: " ") }
      try (lines.joined(separator: "\n") + "\n").write(toFile: "\(dir)/x.txt", atomically: true, encoding: .utf8)
      let ran = try ProcessRunner.run("/bin/sh", ["-c", "\"$0\" < \"$1\"", "\(dir)/main", "\(dir)/x.txt"])
      try #require(ran.succeeded, "\(ran.summary)")
      let printed = ran.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double(String($0)) }
      try #require(printed.count == y.shape[1])
      let error = zip(printed, y.values.prefix(y.shape[1])).map { abs($0 - $1) }.max() ?? .infinity
      print("readme crnn: streamed \(steps) steps, max error against Keras \(error)")
      #expect(error <= 1e-5)
    }
  }

  @Test func sampleErrorIsWhatGruccPrints() throws {
    let shown = try #require(Self.blocks("").first { $0.hasPrefix("model.gru:5:") })
    let text = "model m\ninput x[2]\n\n\ngru h = x -> hidden 16, reset sideways, update keeps-state, bias single\noutput y = h\n"
    let front = Compiler.frontEnd(SourceFile(path: "model.gru", text: text))
    #expect(DiagnosticRenderer(source: front.source).render(front.diagnostics.diagnostics) == shown)
  }
}
