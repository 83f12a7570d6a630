// Reader for ONNX model files: a protobuf ModelProto, of which this decodes what grucc
// needs (opsets and the graph's nodes, attributes, initializers and value types) and skips
// the rest. Field numbers are from onnx/onnx.proto (onnx 1.23); comments name the fields.
import Foundation

struct OnnxModel: Equatable {
  var irVersion: Int64
  var producerName: String
  var producerVersion: String
  var opsets: [OnnxOpset]
  var graph: OnnxGraph

  /// The opset version imported for `domain`; "" and "ai.onnx" both name the default domain.
  func opsetVersion(domain: String) -> Int64? {
    let isDefault = { (d: String) in d == "" || d == "ai.onnx" }
    return opsets.last { $0.domain == domain || (isDefault($0.domain) && isDefault(domain)) }?.version
  }
}

struct OnnxOpset: Equatable {
  var domain: String
  var version: Int64
}

struct OnnxGraph: Equatable {
  var name: String
  var nodes: [OnnxNode]
  var initializers: [OnnxTensor]
  var inputs: [OnnxValueInfo]
  var outputs: [OnnxValueInfo]
  var valueInfo: [OnnxValueInfo]

  func initializer(named name: String) -> OnnxTensor? {
    initializers.first { $0.name == name }
  }
}

struct OnnxNode: Equatable {
  var name: String
  var opType: String
  var domain: String
  /// Value names; an omitted optional input (GRU's B, sequence_lens, initial_h) is "".
  var inputs: [String]
  var outputs: [String]
  var attributes: [OnnxAttribute]

  func attribute(_ name: String) -> OnnxAttribute? {
    attributes.first { $0.name == name }
  }
}

struct OnnxAttribute: Equatable {
  var name: String
  var value: Value

  enum Value: Equatable {
    case float(Float), int(Int64), string(String), tensor(OnnxTensor)
    case floats([Float]), ints([Int64]), strings([String])
    /// Graphs, tensor lists, sparse tensors and type protos, with ONNX's AttributeType code.
    case unsupported(type: Int)

    /// ONNX's name for the attribute type, for messages such as "expected INT, got FLOATS".
    var typeName: String {
      switch self {
      case .float: "FLOAT"
      case .int: "INT"
      case .string: "STRING"
      case .tensor: "TENSOR"
      case .floats: "FLOATS"
      case .ints: "INTS"
      case .strings: "STRINGS"
      case .unsupported(let code): OnnxAttribute.unsupportedTypeNames[code] ?? "type \(code)"
      }
    }
  }

  static let unsupportedTypeNames = [
    0: "UNDEFINED", 5: "GRAPH", 9: "TENSORS", 10: "GRAPHS", 11: "SPARSE_TENSOR", 12: "SPARSE_TENSORS",
    13: "TYPE_PROTO", 14: "TYPE_PROTOS",
  ]
}

/// A tensor with its values widened to Double in row-major order.
///
/// Only data types with an `elementKind` are decoded; for the others (STRING, the complex
/// types and the sub-16-bit floats and integers) `values` is empty, and `namedTensor()`
/// rejects them, so an unused odd tensor does not make the whole model unreadable.
struct OnnxTensor: Equatable {
  var name: String
  var dims: [Int]
  var dataType: OnnxDataType
  var values: [Double]
  /// Where the values are when the file keeps them outside the model (data_location EXTERNAL);
  /// `values` stays empty until `loadingExternal(_:)` has read them.
  var external: OnnxExternalData? = nil

  var what: String { name.isEmpty ? "tensor" : "tensor \(quoted(name))" }

  /// The tensor as a weight-file tensor; FLOAT, FLOAT16, BFLOAT16, DOUBLE, INT32, INT64 only.
  func namedTensor() throws(FormatError) -> NamedTensor {
    if let external {
      throw FormatError("\(what) stores its data in the external file \(quoted(external.location)), which was not read")
    }
    guard let dtype = dataType.tensorDType else {
      throw FormatError(
        "tensor \(quoted(name)) has data type \(dataType.name); "
          + "grucc reads FLOAT, FLOAT16, BFLOAT16, DOUBLE, INT32 and INT64")
    }
    return NamedTensor(name: name, dtype: dtype, shape: dims, values: values)
  }

