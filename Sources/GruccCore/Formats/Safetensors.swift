// Reader and writer for the safetensors format: a little-endian u64 header length, a JSON
// header describing each tensor, then the raw little-endian tensor data.

/// The safetensors dtypes grucc can load.
enum TensorDType: String, CaseIterable {
  case f16 = "F16", bf16 = "BF16", f32 = "F32", f64 = "F64", i32 = "I32", i64 = "I64"

  /// Dtypes the format defines that grucc does not load; they get a clearer message than
  /// names that are simply unknown.
  static let knownUnsupported: Set<String> = [
    "BOOL", "U8", "I8", "U16", "I16", "U32", "U64", "C64",
    "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4",
  ]

  static let supportedList = allCases.map(\.rawValue).joined(separator: ", ")

  var byteSize: Int { elementKind.byteSize }

  var isFloat: Bool {
    switch self {
    case .f16, .bf16, .f32, .f64: true
    case .i32, .i64: false
    }
  }

  var elementKind: ElementKind {
    switch self {
    case .f16: .f16
    case .bf16: .bf16
    case .f32: .f32
    case .f64: .f64
    case .i32: .int(bytes: 4)
    case .i64: .int(bytes: 8)
    }
  }
}

/// One tensor with its values widened to Double, in row-major order.
/// Equality compares values with `==`, so tensors containing NaN never compare equal.
struct NamedTensor: Equatable {
  var name: String
  var dtype: TensorDType
  var shape: [Int]
  var values: [Double]

  /// Throws unless the stored dtype is a floating-point one; for callers that need weights.
  func requireFloat() throws(FormatError) {
    guard dtype.isFloat else {
      throw FormatError("tensor \(quoted(name)) has dtype '\(dtype.rawValue)', expected a float dtype")
    }
  }
}

/// Entry points for reading and writing safetensors files.
enum Safetensors {
  /// Parses and validates a whole safetensors file. Tensors come back ordered by their data
  /// offsets (then name); metadata in header order. Sizes from the header are checked
  /// against the file before anything is allocated.
  static func read(
    _ bytes: [UInt8], budget: MemoryBudget = .standard
  ) throws(FormatError) -> (tensors: [NamedTensor], metadata: [(String, String)]) {
    guard bytes.count >= 8 else {
      throw FormatError("file has \(bytes.count) bytes, too short for the 8-byte header length")
    }
    let declared = bytes.le64(at: 0)
    guard declared <= UInt64(bytes.count - 8) else {
      throw FormatError("header length \(declared) exceeds file size \(bytes.count)")
    }
    let dataStart = 8 + Int(declared)
    let bufferSize = bytes.count - dataStart
    let header: JSONValue
    do throws(FormatError) {
      header = try JSON.parse(bytes[8..<dataStart])
    } catch {
      throw FormatError("header is not valid JSON: \(error.message) of the header")
    }
    guard case .object(let members) = header else {
      throw FormatError("header is \(header.kindName), expected a JSON object")
    }

    var metadata: [(String, String)] = []
    var entries: [Entry] = []
    for (name, value) in members {
      if name == "__metadata__" {
        metadata = try parseMetadata(value)
      } else {
        entries.append(try parseEntry(name: name, value: value, bufferSize: bufferSize, dataStart: dataStart))
      }
    }

    entries.sort { a, b in
      if a.begin != b.begin { return a.begin < b.begin }
      if a.end != b.end { return a.end < b.end }
      return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
    }
    for (previous, next) in zip(entries, entries.dropFirst()) where next.begin < previous.end {
      throw FormatError(
        "tensors \(quoted(previous.name)) (data bytes \(previous.begin)..<\(previous.end)) and "
          + "\(quoted(next.name)) (data bytes \(next.begin)..<\(next.end)) overlap")
    }

    // The data fits in the file, but f16 and bf16 values take four times their bytes once widened.
    let decoded = Checked.sum(entries.map { Checked.multiply($0.count, MemoryLayout<Double>.size) })
    if let refusal = budget.refusal(decoded, for: "the \(entries.count) tensors, as 8-byte values,") {
      throw FormatError(refusal)
    }
    var tensors: [NamedTensor] = []
    tensors.reserveCapacity(entries.count)
    for e in entries {
      let values = decodeElements(bytes, from: dataStart + e.begin, count: e.count, kind: e.dtype.elementKind)
      tensors.append(NamedTensor(name: e.name, dtype: e.dtype, shape: e.shape, values: values))
    }
    return (tensors, metadata)
  }

  /// A validated header entry whose byte range is known to lie inside the data buffer.
  private struct Entry {
    var name: String
    var dtype: TensorDType
    var shape: [Int]
    var count: Int
    var begin: Int
    var end: Int
  }

  private static func parseMetadata(_ value: JSONValue) throws(FormatError) -> [(String, String)] {
    guard case .object(let members) = value else {
      throw FormatError("__metadata__ is \(value.kindName), expected an object of strings")
    }
    var result: [(String, String)] = []
    for (key, v) in members {
      guard case .string(let text) = v else {
        throw FormatError("__metadata__ value for key \(quoted(key)) is \(v.kindName), expected a string")
      }
      result.append((key, text))
    }
    return result
  }

