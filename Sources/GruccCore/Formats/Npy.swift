// Reader and writer for NumPy's .npy format (versions 1.0, 2.0 and 3.0): magic, version,
// header length, a Python dict literal header, then the raw array data.

/// A numeric array loaded from .npy, values widened to Double in row-major (C) order.
/// `dtype` is the descr string from the header, e.g. "<f4", ">f8" or "|u1".
struct NpyArray: Equatable {
  var dtype: String
  var shape: [Int]
  var values: [Double]
}

/// Element types `Npy.write` can store; raw values are their little-endian descr strings.
enum NpyDType: String, CaseIterable {
  case f16 = "<f2", f32 = "<f4", f64 = "<f8", i32 = "<i4", i64 = "<i8"

  var elementKind: ElementKind {
    switch self {
    case .f16: .f16
    case .f32: .f32
    case .f64: .f64
    case .i32: .int(bytes: 4)
    case .i64: .int(bytes: 8)
    }
  }
}

/// Entry points for reading and writing .npy files.
enum Npy {
  static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

  static let supportedDescrs =
    "float (f2, f4, f8), signed integer (i1, i2, i4, i8), unsigned integer (u1, u2, u4, u8) and bool (b1)"

  /// What a .npy header says, checked: where the data starts and how many elements it holds.
  struct Header {
    var descr: String
    var kind: ElementKind
    var bigEndian: Bool
    var fortranOrder: Bool
    var shape: [Int]
    var dataStart: Int
    /// Elements and data bytes, known to fit in an Int.
    var count: Int
    var byteCount: Int

    /// Bytes of the values once decoded (8 per element), and again if they must be reordered
    /// from Fortran order: what `read` allocates beyond the file.
    var decodedBytes: Int? {
      Checked.multiply(count, MemoryLayout<Double>.size * (fortranOrder && shape.count > 1 ? 2 : 1))
    }

    var what: String { "array \(shapeText(shape)) of dtype \(quoted(descr))" }
  }

  /// The bytes of a header that starts `bytes`: 10 or 12 plus the header length, or nil when
  /// `bytes` is too short to say.
  static func headerLength(_ bytes: [UInt8]) -> Int? {
    guard bytes.count >= 12, bytes[0..<6].elementsEqual(magic) else { return nil }
    return bytes[6] == 1 ? 10 + Int(bytes.le16(at: 8)) : 12 + Int(bytes.le32(at: 8))
  }

  /// Parses and checks the header of a .npy file; `bytes` may stop after the header.
  static func header(_ bytes: [UInt8]) throws(FormatError) -> Header {
    guard bytes.count >= 10 else {
      throw FormatError("file has \(bytes.count) bytes, too short for a .npy header")
    }
    guard bytes[0..<6].elementsEqual(magic) else {
      throw FormatError("not a .npy file: it does not start with the \\x93NUMPY magic")
    }
    let (major, minor) = (bytes[6], bytes[7])
    guard (1...3).contains(major), minor == 0 else {
      throw FormatError("unsupported .npy format version \(major).\(minor); supported: 1.0, 2.0, 3.0")
    }
    let headerStart = major == 1 ? 10 : 12
    guard bytes.count >= headerStart else {
      throw FormatError("file has \(bytes.count) bytes, too short for a version \(major).0 .npy header")
    }
    let headerLength = major == 1 ? Int(bytes.le16(at: 8)) : Int(bytes.le32(at: 8))
    let dataStart = headerStart + headerLength
    guard dataStart <= bytes.count else {
      throw FormatError("header length \(headerLength) exceeds file size \(bytes.count)")
    }
    let header = try PyLiteralParser.parse(bytes[headerStart..<dataStart], utf8: major == 3)
    let (descr, fortranOrder, shape) = try interpretHeader(header)
    let (kind, bigEndian) = try elementKind(descr: descr)
    guard let count = Checked.elementCount(shape), let byteCount = Checked.multiply(count, kind.byteSize),
      Checked.add(dataStart, byteCount) != nil
    else {
      throw FormatError("shape \(shapeText(shape)) of dtype \(quoted(descr)) is too large")
    }
    return Header(
      descr: descr, kind: kind, bigEndian: bigEndian, fortranOrder: fortranOrder, shape: shape, dataStart: dataStart,
      count: count, byteCount: byteCount)
  }