  /// The number of bytes the external data must hold: every element at its raw_data width.
  /// nil for types grucc does not decode (their data is never read).
  var externalByteCount: Int? {
    guard let kind = dataType.elementKind, let count = Checked.elementCount(dims) else { return nil }
    return Checked.multiply(count, kind.byteSize)
  }

  /// The tensor with its values decoded from `bytes`, the range `external` points to, laid out
  /// as raw_data is.
  func loadingExternal(_ bytes: [UInt8]) throws(FormatError) -> OnnxTensor {
    var t = self
    t.external = nil
    guard let kind = dataType.elementKind else { return t }
    guard let count = Checked.elementCount(dims), bytes.count == externalByteCount else {
      throw FormatError(
        "\(what) has \(bytes.count) bytes of external data, but \(dataType.name) dims \(shapeText(dims)) need "
          + "\(Checked.elementCount(dims).map(String.init) ?? "more") elements of \(kind.byteSize) bytes")
    }
    t.values = try decodeRawElements(bytes, count: count, kind: kind, what: what)
    return t
  }
}

/// A TensorProto's `external_data` entries: the file (relative to the model's folder), where the
/// tensor's bytes start in it, how many there are, and optionally the file's SHA-1 digest.
struct OnnxExternalData: Equatable {
  var location: String
  var offset: Int
  var length: Int?
  var checksum: String?

  /// Reads the key/value entries. The location must stay inside the model's folder: it is
  /// relative, has no `..` component, no NUL and no backslash (a Windows separator, which
  /// would mean something else here). Whether a symbolic link leads out is for the code that
  /// opens the file to check.
  init(entries: [(key: String, value: String)], tensor what: String) throws(FormatError) {
    var location: String?
    var offset = 0
    var length: Int?
    var checksum: String?
    func number(_ key: String, _ text: String) throws(FormatError) -> Int {
      guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int(text) else {
        throw FormatError("\(what) has external data \(key) \(quoted(text)), which is not a byte count")
      }
      return n
    }
    for (key, value) in entries {
      switch key {
      case "location": location = value
      case "offset": offset = try number(key, value)
      case "length": length = try number(key, value)
      case "checksum": checksum = value
      default: break  // "basepath" and other writers' notes change nothing about the bytes
      }
    }
    guard let location, !location.isEmpty else {
      throw FormatError("\(what) stores its data in an external file but names none (no 'location' entry)")
    }
    let refuse = { (reason: String) in
      FormatError("\(what) has external data location \(quoted(location)), \(reason); grucc reads only files inside the model's folder")
    }
    if location.hasPrefix("/") { throw refuse("an absolute path") }
    if location.contains("\\") || location.unicodeScalars.contains(where: { $0.value < 32 }) {
      throw refuse("which contains a backslash or a control character")
    }
    if location.split(separator: "/", omittingEmptySubsequences: true).contains("..") {
      throw refuse("which leaves the folder through '..'")
    }
    self.location = location
    self.offset = offset
    self.length = length
    self.checksum = checksum
  }
}

/// TensorProto.DataType.
enum OnnxDataType: Int, CaseIterable {
  case float = 1, uint8, int8, uint16, int16, int32, int64, string, bool, float16, double, uint32, uint64
  case complex64, complex128, bfloat16
  case float8e4m3fn, float8e4m3fnuz, float8e5m2, float8e5m2fnuz, uint4, int4, float4e2m1, float8e8m0
  case uint2, int2, float6e2m3, float6e3m2

  /// ONNX's spelling, e.g. "FLOAT16", for messages.
  var name: String { Self.names[rawValue - 1] }

