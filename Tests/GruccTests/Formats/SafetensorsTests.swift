// Tests for the safetensors reader and writer: real files from the Python library,
// byte-exact golden output, round trips, and every kind of malformed header.
import Testing

@testable import GruccCore

@Suite struct SafetensorsTests {
  /// Builds a safetensors file from header text and raw data bytes.
  func file(_ header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
    var out: [UInt8] = []
    out.appendLE(declaredLength ?? UInt64(header.utf8.count), size: 8)
    return out + Array(header.utf8) + data
  }

  func read(_ bytes: [UInt8]) throws(FormatError) -> [NamedTensor] {
    try Safetensors.read(bytes).tensors
  }

  @Test(arguments: [
    "st_f32.safetensors", "st_f64.safetensors", "st_f16.safetensors", "st_bf16.safetensors", "st_mixed.safetensors",
  ])
  func readsPythonFiles(name: String) throws {
    let expected = try Fixtures.expected(file: name)
    let tensors = try read(try Fixtures.bytes(name))
    #expect(tensors.map(\.name) == expected.map(\.array))
    for (t, e) in zip(tensors, expected) {
      #expect(t.dtype.rawValue == e.dtype)
      #expect(t.shape == e.shape)
      #expect(sameValues(t.values, e.values), "\(name) \(t.name)")
    }
  }

  @Test func readsMetadata() throws {
    let f32 = try Safetensors.read(try Fixtures.bytes("st_f32.safetensors"))
    #expect(f32.metadata.map(\.0) == ["note"])
    #expect(f32.metadata.map(\.1) == ["grucc fixture"])
    let bf16 = try Safetensors.read(try Fixtures.bytes("st_bf16.safetensors"))
    #expect(bf16.metadata.map(\.0) == ["src"] && bf16.metadata.map(\.1) == ["hand"])
    #expect(try Safetensors.read(try Fixtures.bytes("st_f64.safetensors")).metadata.isEmpty)
  }

  @Test func writerMatchesPythonBytes() throws {
    let f32 = Safetensors.write(
      [
        NamedTensor(name: "b", dtype: .f32, shape: [3], values: [0.5, -0.25, 1e-3]),
        NamedTensor(name: "a", dtype: .f32, shape: [2, 2], values: [1, 2, 3, 4]),
      ], metadata: [("k", "v")])
    #expect(f32 == (try Fixtures.bytes("golden_f32.safetensors")))
    let f64 = Safetensors.write([
      NamedTensor(name: "weight", dtype: .f64, shape: [3, 1], values: [1, -1, 0]),
      NamedTensor(name: "bias", dtype: .f64, shape: [2], values: [0.1, 0.2]),
    ])
    #expect(f64 == (try Fixtures.bytes("golden_f64.safetensors")))
  }

  @Test func roundTripsEveryDtype() throws {
    let tensors = [
      NamedTensor(name: "a16", dtype: .f16, shape: [2, 2], values: [1, -0.5, 65504, 0x1p-24]),
      NamedTensor(name: "b16", dtype: .bf16, shape: [3], values: [1, -2.5, 0x1p100]),
      NamedTensor(name: "c32", dtype: .f32, shape: [2], values: [0.5, -.infinity]),
      NamedTensor(name: "d64", dtype: .f64, shape: [], values: [0.1]),
      NamedTensor(name: "e_i32", dtype: .i32, shape: [2], values: [-2_147_483_648, 7]),
      NamedTensor(name: "f_i64", dtype: .i64, shape: [1, 1], values: [-(0x1p62)]),
      NamedTensor(name: "g_empty", dtype: .f32, shape: [0, 5], values: []),
      NamedTensor(name: "ünïcode \"name\"\n", dtype: .f64, shape: [1], values: [3]),
    ]
    let metadata = [("z", "last"), ("a", "quote \" backslash \\ tab \t é")]
    let bytes = Safetensors.write(tensors, metadata: metadata)
    let back = try Safetensors.read(bytes)
    #expect(back.tensors == tensors)
    #expect(back.metadata.map(\.0) == ["a", "z"])
    #expect(back.metadata.map(\.1) == ["quote \" backslash \\ tab \t é", "last"])
    // The header is padded so the data starts 8-byte aligned.
    #expect(bytes.le64(at: 0) % 8 == 0)
  }

