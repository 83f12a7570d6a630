// Tests for the protobuf decoder and the ONNX reader: a real file written by the onnx
// package, models built byte by byte with the small writer below, and hostile input.
import Foundation
import Testing

@testable import GruccCore

/// A tiny protobuf writer, so tests can build messages byte by byte without Python.
struct PB {
  var encoded: [UInt8] = []

  static func varint(_ value: UInt64) -> [UInt8] {
    var v = value
    var out: [UInt8] = []
    while v >= 0x80 {
      out.append(UInt8(v & 0x7F) | 0x80)
      v >>= 7
    }
    return out + [UInt8(v)]
  }

  static func key(_ field: Int, _ wireType: UInt8) -> [UInt8] { varint(UInt64(field) << 3 | UInt64(wireType)) }

  static func le(_ value: UInt64, _ size: Int) -> [UInt8] {
    var out: [UInt8] = []
    out.appendLE(value, size: size)
    return out
  }

  func raw(_ bytes: [UInt8]) -> PB { PB(encoded: encoded + bytes) }
  func varint(_ field: Int, _ v: UInt64) -> PB { raw(Self.key(field, 0) + Self.varint(v)) }
  func int(_ field: Int, _ v: Int64) -> PB { varint(field, UInt64(bitPattern: v)) }
  func fixed64(_ field: Int, _ v: UInt64) -> PB { raw(Self.key(field, 1) + Self.le(v, 8)) }
  func double(_ field: Int, _ v: Double) -> PB { fixed64(field, v.bitPattern) }
  func fixed32(_ field: Int, _ v: UInt32) -> PB { raw(Self.key(field, 5) + Self.le(UInt64(v), 4)) }
  func float(_ field: Int, _ v: Float) -> PB { fixed32(field, v.bitPattern) }
  func bytes(_ field: Int, _ b: [UInt8]) -> PB { raw(Self.key(field, 2) + Self.varint(UInt64(b.count)) + b) }
  func string(_ field: Int, _ s: String) -> PB { bytes(field, Array(s.utf8)) }
  func message(_ field: Int, _ m: PB) -> PB { bytes(field, m.encoded) }
  func packedInts(_ field: Int, _ vs: [Int64]) -> PB {
    bytes(field, vs.flatMap { Self.varint(UInt64(bitPattern: $0)) })
  }
  func packedFloats(_ field: Int, _ vs: [Float]) -> PB {
    bytes(field, vs.flatMap { Self.le(UInt64($0.bitPattern), 4) })
  }
  func packedDoubles(_ field: Int, _ vs: [Double]) -> PB { bytes(field, vs.flatMap { Self.le($0.bitPattern, 8) }) }

  /// Fields of every wire type under numbers no ONNX message uses, which readers must skip.
  func unknownFields() -> PB {
    varint(99, 300).fixed64(1000, 7).string(536_870_911, "skip me").fixed32(98, 1).message(97, PB().int(1, 5))
  }
}

/// Builders for ONNX messages; field numbers from onnx.proto.
enum ONNX {
  static func model(_ graph: PB, irVersion: Int64 = 8, opset: Int64? = 14) -> [UInt8] {
    var m = PB().int(1, irVersion).string(2, "tests").string(3, "0.1").message(7, graph)
    // Last, as onnx writes it; a model cut off anywhere before its end then lacks it.
    if let opset { m = m.message(8, PB().string(1, "").int(2, opset)) }
    return m.encoded
  }

  static func graph(
    nodes: [PB] = [], initializers: [PB] = [], inputs: [PB] = [], outputs: [PB] = [], valueInfo: [PB] = []
  ) -> PB {
    var g = PB()
    for n in nodes { g = g.message(1, n) }
    g = g.string(2, "g")
    for t in initializers { g = g.message(5, t) }
    for v in inputs { g = g.message(11, v) }
    for v in outputs { g = g.message(12, v) }
    for v in valueInfo { g = g.message(13, v) }
    return g
  }

  /// dims, data_type and name; the caller appends the data.
  static func tensor(_ name: String, _ type: Int, dims: [Int64]) -> PB {
    var t = PB()
    for d in dims { t = t.int(1, d) }
    return t.int(2, Int64(type)).string(8, name)
  }

  static func node(
    _ op: String, name: String = "n", inputs: [String] = [], outputs: [String] = [], attributes: [PB] = []
  ) -> PB {
    var n = PB()
    for i in inputs { n = n.string(1, i) }
    for o in outputs { n = n.string(2, o) }
    n = n.string(3, name).string(4, op)
    for a in attributes { n = n.message(5, a) }
    return n
  }

  /// name and type; the caller appends the value.
  static func attribute(_ name: String, type: Int64) -> PB { PB().string(1, name).int(20, type) }

  /// A tensor-typed ValueInfoProto; `dims` nil means no shape at all.
  static func valueInfo(_ name: String, elemType: Int64, dims: [PB]?) -> PB {
    var tensorType = PB().int(1, elemType)
    if let dims {
      var shape = PB()
      for d in dims { shape = shape.message(1, d) }
      tensorType = tensorType.message(2, shape)
    }
    return PB().string(1, name).message(2, PB().message(1, tensorType))
  }
}

@Suite struct OnnxTests {
  func readTensor(_ tensor: PB) throws(FormatError) -> OnnxTensor {
    try Onnx.read(ONNX.model(ONNX.graph(initializers: [tensor]))).graph.initializers[0]
  }