  private static let names = [
    "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32",
    "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ",
    "UINT4", "INT4", "FLOAT4E2M1", "FLOAT8E8M0", "UINT2", "INT2", "FLOAT6E2M3", "FLOAT6E3M2",
  ]

  /// The little-endian raw_data layout of the types whose values this reader decodes.
  var elementKind: ElementKind? {
    switch self {
    case .float: .f32
    case .double: .f64
    case .float16: .f16
    case .bfloat16: .bf16
    case .int8: .int(bytes: 1)
    case .int16: .int(bytes: 2)
    case .int32: .int(bytes: 4)
    case .int64: .int(bytes: 8)
    case .uint8: .uint(bytes: 1)
    case .uint16: .uint(bytes: 2)
    case .uint32: .uint(bytes: 4)
    case .uint64: .uint(bytes: 8)
    case .bool: .bool
    default: nil
    }
  }

  var tensorDType: TensorDType? {
    switch self {
    case .float: .f32
    case .double: .f64
    case .float16: .f16
    case .bfloat16: .bf16
    case .int32: .i32
    case .int64: .i64
    default: nil
    }
  }
}

struct OnnxValueInfo: Equatable {
  var name: String
  /// nil when the type is absent, not a tensor type (sequence, map, ...) or unknown to grucc.
  var elementType: OnnxDataType?
  /// nil when the rank is unknown (no shape given) or the type is not a tensor type.
  var shape: [OnnxDim]?
}

enum OnnxDim: Equatable {
  case fixed(Int), symbolic(String), unknown
}

