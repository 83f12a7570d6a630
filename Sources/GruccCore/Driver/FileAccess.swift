// Reading and writing whole files with the reason for every failure taken from the system
// (errno), and only regular files read: a FIFO would block and /dev/zero never ends. Every
// file grucc reads is opened here, so the log below knows them all (the depfile lists them).

import Foundation

enum FileAccess {
  /// The files a run opened for reading, each once, in the order first opened. A depfile built
  /// from it names exactly what the output was made from, so it must see every read.
  final class Log {
    private(set) var paths: [String] = []
    private var seen: Set<String> = []

    func record(_ path: String) {
      if seen.insert(path).inserted { paths.append(path) }
    }
  }

  /// The contents of the regular file at `path`, which must fit `budget`; or why not, as the
  /// end of "cannot read 'PATH': ...".
  static func read(_ path: String, budget: MemoryBudget, log: Log? = nil) -> Result<[UInt8], Driver.ReadError> {
    log?.record(path)
    // Open without blocking: opening a FIFO with no writer would otherwise wait forever.
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else { return .failure(Driver.ReadError(description: reason(errno))) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { return .failure(Driver.ReadError(description: reason(errno))) }
    let kind = info.st_mode & S_IFMT
    guard kind == S_IFREG else {
      let what =
        switch kind {
        case S_IFDIR: "it is a directory"
        case S_IFIFO: "it is a FIFO (named pipe), not a regular file"
        case S_IFCHR: "it is a character device, not a regular file"
        case S_IFBLK: "it is a block device, not a regular file"
        case S_IFSOCK: "it is a socket, not a regular file"
        default: "it is not a regular file"
        }
      return .failure(Driver.ReadError(description: what))
    }
    let size = Int(info.st_size)
    if let refusal = budget.refusal(size, for: "the file (\(size) bytes)") {
      return .failure(Driver.ReadError(description: refusal))
    }
    var bytes = [UInt8](repeating: 0, count: size)
    var done = 0
    while done < size {
      let n = bytes.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress! + done, size - done) }
      if n < 0 {
        if errno == EINTR { continue }
        return .failure(Driver.ReadError(description: reason(errno)))
      }
      if n == 0 { break }  // the file shrank while we read it
      done += n
    }
    return .success(done == size ? bytes : Array(bytes[..<done]))
  }

  /// A descriptor for reading the file at `path` without following a symbolic link as its last
  /// component (ONNX external data, whose names come from the untrusted model); -1 with errno set.
  static func openNoFollow(_ path: String, log: Log?) -> Int32 {
    log?.record(path)
    return open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
  }

  /// Writes `bytes` to a new file at `path` (which must not exist yet); nil, or why it failed.
  static func create(_ path: String, _ bytes: [UInt8]) -> String? {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return reason(errno) }
    var done = 0
    while done < bytes.count {
      let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
      if n < 0 {
        if errno == EINTR { continue }
        let why = reason(errno)
        close(fd)
        return why
      }
      done += n
    }
    // A full disk may only show when the data is flushed.
    if close(fd) != 0 { return reason(errno) }
    return nil
  }

  /// The system's text for an errno value, in lower case as grucc's messages are.
  static func reason(_ code: Int32) -> String {
    let text = String(cString: strerror(code))
    guard let first = text.first else { return "error \(code)" }
    return first.lowercased() + text.dropFirst()
  }
}
