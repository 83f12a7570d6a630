// Running a build tool (cmake, make, ninja, swift build) from a test. Foundation's Process starts
// its child from the test's worker thread, whose blocked signals the child inherits; cmake and
// SwiftPM wait for SIGCHLD to reap their own children, so under Process they hang. This spawns
// with every signal unblocked and at its default action, as a shell would.

import Foundation

#if canImport(Glibc)
  import Glibc
#endif

enum SpawnedTool {
  /// Runs `executable` with `arguments` (and `environment` added to ours), output captured
  /// through files, killed after `timeout` seconds.
  static func run(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 600
  ) throws -> ProcessOutput {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("grucc-spawn-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outPath = scratch.appendingPathComponent("stdout").path
    let errPath = scratch.appendingPathComponent("stderr").path

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    // Its own process group, so a timeout can stop the tool and everything it started.
    posix_spawnattr_setpgroup(&attributes, 0)
    posix_spawnattr_setflags(
      &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

    let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0)=\($1)" }.sorted()
    let argv = [executable] + arguments
    var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    var cEnv: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
    defer { for p in cArgs + cEnv { free(p) } }

    var pid: pid_t = 0
    let status = posix_spawn(&pid, executable, &actions, &attributes, &cArgs, &cEnv)
    guard status == 0 else {
      throw NSError(domain: "SpawnedTool", code: Int(status), userInfo: [
        NSLocalizedDescriptionKey: "cannot start \(executable): \(String(cString: strerror(status)))"
      ])
    }
    let deadline = Date().addingTimeInterval(timeout)
    var timedOut = false
    var waitStatus: Int32 = 0
    while true {
      let done = waitpid(pid, &waitStatus, WNOHANG)
      if done == pid { break }
      if done < 0 && errno != EINTR { break }
      if !timedOut && Date() > deadline {
        timedOut = true
        kill(-pid, SIGKILL)
      }
      usleep(20_000)
    }
    // Exit status as the shell reports it; a signal shows as 128 + its number.
    let low = waitStatus & 0x7f
    let exitCode = low == 0 ? (waitStatus >> 8) & 0xff : 128 + low
    let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    return ProcessOutput(exitCode: exitCode, stdout: stdout, stderr: stderr, timedOut: timedOut)
  }
}