  @Test func writerConvertsToStorageDtype() throws {
    let bytes = Safetensors.write([NamedTensor(name: "x", dtype: .f32, shape: [2], values: [0.1, 1e300])])
    let back = try read(bytes)
    #expect(back[0].values == [Double(Float(0.1)), .infinity])
  }

  @Test func writerIsDeterministicAndSorted() throws {
    let a = NamedTensor(name: "a", dtype: .f32, shape: [1], values: [1])
    let b = NamedTensor(name: "B", dtype: .f64, shape: [1], values: [2])
    let c = NamedTensor(name: "c", dtype: .i32, shape: [1], values: [3])
    let one = Safetensors.write([c, a, b], metadata: [("y", "2"), ("x", "1")])
    let two = Safetensors.write([b, c, a], metadata: [("x", "1"), ("y", "2")])
    #expect(one == two)
    // Byte-wise name order puts upper case first; data follows the same order.
    #expect(try read(one).map(\.name) == ["B", "a", "c"])
    let header = String(decoding: one[8..<(8 + Int(one.le64(at: 0)))], as: UTF8.self)
    #expect(header.hasPrefix(#"{"__metadata__":{"x":"1","y":"2"},"B":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}"#))
  }

  @Test func requireFloat() throws {
    try NamedTensor(name: "w", dtype: .bf16, shape: [], values: [0]).requireFloat()
    expectError("tensor 'h.w_r' has dtype 'I32', expected a float dtype") {
      try NamedTensor(name: "h.w_r", dtype: .i32, shape: [], values: [0]).requireFloat()
    }
  }

