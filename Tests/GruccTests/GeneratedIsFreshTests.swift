// Generated/ holds the C that grucc emits for every model in Specs/. This test regenerates each
// one in a temporary directory and requires byte equality, so Generated/ never goes stale.
// To update after changing the emitter: Tools/generate.sh (or GRUCC_UPDATE_GOLDEN=1 swift test).

import Foundation
import Testing

@testable import GruccCore

@Suite struct GeneratedIsFreshTests {
  static let root = URL(fileURLWithPath: Golden.root)

  static let specs = EndToEnd.specNames.map { $0 + ".gru" }

  @Test func everySpecHasGeneratedCode() throws {
    #expect(Self.specs.count >= 8)
    let generated = try FileManager.default.contentsOfDirectory(
      atPath: Self.root.appendingPathComponent("Generated").path)
    for spec in Self.specs {
      let name = String(spec.dropLast(4))
      #expect(generated.contains("\(name).c"), "Generated/\(name).c is missing")
      #expect(generated.contains("\(name).h"), "Generated/\(name).h is missing")
    }
  }

  @Test(arguments: specs)
  func generatedMatchesSpec(spec: String) throws {
    let name = String(spec.dropLast(4))
    let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("grucc-fresh-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: temporary) }
    let specPath = Self.root.appendingPathComponent("Specs/\(spec)").path
    let out = temporary.appendingPathComponent("\(name).c").path
    let result = Driver.run([specPath, "-o", out])
    #expect(result.exitCode == 0, "\(result.stderr)")
    for ext in ["c", "h"] {
      let fresh = try Data(contentsOf: temporary.appendingPathComponent("\(name).\(ext)"))
      let committedURL = Self.root.appendingPathComponent("Generated/\(name).\(ext)")
      if ProcessInfo.processInfo.environment["GRUCC_UPDATE_GOLDEN"] == "1" {
        try fresh.write(to: committedURL)
        continue
      }
      let committed = try Data(contentsOf: committedURL)
      #expect(fresh == committed, "Generated/\(name).\(ext) is out of date with Specs/\(spec); run Tools/generate.sh")
    }
  }

  /// The same input gives byte-identical output, run after run (no dictionary order leaks).
  @Test func outputIsDeterministic() throws {
    let spec = Self.root.appendingPathComponent("Specs/seed000-bigru.gru").path
    let first = Driver.run([spec, "--emit", "c"])
    let second = Driver.run([spec, "--emit", "c"])
    #expect(first.exitCode == 0)
    #expect(first.stdout == second.stdout)
  }
}
