// Tests for the strict JSON parser: values, escapes, key order, and rejection of
// malformed or hostile input.
import Testing

@testable import GruccCore

@Suite struct JSONTests {
  func parse(_ text: String) throws(FormatError) -> JSONValue {
    try JSON.parse(ArraySlice(Array(text.utf8)))
  }

  @Test func parsesScalarsAndContainers() throws {
    #expect(try parse("null") == .null)
    #expect(try parse(" true ") == .bool(true))
    #expect(try parse("false") == .bool(false))
    #expect(try parse("-12.5e+3") == .number("-12.5e+3"))
    #expect(try parse("0") == .number("0"))
    #expect(try parse("\"hi\"") == .string("hi"))
    #expect(try parse("[]") == .array([]))
    #expect(try parse("{}") == .object([]))
    #expect(try parse("\t[1, [2, {\"a\": null}]]\r\n") == .array([.number("1"), .array([.number("2"), .object([("a", .null)])])]))
  }

  @Test func keepsKeyOrder() throws {
    let value = try parse(#"{"z": 1, "a": 2, "m": 3}"#)
    guard case .object(let members) = value else {
      Issue.record("not an object")
      return
    }
    #expect(members.map(\.0) == ["z", "a", "m"])
    #expect(value["a"] == .number("2"))
    #expect(value["q"] == nil)
    // Order is part of equality, so two objects with swapped keys differ.
    #expect(try parse(#"{"a":1,"b":2}"#) != parse(#"{"b":2,"a":1}"#))
  }

  @Test func decodesEscapesAndUTF8() throws {
    #expect(try parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
    #expect(try parse(#""\u00e9\u00E9 \u4e2d \ud83d\ude00""#) == .string("éé 中 😀"))
    #expect(try parse("\"é中😀\"") == .string("é中😀"))
    #expect(try parse(#""\u0000""#) == .string("\u{0}"))
  }

  @Test func nonNegativeInt() throws {
    #expect(try parse("12").nonNegativeInt == 12)
    #expect(try parse("0").nonNegativeInt == 0)
    #expect(try parse("9223372036854775807").nonNegativeInt == Int.max)
    #expect(try parse("9223372036854775808").nonNegativeInt == nil)
    #expect(try parse("-1").nonNegativeInt == nil)
    #expect(try parse("1.0").nonNegativeInt == nil)
    #expect(try parse("1e3").nonNegativeInt == nil)
    #expect(try parse("\"1\"").nonNegativeInt == nil)
  }

  @Test func rejectsMalformedSyntax() {
    expectError("unexpected end of input") { _ = try parse("") }
    expectError("unexpected end of input") { _ = try parse("   ") }
    expectError("after the JSON value", "at byte 3") { _ = try parse("{} x") }
    expectError("after the JSON value") { _ = try parse("1 2") }
    expectError("invalid literal") { _ = try parse("tru") }
    expectError("unexpected character 'N'") { _ = try parse("NaN") }
    expectError("unexpected character '''") { _ = try parse("'a'") }
    expectError("leading zero") { _ = try parse("01") }
    expectError("after '.'") { _ = try parse("1.") }
    expectError("expected a digit") { _ = try parse("-") }
    expectError("unexpected character '.'") { _ = try parse(".5") }
    expectError("unexpected character '+'") { _ = try parse("+1") }
    expectError("exponent") { _ = try parse("1e") }
    expectError("unterminated string") { _ = try parse("\"abc") }
    expectError("unterminated array") { _ = try parse("[1") }
    expectError("unterminated object") { _ = try parse(#"{"a":1"#) }
    expectError("expected ',' or ']'", "at byte 3") { _ = try parse("[1 2]") }
    expectError("unexpected character ']'") { _ = try parse("[1,]") }
    expectError("expected a string key") { _ = try parse(#"{"a":1,}"#) }
    expectError("expected a string key") { _ = try parse("{1:2}") }
    expectError("expected ':'") { _ = try parse(#"{"a" 1}"#) }
  }

  @Test func rejectsBadStrings() {
    expectError("invalid escape", "character 'x'") { _ = try parse(#""\x""#) }
    expectError("invalid hex digit") { _ = try parse(#""\u12g4""#) }
    expectError("unterminated \\u escape") { _ = try parse(#""\u12"#) }
    expectError("lone low surrogate") { _ = try parse(#""\udc00""#) }
    expectError("high surrogate not followed by a low surrogate") { _ = try parse(#""\ud800""#) }
    expectError("high surrogate not followed by a low surrogate") { _ = try parse(#""\ud800\u0041""#) }
    expectError("unescaped control character 0xA") { _ = try parse("\"a\nb\"") }
  }

  @Test func rejectsInvalidUTF8() {
    let cases: [[UInt8]] = [
      [0xFF], [0xC0, 0x80], [0xC3], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
      [0xF0, 0x9F, 0x98], [0x80], [0xC3, 0x28],
    ]
    for bad in cases {
      let bytes: [UInt8] = [0x22, 0x61] + bad + [0x22]
      expectError("invalid UTF-8", "at byte 2") { _ = try JSON.parse(ArraySlice(bytes)) }
    }
  }

  @Test func rejectsDuplicateKeys() {
    expectError("duplicate key 'a'", "at byte 9") { _ = try parse(#"{"a": 1, "a": 2}"#) }
    // Keys that are equal only after unescaping are still duplicates.
    expectError("duplicate key 'a'") { _ = try parse(#"{"a": 1, "\u0061": 2}"#) }
  }

  @Test func limitsNestingDepth() throws {
    let ok = String(repeating: "[", count: JSON.maxDepth) + String(repeating: "]", count: JSON.maxDepth)
    _ = try parse(ok)
    let deep = String(repeating: "[", count: JSON.maxDepth + 1) + String(repeating: "]", count: JSON.maxDepth + 1)
    expectError("nesting deeper than 64") { _ = try parse(deep) }
    // Far deeper than any stack could recurse: must fail fast, not overflow the stack.
    expectError("nesting") { _ = try parse(String(repeating: "[{\"a\":", count: 100_000)) }
  }

  @Test func offsetsCountFromSliceStart() {
    let bytes = Array("xxxx[1,?]".utf8)
    expectError("at byte 3") { _ = try JSON.parse(bytes[4...]) }
  }

  @Test func fuzzNeverCrashes() {
    let sample = Array(#"{"a": [1, -2.5e3, true, null, "\u00e9\ud83d\ude00"], "b": {"c": "x\ny"}}"#.utf8)
    let rejected = fuzz(sample, randomRounds: 2000) { _ = try JSON.parse($0[...]) }
    #expect(rejected > 0)
  }
}