enum Onnx {
  static func read(contentsOf url: URL) throws(FormatError) -> OnnxModel {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
      throw FormatError("cannot read the file: no such file")
    }
    guard !isDirectory.boolValue else { throw FormatError("cannot read the file: it is a directory") }
    guard let data = FileManager.default.contents(atPath: url.path) else {
      throw FormatError("cannot read the file: permission denied")
    }
    return try read([UInt8](data))
  }

  /// Decodes a whole ModelProto. Unknown fields are skipped; for a repeated singular field
  /// the last occurrence wins (protobuf would merge messages; ONNX writers never repeat them).
  static func read(_ bytes: [UInt8]) throws(FormatError) -> OnnxModel {
    guard !bytes.isEmpty else { throw FormatError("not an ONNX model: the file is empty") }
    // Protobuf has no magic number. A first pass over the top-level fields tells other
    // files (and cut-off ones) from ONNX before any message in the file is interpreted.
    do throws(FormatError) {
      var r = ProtoReader(bytes)
      let expected: [Int: WireType] = [
        1: .varint, 5: .varint, 2: .lengthDelimited, 3: .lengthDelimited,
        4: .lengthDelimited, 6: .lengthDelimited, 7: .lengthDelimited, 8: .lengthDelimited,
      ]
      while let f = try r.nextField() {
        if let w = expected[f.number], w != f.wireType {
          throw FormatError(
            "field \(f.number) at byte \(f.offset) has wire type \(f.wireType.name), expected \(w.name)")
        }
        try r.skip(f)
      }
    } catch {
      throw error.prefixed("not an ONNX model (or a truncated one)")
    }

    var r = ProtoReader(bytes)
    var model = OnnxModel(irVersion: 0, producerName: "", producerVersion: "", opsets: [], graph: .init())
    var graph: ProtoReader?
    while let f = try r.nextField() {
      switch f.number {
      case 1: model.irVersion = try r.int64(f)
      case 2: model.producerName = try r.string(f)
      case 3: model.producerVersion = try r.string(f)
      case 7: graph = try r.message(f)
      case 8:
        model.opsets.append(
          try within("opset_import #\(model.opsets.count)") { () throws(FormatError) in
            try opset(r.message(f))
          })
      default: try r.skip(f)
      }
    }
    guard let graph else { throw FormatError("not an ONNX model: it has no graph") }
    // The checker's rule; it also catches a file cut off right after the graph.
    if model.irVersion >= 3 && model.opsets.isEmpty {
      throw FormatError("model has IR version \(model.irVersion) but no opset_import (is the file truncated?)")
    }
    model.graph = try decodeGraph(graph)
    return model
  }

  // MARK: Messages. Each first collects fields (wire errors get a positional context), then
  // interprets them once names are known, so semantic errors can name the node or tensor.

  private static func opset(_ message: ProtoReader) throws(FormatError) -> OnnxOpset {
    var r = message
    var result = OnnxOpset(domain: "", version: 0)
    while let f = try r.nextField() {
      switch f.number {
      case 1: result.domain = try r.string(f)
      case 2: result.version = try r.int64(f)
      default: try r.skip(f)
      }
    }
    return result
  }

  private static func decodeGraph(_ message: ProtoReader) throws(FormatError) -> OnnxGraph {
    var r = message
    var g = OnnxGraph()
    var nodes: [ProtoReader] = []
    var initializers: [ProtoReader] = []
    var infos: [(ProtoReader, Int)] = []  // (message, field) so input/output/value_info stay apart
    try within("graph") { () throws(FormatError) in
      while let f = try r.nextField() {
        switch f.number {
        case 1: nodes.append(try r.message(f))
        case 2: g.name = try r.string(f)
        case 5: initializers.append(try r.message(f))
        case 11, 12, 13: infos.append((try r.message(f), f.number))
        default: try r.skip(f)
        }
      }
    }
    for (i, m) in initializers.enumerated() {
      let raw = try within("initializer #\(i)") { () throws(FormatError) in try RawTensor(m) }
      g.initializers.append(try raw.decode())
    }
    for (i, m) in nodes.enumerated() {
      g.nodes.append(try decodeNode(m, index: i))
    }
    for (m, field) in infos {
      let kind = field == 11 ? "input" : field == 12 ? "output" : "value_info"
      let count = field == 11 ? g.inputs.count : field == 12 ? g.outputs.count : g.valueInfo.count
      let info = try valueInfo(m, kind: "graph \(kind)", index: count)
      switch field {
      case 11: g.inputs.append(info)
      case 12: g.outputs.append(info)
      default: g.valueInfo.append(info)
      }
    }
    return g
  }

  private static func decodeNode(_ message: ProtoReader, index: Int) throws(FormatError) -> OnnxNode {
    var r = message
    var node = OnnxNode(name: "", opType: "", domain: "", inputs: [], outputs: [], attributes: [])
    var attributes: [ProtoReader] = []
    try within("node #\(index)") { () throws(FormatError) in
      while let f = try r.nextField() {
        switch f.number {
        case 1: node.inputs.append(try r.string(f))
        case 2: node.outputs.append(try r.string(f))
        case 3: node.name = try r.string(f)
        case 4: node.opType = try r.string(f)
        case 5: attributes.append(try r.message(f))
        case 7: node.domain = try r.string(f)
        default: try r.skip(f)
        }
      }
    }
    let what = "node \(node.name.isEmpty ? "#\(index)" : quoted(node.name)) (\(quoted(node.opType)))"
    for (i, m) in attributes.enumerated() {
      node.attributes.append(try within(what) { () throws(FormatError) in try attribute(m, index: i) })
    }
    return node
  }

  private static func attribute(_ message: ProtoReader, index: Int) throws(FormatError) -> OnnxAttribute {
    var r = message
    var name = ""
    var type: Int32?
    var f32: Float?, i64: Int64?, s: String?, t: ProtoReader?
    var floats: [UInt64] = [], ints: [UInt64] = [], strings: [String] = []
    try within("attribute #\(index)") { () throws(FormatError) in
      while let f = try r.nextField() {
        switch f.number {
        case 1: name = try r.string(f)
        case 2: f32 = try r.float(f)
        case 3: i64 = try r.int64(f)
        case 4: s = try r.string(f)
        case 5: t = try r.message(f)
        case 7: try r.appendFixed(f, size: 4, to: &floats)
        case 8: try r.appendVarints(f, to: &ints)
        case 9: strings.append(try r.string(f))
        case 20: type = try r.int32(f)
        default: try r.skip(f)
        }
      }
    }
    // Writers before IR version 2 left out `type`; the field that is present says it then.
    var code = Int(type ?? 0)
    if code == 0 {
      let present = [f32 != nil, i64 != nil, s != nil, t != nil, !floats.isEmpty, !ints.isEmpty, !strings.isEmpty]
      code = zip([1, 2, 3, 4, 6, 7, 8], present).first { $0.1 }?.0 ?? 0
    }
    let value: OnnxAttribute.Value
    switch code {
    case 1: value = .float(f32 ?? 0)
    case 2: value = .int(i64 ?? 0)
    case 3: value = .string(s ?? "")
    case 4:
      guard let t else { throw FormatError("attribute \(quoted(name)) has type TENSOR but no tensor") }
      value = .tensor(try within("attribute \(quoted(name))") { () throws(FormatError) in try RawTensor(t).decode() })
    case 6: value = .floats(floats.map { Float(bitPattern: UInt32($0)) })
    case 7: value = .ints(ints.map { Int64(bitPattern: $0) })
    case 8: value = .strings(strings)
    default: value = .unsupported(type: code)
    }
    return OnnxAttribute(name: name, value: value)
  }

  private static func valueInfo(_ message: ProtoReader, kind: String, index: Int) throws(FormatError) -> OnnxValueInfo {
    var r = message
    var info = OnnxValueInfo(name: "")
    var type: ProtoReader?
    try within("\(kind) #\(index)") { () throws(FormatError) in
      while let f = try r.nextField() {
        switch f.number {
        case 1: info.name = try r.string(f)
        case 2: type = try r.message(f)
        default: try r.skip(f)
        }
      }
    }
    guard var type else { return info }
    // TypeProto: a oneof of which only tensor_type (1) matters to grucc.
    try within(info.name.isEmpty ? "\(kind) #\(index)" : "\(kind) \(quoted(info.name))") { () throws(FormatError) in
      while let f = try type.nextField() {
        if f.number == 1 {
          (info.elementType, info.shape) = try tensorType(type.message(f))
        } else {
          try type.skip(f)
        }
      }
    }
    return info
  }

  /// TypeProto.Tensor: elem_type (1) and shape (2), a TensorShapeProto of dims (1).
  private static func tensorType(_ message: ProtoReader) throws(FormatError) -> (OnnxDataType?, [OnnxDim]?) {
    var r = message
    var elementType: OnnxDataType?
    var shape: [OnnxDim]?
    while let f = try r.nextField() {
      switch f.number {
      case 1: elementType = OnnxDataType(rawValue: Int(try r.int32(f)))
      case 2:
        var s = try r.message(f)
        shape = []
        while let sf = try s.nextField() {
          if sf.number == 1 { shape!.append(try dimension(s.message(sf))) } else { try s.skip(sf) }
        }
      default: try r.skip(f)
      }
    }
    return (elementType, shape)
  }

  /// TensorShapeProto.Dimension: a oneof of dim_value (1) and dim_param (2).
  private static func dimension(_ message: ProtoReader) throws(FormatError) -> OnnxDim {
    var r = message
    var dim = OnnxDim.unknown
    while let f = try r.nextField() {
      switch f.number {
      case 1:
        let v = try r.int64(f)
        guard v >= 0 else { throw FormatError("dimension \(v) is negative") }
        dim = .fixed(Int(v))
      case 2:
        let p = try r.string(f)
        dim = p.isEmpty ? .unknown : .symbolic(p)
      default: try r.skip(f)
      }
    }
    return dim
  }
}

