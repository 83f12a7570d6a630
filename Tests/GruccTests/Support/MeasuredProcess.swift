// Runs a child process and measures what it cost: CPU seconds and peak resident memory, from the
// rusage wait4 returns for that one child (getrusage(RUSAGE_CHILDREN) would mix in every other
// child the test process ever waited for, clang's included).

import Foundation

#if canImport(Glibc)
  import Glibc
#endif

struct MeasuredRun: Sendable {
  var status: Int32
  /// The signal that ended the child, if one did.
  var signal: Int32?
  var stdout: String
  var stderr: String
  var cpuSeconds: Double
  var wallSeconds: Double
  var peakMegabytes: Double
  var timedOut: Bool

  var summary: String {
    let end = signal.map { "signal \($0)" } ?? "exit \(status)"
    return "\(end), \(String(format: "%.2f", cpuSeconds)) s CPU, \(String(format: "%.0f", peakMegabytes)) MB peak\n"
      + "stderr: \(stderr.prefix(2000))\nstdout: \(stdout.prefix(500))"
  }
}

enum MeasuredProcess {
  /// Runs `executable` with `arguments`, output to temporary files, killed after `timeout` s.
  static func run(_ executable: String, _ arguments: [String], timeout: Double = 60) throws -> MeasuredRun {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grucc-measured-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("stdout").path
    let err = dir.appendingPathComponent("stderr").path

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let started = Date()
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    guard spawned == 0 else { throw EndToEnd.Failure("cannot start \(executable): \(String(cString: strerror(spawned)))") }

    var status: Int32 = 0
    var usage = rusage()
    var timedOut = false
    while true {
      let r = wait4(pid, &status, WNOHANG, &usage)
      if r == pid { break }
      if r < 0 && errno != EINTR { throw EndToEnd.Failure("wait4 failed: \(String(cString: strerror(errno)))") }
      if Date().timeIntervalSince(started) > timeout && !timedOut {
        timedOut = true
        kill(pid, SIGKILL)
      }
      usleep(2000)
    }
    let wall = Date().timeIntervalSince(started)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    // Decoded as <sys/wait.h>'s WIFSIGNALED / WTERMSIG / WEXITSTATUS do.
    let signalled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
    return MeasuredRun(
      status: signalled ? -1 : (status >> 8) & 0xff, signal: signalled ? status & 0x7f : nil,
      stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
      stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "",
      cpuSeconds: seconds(usage.ru_utime) + seconds(usage.ru_stime), wallSeconds: wall,
      peakMegabytes: Double(usage.ru_maxrss) / 1024, timedOut: timedOut)
  }
}
