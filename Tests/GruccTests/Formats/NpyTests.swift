// Tests for the .npy reader and writer: files saved by numpy (all supported dtypes,
// versions, byte orders and Fortran order), byte-exact golden output, and bad headers.
import Testing

@testable import GruccCore

@Suite struct NpyTests {
  static let fixtures = [
    "f4_2x3.npy", "f8_5.npy", "i4_3.npy", "i8_2x2.npy", "f8_scalar.npy", "f4_2x3x4.npy", "f4_empty.npy",
    "f2_4.npy", "i1_3.npy", "i2_3.npy", "u1_3.npy", "u4_2.npy", "b1_4.npy", "f8_be.npy", "i4_be.npy",
    "f8_fortran.npy", "f4_v2.npy", "f4_v3.npy",
  ]

  /// Builds a .npy file from raw header text (no padding added) and data.
  func file(_ header: String, data: [UInt8] = [], version: UInt8 = 1) -> [UInt8] {
    var out = Npy.magic + [version, 0]
    out.appendLE(UInt64(header.utf8.count), size: version == 1 ? 2 : 4)
    return out + Array(header.utf8) + data
  }

  func header(descr: String = "<f8", fortran: String = "False", shape: String = "(1,)") -> String {
    "{'descr': '\(descr)', 'fortran_order': \(fortran), 'shape': \(shape), }\n"
  }

  @Test(arguments: fixtures)
  func readsNumpyFiles(name: String) throws {
    let expected = try #require(try Fixtures.expected(file: name).first)
    let array = try Npy.read(try Fixtures.bytes(name))
    #expect(array.dtype == expected.dtype)
    #expect(array.shape == expected.shape)
    #expect(sameValues(array.values, expected.values))
  }

  @Test(arguments: [
    ("f4_2x3.npy", NpyDType.f32), ("f8_5.npy", .f64), ("i4_3.npy", .i32), ("i8_2x2.npy", .i64),
    ("f8_scalar.npy", .f64), ("f4_2x3x4.npy", .f32), ("f4_empty.npy", .f32), ("f2_4.npy", .f16),
  ])
  func writerMatchesNumpyBytes(name: String, dtype: NpyDType) throws {
    let original = try Fixtures.bytes(name)
    let array = try Npy.read(original)
    #expect(Npy.write(values: array.values, shape: array.shape, dtype: dtype) == original)
  }

  @Test func headerText() {
    #expect(Npy.headerText(descr: "<f8", shape: []) == "{'descr': '<f8', 'fortran_order': False, 'shape': (), }")
    #expect(Npy.headerText(descr: "<f4", shape: [5]).hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }"))
    #expect(Npy.headerText(descr: "<i8", shape: [1, 5, 2]).hasPrefix("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 5, 2), }"))
  }

