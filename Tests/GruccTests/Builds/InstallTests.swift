// Tools/install.sh and the README's first commands: installed into a fresh prefix, grucc runs
// every command of "On a fresh machine" as written, an installed grucc is what find_package(grucc)
// finds through PATH, and --uninstall leaves no file behind. The README's Makefile rule, with
// grucc's depfile, reruns grucc exactly when the weights change.

import Foundation
import Testing

@testable import GruccCore

@Suite(.serialized) struct InstallTests {
  static let executable = DeterminismTests.executable
  static let script = EndToEnd.repositoryRoot.appendingPathComponent("Tools/install.sh").path

  /// The commands of the README's "On a fresh machine" block, without their comments.
  static func freshMachineCommands() -> [String] {
    let readme = ReadmeTests.readme
    guard let start = readme.range(of: "## On a fresh machine\n") else { return [] }
    var commands: [String] = []
    var inBlock = false
    for line in readme[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("    ") {
        inBlock = true
        commands.append(String(line.dropFirst(4)))
      } else if inBlock {
        break
      }
    }
    return commands
  }

  func regularFiles(under path: String) -> [String] {
    let walk = FileManager.default.enumerator(atPath: path)
    var files: [String] = []
    while let f = walk?.nextObject() as? String {
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: "\(path)/\(f)", isDirectory: &isDirectory), !isDirectory.boolValue {
        files.append(f)
      }
    }
    return files.sorted()
  }

  @Test(.enabled(if: executable != nil, "needs the grucc executable"))
  func installedGruccRunsTheReadmeCommandsAndUninstallRemovesIt() throws {
    let grucc = try #require(Self.executable)
    try withScratchDirectory { root in
      let prefix = "\(root)/prefix"
      let installed = try SpawnedTool.run("/bin/sh", [Self.script, "--prefix", prefix], environment: ["GRUCC": grucc])
      try #require(installed.succeeded, "\(installed.summary)")
      #expect(installed.stdout.hasPrefix("installed grucc \(Compiler.version) in \(prefix)"), "\(installed.stdout)")
      #expect(
        regularFiles(under: prefix) == [
          "bin/grucc", "share/grucc/cmake/grucc.cmake", "share/grucc/cmake/gruccConfig.cmake",
          "share/grucc/install-manifest.txt",
        ])
      let path = "\(prefix)/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")

      // The README's commands after the install, as written, in a folder that has Specs/.
      let commands = Self.freshMachineCommands()
      #expect(commands.first?.hasPrefix("Tools/install.sh") == true, "\(commands)")
      #expect(commands.last?.hasPrefix("swift test") == true, "\(commands)")
      let work = "\(root)/work"
      try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
      try FileManager.default.createSymbolicLink(
        atPath: "\(work)/Specs", withDestinationPath: EndToEnd.repositoryRoot.appendingPathComponent("Specs").path)
      let runnable = commands.filter { !$0.hasPrefix("Tools/install.sh") && !$0.hasPrefix("swift ") }
      #expect(runnable.contains { $0.hasPrefix("grucc run") })
      try (["set -e", "cd '\(work)'"] + runnable).joined(separator: "\n").write(
        toFile: "\(root)/readme.sh", atomically: true, encoding: .utf8)
      let ran = try SpawnedTool.run("/bin/sh", ["\(root)/readme.sh"], environment: ["PATH": path])
      try #require(ran.succeeded, "\(ran.summary)")
      #expect(FileManager.default.fileExists(atPath: "\(work)/adder.c") && FileManager.default.fileExists(atPath: "\(work)/adder.h"))
      // What the README says the run prints: the bits of 3 + 5 = 8, lowest first.
      let lines = ran.stdout.split(separator: "\n")
      let y = try #require(lines.firstIndex(of: "# y [1, 4, 1]"), "\(ran.stdout)")
      let bits = lines[(y + 1)...].prefix(4).compactMap { Double(String($0)) }.map { $0 > 0.5 ? 1 : 0 }
      #expect(bits == [0, 0, 0, 1])
      #expect(ran.stdout.contains("parameters"), "grucc check's report: \(ran.stdout)")

      // CMake finds the installed module through PATH and, beside it, the installed grucc.
      if let cmake = CMakeExampleTests.cmake {
        let source = "\(root)/example"
        try FileManager.default.copyItem(atPath: CMakeExampleTests.example.path, toPath: source)
        let configured = try SpawnedTool.run(cmake, ["-S", source, "-B", "\(root)/build"], environment: ["PATH": path])
        try #require(configured.succeeded, "\(configured.summary)")
        let cache = try String(contentsOfFile: "\(root)/build/CMakeCache.txt", encoding: .utf8)
        #expect(cache.contains("GRUCC_EXECUTABLE:FILEPATH=\(prefix)/bin/grucc"))
        let built = try SpawnedTool.run(cmake, ["--build", "\(root)/build"], environment: ["PATH": path])
        try #require(built.succeeded, "\(built.summary)")
        let add = try ProcessRunner.run("\(root)/build/add", ["\(AdderExample.a)", "\(AdderExample.b)"])
        _ = try AdderExample.check(add, model: "\(source)/adder.gru")
      }

      let removed = try SpawnedTool.run("/bin/sh", [Self.script, "--prefix", prefix, "--uninstall"])
      #expect(removed.succeeded, "\(removed.summary)")
      #expect(regularFiles(under: prefix).isEmpty)
      let again = try SpawnedTool.run("/bin/sh", [Self.script, "--prefix", prefix, "--uninstall"])
      #expect(again.exitCode == 1 && again.stderr.contains("nothing to uninstall"), "\(again.summary)")
    }
  }

  @Test func badArgumentsAreRefused() throws {
    let unknown = try SpawnedTool.run("/bin/sh", [Self.script, "--prefx", "/tmp/x"])
    #expect(unknown.exitCode == 1 && unknown.stderr.contains("install.sh: unknown option '--prefx'"), "\(unknown.summary)")
    let missing = try SpawnedTool.run("/bin/sh", [Self.script, "--prefix"])
    #expect(missing.exitCode == 1 && missing.stderr.contains("'--prefix' needs a directory"), "\(missing.summary)")
    let notABinary = try SpawnedTool.run("/bin/sh", [Self.script, "--prefix", "/nonexistent/grucc"], environment: ["GRUCC": "/nonexistent/grucc"])
    #expect(notABinary.exitCode == 1 && notABinary.stderr.contains("no grucc binary at '/nonexistent/grucc'"), "\(notABinary.summary)")
  }

  /// The README's Makefile rule, with grucc in PATH: make runs grucc once, then not until the
  /// weights the depfile names change.
  @Test(.enabled(if: executable != nil && ProcessRunner.which("make") != nil, "needs make and the grucc executable"))
  func theReadmeMakefileRuleRerunsGruccWhenTheWeightsChange() throws {
    let rule = try #require(ReadmeTests.blocks("make").first)
    let grucc = try #require(Self.executable)
    let make = try #require(ProcessRunner.which("make"))
    try withScratchDirectory { dir in
      try FileManager.default.createDirectory(atPath: "\(dir)/bin", withIntermediateDirectories: true)
      try FileManager.default.createSymbolicLink(atPath: "\(dir)/bin/grucc", withDestinationPath: grucc)
      let example = CMakeExampleTests.example.path
      try FileManager.default.copyItem(atPath: "\(example)/adder.gru", toPath: "\(dir)/kws.gru")
      try FileManager.default.copyItem(atPath: "\(example)/adder.safetensors", toPath: "\(dir)/adder.safetensors")
      try rule.write(toFile: "\(dir)/Makefile", atomically: true, encoding: .utf8)
      let path = "\(dir)/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
      func makeC() throws -> String {
        let r = try SpawnedTool.run(make, ["-C", dir, "kws.c"], environment: ["PATH": path])
        try #require(r.succeeded, "\(r.summary)")
        return r.stdout
      }
      #expect(try makeC().contains("grucc kws.gru -o kws.c -MD"))
      #expect(try String(contentsOfFile: "\(dir)/kws.c.d", encoding: .utf8).contains("adder.safetensors"))
      let first = try String(contentsOfFile: "\(dir)/kws.c", encoding: .utf8)
      #expect(!(try makeC().contains("grucc kws.gru")))
      Thread.sleep(forTimeInterval: 1.1)  // past the file system's time stamp resolution
      try AdderExample.changeWeights("\(dir)/adder.safetensors")
      #expect(try makeC().contains("grucc kws.gru -o kws.c -MD"))
      #expect(try String(contentsOfFile: "\(dir)/kws.c", encoding: .utf8) != first)
    }
  }
}
