// Reader and writer for plain numeric CSV: comma-separated finite numbers, '#' comment
// lines, blank lines and an optional header row of column names.

/// Entry points for reading and writing numeric CSV.
enum CSV {
  /// The numeric rows of a CSV file; see `readTable(_:)` for the rules.
  static func read(_ bytes: [UInt8], budget: MemoryBudget = .standard) throws(FormatError) -> [[Double]] {
    try readTable(bytes, budget: budget).rows
  }

  /// Parses numeric CSV. Fields are separated by commas and may be surrounded by spaces or
  /// tabs; lines may end in "\n" or "\r\n"; blank lines and lines whose first non-blank
  /// character is '#' are skipped. The first remaining line is a header (returned, not as
  /// data) when none of its fields is a number. A field made of numbers separated by spaces,
  /// tabs or semicolons is an error naming that separator, on any line. Every row, header included, must have the
  /// same number of fields. Numbers are decimal (`-1`, `.5`, `2.`, `1e-3`: what numpy and
  /// spreadsheets write); hexadecimal, NaN and infinities (spelled out or overflowing) are
  /// rejected. Line and column numbers in errors start at 1. The rows, at 8 bytes a value and a
  /// few words per row, must fit `budget`.
  static func readTable(
    _ bytes: [UInt8], budget: MemoryBudget = .standard
  ) throws(FormatError) -> (header: [String]?, rows: [[Double]]) {
    if let bad = firstInvalidUTF8(bytes) {
      let line = bytes[..<bad].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
      throw FormatError("line \(line): invalid UTF-8 at byte \(bad)")
    }
    var start = 0
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }  // byte-order mark some editors add

    var header: [String]?
    var rows: [[Double]] = []
    var expected: (columns: Int, line: Int)?
    var lineNumber = 0
    var held = 0
    while start < bytes.count {
      lineNumber += 1
      var end = start
      while end < bytes.count && bytes[end] != 0x0A { end += 1 }
      let lineBytes = bytes[start..<end]
      start = end + 1

      var text = String(decoding: lineBytes, as: UTF8.self)
      if text.hasSuffix("\r") { text.removeLast() }
      let trimmed = trim(Substring(text))
      if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }

      let fields = text.split(separator: ",", omittingEmptySubsequences: false).map(trim)
      if let expected, fields.count != expected.columns {
        throw FormatError(
          "line \(lineNumber) has \(fields.count) columns, expected \(expected.columns) as on line \(expected.line)")
      }
      // Numbers separated by something else would pass for one text field, and a first line of
      // them for a header: say what the separator is instead.
      if let (field, separator) = fields.lazy.compactMap({ f in otherSeparator(f).map { (f, $0) } }).first {
        throw FormatError(
          "line \(lineNumber): \(quoted(String(field), limit: 40)) holds numbers separated by \(separator); "
            + "grucc's CSV separates the values of a row with commas")
      }
      if expected == nil {
        expected = (fields.count, lineNumber)
        if fields.contains(where: { !$0.isEmpty }) && !fields.contains(where: { Double(String($0)) != nil || isDecimal($0) }) {
          header = fields.map(unquote)
          continue
        }
      }
      // A row is an array: its values and about 64 bytes of bookkeeping.
      held += 64 + 8 * fields.count
      if let refusal = budget.refusal(held, for: "the rows up to line \(lineNumber)") { throw FormatError(refusal) }
      var row: [Double] = []
      row.reserveCapacity(fields.count)
      for (column, field) in fields.enumerated() {
        row.append(try parseNumber(field, line: lineNumber, column: column + 1))
      }
      rows.append(row)
    }
    return (header, rows)
  }

  /// "spaces", "tabs" or "semicolons" when a field is two or more decimal numbers separated by
  /// them (a file written with another separator), else nil.
  static func otherSeparator(_ field: Substring) -> String? {
    for (separator, name) in [(";", "semicolons"), ("\t", "tabs"), (" ", "spaces")] as [(Character, String)] {
      let parts = field.split(separator: separator).map(trim).filter { !$0.isEmpty }
      if parts.count >= 2 && parts.allSatisfy(isDecimal) { return name }
    }
    return nil
  }

  private static func trim(_ s: Substring) -> Substring {
    var s = s
    while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
    while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
    return s
  }

  /// Drops one pair of surrounding double quotes from a header name.
  private static func unquote(_ s: Substring) -> String {
    if s.count >= 2 && s.hasPrefix("\"") && s.hasSuffix("\"") {
      return String(s.dropFirst().dropLast())
    }
    return String(s)
  }

  private static func parseNumber(_ field: Substring, line: Int, column: Int) throws(FormatError) -> Double {
    let position = "line \(line), column \(column)"
    guard !field.isEmpty else { throw FormatError("\(position): empty field") }
    let lower = field.lowercased()
    if lower.contains("nan") || lower.contains("inf") {
      throw FormatError("\(position): non-finite value \(quoted(String(field), limit: 40)) is not allowed")
    }
    guard isDecimal(field), let value = Double(String(field)) else {
      let hex = lower.hasPrefix("0x") || lower.hasPrefix("-0x") || lower.hasPrefix("+0x")
      throw FormatError(
        "\(position): \(quoted(String(field), limit: 40)) is not a \(hex ? "decimal number (hexadecimal is not accepted)" : "number")")
    }
    if !value.isFinite {
      throw FormatError("\(position): \(quoted(String(field), limit: 40)) is out of range for a double")
    }
    return value
  }

  /// Whether a field is a decimal number: an optional sign, digits with at most one point
  /// (at least one digit in all), and an optional exponent `e`/`E`, sign, digits. Swift's
  /// `Double(String)` also takes hexadecimal (`0x10` is 16), which no CSV writer means.
  static func isDecimal(_ field: Substring) -> Bool {
    var bytes = field.utf8[...]
    if let c = bytes.first, c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
    func digits() -> Int {
      let n = bytes.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
      bytes = bytes.dropFirst(n)
      return n
    }
    var mantissa = digits()
    if bytes.first == UInt8(ascii: ".") {
      bytes = bytes.dropFirst()
      mantissa += digits()
    }
    guard mantissa > 0 else { return false }
    if let c = bytes.first, c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
      bytes = bytes.dropFirst()
      if let c = bytes.first, c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
      guard digits() > 0 else { return false }
    }
    return bytes.isEmpty
  }

  /// Formats rows with Swift's shortest round-trip `Double.description`, so reading the
  /// text back gives identical values; "\n" line ends. Header names must not contain
  /// commas or line breaks, and at least one must be non-numeric for `read` to treat the
  /// line as a header. Non-finite values are written as "nan"/"inf", which `read` rejects.
  static func write(rows: [[Double]], header: [String]?) -> String {
    var out = ""
    if let header {
      precondition(!header.contains { $0.contains(",") || $0.contains("\n") || $0.contains("\r") },
                   "CSV header names cannot contain commas or line breaks")
      out += header.joined(separator: ",") + "\n"
    }
    for row in rows {
      out += row.map(\.description).joined(separator: ",") + "\n"
    }
    return out
  }
}