/// Runs `body`, prefixing any error with `context`.
private func within<T>(
  _ context: @autoclosure () -> String, _ body: () throws(FormatError) -> T
) throws(FormatError) -> T {
  do {
    return try body()
  } catch {
    throw error.prefixed(context())
  }
}

extension OnnxGraph {
  init() {
    self.init(name: "", nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [])
  }
}

extension OnnxValueInfo {
  init(name: String) {
    self.init(name: name, elementType: nil, shape: nil)
  }
}

/// A TensorProto's fields as found on the wire, before they are checked against each other.
private struct RawTensor {
  var name = ""
  var dims: [UInt64] = []
  var dataType: Int32 = 0
  var dataLocation: Int32 = 0
  var raw: ArraySlice<UInt8>?
  /// The typed data fields present, by field number (see `fieldNames`), as raw bits.
  var data: [Int: [UInt64]] = [:]
  var hasStrings = false
  /// external_data (13): StringStringEntryProto, key (1) and value (2).
  var externalEntries: [(key: String, value: String)] = []

  static let fieldNames = [4: "float_data", 5: "int32_data", 7: "int64_data", 10: "double_data", 11: "uint64_data"]

  init(_ message: ProtoReader) throws(FormatError) {
    var r = message
    while let f = try r.nextField() {
      switch f.number {
      case 1: try r.appendVarints(f, to: &dims)
      case 2: dataType = try r.int32(f)
      case 4: try r.appendFixed(f, size: 4, to: &data[4, default: []])
      case 5, 7, 11: try r.appendVarints(f, to: &data[f.number, default: []])
      case 6: _ = try r.bytes(f); hasStrings = true
      case 8: name = try r.string(f)
      case 9: raw = try r.bytes(f)
      case 10: try r.appendFixed(f, size: 8, to: &data[10, default: []])
      case 13:
        var entry = try r.message(f)
        var key = ""
        var value = ""
        while let e = try entry.nextField() {
          switch e.number {
          case 1: key = try entry.string(e)
          case 2: value = try entry.string(e)
          default: try entry.skip(e)
          }
        }
        externalEntries.append((key, value))
      case 14: dataLocation = try r.int32(f)
      default: try r.skip(f)
      }
    }
  }

