// Reading an ONNX model from disk: the model file, then the external data files its tensors
// name. Those names come from an untrusted file, so each is opened only if it stays inside the
// model's folder: no symbolic link as the file itself, none in the folders on the way out of
// it, and only a regular file (not a FIFO or a device, which could block or never end).

import Foundation

extension Driver {
  static func onnxModel(_ bytes: [UInt8], path: String, log: FileAccess.Log? = nil) throws(FormatError) -> OnnxModel {
    var model = try Onnx.read(bytes)
    let slash = path.lastIndex(of: "/")
    let folder = slash.map { String(path[..<$0]) } ?? "."
    try model.loadExternalData { (location: String) throws(FormatError) -> any OnnxExternalFile in
      try ExternalDataFile(location: location, folder: folder.isEmpty ? "/" : folder, log: log)
    }
    return model
  }
}

/// An external data file opened read-only; it closes when the last copy goes.
final class ExternalDataFile: OnnxExternalFile {
  let size: Int
  private let descriptor: Int32

  init(location: String, folder: String, log: FileAccess.Log?) throws(FormatError) {
    guard let base = realpath(folder, nil).map({ p in defer { free(p) }; return String(cString: p) }) else {
      throw FormatError("cannot resolve the model's folder '\(folder)'")
    }
    let path = folder + "/" + location
    let parent = (path as NSString).deletingLastPathComponent
    guard let resolved = realpath(parent, nil).map({ p in defer { free(p) }; return String(cString: p) }) else {
      throw FormatError("cannot open it: no such file")
    }
    guard resolved == base || resolved.hasPrefix(base == "/" ? "/" : base + "/") else {
      throw FormatError("its folder is a symbolic link that leads out of the model's folder")
    }
    let fd = FileAccess.openNoFollow(path, log: log)
    guard fd >= 0 else {
      let reason = errno == ELOOP ? "it is a symbolic link, which grucc does not follow out of a model's folder"
        : "cannot open it: \(FileAccess.reason(errno))"
      throw FormatError(reason)
    }
    var info = stat()
    guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
      close(fd)
      throw FormatError("it is not a regular file")
    }
    descriptor = fd
    size = Int(info.st_size)
  }

  deinit { close(descriptor) }

  func read(offset: Int, count: Int) throws(FormatError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    var done = 0
    while done < count {
      let n = bytes.withUnsafeMutableBytes { buffer in
        pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
      }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else {
        throw FormatError(n == 0 ? "the file ended early (was it changed while grucc read it?)"
          : "cannot read it: \(FileAccess.reason(errno))")
      }
      done += n
    }
    return bytes
  }
}