  private static func parseEntry(
    name: String, value: JSONValue, bufferSize: Int, dataStart: Int
  ) throws(FormatError) -> Entry {
    let what = "tensor \(quoted(name))"
    guard case .object = value else {
      throw FormatError("\(what) is \(value.kindName), expected an object with dtype, shape and data_offsets")
    }
    guard let dtypeValue = value["dtype"] else { throw FormatError("\(what) has no 'dtype'") }
    guard case .string(let dtypeName) = dtypeValue else {
      throw FormatError("\(what) has a dtype that is \(dtypeValue.kindName), expected a string")
    }
    guard let dtype = TensorDType(rawValue: dtypeName) else {
      let kind = TensorDType.knownUnsupported.contains(dtypeName) ? "unsupported" : "unknown"
      throw FormatError(
        "\(what) has \(kind) dtype \(quoted(dtypeName)); supported dtypes: \(TensorDType.supportedList)")
    }

    guard let shapeValue = value["shape"] else { throw FormatError("\(what) has no 'shape'") }
    guard case .array(let dims) = shapeValue else {
      throw FormatError("\(what) has a shape that is \(shapeValue.kindName), expected a list of non-negative integers")
    }
    var shape: [Int] = []
    for d in dims {
      guard let n = d.nonNegativeInt else {
        throw FormatError("\(what) has a shape entry that is not a non-negative integer: \(describe(d))")
      }
      shape.append(n)
    }
    guard let count = Checked.elementCount(shape), let byteCount = Checked.multiply(count, dtype.byteSize) else {
      throw FormatError("\(what) has shape \(shapeText(shape)) whose size overflows")
    }

    guard let offsetsValue = value["data_offsets"] else { throw FormatError("\(what) has no 'data_offsets'") }
    guard case .array(let offsets) = offsetsValue, offsets.count == 2,
      let begin = offsets[0].nonNegativeInt, let end = offsets[1].nonNegativeInt
    else {
      throw FormatError("\(what) has data_offsets \(describe(offsetsValue)), expected [begin, end] with non-negative integers")
    }
    guard begin <= end else {
      throw FormatError("\(what) has data_offsets [\(begin), \(end)] that end before they begin")
    }
    guard end - begin == byteCount else {
      throw FormatError(
        "\(what) has data_offsets [\(begin), \(end)] spanning \(end - begin) bytes, but dtype "
          + "\(dtype.rawValue) with shape \(shapeText(shape)) needs \(byteCount) bytes")
    }
    guard end <= bufferSize else {
      throw FormatError(
        "truncated: data of \(what) ends at byte \(UInt64(dataStart) + UInt64(end)) but the file has \(dataStart + bufferSize) bytes")
    }
    return Entry(name: name, dtype: dtype, shape: shape, count: count, begin: begin, end: end)
  }

  /// Short rendering of a JSON value for messages (scalars verbatim, containers by kind).
  private static func describe(_ value: JSONValue) -> String {
    switch value {
    case .number(let text): text.count > 40 ? String(text.prefix(40)) + "..." : text
    case .string(let s): quoted(s, limit: 40)
    case .bool(let b): b ? "true" : "false"
    case .null: "null"
    case .array(let items) where items.count <= 4: "[" + items.map(describe).joined(separator: ", ") + "]"
    default: value.kindName
    }
  }

  /// Serializes tensors deterministically: header keys and data in byte-wise name order,
  /// `__metadata__` first with its keys sorted, compact JSON padded with spaces to a
  /// multiple of 8. Each tensor is stored in its own dtype (see `ElementKind.fromDouble`
  /// for rounding). Names must be unique and not "__metadata__", metadata keys unique, and
  /// each tensor's value count must match its shape.
  static func write(_ tensors: [NamedTensor], metadata: [(String, String)] = []) -> [UInt8] {
    let byName: (String, String) -> Bool = { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    let sorted = tensors.sorted { byName($0.name, $1.name) }
    let sortedMetadata = metadata.sorted { byName($0.0, $1.0) }
    for (a, b) in zip(sorted, sorted.dropFirst()) {
      precondition(!a.name.utf8.elementsEqual(b.name.utf8), "duplicate tensor name \(quoted(a.name))")
    }
    for (a, b) in zip(sortedMetadata, sortedMetadata.dropFirst()) {
      precondition(!a.0.utf8.elementsEqual(b.0.utf8), "duplicate metadata key \(quoted(a.0))")
    }

    var header = "{"
    var first = true
    if !sortedMetadata.isEmpty {
      header += "\"__metadata__\":{"
      header += sortedMetadata.map { JSONValue.quoted($0.0) + ":" + JSONValue.quoted($0.1) }.joined(separator: ",")
      header += "}"
      first = false
    }
    var offset = 0
    for t in sorted {
      precondition(t.name != "__metadata__", "a tensor cannot be named __metadata__")
      precondition(t.shape.allSatisfy { $0 >= 0 } && Checked.elementCount(t.shape) == t.values.count,
                   "tensor \(quoted(t.name)) has \(t.values.count) values for shape \(shapeText(t.shape))")
      let size = t.values.count * t.dtype.byteSize
      if !first { header += "," }
      first = false
      header += JSONValue.quoted(t.name) + ":{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":["
      header += t.shape.map(String.init).joined(separator: ",")
      header += "],\"data_offsets\":[\(offset),\(offset + size)]}"
      offset += size
    }
    header += "}"

    var headerBytes = Array(header.utf8)
    headerBytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - headerBytes.count % 8) % 8))
    var out: [UInt8] = []
    out.reserveCapacity(8 + headerBytes.count + offset)
    out.appendLE(UInt64(headerBytes.count), size: 8)
    out.append(contentsOf: headerBytes)
    for t in sorted {
      encodeElements(t.values, kind: t.dtype.elementKind, into: &out)
    }
    return out
  }
}