  @Test func rejectsBadFraming() {
    expectError("file has 5 bytes", "too short") { _ = try read([1, 2, 3, 4, 5]) }
    expectError("header length 9999999999 exceeds file size 10") { _ = try read(file("{}", declaredLength: 9_999_999_999)) }
    expectError("header length 18446744073709551615 exceeds file size 10") {
      _ = try read(file("{}", declaredLength: UInt64.max))
    }
    expectError("header length 3 exceeds") { _ = try read(file("{}", declaredLength: 3)) }
    expectError("header is not valid JSON", "unexpected end of input") { _ = try read(file("")) }
    expectError("header is not valid JSON", "at byte 1 of the header") { _ = try read(file("{x")) }
    expectError("header is not valid JSON", "after the JSON value") { _ = try read(file("{}\0\0")) }
    expectError("header is an array, expected a JSON object") { _ = try read(file("[]")) }
    expectError("duplicate key 'a'") {
      _ = try read(file(#"{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[],"data_offsets":[4,8]}}"#, data: Array(repeating: 0, count: 8)))
    }
  }

  @Test func acceptsSpacePaddingAndEmptyFiles() throws {
    #expect(try read(file("{}      ")).isEmpty)
    #expect(try read(file(#"{"__metadata__":{}}"#)).isEmpty)
  }

  @Test func rejectsBadTensorEntries() {
    func entry(_ body: String, data: Int = 16) throws(FormatError) {
      _ = try read(file("{\"t\":\(body)}", data: Array(repeating: 0, count: data)))
    }
    expectError("tensor 't' is an array, expected an object") { try entry("[]") }
    expectError("tensor 't' has no 'dtype'") { try entry(#"{"shape":[],"data_offsets":[0,4]}"#) }
    expectError("tensor 't' has a dtype that is a number") { try entry(#"{"dtype":4,"shape":[],"data_offsets":[0,4]}"#) }
    expectError("unknown dtype 'Q7'", "supported dtypes: F16, BF16, F32, F64, I32, I64") {
      try entry(#"{"dtype":"Q7","shape":[],"data_offsets":[0,4]}"#)
    }
    for dtype in ["I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2", "U64", "C64"] {
      expectError("tensor 't' has unsupported dtype '\(dtype)'", "supported dtypes: F16") {
        try entry("{\"dtype\":\"\(dtype)\",\"shape\":[],\"data_offsets\":[0,1]}")
      }
    }
    expectError("has no 'shape'") { try entry(#"{"dtype":"F32","data_offsets":[0,4]}"#) }
    expectError("shape that is a string") { try entry(#"{"dtype":"F32","shape":"2","data_offsets":[0,8]}"#) }
    expectError("shape entry that is not a non-negative integer: -1") { try entry(#"{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}"#) }
    expectError("not a non-negative integer: 1.5") { try entry(#"{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}"#) }
    expectError("not a non-negative integer: '2'") { try entry(#"{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}"#) }
    expectError("not a non-negative integer: 99999999999999999999") {
      try entry(#"{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}"#)
    }
    expectError("shape [4294967296, 4294967296, 4] whose size overflows") {
      try entry(#"{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,4]}"#)
    }
    expectError("shape [2305843009213693952] whose size overflows") {
      try entry(#"{"dtype":"F32","shape":[2305843009213693952],"data_offsets":[0,4]}"#)
    }
    expectError("has no 'data_offsets'") { try entry(#"{"dtype":"F32","shape":[]}"#) }
    expectError("data_offsets [0, 4, 8], expected [begin, end]") { try entry(#"{"dtype":"F32","shape":[],"data_offsets":[0,4,8]}"#) }
    expectError("data_offsets [-4, 0], expected") { try entry(#"{"dtype":"F32","shape":[],"data_offsets":[-4,0]}"#) }
    expectError("data_offsets an object, expected") { try entry(#"{"dtype":"F32","shape":[],"data_offsets":{}}"#) }
    expectError("data_offsets [8, 4] that end before they begin") { try entry(#"{"dtype":"F32","shape":[],"data_offsets":[8,4]}"#) }
    expectError("data_offsets [0, 12] spanning 12 bytes, but dtype F32 with shape [2] needs 8 bytes") {
      try entry(#"{"dtype":"F32","shape":[2],"data_offsets":[0,12]}"#)
    }
    expectError("truncated: data of tensor 't' ends at byte 95 but the file has 79 bytes") {
      try entry(#"{"dtype":"F64","shape":[4],"data_offsets":[0,32]}"#)
    }
    expectError("truncated", "ends at byte 9223372036854775904") {
      try entry(#"{"dtype":"F32","shape":[],"data_offsets":[9223372036854775803,9223372036854775807]}"#)
    }
  }

  @Test func rejectsOverlapsAndBadMetadata() {
    let overlapping = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
    expectError("tensors 'a' (data bytes 0..<8) and 'b' (data bytes 4..<12) overlap") {
      _ = try read(file(overlapping, data: Array(repeating: 0, count: 12)))
    }
    let same = #"{"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}"#
    expectError("tensors 'a'", "and 'b'", "overlap") { _ = try read(file(same, data: [0, 0, 0, 0])) }
    expectError("__metadata__ is an array, expected an object of strings") { _ = try read(file(#"{"__metadata__":[]}"#)) }
    expectError("__metadata__ value for key 'n' is a number, expected a string") {
      _ = try read(file(#"{"__metadata__":{"n":1}}"#))
    }
    // Gaps between tensors are tolerated (the data is simply not referenced).
    let gap = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
    #expect((try? read(file(gap, data: [9, 9, 9, 9, 0, 0, 0x80, 0x3F]))) == [NamedTensor(name: "a", dtype: .f32, shape: [1], values: [1])])
  }

  @Test func quotesHostileNames() {
    let name = String(repeating: "\\u001b", count: 100)
    expectError("tensor '\\u{1B}\\u{1B}", "...'") { _ = try read(file("{\"\(name)\":1}")) }
  }

  @Test(arguments: ["golden_f32.safetensors", "st_mixed.safetensors", "st_bf16.safetensors"])
  func fuzzNeverCrashes(name: String) throws {
    let rejected = fuzz(try Fixtures.bytes(name), randomRounds: 1000) { _ = try Safetensors.read($0) }
    #expect(rejected > 0)
  }
}
