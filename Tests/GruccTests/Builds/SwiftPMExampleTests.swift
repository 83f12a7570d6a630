// Examples/swiftpm built by a nested `swift build`, as a package that depends on grucc: the
// build-tool plugin compiles Sources/Adder/adder.gru to C inside the C target, the Swift program
// calls adder_run, and its numbers must be the interpreter's. New weights must regenerate the C.
//
// The nested build has a scratch folder of its own (never this package's build folder, which the
// outer `swift test` holds), kept under .build/grucc-examples so that only the first run pays for
// compiling grucc; the package is a copy there that depends on this checkout by absolute path.

import Foundation
import Testing

@testable import GruccCore

@Suite(.serialized) struct SwiftPMExampleTests {
  static let swift = ProcessRunner.which("swift")
  static let example = EndToEnd.repositoryRoot.appendingPathComponent("Examples/swiftpm")
  static let work = EndToEnd.repositoryRoot.appendingPathComponent(".build/grucc-examples")
  static let regenerated = "grucc: compiling adder.gru to adder.c"

  @Test(.enabled(if: swift != nil, "needs swift in PATH"))
  func theExamplePackageBuildsRunsAndRegeneratesTheCWhenTheWeightsChange() throws {
    let swift = try #require(Self.swift)
    let package = Self.work.appendingPathComponent("swiftpm-package").path
    let scratch = Self.work.appendingPathComponent("swiftpm-scratch").path
    try? FileManager.default.removeItem(atPath: package)
    try FileManager.default.createDirectory(at: Self.work, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: Self.example.path, toPath: package)
    let manifest = "\(package)/Package.swift"
    let text = try String(contentsOfFile: manifest, encoding: .utf8)
    try #require(text.contains("path: \"../..\""), "Examples/swiftpm/Package.swift no longer depends on \"../..\"")
    try text.replacingOccurrences(of: "path: \"../..\"", with: "path: \"\(EndToEnd.repositoryRoot.path)\"")
      .write(toFile: manifest, atomically: true, encoding: .utf8)

    func build() throws -> String {
      let built = try SpawnedTool.run(swift, ["build", "--package-path", package, "--scratch-path", scratch], timeout: 1200)
      try #require(built.succeeded, "swift build of the example: \(built.summary)")
      // Without experimentalCGen SwiftPM drops the generated C with this warning and fails later.
      #expect(!built.stdout.contains("generation not enabled") && !built.stderr.contains("generation not enabled"))
      return built.stdout
    }
    let start = Date()
    #expect(try build().contains(Self.regenerated))
    print("swiftpm example: build \(String(format: "%.1f", Date().timeIntervalSince(start))) s")

    let add = "\(scratch)/debug/add"
    let arguments = ["\(AdderExample.a)", "\(AdderExample.b)"]
    let model = "\(package)/Sources/Adder/adder.gru"
    let before = try AdderExample.check(try ProcessRunner.run(add, arguments), model: model)

    // From a fresh scratch folder SwiftPM 6.3 links grucc's tool once more in the second build,
    // and so runs it again; from the third build on, nothing changed means nothing runs.
    _ = try build()
    let again = Date()
    #expect(!(try build().contains(Self.regenerated)))
    print("swiftpm example: rebuild with nothing changed \(String(format: "%.1f", Date().timeIntervalSince(again))) s")

    Thread.sleep(forTimeInterval: 1.1)  // past the file system's time stamp resolution
    try AdderExample.changeWeights("\(package)/Sources/Adder/adder.safetensors")
    #expect(try build().contains(Self.regenerated))
    let after = try AdderExample.check(try ProcessRunner.run(add, arguments), model: model, adds: false)
    #expect(after != before, "the program's outputs did not change with the weights")
  }
}