  /// Parses and validates a whole .npy file. Big-endian data is byte-swapped and
  /// Fortran-ordered data transposed, so `values` is always row-major. The data must
  /// exactly fill the rest of the file, and its values (8 bytes each) must fit `budget`.
  static func read(_ bytes: [UInt8], budget: MemoryBudget = .standard) throws(FormatError) -> NpyArray {
    let h = try header(bytes)
    let dataEnd = h.dataStart + h.byteCount
    guard dataEnd <= bytes.count else {
      throw FormatError(
        "truncated: data of shape \(shapeText(h.shape)) and dtype \(quoted(h.descr)) ends at byte \(dataEnd) but the file has \(bytes.count) bytes")
    }
    guard dataEnd == bytes.count else {
      throw FormatError(
        "file has \(bytes.count - dataEnd) unexpected bytes after the data of shape \(shapeText(h.shape)) and dtype \(quoted(h.descr))")
    }
    if let refusal = budget.refusal(h.decodedBytes, for: "the \(h.what), as 8-byte values,") {
      throw FormatError(refusal)
    }
    var values = decodeElements(bytes, from: h.dataStart, count: h.count, kind: h.kind, bigEndian: h.bigEndian)
    if h.fortranOrder && h.shape.count > 1 {
      values = fortranToRowMajor(values, shape: h.shape)
    }
    return NpyArray(dtype: h.descr, shape: h.shape, values: values)
  }

  /// Checks that the header is exactly numpy's three-key dict and extracts its fields.
  private static func interpretHeader(_ header: PyLiteral) throws(FormatError) -> (String, Bool, [Int]) {
    guard case .dict(let entries) = header else {
      throw FormatError("header is \(header.kindName), expected a dict")
    }
    var descr: String?
    var fortran: Bool?
    var shape: [Int]?
    for entry in entries {
      guard case .string(let key) = entry.key else {
        throw FormatError("header has a key that is \(entry.key.kindName), expected a string")
      }
      switch key {
      case "descr":
        guard descr == nil else { throw FormatError("header has a duplicate key 'descr'") }
        switch entry.value {
        case .string(let s): descr = s
        case .list: throw FormatError("structured dtypes (record arrays) are not supported")
        default: throw FormatError("header 'descr' is \(entry.value.kindName), expected a string")
        }
      case "fortran_order":
        guard fortran == nil else { throw FormatError("header has a duplicate key 'fortran_order'") }
        guard case .bool(let b) = entry.value else {
          throw FormatError("header 'fortran_order' is \(entry.value.kindName), expected True or False")
        }
        fortran = b
      case "shape":
        guard shape == nil else { throw FormatError("header has a duplicate key 'shape'") }
        guard case .tuple(let dims) = entry.value else {
          throw FormatError("header 'shape' is \(entry.value.kindName), expected a tuple of non-negative ints")
        }
        var result: [Int] = []
        for d in dims {
          guard case .int(let v) = d else {
            throw FormatError("header 'shape' has an entry that is \(d.kindName), expected a non-negative int")
          }
          guard let n = v, n >= 0 else {
            throw FormatError("header 'shape' has an entry that is \(v.map(String.init) ?? "too large"), expected a non-negative int")
          }
          result.append(n)
        }
        shape = result
      default:
        throw FormatError("header has unexpected key \(quoted(key)); expected only descr, fortran_order and shape")
      }
    }
    guard let descr else { throw FormatError("header has no 'descr'") }
    guard let fortran else { throw FormatError("header has no 'fortran_order'") }
    guard let shape else { throw FormatError("header has no 'shape'") }
    return (descr, fortran, shape)
  }

