// Finding and running the C toolchain for the end-to-end tests: clang (and gcc, nm) from PATH,
// compiling with given flags, and running any program with a timeout and captured output.

import Foundation

/// What a finished (or killed) process left behind.
struct ProcessOutput: Sendable {
  var exitCode: Int32
  var stdout: String
  var stderr: String
  var timedOut: Bool

  var succeeded: Bool { exitCode == 0 && !timedOut }

  /// For failure messages: the status and the first part of both streams.
  var summary: String {
    let status = timedOut ? "timed out" : "exit status \(exitCode)"
    return "\(status)\nstderr:\n\(stderr.prefix(4000))\nstdout:\n\(stdout.prefix(2000))"
  }
}

enum ProcessRunner {
  /// Runs `executable` with `arguments`, killing it after `timeout` seconds. Output goes through
  /// temporary files rather than pipes, so a chatty child can never block on a full pipe.
  static func run(
    _ executable: String, _ arguments: [String], timeout: Double = 120, environment: [String: String]? = nil
  ) throws -> ProcessOutput {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("grucc-proc-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outURL = scratch.appendingPathComponent("stdout")
    let errURL = scratch.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)

    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    if let environment {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let done = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in done.signal() }
    try process.run()
    var timedOut = false
    if done.wait(timeout: .now() + timeout) == .timedOut {
      timedOut = true
      process.terminate()
      if done.wait(timeout: .now() + 5) == .timedOut { kill(process.processIdentifier, SIGKILL) }
      done.wait()
    }
    try out.close()
    try err.close()
    let stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
    return ProcessOutput(exitCode: process.terminationStatus, stdout: stdout, stderr: stderr, timedOut: timedOut)
  }

  /// The full path of `name` in PATH, if it is there and executable.
  static func which(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":") {
      let candidate = "\(dir)/\(name)"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }
}

/// A C compiler found in PATH. Tests that need clang carry `.enabled(if: Clang.isAvailable)`.
struct CCompiler: Sendable {
  var path: String

  /// The warnings every generated file must compile cleanly under.
  static let strictC = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
  static let strictCXX = ["-x", "c++", "-std=c++11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]

  /// What firmware builds add: implicit conversions of either kind, shadowing, float promoted to
  /// double, casts that raise alignment, old-style prototypes. The generated C must pass these
  /// too (the test harnesses need not).
  static let firmwareWarnings = [
    "-Wconversion", "-Wsign-conversion", "-Wshadow", "-Wdouble-promotion", "-Wcast-align",
  ]
  static let firmwareC = strictC + firmwareWarnings + ["-Wstrict-prototypes"]
  static let firmwareCXX = strictCXX + firmwareWarnings

  func compile(_ arguments: [String], timeout: Double = 120) throws -> ProcessOutput {
    try ProcessRunner.run(path, arguments, timeout: timeout)
  }
}

enum Clang {
  static let path: String? = ProcessRunner.which("clang")
  static var isAvailable: Bool { path != nil }
  static var compiler: CCompiler? { path.map(CCompiler.init) }

  static let gccPath: String? = ProcessRunner.which("gcc")
  static var gcc: CCompiler? { gccPath.map(CCompiler.init) }

  static let nmPath: String? = ProcessRunner.which("nm") ?? ProcessRunner.which("llvm-nm")

  /// Whether `-fsanitize=address,undefined` links and runs here (some containers forbid what
  /// ASan needs); checked once, with a one-line program.
  static let sanitizersWork: Bool = {
    guard let compiler else { return false }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grucc-asan-probe-\(UUID().uuidString)")
    guard (try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)) != nil else {
      return false
    }
    defer { try? FileManager.default.removeItem(at: dir) }
    let source = dir.appendingPathComponent("probe.c").path
    let binary = dir.appendingPathComponent("probe").path
    guard FileManager.default.createFile(atPath: source, contents: Data("int main(void) { return 0; }\n".utf8)),
      let built = try? compiler.compile(["-fsanitize=address,undefined", source, "-o", binary]), built.succeeded,
      let ran = try? ProcessRunner.run(binary, [], timeout: 30, environment: sanitizerEnvironment)
    else { return false }
    return ran.succeeded
  }()

  /// Leak checking needs ptrace, which containers often deny; the harness frees what it allocates
  /// anyway, and the generated code allocates nothing (checked separately with nm).
  static let sanitizerEnvironment = ["ASAN_OPTIONS": "detect_leaks=0", "UBSAN_OPTIONS": "print_stacktrace=1"]
}
