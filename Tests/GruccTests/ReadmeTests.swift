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
    // Eight bits, most significant first.
    #expect(ran.stdout.count == 9 && ran.stdout.allSatisfy { $0 == "0" || $0 == "1" || $0 == "\n" })
  }

  @Test func sampleModelCompiles() throws {
    let model = try #require(Self.blocks("").first { $0.hasPrefix("model classifier") })
    // The sample names a weights file that does not exist; its init rules stand in for it.
    let text = model.replacingOccurrences(of: "weights \"classifier.safetensors\"", with: "init seed 1")
    let front = Compiler.frontEnd(SourceFile(path: "classifier.gru", text: text))
    #expect(!front.diagnostics.hasErrors, "\(DiagnosticRenderer(source: front.source).render(front.diagnostics.diagnostics))")
  }

  @Test func sampleErrorIsWhatGruccPrints() throws {
    let shown = try #require(Self.blocks("").first { $0.hasPrefix("model.gru:5:") })
    let text = "model m\ninput x[2]\n\n\ngru h = x -> hidden 16, reset sideways, update keeps-state, bias single\noutput y = h\n"
    let front = Compiler.frontEnd(SourceFile(path: "model.gru", text: text))
    #expect(DiagnosticRenderer(source: front.source).render(front.diagnostics.diagnostics) == shown)
  }
}