  var what: String { name.isEmpty ? "tensor" : "tensor \(quoted(name))" }

  func decode() throws(FormatError) -> OnnxTensor {
    guard dataLocation == 0 || dataLocation == 1 else {
      throw FormatError("\(what) has unknown data_location \(dataLocation)")
    }
    guard let type = OnnxDataType(rawValue: Int(dataType)) else {
      throw FormatError(dataType == 0 ? "\(what) has no data type" : "\(what) has unknown data type \(dataType)")
    }
    var shape: [Int] = []
    for d in dims {
      guard let n = Int(exactly: Int64(bitPattern: d)), n >= 0 else {
        throw FormatError("\(what) has negative dimension \(Int64(bitPattern: d))")
      }
      shape.append(n)
    }
    guard let count = Checked.elementCount(shape) else {
      throw FormatError("\(what) has dims \(shapeText(shape)) whose size overflows")
    }
    var tensor = OnnxTensor(name: name, dims: shape, dataType: type, values: [])
    if dataLocation == 1 {
      let present = data.keys.sorted().map { Self.fieldNames[$0]! } + (raw == nil ? [] : ["raw_data"])
      if let field = present.first {
        throw FormatError("\(what) stores its data in an external file and in \(field)")
      }
      tensor.external = try OnnxExternalData(entries: externalEntries, tensor: what)
      return tensor
    }
    guard let kind = type.elementKind else { return tensor }

    let present =
      data.keys.sorted().map { Self.fieldNames[$0]! } + (raw == nil ? [] : ["raw_data"])
      + (hasStrings ? ["string_data"] : [])
    guard present.count <= 1 else {
      throw FormatError("\(what) has data in both \(present[0]) and \(present[1])")
    }
    if let raw {
      guard raw.count % kind.byteSize == 0, raw.count / kind.byteSize == count else {
        throw FormatError(
          "\(what) has \(raw.count) bytes of raw_data, but \(type.name) dims \(shapeText(shape)) need \(count) "
            + "elements of \(kind.byteSize) bytes")
      }
      tensor.values = try decodeRawElements(Array(raw), count: count, kind: kind, what: what)
    } else {
      let field = Self.dataField(type)
      if let other = present.first, other != Self.fieldNames[field] {
        throw FormatError(
          "\(what) stores \(type.name) data in \(other), expected \(Self.fieldNames[field]!) or raw_data")
      }
      let stored = data[field] ?? []
      guard stored.count == count else {
        throw FormatError(
          "\(what) has \(stored.count) values in \(Self.fieldNames[field]!), but dims \(shapeText(shape)) need \(count)"
        )
      }
      tensor.values = try convert(stored, field: field, kind: kind, type: type)
    }
    return tensor
  }

