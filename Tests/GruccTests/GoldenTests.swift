// Golden text tests: every case under Tests/Golden run through the Driver and compared whole
// (dumps, rendered diagnostics, CLI text), plus the inline `# error:` cases of Tests/Golden/errors.

import Foundation
import Testing

@testable import GruccCore

@Suite struct GoldenTests {
  static let folders = ["ast", "ir", "passes", "diagnostics", "cli"]

  @Test(arguments: Golden.cases(in: folders))
  func outputMatchesExpectedFile(_ c: GoldenCase) throws {
    if let problem = c.problem {
      Issue.record("\(problem)")
      return
    }
    for run in c.runs {
      Golden.check(try Golden.output(of: run), against: c.expectedPath(run))
    }
  }

  @Test(arguments: folders)
  func folderHasCases(_ folder: String) {
    #expect(Golden.cases(in: [folder]).count >= 3, "Tests/Golden/\(folder) has hardly any cases")
  }

  /// An expected file that no RUN line produces is left over from a renamed or removed case.
  @Test func everyExpectedFileBelongsToARunLine() throws {
    let produced = Set(Golden.cases(in: Self.folders).flatMap { c in c.runs.map(c.expectedPath) })
    for folder in Self.folders {
      let dir = "\(Golden.directory)/\(folder)"
      for file in try FileManager.default.contentsOfDirectory(atPath: dir) where file.hasSuffix(".expected") {
        let path = "\(dir)/\(file)"
        if produced.contains(path) { continue }
        if Golden.updating {
          try FileManager.default.removeItem(atPath: path)
        } else {
          Issue.record("Tests/Golden/\(folder)/\(file) belongs to no RUN line; delete it or add the case")
        }
      }
    }
  }

  /// Adding a pass to the pipeline means adding its dump to every passes/ case.
  @Test(arguments: Golden.cases(in: ["passes"]))
  func passesCaseDumpsEveryPass(_ c: GoldenCase) {
    let kinds = Set(c.runs.map(\.kind))
    for pass in PassPipeline.standardNames {
      #expect(kinds.contains("after-\(pass).ir"), "\(c.path) has no RUN line for --emit ir-after=\(pass)")
    }
  }

  @Test func generatedFixturesAreFresh() {
    _ = Golden.enterRoot
    #expect(GoldenFixtures.stale().isEmpty, "stale or missing fixtures; run GRUCC_UPDATE_GOLDEN=1 swift test")
  }

  // MARK: - Inline expectations

  /// Each `# error: MESSAGE` (or `# warning:`) comment expects that diagnostic on its own line; the
  /// run (`grucc FILE --emit ir`) must report exactly those, and exit 1 if any is an error.
  @Test(arguments: InlineCase.all())
  func inlineExpectationsHold(_ c: InlineCase) throws {
    _ = Golden.enterRoot
    let result = Driver.run([c.path, "--emit", "ir"])
    let found = InlineCase.reported(result.stderr, path: c.path)
    #expect(found == c.expected, "\(c.path):\n\(result.stderr)")
    let wantsError = c.expected.contains { $0.severity == "error" }
    #expect(result.exitCode == (wantsError ? 1 : 0))
    #expect(!c.expected.isEmpty, "\(c.path) has no '# error:' comment")
  }
}

/// A case of Tests/Golden/errors: a model whose comments say which lines are wrong and how.
struct InlineCase: Sendable, CustomTestStringConvertible {
  struct Expectation: Hashable, Sendable, Comparable, CustomStringConvertible {
    var line: Int
    var severity: String
    var message: String

    static func < (a: Expectation, b: Expectation) -> Bool {
      (a.line, a.severity, a.message) < (b.line, b.severity, b.message)
    }

    var description: String { "\(line): \(severity): \(message)" }
  }

  var path: String
  var expected: [Expectation]

  var testDescription: String { String(path.split(separator: "/").last!) }

  static func all() -> [InlineCase] {
    let dir = "\(Golden.directory)/errors"
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".gru") }
    return files.sorted().map { file in
      let text = (try? String(contentsOfFile: "\(dir)/\(file)", encoding: .utf8)) ?? ""
      var expected: [Expectation] = []
      for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        for severity in ["error", "warning"] {
          guard let marker = line.range(of: "# \(severity): ") else { continue }
          expected.append(Expectation(line: i + 1, severity: severity, message: String(line[marker.upperBound...])))
        }
      }
      return InlineCase(path: "Tests/Golden/errors/\(file)", expected: expected.sorted())
    }
  }

  /// The errors and warnings (not notes) in rendered diagnostics, sorted.
  static func reported(_ stderr: String, path: String) -> [Expectation] {
    var found: [Expectation] = []
    for line in stderr.split(separator: "\n") where line.hasPrefix(path + ":") {
      let rest = line.dropFirst(path.count + 1)
      let parts = rest.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
      guard parts.count == 4, let number = Int(parts[0]) else { continue }
      let severity = parts[2].trimmingCharacters(in: .whitespaces)
      guard severity == "error" || severity == "warning" else { continue }
      found.append(Expectation(line: number, severity: severity, message: String(parts[3].dropFirst())))
    }
    return found.sorted()
  }
}
