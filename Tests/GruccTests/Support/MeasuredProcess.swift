// Runs a child process and measures what it cost: CPU seconds and peak resident memory.
//
// The peak cannot be read from the rusage of a child of this test process: Linux records the
// resident size of the address space a child leaves at exec, and a child of a large process
// (posix_spawn's vfork, or fork's copy) leaves the parent's, so /bin/true spawned by a process
// holding 200 MB reports 200 MB. A small C helper, compiled here once, forks and execs the
// command itself: its child starts from the helper's few pages, and the helper writes that
// child's rusage (from wait4) to a file.

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
  var peakMegabytes: Double
  var timedOut: Bool

  var summary: String {
    let end = signal.map { "signal \($0)" } ?? "exit \(status)"
    return "\(end), \(String(format: "%.2f", cpuSeconds)) s CPU, \(String(format: "%.0f", peakMegabytes)) MB peak\n"
      + "stderr: \(stderr.prefix(2000))\nstdout: \(stdout.prefix(500))"
  }
}

enum MeasuredProcess {
  static let helperSource = """
    /* measure REPORT TIMEOUT PROGRAM ARGS...: runs PROGRAM, kills it after TIMEOUT seconds, and
     * writes "status signal timed_out user_s system_s maxrss_kb" of that child to REPORT. */
    #define _DEFAULT_SOURCE /* wait4 */
    #include <signal.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <sys/resource.h>
    #include <sys/time.h>
    #include <sys/types.h>
    #include <sys/wait.h>
    #include <unistd.h>

    static pid_t child;
    static volatile sig_atomic_t timed_out;

    static void on_alarm(int sig) {
        (void)sig;
        timed_out = 1;
        kill(child, SIGKILL);
    }

    int main(int argc, char **argv) {
        int status;
        struct rusage ru;
        struct sigaction sa;
        FILE *report;
        if (argc < 4) return 2;
        child = fork();
        if (child < 0) return 2;
        if (child == 0) {
            execv(argv[3], argv + 3);
            _exit(127);
        }
        sa.sa_handler = on_alarm;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0;
        sigaction(SIGALRM, &sa, NULL);
        alarm((unsigned)atoi(argv[2]));
        while (wait4(child, &status, 0, &ru) < 0) {}
        report = fopen(argv[1], "w");
        if (!report) return 2;
        fprintf(report, "%d %d %d %ld.%06ld %ld.%06ld %ld\\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                WIFSIGNALED(status) ? WTERMSIG(status) : 0, (int)timed_out, (long)ru.ru_utime.tv_sec,
                (long)ru.ru_utime.tv_usec, (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, ru.ru_maxrss);
        return fclose(report) == 0 ? 0 : 2;
    }

    """

  /// The helper, built once per test run (nil if there is no C compiler).
  static let helper: String? = {
    guard let clang = Clang.compiler else { return nil }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grucc-measure-\(UUID().uuidString)")
    guard (try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)) != nil else { return nil }
    let source = dir.appendingPathComponent("measure.c").path
    let binary = dir.appendingPathComponent("measure").path
    guard FileManager.default.createFile(atPath: source, contents: Data(helperSource.utf8)),
      let built = try? clang.compile(["-std=c99", "-O1", source, "-o", binary]), built.succeeded
    else { return nil }
    return binary
  }()

  /// Runs `executable` with `arguments` through the helper; killed after `timeout` seconds.
  static func run(_ executable: String, _ arguments: [String], timeout: Int = 60) throws -> MeasuredRun {
    let helper = try requireHelper()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grucc-measured-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let report = dir.appendingPathComponent("report").path
    let ran = try ProcessRunner.run(helper, [report, String(timeout), executable] + arguments, timeout: Double(timeout) + 30)
    guard ran.exitCode == 0, let text = try? String(contentsOfFile: report, encoding: .utf8) else {
      throw EndToEnd.Failure("the measuring helper failed: \(ran.summary)")
    }
    let fields = text.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
    guard fields.count == 6, let status = Int32(fields[0]), let signal = Int32(fields[1]), let user = Double(fields[3]),
      let system = Double(fields[4]), let kilobytes = Double(fields[5])
    else { throw EndToEnd.Failure("cannot read the helper's report: \(text)") }
    return MeasuredRun(
      status: status, signal: signal == 0 ? nil : signal, stdout: ran.stdout, stderr: ran.stderr,
      cpuSeconds: user + system, peakMegabytes: kilobytes / 1024, timedOut: fields[2] == "1")
  }

  private static func requireHelper() throws -> String {
    guard let helper else { throw EndToEnd.Failure("no C compiler to build the measuring helper") }
    return helper
  }
}