  @Test func roundTripsAndAligns() throws {
    let shapes: [[Int]] = [[], [0], [7], [2, 3], [1, 5, 2], [2, 0, 3]]
    for dtype in NpyDType.allCases {
      for shape in shapes {
        let count = shape.reduce(1, *)
        let values = (0..<count).map { Double($0) - 3 }
        let bytes = Npy.write(values: values, shape: shape, dtype: dtype)
        #expect((10 + Int(bytes.le16(at: 8))) % 64 == 0)
        #expect(bytes[10 + Int(bytes.le16(at: 8)) - 1] == UInt8(ascii: "\n"))
        #expect(try Npy.read(bytes) == NpyArray(dtype: dtype.rawValue, shape: shape, values: values))
      }
    }
    let long = Npy.write(values: [], shape: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0], dtype: .f64)
    #expect((10 + Int(long.le16(at: 8))) % 64 == 0)
  }

  @Test func writerSaturatesIntegers() throws {
    let bytes = Npy.write(values: [1e10, -1e10, 2.5, .nan], shape: [4], dtype: .i32)
    #expect(try Npy.read(bytes).values == [2_147_483_647, -2_147_483_648, 2, 0])
  }

  @Test func parsesHeaderVariants() throws {
    let one: [UInt8] = [0, 0, 0, 0, 0, 0, 0xF0, 0x3F]  // 1.0 as little-endian f64
    // Key order, double quotes, Python 2 long suffix, no trailing comma, no padding.
    let variants = [
      "{'shape': (1,), 'fortran_order': False, 'descr': '<f8'}",
      "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (1L,)}   \n",
      "  {'descr':'<f8','fortran_order':True,'shape':(1,),}",
    ]
    for h in variants {
      #expect(try Npy.read(file(h, data: one)) == NpyArray(dtype: "<f8", shape: [1], values: [1]))
    }
    #expect(try Npy.read(file(header(descr: "=f8"), data: one)).values == [1])
    #expect(try Npy.read(file(header(descr: ">f8"), data: one.reversed())).values == [1])
    #expect(try Npy.read(file(header(descr: "|u1", shape: "(2, 4)"), data: Array(repeating: 1, count: 8))).values == Array(repeating: 1, count: 8))
    #expect(try Npy.read(file(header(shape: "(1,)"), data: one, version: 2)).shape == [1])
    #expect(try Npy.read(file(header(descr: "<f8", shape: "()"), data: one, version: 3)).shape == [])
  }

  @Test func transposesFortranOrder() throws {
    // Column-major 2x3: memory holds columns (0,3), (1,4), (2,5).
    var data: [UInt8] = []
    encodeElements([0, 3, 1, 4, 2, 5], kind: .f64, into: &data)
    let array = try Npy.read(file(header(fortran: "True", shape: "(2, 3)"), data: data))
    #expect(array.values == [0, 1, 2, 3, 4, 5])
    #expect(Npy.fortranToRowMajor([0, 1, 2, 3, 4, 5, 6, 7], shape: [2, 2, 2]) == [0, 4, 2, 6, 1, 5, 3, 7])
  }

  @Test func rejectsBadFraming() {
    expectError("file has 4 bytes, too short for a .npy header") { _ = try Npy.read([0x93, 0x4E, 0x55, 0x4D]) }
    expectError("not a .npy file", "NUMPY magic") { _ = try Npy.read(Array("PK\u{3}\u{4}xxxxxxxxxx".utf8)) }
    expectError("unsupported .npy format version 4.0; supported: 1.0, 2.0, 3.0") { _ = try Npy.read(file(header(), version: 4)) }
    expectError("version 1.1") { _ = try Npy.read(Npy.magic + [1, 1, 0, 0]) }
    expectError("too short for a version 2.0 .npy header") { _ = try Npy.read(Npy.magic + [2, 0, 0, 0]) }
    expectError("header length 65535 exceeds file size 20") { _ = try Npy.read(Npy.magic + [1, 0, 0xFF, 0xFF] + Array(repeating: 0x20, count: 10)) }
    expectError("header length 4294967295 exceeds file size 12") { _ = try Npy.read(Npy.magic + [2, 0, 0xFF, 0xFF, 0xFF, 0xFF]) }
    expectError("truncated: data of shape [3] and dtype '<f8' ends at byte 92 but the file has 84 bytes") {
      _ = try Npy.read(file(header(shape: "(3,)"), data: Array(repeating: 0, count: 16)))
    }
    expectError("file has 2 unexpected bytes after the data of shape [1]") {
      _ = try Npy.read(file(header(), data: Array(repeating: 0, count: 10)))
    }
  }

  @Test func rejectsHostileShapes() {
    expectError("shape [4294967296, 4294967296, 8] of dtype '<f8' is too large") {
      _ = try Npy.read(file(header(shape: "(4294967296, 4294967296, 8)")))
    }
    expectError("shape [1152921504606846976] of dtype '<f8' is too large") {
      _ = try Npy.read(file(header(shape: "(1152921504606846976,)")))
    }
    expectError("truncated", "shape [1000000000000]") { _ = try Npy.read(file(header(shape: "(1000000000000,)"))) }
    expectError("'shape' has an entry that is -1, expected a non-negative int") { _ = try Npy.read(file(header(shape: "(-1,)"))) }
    expectError("'shape' has an entry that is too large") { _ = try Npy.read(file(header(shape: "(99999999999999999999,)"))) }
    expectError("'shape' has an entry that is a string") { _ = try Npy.read(file(header(shape: "('1',)"))) }
    expectError("'shape' is a list, expected a tuple") { _ = try Npy.read(file(header(shape: "[1]"))) }
    expectError("'shape' is an int, expected a tuple") { _ = try Npy.read(file(header(shape: "(5)"))) }
    expectError("only integer numbers") { _ = try Npy.read(file(header(shape: "(1.5,)"))) }
    expectError("nesting deeper than 16") { _ = try Npy.read(file(header(shape: String(repeating: "(", count: 5000)))) }
  }

  @Test func rejectsBadHeaders() {
    expectError("header is a tuple, expected a dict") { _ = try Npy.read(file("(1, 2)")) }
    expectError("header has no 'shape'") { _ = try Npy.read(file("{'descr': '<f8', 'fortran_order': False}")) }
    expectError("header has no 'descr'") { _ = try Npy.read(file("{'shape': (), 'fortran_order': False}")) }
    expectError("header has no 'fortran_order'") { _ = try Npy.read(file("{'shape': (), 'descr': '<f8'}")) }
    expectError("unexpected key 'extra'") { _ = try Npy.read(file("{'descr': '<f8', 'fortran_order': False, 'shape': (), 'extra': 1}")) }
    expectError("duplicate key 'shape'") { _ = try Npy.read(file("{'descr': '<f8', 'fortran_order': False, 'shape': (), 'shape': ()}")) }
    expectError("key that is an int") { _ = try Npy.read(file("{1: 2}")) }
    expectError("'fortran_order' is an int, expected True or False") { _ = try Npy.read(file(header(fortran: "1"))) }
    expectError("'descr' is None") { _ = try Npy.read(file("{'descr': None, 'fortran_order': False, 'shape': ()}")) }
    expectError("structured dtypes (record arrays) are not supported") {
      _ = try Npy.read(file("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}"))
    }
    for descr in ["<c8", "<f16", "|S5", "<U3", "|O", "<M8[ns]", "f", ""] {
      expectError("unsupported dtype '\(descr)'", "supported: float (f2, f4, f8)") { _ = try Npy.read(file(header(descr: descr))) }
    }
    expectError("unterminated string") { _ = try Npy.read(file("{'descr")) }
    expectError("unterminated dict") { _ = try Npy.read(file("{'descr': '<f8'")) }
    expectError("expected ':'") { _ = try Npy.read(file("{'descr' '<f8'}")) }
    expectError("expected ','") { _ = try Npy.read(file("{'a': 1 'b': 2}")) }
    expectError("after the header dict") { _ = try Npy.read(file("{} {}")) }
    expectError("unexpected character 'e'") { _ = try Npy.read(file("{'descr': eval('1')}")) }
    expectError("expected ',' but found character '['") { _ = try Npy.read(file("{'descr': '<f8', 'fortran_order': False, 'shape': [1][0:0] or (1,)}")) }
    // Version 3.0 headers are UTF-8; a lone 0xFF byte inside a string is rejected.
    let badUTF8 = file("{'descr': '?'}", version: 3).map { $0 == UInt8(ascii: "?") ? 0xFF : $0 }
    expectError("invalid UTF-8") { _ = try Npy.read(badUTF8) }
    // Versions 1.0 and 2.0 are Latin-1, so the same byte is just an unknown dtype.
    let latin1 = file("{'descr': '?', 'fortran_order': False, 'shape': ()}").map { $0 == UInt8(ascii: "?") ? 0xFF : $0 }
    expectError("unsupported dtype 'ÿ'") { _ = try Npy.read(latin1) }
  }

  @Test(arguments: ["f8_5.npy", "i8_2x2.npy", "f8_fortran.npy", "f4_v3.npy", "b1_4.npy"])
  func fuzzNeverCrashes(name: String) throws {
    let rejected = fuzz(try Fixtures.bytes(name), randomRounds: 1000) { _ = try Npy.read($0) }
    #expect(rejected > 0)
  }
}