  /// Maps a descr such as "<f4" or ">i8" to an element kind and byte order. '=' and '|'
  /// (native / not applicable) mean little-endian, the byte order of every platform grucc
  /// targets.
  static func elementKind(descr: String) throws(FormatError) -> (ElementKind, bigEndian: Bool) {
    var body = Substring(descr)
    var bigEndian = false
    if let first = body.first, "<>=|".contains(first) {
      bigEndian = first == ">"
      body = body.dropFirst()
    }
    let kind: ElementKind? =
      switch body {
      case "f2": .f16
      case "f4": .f32
      case "f8": .f64
      case "i1": .int(bytes: 1)
      case "i2": .int(bytes: 2)
      case "i4": .int(bytes: 4)
      case "i8": .int(bytes: 8)
      case "u1": .uint(bytes: 1)
      case "u2": .uint(bytes: 2)
      case "u4": .uint(bytes: 4)
      case "u8": .uint(bytes: 8)
      case "b1": .bool
      default: nil
      }
    guard let kind else {
      throw FormatError("unsupported dtype \(quoted(descr)); supported: \(supportedDescrs)")
    }
    return (kind, bigEndian)
  }

  /// Reorders column-major values into row-major order.
  static func fortranToRowMajor(_ values: [Double], shape: [Int]) -> [Double] {
    // With an empty axis beside huge ones, the strides below would overflow although there is
    // nothing to move; with at least one value, every stride is at most the value count.
    if values.isEmpty { return values }
    let rank = shape.count
    var strides = [Int](repeating: 1, count: rank)
    for k in 1..<rank { strides[k] = strides[k - 1] * shape[k - 1] }
    var out = [Double]()
    out.reserveCapacity(values.count)
    var index = [Int](repeating: 0, count: rank)
    var offset = 0
    for _ in 0..<values.count {
      out.append(values[offset])
      // Advance the row-major multi-index (last axis fastest) and track the column-major offset.
      var k = rank - 1
      while k >= 0 {
        index[k] += 1
        offset += strides[k]
        if index[k] < shape[k] { break }
        offset -= strides[k] * shape[k]
        index[k] = 0
        k -= 1
      }
    }
    return out
  }

  /// The header dict exactly as numpy writes it, including the spare spaces numpy leaves
  /// so the first dimension can grow in place; this makes output byte-identical to np.save.
  static func headerText(descr: String, shape: [Int]) -> String {
    let shapeRepr =
      shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var text = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeRepr), }"
    if let first = shape.first {
      text += String(repeating: " ", count: max(0, 21 - String(first).count))
    }
    return text
  }

  /// Serializes a C-ordered array as a version 1.0 .npy file, header padded with spaces and
  /// '\n' so the data starts at a multiple of 64 bytes. `values.count` must equal the
  /// product of `shape`; values are converted as described in `ElementKind.fromDouble`.
  static func write(values: [Double], shape: [Int], dtype: NpyDType) -> [UInt8] {
    precondition(shape.allSatisfy { $0 >= 0 } && Checked.elementCount(shape) == values.count,
                 "\(values.count) values do not fill shape \(shapeText(shape))")
    var header = Array(headerText(descr: dtype.rawValue, shape: shape).utf8)
    // numpy always adds at least one space before the '\n', even when already aligned.
    let padding = 64 - (10 + header.count + 1) % 64
    header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
    header.append(UInt8(ascii: "\n"))
    precondition(header.count <= Int(UInt16.max), "shape \(shapeText(shape)) is too long for a version 1.0 header")
    var out = magic + [1, 0]
    out.appendLE(UInt64(header.count), size: 2)
    out.append(contentsOf: header)
    encodeElements(values, kind: dtype.elementKind, into: &out)
    return out
  }
}
