// Dependency files for build systems (`-MD`, `-MF FILE`): one Make rule naming the files a
// compile wrote as its targets and every file it read as their prerequisites, so Make, Ninja and
// CMake rerun grucc exactly when the model, its weights or an ONNX model's external data change.
// The list comes from FileAccess.Log, which sees every read, rather than from the model's text:
// a weights path, a format's extra files or an ONNX importer's data file cannot be missed.

/// Where `-MD` / `-MF FILE` put the dependency file.
public enum DepfileRequest: Sendable, Equatable {
  /// `-MD`: beside the C file, named after it with `.d` appended (`kws.c` gives `kws.c.d`).
  case besideOutput
  /// `-MF FILE`.
  case file(String)
}

enum Depfile {
  /// The rule `targets: prerequisites` in Make syntax, one path per line; nil when a path holds
  /// a character no Make rule can carry (a line break).
  static func text(targets: [String], prerequisites: [String]) -> String? {
    let escaped = (targets + prerequisites).map(escape)
    guard !escaped.contains(where: { $0 == nil }) else { return nil }
    let names = escaped.map { $0! }
    let head = names[..<targets.count].joined(separator: " ") + ":"
    return ([head] + names[targets.count...].map { "  " + $0 }).joined(separator: " \\\n") + "\n"
  }

  /// A path as Make and Ninja's depfile reader spell it: a space or `#` behind a backslash (and
  /// the backslashes just before them doubled, so they stay literal), `$` doubled.
  static func escape(_ path: String) -> String? {
    guard !path.contains(where: { $0 == "\n" || $0 == "\r" }) else { return nil }
    var out = ""
    var backslashes = 0
    for c in path {
      switch c {
      case "\\":
        backslashes += 1
        out.append(c)
        continue
      case " ", "#":
        out += String(repeating: "\\", count: backslashes) + "\\"
        out.append(c)
      case "$": out += "$$"
      default: out.append(c)
      }
      backslashes = 0
    }
    return out
  }
}

extension Driver {
  /// `files` (what a compile writes), plus its dependency file when one was asked for, so that
  /// all of them are written together or not at all; nil (the error printed) when it cannot be.
  func addingDepfile(
    _ files: [(path: String, bytes: [UInt8])], _ options: CompileOptions
  ) throws(DriverError) -> [(path: String, bytes: [UInt8])] {
    guard let request = options.depfile, let main = files.first else { return files }
    let path: String
    switch request {
    case .besideOutput: path = main.path + ".d"
    case .file(let p): path = p
    }
    if let clash = files.first(where: { samePath($0.path, path) }) {
      throw .depfileOverwrites(path, output: clash.path)
    }
    guard let text = Depfile.text(targets: files.map(\.path), prerequisites: fileLog.paths) else {
      throw .depfileLineBreak(path)
    }
    return files + [(path, Array(text.utf8))]
  }
}
