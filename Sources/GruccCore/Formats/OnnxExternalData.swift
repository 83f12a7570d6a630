// ONNX external data: tensors whose bytes live in another file beside the model (what
// torch.onnx.export writes by default). This decodes the references and checks every range
// against the file it names; opening files, and keeping them inside the model's folder, is the
// driver's job (it owns all file I/O), so this file reads through `OnnxExternalFile`.

/// One external data file, opened by the caller.
protocol OnnxExternalFile {
  /// The file's size in bytes.
  var size: Int { get }
  /// `count` bytes from `offset`; the caller has checked that they lie inside the file.
  func read(offset: Int, count: Int) throws(FormatError) -> [UInt8]
}

extension OnnxModel {
  /// The distinct external data files the model's tensors name, in first-use order.
  var externalLocations: [String] {
    var seen: [String] = []
    for t in externalTensors where !seen.contains(t.external!.location) { seen.append(t.external!.location) }
    return seen
  }

  /// Initializers and Constant nodes' tensors that keep their data outside the model.
  private var externalTensors: [OnnxTensor] {
    var out = graph.initializers.filter { $0.external != nil }
    for node in graph.nodes {
      for a in node.attributes { if case .tensor(let t) = a.value, t.external != nil { out.append(t) } }
    }
    return out
  }

  /// Reads every external tensor's values from the file `open` gives for its location. Each
  /// range must lie inside its file and hold exactly the tensor's bytes; a `checksum` entry must
  /// be the file's SHA-1.
  mutating func loadExternalData(
    _ open: (String) throws(FormatError) -> any OnnxExternalFile
  ) throws(FormatError) {
    var files: [String: any OnnxExternalFile] = [:]
    var verified: Set<String> = []
    func load(_ t: OnnxTensor) throws(FormatError) -> OnnxTensor {
      guard let ref = t.external else { return t }
      let file: any OnnxExternalFile
      if let f = files[ref.location] {
        file = f
      } else {
        do {
          file = try open(ref.location)
        } catch {
          throw error.prefixed("\(t.what): external data file \(quoted(ref.location))")
        }
        files[ref.location] = file
      }
      if let checksum = ref.checksum, !verified.contains(ref.location) {
        try Self.verify(file, checksum: checksum, location: ref.location, what: t.what)
        verified.insert(ref.location)
      }
      guard let needed = t.externalByteCount else {
        // A type grucc does not decode: never used as a weight, so its bytes are not read.
        var unread = t
        unread.external = nil
        return unread
      }
      let length = ref.length ?? needed
      let place = "\(t.what): external data at offset \(ref.offset), \(length) bytes,"
      guard let end = Checked.add(ref.offset, length), end <= file.size else {
        throw FormatError("\(place) runs past the end of \(quoted(ref.location)) (\(file.size) bytes)")
      }
      guard length == needed else {
        throw FormatError(
          "\(place) but \(t.dataType.name) dims \(shapeText(t.dims)) need \(needed) bytes")
      }
      return try t.loadingExternal(try file.read(offset: ref.offset, count: length))
    }
    for i in graph.initializers.indices { graph.initializers[i] = try load(graph.initializers[i]) }
    for n in graph.nodes.indices {
      for a in graph.nodes[n].attributes.indices {
        if case .tensor(let t) = graph.nodes[n].attributes[a].value, t.external != nil {
          graph.nodes[n].attributes[a].value = .tensor(try load(t))
        }
      }
    }
  }

  private static func verify(
    _ file: any OnnxExternalFile, checksum: String, location: String, what: String
  ) throws(FormatError) {
    var sha = SHA1()
    var offset = 0
    while offset < file.size {
      let n = min(1 << 20, file.size - offset)
      sha.update(try file.read(offset: offset, count: n))
      offset += n
    }
    let digest = sha.hexDigest()
    guard digest == checksum.lowercased() else {
      throw FormatError(
        "\(what): external data file \(quoted(location)) has SHA-1 \(digest), but the model's checksum is \(quoted(checksum))")
    }
  }
}
