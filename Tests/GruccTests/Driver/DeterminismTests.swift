// Determinism: the IR dumps and the C that grucc prints are byte-identical across runs, both in
// one process and across separate processes (each with its own random hashing seed).

import Foundation
import Testing

@testable import GruccCore

@Suite struct DeterminismTests {
  static let specs: [String] = {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: Golden.root + "/Specs")) ?? []
    return names.filter { $0.hasSuffix(".gru") }.sorted().map { "Specs/\($0)" }
  }()

  static let kinds: [[String]] = [
    ["--emit", "ir"], ["--emit", "c"], ["--emit", "h"], ["--emit", "ir", "--print-ir-after-all"],
  ]

  func arguments(_ spec: String, _ kind: [String]) -> [String] { [Golden.root + "/" + spec] + kind }

  @Test(arguments: specs)
  func inProcessRunsAgree(spec: String) {
    for kind in Self.kinds {
      let first = Driver.run(arguments(spec, kind))
      let second = Driver.run(arguments(spec, kind))
      #expect(first.exitCode == 0, "\(first.stderr)")
      #expect(!first.stdout.isEmpty)
      #expect(first.stdout == second.stdout, "\(spec) \(kind)")
      #expect(first.stderr == second.stderr)
    }
  }

  /// Models that pass through every op, in one process: the module after each pass prints the same.
  @Test(arguments: ModelVariants.structures(precision: .f32))
  func everyStagePrintsTheSameTwice(_ variant: VariantModel) {
    let a = InProcess.run(variant.text).stages.map { IRPrinter.print($0.module) }
    let b = InProcess.run(variant.text).stages.map { IRPrinter.print($0.module) }
    #expect(a.count == PassPipeline.standardNames.count + 1)
    #expect(a == b)
  }

  /// The grucc built with these tests: beside the test bundle, or the default build folder.
  static let executable: String? = {
    var candidates: [String] = []
    if let argument = CommandLine.arguments.first {
      candidates.append(URL(fileURLWithPath: argument).deletingLastPathComponent().appendingPathComponent("grucc").path)
    }
    if let bundle = Bundle.main.executablePath {
      candidates.append(URL(fileURLWithPath: bundle).deletingLastPathComponent().appendingPathComponent("grucc").path)
    }
    candidates.append(Golden.root + "/.build/debug/grucc")
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
  }()

  /// Runs the executable and returns its standard output, exit status and standard error.
  static func launch(_ arguments: [String]) throws -> (status: Int32, stdout: Data, stderr: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try #require(executable))
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read before waiting, so a large output cannot fill the pipe and stall the child.
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, stdout, stderr)
  }

  @Test(.enabled(if: executable != nil, "no grucc executable beside the tests"), arguments: specs)
  func separateProcessesAgree(spec: String) throws {
    for kind in Self.kinds {
      let first = try Self.launch(arguments(spec, kind))
      let second = try Self.launch(arguments(spec, kind))
      #expect(first.status == 0, "\(String(decoding: first.stderr, as: UTF8.self))")
      #expect(!first.stdout.isEmpty)
      #expect(first.stdout == second.stdout, "\(spec) \(kind)")
      // The executable prints what the Driver returns, byte for byte.
      #expect(first.stdout == Data(Driver.run(arguments(spec, kind)).stdout.utf8), "\(spec) \(kind)")
    }
  }

  @Test(.enabled(if: executable != nil, "no grucc executable beside the tests"))
  func separateProcessesAgreeOnDiagnostics() throws {
    let model = Golden.root + "/Tests/Golden/diagnostics/several-syntax-errors-without-cascades.gru"
    let first = try Self.launch([model])
    let second = try Self.launch([model])
    #expect(first.status == 1)
    #expect(first.stderr == second.stderr)
    #expect(first.stdout.isEmpty)
    #expect(first.stderr == Data(Driver.run([model]).stderr.utf8))
  }

  /// Files grucc writes (interpreter results, weights) are byte-identical from run to run.
  @Test func writtenFilesAreIdentical() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grucc-determinism-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let spec = Golden.root + "/Specs/seed000-bigru.gru"
    var x: [Double] = []
    for i in 0..<(2 * 5 * 28) { x.append(Double((i * 37) % 11) / 11 - 0.5) }
    _ = FileManager.default.createFile(atPath: "\(dir)/x.npy", contents: Data(Npy.write(values: x, shape: [2, 5, 28], dtype: .f32)))
    _ = FileManager.default.createFile(atPath: "\(dir)/len.npy", contents: Data(Npy.write(values: [5, 3], shape: [2], dtype: .i32)))
    var outputs: [[Data]] = []
    for round in 0..<2 {
      let npz = "\(dir)/y\(round).npz"
      let weights = "\(dir)/w\(round).safetensors"
      let ran = Driver.run(["run", spec, "--input", "\(dir)/x.npy", "--input", "len=\(dir)/len.npy", "-o", npz])
      #expect(ran.exitCode == 0, "\(ran.stderr)")
      let emitted = Driver.run([spec, "--emit", "weights", "-o", weights])
      #expect(emitted.exitCode == 0, "\(emitted.stderr)")
      outputs.append([try Data(contentsOf: URL(fileURLWithPath: npz)), try Data(contentsOf: URL(fileURLWithPath: weights))])
    }
    #expect(outputs[0] == outputs[1])
  }
}
