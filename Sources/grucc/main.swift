// grucc's command-line entry point: arguments in, the Driver's output and exit status out.

import Foundation
import GruccCore

let colors = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
let result = Driver.run(Array(CommandLine.arguments.dropFirst()), colors: colors)
FileHandle.standardOutput.write(Data(result.stdout.utf8))
FileHandle.standardError.write(Data(result.stderr.utf8))
exit(result.exitCode)
