// Writing a command's outputs: every file or none. Each goes to a temporary file first, and only
// when all are written are they renamed over their targets; an output that would replace an
// input is refused before anything is written.

import Foundation

extension Driver {
  /// Prints text, or writes it atomically to `path`.
  mutating func deliver(_ text: String, to path: String?, input: String) throws(DriverError) {
    guard let path else {
      stdout += text
      return
    }
    try write([(path, Array(text.utf8))], input: input)
  }

  /// Writes every file or none.
  func write(_ files: [(path: String, bytes: [UInt8])], input: String?) throws(DriverError) {
    for f in files where input.map({ samePath($0, f.path) }) ?? false {
      throw .overwrites(f.path, what: "the input file")
    }
    // A rename onto a directory fails; find that before anything is replaced, or the .c could
    // be new while the .h is not.
    for f in files {
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: f.path, isDirectory: &isDirectory), isDirectory.boolValue {
        throw .cannotWrite(f.path, reason: "it is a directory")
      }
    }
    var temporaries: [String] = []
    func cleanUp() { for t in temporaries { unlink(t) } }
    for f in files {
      let temporary = "\(f.path).grucc-\(getpid()).tmp"
      unlink(temporary)  // left by a run of the same process id that was killed
      if let reason = FileAccess.create(temporary, f.bytes) {
        unlink(temporary)
        cleanUp()
        throw .cannotWrite(f.path, reason: reason)
      }
      temporaries.append(temporary)
    }
    for (f, t) in zip(files, temporaries) where rename(t, f.path) != 0 {
      let reason = FileAccess.reason(errno)  // before cleanUp's unlink sets errno
      cleanUp()
      throw .cannotWrite(f.path, reason: reason)
    }
  }

  /// Whether writing `output` would replace the file `input` reads, however the paths are spelled:
  /// `.`, `..` and symbolic links are resolved. The output's own last component is not resolved,
  /// because the rename replaces a link there rather than the file it points to.
  func samePath(_ input: String, _ output: String) -> Bool {
    let out = URL(fileURLWithPath: output).standardizedFileURL
    let outDirectory = out.deletingLastPathComponent().resolvingSymlinksInPath()
    return URL(fileURLWithPath: input).resolvingSymlinksInPath().path
      == outDirectory.appendingPathComponent(out.lastPathComponent).path
  }
}
