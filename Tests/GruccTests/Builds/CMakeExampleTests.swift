// Examples/cmake built by CMake as a user would build it, with grucc.cmake and the grucc
// executable: the program's numbers must be the interpreter's, and the depfile must make the
// build regenerate the C exactly when the weights change (and not when nothing did), under
// both the Makefile and the Ninja generators.

import Foundation
import Testing

@testable import GruccCore

@Suite(.serialized) struct CMakeExampleTests {
  static let cmake = ProcessRunner.which("cmake")
  static let ninja = ProcessRunner.which("ninja")
  static var ready: Bool { cmake != nil && DeterminismTests.executable != nil }
  static let example = EndToEnd.repositoryRoot.appendingPathComponent("Examples/cmake")

  @Test(.enabled(if: ready, "needs cmake (not installed: CI's .ci/run installs it) and the grucc executable"))
  func theMakefileBuildMatchesTheInterpreterAndRebuildsOnlyWhenTheWeightsChange() throws {
    try check(generator: "Unix Makefiles")
  }

  @Test(.enabled(if: ready && ninja != nil, "needs cmake and ninja (not installed: CI's .ci/run installs them)"))
  func theNinjaBuildMatchesTheInterpreterAndRebuildsOnlyWhenTheWeightsChange() throws {
    try check(generator: "Ninja")
  }

  static let regenerated = "grucc: compiling adder.gru to adder.c"

  /// `OPTIONS --weights external` and `OUTPUT_NAME`: the blob is a declared output (the depfile
  /// names it as a target, which Ninja requires of an edge's outputs), so a second build is empty.
  @Test(.enabled(if: ready, "needs cmake (not installed: CI's .ci/run installs it) and the grucc executable"))
  func optionsAndOutputNameReachGrucc() throws {
    let cmake = try #require(Self.cmake)
    let root = try EndToEnd.temporaryDirectory("cmake-options")
    defer { try? FileManager.default.removeItem(at: root) }
    let source = root.appendingPathComponent("src").path
    try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
    for f in ["adder.gru", "adder.safetensors"] {
      try FileManager.default.copyItem(atPath: "\(Self.example.path)/\(f)", toPath: "\(source)/\(f)")
    }
    try """
      cmake_minimum_required(VERSION 3.20)
      project(options C)
      find_package(grucc REQUIRED CONFIG)
      grucc_add_model(bits MODEL adder.gru OUTPUT_NAME sum OPTIONS --weights external --activations libm)

      """.write(toFile: "\(source)/CMakeLists.txt", atomically: true, encoding: .utf8)
    let generator = Self.ninja != nil ? "Ninja" : "Unix Makefiles"
    let configured = try SpawnedTool.run(cmake, [
      "-S", source, "-B", "\(root.path)/build", "-G", generator,
      "-DGRUCC_EXECUTABLE=\(try #require(DeterminismTests.executable))", "-Dgrucc_DIR=\(EndToEnd.repositoryRoot.path)/cmake",
    ])
    try #require(configured.succeeded, "\(configured.summary)")
    let first = try SpawnedTool.run(cmake, ["--build", "\(root.path)/build"])
    try #require(first.succeeded, "\(first.summary)")
    #expect(first.stdout.contains("grucc: compiling adder.gru to sum.c"))
    let dir = "\(root.path)/build/grucc/bits"
    for f in ["sum.c", "sum.h", "sum.weights", "sum.c.d"] {
      #expect(FileManager.default.fileExists(atPath: "\(dir)/\(f)"), "\(f)")
    }
    let c = try String(contentsOfFile: "\(dir)/sum.c", encoding: .utf8)
    #expect(c.contains("#include \"sum.h\""))
    #expect(try String(contentsOfFile: "\(dir)/sum.h", encoding: .utf8).contains("ADDER_WEIGHTS_BYTES"))
    let second = try SpawnedTool.run(cmake, ["--build", "\(root.path)/build"])
    try #require(second.succeeded, "\(second.summary)")
    #expect(!second.stdout.contains("grucc: compiling"), "\(second.stdout)")
  }

  func check(generator: String) throws {
    let cmake = try #require(Self.cmake)
    let root = try EndToEnd.temporaryDirectory("cmake-example")
    defer { try? FileManager.default.removeItem(at: root) }
    // A copy, so that the test can change the weights.
    let source = root.appendingPathComponent("src").path
    let build = root.appendingPathComponent("build").path
    try FileManager.default.copyItem(atPath: Self.example.path, toPath: source)

    let start = Date()
    let configured = try SpawnedTool.run(cmake, [
      "-S", source, "-B", build, "-G", generator,
      "-DGRUCC_EXECUTABLE=\(try #require(DeterminismTests.executable))",
      "-Dgrucc_DIR=\(EndToEnd.repositoryRoot.path)/cmake",
    ], timeout: 300)
    try #require(configured.succeeded, "cmake configure: \(configured.summary)")
    let configureTime = Date().timeIntervalSince(start)

    func buildOnce() throws -> String {
      let built = try SpawnedTool.run(cmake, ["--build", build], timeout: 300)
      try #require(built.succeeded, "cmake --build: \(built.summary)")
      return built.stdout
    }
    let buildStart = Date()
    #expect(try buildOnce().contains(Self.regenerated))
    let buildTime = Date().timeIntervalSince(buildStart)
    print("cmake example (\(generator)): configure \(String(format: "%.1f", configureTime)) s, first build \(String(format: "%.1f", buildTime)) s")
    let before = try compareWithInterpreter(build: build, source: source)

    // Nothing changed: grucc does not run and the C keeps its time stamp.
    let c = "\(build)/grucc/adder/adder.c"
    let stamp = try FileManager.default.attributesOfItem(atPath: c)[.modificationDate] as? Date
    #expect(!(try buildOnce().contains(Self.regenerated)))
    #expect(try FileManager.default.attributesOfItem(atPath: c)[.modificationDate] as? Date == stamp)
    #expect(try String(contentsOfFile: "\(c).d", encoding: .utf8).contains("\(source)/adder.safetensors"))

    // New weights (the file the .gru names, which only the depfile tells CMake about): grucc
    // runs again, and the program computes with them.
    Thread.sleep(forTimeInterval: 1.1)  // past the file system's time stamp resolution
    let weights = "\(source)/adder.safetensors"
    try AdderExample.changeWeights(weights)
    #expect(try buildOnce().contains(Self.regenerated))
    let after = try compareWithInterpreter(build: build, source: source, adds: false)
    #expect(after != before, "the program's outputs did not change with the weights")

    // Touched, not changed: still a rebuild, because the build cannot know the bytes are the same.
    Thread.sleep(forTimeInterval: 1.1)
    try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: weights)
    #expect(try buildOnce().contains(Self.regenerated))
    #expect(!(try buildOnce().contains(Self.regenerated)))
  }

  func compareWithInterpreter(build: String, source: String, adds: Bool = true) throws -> [Double] {
    let ran = try ProcessRunner.run("\(build)/add", ["\(AdderExample.a)", "\(AdderExample.b)"], timeout: 60)
    return try AdderExample.check(ran, model: "\(source)/adder.gru", adds: adds)
  }
}