  /// The typed field onnx.proto assigns to each decoded type (16-bit floats as bit patterns).
  static func dataField(_ type: OnnxDataType) -> Int {
    switch type {
    case .float: 4
    case .int64: 7
    case .double: 10
    case .uint32, .uint64: 11
    default: 5
    }
  }

  private func convert(
    _ stored: [UInt64], field: Int, kind: ElementKind, type: OnnxDataType
  ) throws(FormatError) -> [Double] {
    var out = [Double]()
    out.reserveCapacity(stored.count)
    for bits in stored {
      switch field {
      case 4: out.append(Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits))))
      case 10: out.append(Double(bitPattern: bits))
      case 7: out.append(try exact(Int64(bitPattern: bits)))
      case 11:
        guard type == .uint64 || bits <= UInt64(UInt32.max) else {
          throw FormatError("\(what) has \(bits) in uint64_data, outside the range of UINT32")
        }
        out.append(try exact(bits))
      default:
        // int32_data carries every narrower type, 16-bit floats as their bit patterns.
        let v = Int64(Int32(truncatingIfNeeded: bits))
        let range: ClosedRange<Int64> =
          switch kind {
          case .int(let n): -(1 << (8 * n - 1))...((1 << (8 * n - 1)) - 1)
          case .uint(let n): 0...((1 << (8 * n)) - 1)
          case .bool: 0...1
          default: 0...0xFFFF
          }
        guard range.contains(v) else {
          throw FormatError("\(what) has \(v) in int32_data, outside the range of \(type.name)")
        }
        out.append(kind == .f16 || kind == .bf16 ? kind.toDouble(UInt64(v)) : Double(v))
      }
    }
    return out
  }

  private func exact(_ v: Int64) throws(FormatError) -> Double { try exactDouble(v, what: what) }
  private func exact(_ v: UInt64) throws(FormatError) -> Double { try exactDouble(v, what: what) }
}

/// Elements laid out as raw_data (little-endian, `kind`'s width), widened to Double. The caller
/// has checked that `bytes` holds exactly `count` of them.
private func decodeRawElements(
  _ bytes: [UInt8], count: Int, kind: ElementKind, what: String
) throws(FormatError) -> [Double] {
  var out = [Double]()
  out.reserveCapacity(count)
  for k in 0..<count {
    let bits = bytes.loadLE(at: k * kind.byteSize, size: kind.byteSize)
    switch kind {
    case .int(bytes: 8): out.append(try exactDouble(Int64(bitPattern: bits), what: what))
    case .uint(bytes: 8): out.append(try exactDouble(bits, what: what))
    default: out.append(kind.toDouble(bits))
    }
  }
  return out
}

/// grucc computes in Double. A 64-bit integer past 2^53 becomes the nearest double: exporters
/// write INT64_MAX for "to the end" of a Slice, and the importer checks every integer it uses as
/// an axis, index or size (`wholeNumber` refuses those past 2^53).
private func exactDouble(_ v: Int64, what: String) throws(FormatError) -> Double { Double(v) }
private func exactDouble(_ v: UInt64, what: String) throws(FormatError) -> Double { Double(v) }