  func readAttribute(_ attribute: PB) throws(FormatError) -> OnnxAttribute.Value {
    let node = ONNX.node("Op", attributes: [attribute])
    return try Onnx.read(ONNX.model(ONNX.graph(nodes: [node]))).graph.nodes[0].attributes[0].value
  }

  // MARK: A real file from the onnx package

  @Test func readsRealGruModel() throws {
    let model = try Onnx.read(try Fixtures.bytes("onnx/gru_node.onnx"))
    #expect(model.irVersion == 8 && model.producerName == "grucc-fixtures" && model.producerVersion == "1.0")
    #expect(model.opsets == [OnnxOpset(domain: "", version: 14)])
    #expect(model.opsetVersion(domain: "ai.onnx") == 14 && model.opsetVersion(domain: "com.microsoft") == nil)
    let g = model.graph
    #expect(g.name == "gru_graph")
    #expect(g.nodes.map(\.opType) == ["GRU", "Transpose", "Constant"])

    let gru = g.nodes[0]
    #expect(gru.name == "gru" && gru.domain == "")
    #expect(gru.inputs == ["X", "W", "R", "B", "", ""] && gru.outputs == ["Y", "Y_h"])
    #expect(
      gru.attributes.map(\.name) == [
        "activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size", "layout",
        "linear_before_reset",
      ])
    #expect(gru.attribute("activation_alpha")?.value == .floats([0.5, 1.25]))
    #expect(gru.attribute("activation_beta")?.value == .floats([0, -2]))
    #expect(gru.attribute("activations")?.value == .strings(["Sigmoid", "Tanh"]))
    #expect(gru.attribute("clip")?.value == .float(2.5))
    #expect(gru.attribute("direction")?.value == .string("forward"))
    #expect(gru.attribute("hidden_size")?.value == .int(3))
    #expect(gru.attribute("layout")?.value == .int(0))
    #expect(gru.attribute("linear_before_reset")?.value == .int(1))
    #expect(gru.attribute("missing") == nil)
    #expect(g.nodes[1].attribute("perm")?.value == .ints([1, 0, 2]))
    #expect(
      g.nodes[2].attribute("value")?.value
        == .tensor(OnnxTensor(name: "c", dims: [2], dataType: .float, values: [0.25, -8])))

    #expect(
      g.inputs == [OnnxValueInfo(name: "X", elementType: .float, shape: [.symbolic("seq_len"), .fixed(1), .fixed(2)])])
    #expect(
      g.outputs == [
        OnnxValueInfo(name: "H", elementType: .float, shape: [.fixed(1), .fixed(1), .fixed(3)]),
        OnnxValueInfo(name: "C", elementType: .float, shape: [.fixed(2)]),
      ])
    #expect(
      g.valueInfo == [
        OnnxValueInfo(name: "Y", elementType: .float, shape: [.symbolic("seq_len"), .fixed(1), .fixed(1), .fixed(3)]),
        OnnxValueInfo(name: "Y_h", elementType: .float, shape: nil),
      ])

    // Every initializer against the values the generating script wrote out.
    let text = try String(contentsOfFile: Fixtures.directory + "/onnx/gru_node.expected.txt", encoding: .utf8)
    let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
    #expect(lines.count == g.initializers.count)
    for (line, t) in zip(lines, g.initializers) {
      let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      #expect(t.name == f[0] && t.dataType.name == f[1])
      #expect(t.dims == (f[2].isEmpty ? [] : f[2].split(separator: ",").map { Int($0)! }), "\(t.name)")
      #expect(sameValues(t.values, f[3].split(separator: " ").map { Double(String($0))! }), "\(t.name)")
    }
    #expect(g.initializer(named: "counter")?.dims == [] && g.initializer(named: "counter")?.values == [5])
    #expect(g.initializer(named: "nope") == nil)
    #expect(try g.initializer(named: "W")!.namedTensor().dtype == .f32)
    #expect(try g.initializer(named: "scale")!.namedTensor().dtype == .f64)
    #expect(try g.initializer(named: "half")!.namedTensor().dtype == .f16)
    #expect(try g.initializer(named: "bf16")!.namedTensor().dtype == .bf16)
    #expect(
      try g.initializer(named: "counter")!.namedTensor()
        == NamedTensor(name: "counter", dtype: .i32, shape: [], values: [5]))
    #expect(try g.initializer(named: "steps")!.namedTensor().shape == [2, 2])

    let url = URL(fileURLWithPath: Fixtures.directory + "/onnx/gru_node.onnx")
    #expect(try Onnx.read(contentsOf: url) == model)
  }

  @Test func realModelCutAnywhereIsAnError() throws {
    let bytes = try Fixtures.bytes("onnx/gru_node.onnx")
    for n in 0..<bytes.count {
      #expect(throws: FormatError.self, "cut at \(n)") { try Onnx.read(Array(bytes[..<n])) }
    }
    let rejected = fuzz(bytes, positions: samplePositions(count: bytes.count, samples: 200), randomRounds: 500) {
      _ = try Onnx.read($0)
    }
    #expect(rejected > 200)
  }

  @Test func readFileErrors() {
    expectError("cannot read the file: no such file") {
      _ = try Onnx.read(contentsOf: URL(fileURLWithPath: "/nonexistent/grucc/model.onnx"))
    }
    expectError("cannot read the file: it is a directory") {
      _ = try Onnx.read(contentsOf: URL(fileURLWithPath: Fixtures.directory))
    }
  }

  // MARK: Wire format

  @Test func unknownFieldsOfEveryWireTypeAreSkipped() throws {
    let tensor = ONNX.tensor("t", 1, dims: [2]).float(4, 1).float(4, 2)
    let attribute = ONNX.attribute("a", type: 2).int(3, 7)
    let plain = ONNX.model(
      ONNX.graph(
        nodes: [ONNX.node("Relu", inputs: ["x"], outputs: ["y"], attributes: [attribute])], initializers: [tensor],
        inputs: [ONNX.valueInfo("x", elemType: 1, dims: [PB().int(1, 2)])]))
    let noisy =
      ONNX.model(
        ONNX.graph(
          nodes: [
            ONNX.node("Relu", inputs: ["x"], outputs: ["y"], attributes: [attribute.unknownFields()]).unknownFields()
          ],
          initializers: [tensor.unknownFields()],
          inputs: [ONNX.valueInfo("x", elemType: 1, dims: [PB().int(1, 2).unknownFields()]).unknownFields()]
        ).unknownFields()
      ) + PB().unknownFields().encoded
    #expect(try Onnx.read(noisy) == Onnx.read(plain))
    #expect(try Onnx.read(plain).graph.initializers[0].values == [1, 2])
  }

  @Test func repeatedScalarsPackedOrNot() throws {
    // dims packed, float_data in two packed runs and one single value, in any mix.
    let t = PB().packedInts(1, [2, 2]).int(2, 1).packedFloats(4, [1, 2]).float(4, 3).packedFloats(4, [4]).string(8, "t")
    #expect(try readTensor(t) == OnnxTensor(name: "t", dims: [2, 2], dataType: .float, values: [1, 2, 3, 4]))
    let i64 = ONNX.tensor("i", 7, dims: [3]).int(7, -1).packedInts(7, [2, -(1 << 53)])
    #expect(try readTensor(i64).values == [-1, 2, -0x1p53])
    let d = ONNX.tensor("d", 11, dims: [3]).packedDoubles(10, [0.1]).double(10, -0.0).double(10, 1e-300)
    #expect(sameValues(try readTensor(d).values, [0.1, -0.0, 1e-300]))
    let floats = ONNX.attribute("f", type: 6).packedFloats(7, [0.5]).float(7, -1)
    #expect(try readAttribute(floats) == .floats([0.5, -1]))
    let ints = ONNX.attribute("i", type: 7).int(8, -3).packedInts(8, [4, Int64.max])
    #expect(try readAttribute(ints) == .ints([-3, 4, Int64.max]))
  }

  @Test func varintLimits() throws {
    // Ten-byte varints: the largest value, and a negative int32 sign-extended as protobuf writes it.
    let max = PB().varint(1, UInt64.max)
    #expect(max.encoded.count == 11)
    var r = ProtoReader(max.encoded)
    #expect(try r.int64(try r.nextField()!) == -1)
    #expect(try r.nextField() == nil)
    let int32 = ONNX.tensor("n", 6, dims: [2]).int(5, -2_147_483_648).int(5, -1)
    #expect(try readTensor(int32).values == [-2_147_483_648, -1])

    let key: [UInt8] = [0x08]
    expectError("varint at byte 1 overflows 64 bits") {
      var r = ProtoReader(key + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02])
      _ = try r.int64(try r.nextField()!)
    }
    expectError("varint at byte 1 overflows 64 bits") {  // eleven bytes
      var r = ProtoReader(key + [UInt8](repeating: 0x80, count: 10) + [0x00])
      _ = try r.int64(try r.nextField()!)
    }
    expectError("truncated: a varint at byte 1") {
      var r = ProtoReader(key + [0x80, 0x80])
      _ = try r.int64(try r.nextField()!)
    }
  }

  @Test func wireErrors() {
    func scan(_ bytes: [UInt8]) throws(FormatError) {
      var r = ProtoReader(bytes)
      while let f = try r.nextField() { try r.skip(f) }
    }
    expectError("invalid field number 0 at byte 0") { try scan([0x00, 0x01]) }
    expectError("invalid wire type 6 at byte 0") { try scan([0x0E]) }
    expectError("invalid wire type 7 at byte 2") { try scan([0x08, 0x01, 0x0F]) }
    expectError("field 1 at byte 0 uses the group encoding") { try scan([0x0B, 0x0C]) }
    expectError("field 2 at byte 0 uses the group encoding") { try scan([0x14]) }
    expectError("invalid field number 536870912") { try scan(PB.key(536_870_912, 0) + [0]) }
    expectError("truncated: a 64-bit value at byte 1") { try scan([0x09, 1, 2, 3]) }
    expectError("truncated: a 32-bit value at byte 1") { try scan([0x0D, 1, 2, 3]) }
    expectError("truncated: a length-delimited field at byte 1 declares 5 bytes but only 2 are left") {
      try scan([0x0A, 0x05, 1, 2])
    }
    expectError("declares 9223372036854775808 bytes") { try scan([0x0A] + PB.varint(1 << 63)) }
    // A sub-message cannot read past its own end even when the file goes on.
    expectError("runs past the end of its message at byte 3") {
      var r = ProtoReader([0x0A, 0x01, 0x08, 0x01, 0x01])
      var m = try r.message(try r.nextField()!)
      _ = try m.int64(try m.nextField()!)
    }
    expectError("field 1 at byte 0 has wire type 32-bit, expected varint") {
      var r = ProtoReader(PB().fixed32(1, 0).encoded)
      _ = try r.int64(try r.nextField()!)
    }
    expectError("packed field 1 at byte 0 has 3 bytes, not a multiple of 4") {
      var r = ProtoReader(PB().bytes(1, [1, 2, 3]).encoded)
      var out: [UInt64] = []
      try r.appendFixed(try r.nextField()!, size: 4, to: &out)
    }
    expectError("field 1 at byte 0 is not valid UTF-8 (bad byte at 3)") {
      var r = ProtoReader(PB().bytes(1, [0x61, 0xC0, 0x80]).encoded)
      _ = try r.string(try r.nextField()!)
    }
  }

  @Test func nestingDepthIsBounded() throws {
    func nested(_ depth: Int) -> [UInt8] {
      var m = PB()
      for _ in 0..<depth { m = PB().message(1, m) }
      return m.encoded
    }
    func descend(_ bytes: [UInt8]) throws(FormatError) -> Int {
      var r = ProtoReader(bytes)
      var levels = 0
      while let f = try r.nextField() {
        r = try r.message(f)
        levels += 1
      }
      return levels
    }
    #expect(try descend(nested(64)) == 64)
    expectError("messages nest more than 64 deep") { _ = try descend(nested(65)) }
  }

  // MARK: Tensors

  @Test func everyTypedDataField() throws {
    func values(_ type: Int, _ build: (PB) -> PB) throws(FormatError) -> [Double] {
      try readTensor(build(ONNX.tensor("t", type, dims: [2]))).values
    }
    #expect(try values(1) { $0.float(4, 0.1).float(4, -.infinity) } == [Double(Float(0.1)), -.infinity])
    #expect(try values(2) { $0.int(5, 0).int(5, 255) } == [0, 255])  // UINT8
    #expect(try values(3) { $0.int(5, -128).int(5, 127) } == [-128, 127])  // INT8
    #expect(try values(4) { $0.int(5, 65535).int(5, 1) } == [65535, 1])  // UINT16
    #expect(try values(5) { $0.int(5, -32768).int(5, 32767) } == [-32768, 32767])  // INT16
    #expect(try values(6) { $0.int(5, Int64(Int32.min)).int(5, Int64(Int32.max)) } == [-0x1p31, 0x1p31 - 1])
    #expect(try values(7) { $0.int(7, -(1 << 53)).int(7, 1 << 53) } == [-0x1p53, 0x1p53])
    #expect(try values(9) { $0.int(5, 1).int(5, 0) } == [1, 0])  // BOOL
    #expect(try values(10) { $0.int(5, 0x3C00).int(5, 0xFBFF) } == [1, -65504])  // FLOAT16 bits
    #expect(try values(11) { $0.double(10, 0.1).double(10, .leastNonzeroMagnitude) } == [0.1, .leastNonzeroMagnitude])
    #expect(try values(12) { $0.varint(11, 0).varint(11, 4_294_967_295) } == [0, 4_294_967_295])  // UINT32
    #expect(try values(13) { $0.varint(11, 1 << 53).varint(11, 1 << 63) } == [0x1p53, 0x1p63])  // UINT64
    #expect(try values(16) { $0.int(5, 0x3F80).int(5, 0xC020) } == [1, -2.5])  // BFLOAT16 bits
  }

  @Test func rawDataOfEveryWidth() throws {
    func values(_ type: Int, _ raw: [UInt8], dims: [Int64] = [2]) throws(FormatError) -> [Double] {
      try readTensor(ONNX.tensor("t", type, dims: dims).bytes(9, raw)).values
    }
    let le = PB.le
    #expect(
      try values(1, le(UInt64(Float(1.5).bitPattern), 4) + le(UInt64(Float(-0.1).bitPattern), 4)) == [
        1.5, Double(Float(-0.1)),
      ])
    #expect(try values(11, le(Double(0.1).bitPattern, 8) + le(Double(-1e300).bitPattern, 8)) == [0.1, -1e300])
    #expect(try values(10, [0x00, 0x3C, 0x01, 0x00]) == [1, 0x1p-24])  // FLOAT16
    #expect(try values(16, [0x80, 0x3F, 0x20, 0xC0]) == [1, -2.5])  // BFLOAT16
    #expect(try values(6, le(UInt64(bitPattern: -5), 4) + le(7, 4)) == [-5, 7])  // INT32
    #expect(try values(7, le(UInt64(bitPattern: -(1 << 53)), 8) + le(1 << 40, 8)) == [-0x1p53, 0x1p40])  // INT64
    #expect(try values(13, le(1 << 63, 8) + le(3, 8)) == [0x1p63, 3])  // UINT64
    #expect(try values(3, [0x80, 0x7F]) == [-128, 127])  // INT8
    #expect(try values(2, [0xFF, 0x00]) == [255, 0])  // UINT8
    #expect(try values(9, [0x01, 0x00]) == [1, 0])  // BOOL
    #expect(try values(1, le(UInt64(Float(2).bitPattern), 4), dims: []) == [2])  // scalar
    #expect(try values(1, [], dims: [0, 5]) == [])
  }

  @Test func tensorsNotDecoded() throws {
    // STRING, complex and 8-bit float tensors keep their dims and type but no values.
    let s = try readTensor(ONNX.tensor("s", 8, dims: [2]).string(6, "a").string(6, "b"))
    #expect(s == OnnxTensor(name: "s", dims: [2], dataType: .string, values: []))
    #expect(try readTensor(ONNX.tensor("c", 14, dims: [1]).float(4, 1).float(4, 2)).values == [])
    #expect(try readTensor(ONNX.tensor("f8", 17, dims: [2]).bytes(9, [1, 2])).dataType == .float8e4m3fn)
    #expect(OnnxDataType.float8e4m3fn.name == "FLOAT8E4M3FN" && OnnxDataType.bfloat16.name == "BFLOAT16")
    #expect(OnnxDataType.allCases.map(\.rawValue) == Array(1...28))
    #expect(OnnxDataType.float6e3m2.name == "FLOAT6E3M2" && OnnxDataType.uint64.name == "UINT64")
    expectError("tensor 's' has data type STRING; grucc reads FLOAT, FLOAT16") { _ = try s.namedTensor() }
    expectError("tensor 'b' has data type INT8") {
      _ = try readTensor(ONNX.tensor("b", 3, dims: [1]).int(5, 1)).namedTensor()
    }
  }

  @Test func tensorErrors() {
    let t = { (type: Int, dims: [Int64]) in ONNX.tensor("w", type, dims: dims) }
    expectError("tensor 'w' has 3 values in float_data, but dims [2, 2] need 4") {
      _ = try readTensor(t(1, [2, 2]).packedFloats(4, [1, 2, 3]))
    }
    expectError("tensor 'w' has 0 values in float_data, but dims [1099511627776] need 1099511627776") {
      _ = try readTensor(t(1, [1 << 40]))
    }
    expectError("tensor 'w' has 0 values in int64_data, but dims [] need 1") { _ = try readTensor(t(7, [])) }
    expectError("tensor 'w' has negative dimension -3") { _ = try readTensor(t(1, [2, -3])) }
    expectError("tensor 'w' has dims [4611686018427387904, 4] whose size overflows") {
      _ = try readTensor(t(1, [1 << 62, 4]))
    }
    expectError("tensor 'w' has 6 bytes of raw_data, but FLOAT dims [2] need 2 elements of 4 bytes") {
      _ = try readTensor(t(1, [2]).bytes(9, [0, 0, 0, 0, 0, 0]))
    }
    expectError("tensor 'w' has 0 bytes of raw_data, but DOUBLE dims [4611686018427387903, 2] need") {
      _ = try readTensor(t(11, [(1 << 62) - 1, 2]).bytes(9, []))
    }
    expectError("tensor 'w' has no data type") { _ = try readTensor(PB().int(1, 1).string(8, "w").float(4, 1)) }
    expectError("tensor 'w' has unknown data type 99") { _ = try readTensor(t(99, [1])) }
    expectError("tensor 'w' has data in both float_data and raw_data") {
      _ = try readTensor(t(1, [1]).float(4, 1).bytes(9, [0, 0, 0, 0]))
    }
    expectError("tensor 'w' stores INT64 data in float_data, expected int64_data or raw_data") {
      _ = try readTensor(t(7, [1]).float(4, 1))
    }
    expectError("tensor 'w' stores FLOAT data in string_data") { _ = try readTensor(t(1, [1]).string(6, "x")) }
    expectError("tensor 'w' has 300 in int32_data, outside the range of UINT8") {
      _ = try readTensor(t(2, [1]).int(5, 300))
    }
    expectError("tensor 'w' has -129 in int32_data, outside the range of INT8") {
      _ = try readTensor(t(3, [1]).int(5, -129))
    }
    expectError("tensor 'w' has 2 in int32_data, outside the range of BOOL") { _ = try readTensor(t(9, [1]).int(5, 2)) }
    expectError("tensor 'w' has 65536 in int32_data, outside the range of FLOAT16") {
      _ = try readTensor(t(10, [1]).int(5, 65536))
    }
    expectError("tensor 'w' has 4294967296 in uint64_data, outside the range of UINT32") {
      _ = try readTensor(t(12, [1]).varint(11, 1 << 32))
    }
    expectError("tensor 'w' has unknown data_location 2") { _ = try readTensor(t(1, [0]).int(14, 2)) }
    expectError("initializer #1: field 4 at byte") {
      _ = try Onnx.read(ONNX.model(ONNX.graph(initializers: [t(1, [0]), t(1, [1]).int(4, 1)])))
    }
  }

  /// Integers past 2^53 are rounded, not refused: exporters write INT64_MAX for "to the end" of
  /// a Slice, and the importer checks every integer it uses as one (wholeNumber).
  @Test func hugeIntegersAreRounded() throws {
    let t = { (type: Int, dims: [Int64]) in ONNX.tensor("w", type, dims: dims) }
    #expect(try readTensor(t(7, [1]).int(7, (1 << 53) + 1)).values == [9_007_199_254_740_992])
    #expect(try readTensor(t(7, [1]).bytes(9, PB.le(UInt64(Int64.max), 8))).values == [9_223_372_036_854_775_808])
    #expect(try readTensor(t(7, [1]).bytes(9, PB.le(UInt64(bitPattern: Int64.min), 8))).values == [-9_223_372_036_854_775_808])
    #expect(try readTensor(t(13, [1]).varint(11, UInt64.max)).values == [18_446_744_073_709_551_616])
    #expect(wholeNumber(9_007_199_254_740_992) == nil && wholeNumber(9_007_199_254_740_991) == 9_007_199_254_740_991)
  }

  // MARK: External data

  static func external(_ entries: [(String, String)], dims: [Int64] = [3, 4], type: Int = 1) -> PB {
    var tensor = ONNX.tensor("W", type, dims: dims)
    for (k, v) in entries { tensor = tensor.message(13, PB().string(1, k).string(2, v)) }
    return tensor.int(14, 1)
  }

  @Test func externalDataReferences() throws {
    let t = try readTensor(Self.external([("location", "model.onnx.data"), ("offset", "288"), ("length", "48"), ("basepath", "x")]))
    #expect(t.values.isEmpty)
    #expect(t.external?.location == "model.onnx.data" && t.external?.offset == 288 && t.external?.length == 48)
    let plain = try readTensor(Self.external([("location", "sub/dir/w.bin")]))
    #expect(plain.external?.offset == 0 && plain.external?.length == nil)
    expectError("tensor 'W' stores its data in the external file 'w.bin', which was not read") {
      _ = try readTensor(Self.external([("location", "w.bin")])).namedTensor()
    }
  }

  @Test func externalDataReferenceErrors() {
    expectError("tensor 'W' stores its data in an external file but names none (no 'location' entry)") {
      _ = try readTensor(Self.external([("offset", "0")]))
    }
    expectError("tensor 'W' has external data location '/etc/passwd', an absolute path; grucc reads only files inside the model's folder") {
      _ = try readTensor(Self.external([("location", "/etc/passwd")]))
    }
    expectError("tensor 'W' has external data location '../secret.bin', which leaves the folder through '..'") {
      _ = try readTensor(Self.external([("location", "../secret.bin")]))
    }
    expectError("location 'a/../../b', which leaves the folder through '..'") {
      _ = try readTensor(Self.external([("location", "a/../../b")]))
    }
    expectError("which contains a backslash or a control character") {
      _ = try readTensor(Self.external([("location", "C:\\w.bin")]))
    }
    expectError("tensor 'W' has external data offset '-4', which is not a byte count") {
      _ = try readTensor(Self.external([("location", "w.bin"), ("offset", "-4")]))
    }
    expectError("tensor 'W' has external data length '99999999999999999999999', which is not a byte count") {
      _ = try readTensor(Self.external([("location", "w.bin"), ("length", "99999999999999999999999")]))
    }
    expectError("tensor 'W' stores its data in an external file and in raw_data") {
      _ = try readTensor(Self.external([("location", "w.bin")]).bytes(9, [0, 0, 0, 0]))
    }
  }

  /// An external file in memory, for the range checks.
  struct MemoryFile: OnnxExternalFile {
    var bytes: [UInt8]
    var size: Int { bytes.count }
    func read(offset: Int, count: Int) throws(FormatError) -> [UInt8] { Array(bytes[offset..<(offset + count)]) }
  }

  func load(_ tensor: PB, file: [UInt8]) throws(FormatError) -> OnnxTensor {
    var model = try Onnx.read(ONNX.model(ONNX.graph(initializers: [tensor])))
    try model.loadExternalData { (_: String) throws(FormatError) -> any OnnxExternalFile in MemoryFile(bytes: file) }
    return model.graph.initializers[0]
  }

  @Test func externalDataIsRead() throws {
    let floats: [Float] = [1.5, -2, 0.25]
    let file = [UInt8](repeating: 7, count: 5) + floats.flatMap { PB.le(UInt64($0.bitPattern), 4) } + [9]
    let t = try load(Self.external([("location", "w.bin"), ("offset", "5"), ("length", "12")], dims: [3]), file: file)
    #expect(t.values == [1.5, -2, 0.25] && t.external == nil)
    // Without a length, the tensor's own size is read.
    #expect(try load(Self.external([("location", "w.bin"), ("offset", "5")], dims: [3]), file: file).values == [1.5, -2, 0.25])
    // A checksum is the whole file's SHA-1.
    var sha = SHA1()
    sha.update(file)
    let digest = sha.hexDigest()
    #expect(try load(Self.external([("location", "w.bin"), ("offset", "5"), ("checksum", digest.uppercased())], dims: [3]), file: file).values.count == 3)
  }

  @Test func externalDataRangesAreChecked() {
    let file = [UInt8](repeating: 0, count: 100)
    expectError("tensor 'W': external data at offset 96, 8 bytes, runs past the end of 'w.bin' (100 bytes)") {
      _ = try load(Self.external([("location", "w.bin"), ("offset", "96")], dims: [2]), file: file)
    }
    expectError("tensor 'W': external data at offset 9223372036854775807, 4 bytes, runs past the end of 'w.bin' (100 bytes)") {
      _ = try load(Self.external([("location", "w.bin"), ("offset", "9223372036854775807")], dims: [1]), file: file)
    }
    expectError("tensor 'W': external data at offset 0, 12 bytes, but FLOAT dims [2] need 8 bytes") {
      _ = try load(Self.external([("location", "w.bin"), ("length", "12")], dims: [2]), file: file)
    }
    expectError("tensor 'W': external data at offset 0, 4611686018427387904 bytes, runs past the end") {
      _ = try load(Self.external([("location", "w.bin")], dims: [1 << 60]), file: file)
    }
    expectError("tensor 'W': external data file 'w.bin' has SHA-1 ", ", but the model's checksum is 'abc'") {
      _ = try load(Self.external([("location", "w.bin"), ("checksum", "abc")], dims: [1]), file: file)
    }
    expectError("tensor 'W': external data file 'w.bin': cannot open it: no such file") {
      var model = try Onnx.read(ONNX.model(ONNX.graph(initializers: [Self.external([("location", "w.bin")])])))
      try model.loadExternalData { (_: String) throws(FormatError) -> any OnnxExternalFile in
        throw FormatError("cannot open it: no such file")
      }
    }
  }

  @Test func sha1KnownAnswers() {
    func digest(_ s: String) -> String {
      var sha = SHA1()
      sha.update(Array(s.utf8))
      return sha.hexDigest()
    }
    // FIPS 180 examples, and the empty message.
    #expect(digest("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    #expect(digest("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d")
    #expect(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
    var sha = SHA1()
    for _ in 0..<1000 { sha.update(Array(repeating: UInt8(ascii: "a"), count: 1000)) }
    #expect(sha.hexDigest() == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
  }

  // MARK: Attributes, nodes and value infos

  @Test func attributesOfEveryKind() throws {
    let a = { (name: String, type: Int64) in ONNX.attribute(name, type: type) }
    #expect(try readAttribute(a("f", 1).float(2, -0.25)) == .float(-0.25))
    #expect(try readAttribute(a("i", 2).int(3, -7)) == .int(-7))
    #expect(try readAttribute(a("s", 3).string(4, "reverse")) == .string("reverse"))
    let tensor = ONNX.tensor("", 6, dims: [2]).int(5, 1).int(5, -1)
    #expect(
      try readAttribute(a("t", 4).message(5, tensor))
        == .tensor(OnnxTensor(name: "", dims: [2], dataType: .int32, values: [1, -1])))
    #expect(try readAttribute(a("fs", 6).float(7, 1).float(7, 2)) == .floats([1, 2]))
    #expect(try readAttribute(a("is", 7).int(8, 1).int(8, 2)) == .ints([1, 2]))
    #expect(try readAttribute(a("ss", 8).string(9, "Sigmoid").string(9, "")) == .strings(["Sigmoid", ""]))
    #expect(try readAttribute(a("empty", 7)) == .ints([]))  // onnx writes nothing for an empty list
    #expect(try readAttribute(a("g", 5).message(6, ONNX.graph())) == .unsupported(type: 5))
    #expect(try readAttribute(a("ts", 9).message(10, tensor)) == .unsupported(type: 9))
    #expect(try readAttribute(a("sp", 11).message(22, PB())) == .unsupported(type: 11))
    #expect(try readAttribute(a("tp", 13).message(14, PB())) == .unsupported(type: 13))
    #expect(
      OnnxAttribute.Value.unsupported(type: 5).typeName == "GRAPH" && OnnxAttribute.Value.ints([]).typeName == "INTS")
    // A bad tensor inside an attribute nobody decodes (a graph's) is not an error.
    #expect(try readAttribute(a("g", 5).message(5, ONNX.tensor("x", 99, dims: [-1]))) == .unsupported(type: 5))
    // Without `type` (IR version 1) the field present decides.
    #expect(try readAttribute(PB().string(1, "old").int(3, 4)) == .int(4))
    #expect(try readAttribute(PB().string(1, "old").float(7, 4)) == .floats([4]))
    #expect(try readAttribute(PB().string(1, "none")) == .unsupported(type: 0))
  }

  @Test func nodeFields() throws {
    let node = ONNX.node("GRU", name: "g1", inputs: ["X", "W", "R", ""], outputs: ["", "Y_h"]).string(7, "ai.onnx")
    let n = try Onnx.read(ONNX.model(ONNX.graph(nodes: [node]))).graph.nodes[0]
    #expect(
      n
        == OnnxNode(
          name: "g1", opType: "GRU", domain: "ai.onnx", inputs: ["X", "W", "R", ""], outputs: ["", "Y_h"],
          attributes: []))
  }

  @Test func attributeErrorsNameTheNode() {
    let gru = { (a: PB) in
      ONNX.model(ONNX.graph(nodes: [ONNX.node("Relu"), ONNX.node("GRU", name: "rnn", attributes: [a])]))
    }
    expectError("node 'rnn' ('GRU'): attribute 'clip' has type TENSOR but no tensor") {
      _ = try Onnx.read(gru(ONNX.attribute("clip", type: 4)))
    }
    expectError("node 'rnn' ('GRU'): attribute 'w': tensor 'x' has 0 values") {
      _ = try Onnx.read(gru(ONNX.attribute("w", type: 4).message(5, ONNX.tensor("x", 1, dims: [1]))))
    }
    expectError("node 'rnn' ('GRU'): attribute #0: field 3 at byte", "has wire type 32-bit, expected varint") {
      _ = try Onnx.read(gru(ONNX.attribute("hidden_size", type: 2).float(3, 1)))
    }
    expectError("node #1: field 3 at byte", "has wire type varint, expected length-delimited") {
      _ = try Onnx.read(ONNX.model(ONNX.graph(nodes: [ONNX.node("Relu"), PB().int(3, 1)])))
    }
  }

  @Test func valueInfos() throws {
    let x = ONNX.valueInfo("x", elemType: 1, dims: [PB().string(2, "batch"), PB().int(1, 5), PB(), PB().string(2, "")])
    let scalar = ONNX.valueInfo("s", elemType: 11, dims: [])
    let noShape = ONNX.valueInfo("n", elemType: 10, dims: nil)
    let odd = ONNX.valueInfo("u", elemType: 1000, dims: [PB().int(1, 0)])
    let sequence = PB().string(1, "seq").message(2, PB().message(4, PB().message(1, PB())))
    let untyped = PB().string(1, "bare")
    let g = try Onnx.read(
      ONNX.model(ONNX.graph(inputs: [x, scalar], outputs: [noShape], valueInfo: [odd, sequence, untyped]))
    ).graph
    #expect(
      g.inputs == [
        OnnxValueInfo(name: "x", elementType: .float, shape: [.symbolic("batch"), .fixed(5), .unknown, .unknown]),
        OnnxValueInfo(name: "s", elementType: .double, shape: []),
      ])
    #expect(g.outputs == [OnnxValueInfo(name: "n", elementType: .float16, shape: nil)])
    #expect(
      g.valueInfo == [
        OnnxValueInfo(name: "u", elementType: nil, shape: [.fixed(0)]),
        OnnxValueInfo(name: "seq", elementType: nil, shape: nil),
        OnnxValueInfo(name: "bare", elementType: nil, shape: nil),
      ])
    expectError("graph output 'y': dimension -1 is negative") {
      _ = try Onnx.read(ONNX.model(ONNX.graph(outputs: [ONNX.valueInfo("y", elemType: 1, dims: [PB().int(1, -1)])])))
    }
    expectError("graph value_info #1: field 1 at byte", "has wire type varint, expected length-delimited") {
      _ = try Onnx.read(ONNX.model(ONNX.graph(valueInfo: [untyped, PB().int(1, 3)])))
    }
    expectError("graph input #0: dimension -2 is negative") {
      _ = try Onnx.read(ONNX.model(ONNX.graph(inputs: [ONNX.valueInfo("", elemType: 1, dims: [PB().int(1, -2)])])))
    }
  }

  // MARK: Whole models

  @Test func modelFields() throws {
    let model = try Onnx.read(ONNX.model(ONNX.graph(), irVersion: 2, opset: nil))
    let empty = OnnxGraph(name: "g", nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [])
    #expect(model == OnnxModel(irVersion: 2, producerName: "tests", producerVersion: "0.1", opsets: [], graph: empty))
    let two = PB().int(1, 9).message(7, ONNX.graph()).message(8, PB().int(2, 21)).message(
      8, PB().string(1, "ai.onnx.ml").int(2, 3))
    let m = try Onnx.read(two.encoded)
    #expect(m.opsets == [OnnxOpset(domain: "", version: 21), OnnxOpset(domain: "ai.onnx.ml", version: 3)])
    #expect(m.opsetVersion(domain: "") == 21 && m.opsetVersion(domain: "ai.onnx.ml") == 3)
  }

  @Test func notAModel() throws {
    expectError("not an ONNX model: the file is empty") { _ = try Onnx.read([]) }
    expectError("not an ONNX model (or a truncated one): field 1250 at byte 0 uses the group encoding") {
      _ = try Onnx.read(try Fixtures.bytes("f4_2x3.npy"))
    }
    expectError("not an ONNX model") { _ = try Onnx.read(Array("hello world\n".utf8)) }
    expectError("not an ONNX model") { _ = try Onnx.read(Array("{\"a\": [1, 2]}".utf8)) }
    expectError("not an ONNX model") { _ = try Onnx.read(try Fixtures.bytes("st_f32.safetensors")) }
    expectError("not an ONNX model") { _ = try Onnx.read(try Fixtures.bytes("stored.npz")) }
    expectError(
      "not an ONNX model (or a truncated one): field 7 at byte 0 has wire type varint, expected length-delimited"
    ) {
      _ = try Onnx.read(PB().int(7, 1).encoded)
    }
    expectError("not an ONNX model: it has no graph") { _ = try Onnx.read(PB().int(1, 8).encoded) }
    expectError("model has IR version 8 but no opset_import (is the file truncated?)") {
      _ = try Onnx.read(ONNX.model(ONNX.graph(), opset: nil))
    }
  }

  @Test func smallModelCutAnywhereIsAnError() {
    let node = ONNX.node(
      "GRU", inputs: ["X", "W", "R"], outputs: ["Y"], attributes: [ONNX.attribute("hidden_size", type: 2).int(3, 1)])
    let w = ONNX.tensor("W", 1, dims: [1, 3, 1]).packedFloats(4, [1, 2, 3])
    let model = ONNX.model(
      ONNX.graph(
        nodes: [node], initializers: [w], inputs: [ONNX.valueInfo("X", elemType: 1, dims: [PB().string(2, "T")])]))
    #expect((try? Onnx.read(model)) != nil)
    for n in 0..<model.count {
      #expect(throws: FormatError.self, "cut at \(n)") { try Onnx.read(Array(model[..<n])) }
    }
    #expect(fuzz(model, randomRounds: 2000) { _ = try Onnx.read($0) } > 100)
  }
}
