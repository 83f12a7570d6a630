// grucc's command-line entry point: arguments in, the Driver's output and exit status out.

import Foundation
import GruccCore

let colors = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
// Progress lines go out as they come; the live status line only to a terminal.
@Sendable func writeOut(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
@Sendable func writeErr(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
let progress = ProgressOutput(
  line: writeOut, status: isatty(STDERR_FILENO) != 0 ? writeErr : nil, clock: { ProcessInfo.processInfo.systemUptime })
let result = Driver.run(Array(CommandLine.arguments.dropFirst()), colors: colors, progress: progress)
FileHandle.standardOutput.write(Data(result.stdout.utf8))
FileHandle.standardError.write(Data(result.stderr.utf8))
exit(result.exitCode)
