// Tests for numeric CSV: numpy.savetxt output, headers, comments and line endings,
// exact round trips, and line/column-specific errors.
import Testing

@testable import GruccCore

@Suite struct CSVTests {
  func read(_ text: String) throws(FormatError) -> [[Double]] {
    try CSV.read(Array(text.utf8))
  }

  @Test(arguments: ["savetxt.csv", "header.csv"])
  func readsFixtures(name: String) throws {
    let expected = try #require(try Fixtures.expected(file: name).first)
    let rows = try CSV.read(try Fixtures.bytes(name))
    #expect(rows.count == expected.shape[0])
    #expect(rows.allSatisfy { $0.count == expected.shape[1] })
    #expect(sameValues(rows.flatMap { $0 }, expected.values))
  }

  @Test func headerDetection() throws {
    let table = try CSV.readTable(try Fixtures.bytes("header.csv"))
    #expect(table.header == ["time", "x", "y"])
    #expect(try CSV.readTable(Array("\"a\", b\n1,2\n".utf8)).header == ["a", "b"])
    #expect(try CSV.readTable(Array("1,2\n".utf8)).header == nil)
    // A header-only file and an empty file are both valid and have no rows.
    #expect(try CSV.readTable(Array("a,b\n".utf8)).rows.isEmpty)
    #expect(try CSV.readTable([]).header == nil)
    #expect(try read("").isEmpty)
    #expect(try read("# only a comment\n\n   \n").isEmpty)
    // A header that appears after data is not a header.
    expectError("line 2, column 1: 'a' is not a number") { _ = try read("1,2\na,b\n") }
  }

  @Test func acceptsCommentsBlankLinesCRLFAndBOM() throws {
    let text = "\u{FEFF}# comment\r\n\r\n  1 ,\t2\r\n   # indented comment\n3,4"
    #expect(try read(text) == [[1, 2], [3, 4]])
    #expect(try read("2.5e-1, -0, +5, .5, 5., 1e-400, 1E+2") == [[0.25, -0.0, 5, 0.5, 5, 0, 100]])
  }

  @Test func writeFormat() {
    let text = CSV.write(rows: [[1, 0.5], [-2, 1e-7], [1e20, -0.0]], header: ["a", "b"])
    #expect(text == "a,b\n1.0,0.5\n-2.0,1e-07\n1e+20,-0.0\n")
    #expect(CSV.write(rows: [], header: nil) == "")
  }

  @Test func roundTripsExactly() throws {
    var rng = SplitMix64(state: 99)
    var rows: [[Double]] = [[0.1, 1.0 / 3, .leastNonzeroMagnitude, -.greatestFiniteMagnitude, -0.0, 123456789.123]]
    for _ in 0..<500 {
      // Random bit patterns cover subnormals, huge exponents and 17-digit mantissas.
      rows.append((0..<6).map { _ in
        let v = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng))
        return v.isFinite ? v : 1
      })
    }
    let header = ["a", "b", "c", "d", "e", "f"]
    let back = try CSV.readTable(Array(CSV.write(rows: rows, header: header).utf8))
    #expect(back.header == header)
    #expect(back.rows.flatMap { $0 }.map(\.bitPattern) == rows.flatMap { $0 }.map(\.bitPattern))
  }

  /// A file written with another separator has a first line that no field of is a number; it
  /// must not become a header (dropping a step): the error names the separator.
  @Test(arguments: [
    ("0.5 1\n1 0\n", "line 1: '0.5 1' holds numbers separated by spaces"),
    ("0.5;1\n1;0\n", "line 1: '0.5;1' holds numbers separated by semicolons"),
    ("0.5\t1\n1\t0\n", "line 1: '0.5\\t1' holds numbers separated by tabs"),
    ("x;y\n0.5;1\n", "line 2: '0.5;1' holds numbers separated by semicolons"),
    ("1,5;2,5\n", "line 1: '5;2' holds numbers separated by semicolons"),
  ])
  func otherSeparatorsAreNamed(_ text: String, _ message: String) {
    expectError(message) { _ = try read(text) }
  }

  /// Headers are text: names with spaces or digits in them are still a header.
  @Test func headersMayHoldSpacesAndDigits() throws {
    #expect(try CSV.readTable(Array("bit a, bit 2\n1,0\n".utf8)).header == ["bit a", "bit 2"])
    #expect(try CSV.readTable(Array("x1,x2\n1,0\n".utf8)).rows == [[1, 0]])
  }

  @Test func rejectsBadInput() {
    expectError("line 3 has 2 columns, expected 3 as on line 1") { _ = try read("a,b,c\n1,2,3\n4,5\n") }
    expectError("line 4 has 4 columns, expected 3 as on line 2") { _ = try read("# c\n1,2,3\n\n4,5,6,7\n") }
    expectError("line 2, column 1: non-finite value 'nan' is not allowed") { _ = try read("1\nnan\n") }
    expectError("line 1, column 2: non-finite value '-Infinity' is not allowed") { _ = try read("1,-Infinity") }
    expectError("line 1, column 1: non-finite value 'inf'") { _ = try read("inf,1") }
    expectError("line 1, column 2: '1e999' is out of range for a double") { _ = try read("0,1e999") }
    expectError("line 2, column 2: 'abc' is not a number") { _ = try read("1,2\n3,abc\n") }
    expectError("line 1: '1 2' holds numbers separated by spaces") { _ = try read("0,1 2") }
    expectError("line 1, column 2: empty field") { _ = try read("1,,2") }
    expectError("line 1, column 3: empty field") { _ = try read("1,2,") }
    expectError("line 2: '1;2' holds numbers separated by semicolons") { _ = try read("a\n1;2") }
    expectError("line 2: invalid UTF-8 at byte 4") { _ = try CSV.read([0x31, 0x0A, 0x32, 0x2C, 0xFF]) }
  }

  /// Swift's Double(String) reads hexadecimal; a CSV field `0x10` is a mistake, not 16.
  @Test func rejectsHexadecimalAndOtherNonDecimalSpellings() {
    expectError("line 1, column 1: '0x10' is not a decimal number (hexadecimal is not accepted)") { _ = try read("0x10,1") }
    expectError("line 1, column 2: '-0x1p-2' is not a decimal number") { _ = try read("1,-0x1p-2") }
    expectError("line 1, column 1: '0x10' is not a decimal number") { _ = try read("0x10\n") }
    for bad in ["1e", "e5", ".", "-", "1.2.3", "1e+", "++1", "1_000", "١"] {
      expectError("line 1, column 2: \(quoted(bad)) is not a number") { _ = try read("0,\(bad)") }
    }
  }

  @Test func fuzzNeverCrashes() {
    let sample = Array("# c\nx, y\n1.5, -2e-3\n\r\n3,4\n".utf8)
    let rejected = fuzz(sample, randomRounds: 2000) { _ = try CSV.read($0) }
    #expect(rejected > 0)
  }
}
