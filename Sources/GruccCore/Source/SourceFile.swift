// The text of one input file and the table that turns byte offsets into line and column.
// Everything downstream refers to source positions through this type.

/// A position in a source file. `line` and `column` are 1-based; `column` counts bytes.
public struct SourceLocation: Hashable, Sendable, Comparable {
  public var offset: Int
  public var line: Int
  public var column: Int

  public init(offset: Int, line: Int, column: Int) {
    self.offset = offset
    self.line = line
    self.column = column
  }

  public static func < (a: SourceLocation, b: SourceLocation) -> Bool { a.offset < b.offset }
}

/// A half-open byte range `[start, end)` in one source file.
public struct SourceRange: Hashable, Sendable {
  public var start: SourceLocation
  public var end: SourceLocation

  public init(start: SourceLocation, end: SourceLocation) {
    self.start = start
    self.end = end
  }

  /// A range used by nodes that no source text produced (synthesised by a pass from nothing).
  public static let none = SourceRange(
    start: SourceLocation(offset: 0, line: 0, column: 0),
    end: SourceLocation(offset: 0, line: 0, column: 0))

  public var isNone: Bool { start.line == 0 }

  /// The smallest range covering both.
  public func union(_ other: SourceRange) -> SourceRange {
    if isNone { return other }
    if other.isNone { return self }
    return SourceRange(start: min(start, other.start), end: max(end, other.end))
  }
}

/// A source file held as bytes, with the byte offset at which each line starts.
public struct SourceFile: Sendable {
  /// The name as the user passed it; diagnostics print it unchanged.
  public var path: String
  public var bytes: [UInt8]
  private var lineStarts: [Int]

  public init(path: String, bytes: [UInt8]) {
    self.path = path
    self.bytes = bytes
    var starts = [0]
    for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") { starts.append(i + 1) }
    self.lineStarts = starts
  }

  public init(path: String, text: String) { self.init(path: path, bytes: Array(text.utf8)) }

  /// The last path component, used in IR dumps so they do not depend on where the repository sits.
  public var baseName: String {
    if let slash = path.lastIndex(of: "/") { return String(path[path.index(after: slash)...]) }
    return path
  }

  public func location(at offset: Int) -> SourceLocation {
    let clamped = max(0, min(offset, bytes.count))
    // Binary search for the last line start <= offset.
    var lo = 0
    var hi = lineStarts.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if lineStarts[mid] <= clamped { lo = mid } else { hi = mid - 1 }
    }
    return SourceLocation(offset: clamped, line: lo + 1, column: clamped - lineStarts[lo] + 1)
  }

  public func range(_ start: Int, _ end: Int) -> SourceRange {
    SourceRange(start: location(at: start), end: location(at: end))
  }

  /// The bytes of a 1-based line without its line terminator.
  public func lineBytes(_ line: Int) -> ArraySlice<UInt8> {
    guard line >= 1, line <= lineStarts.count else { return [] }
    let start = lineStarts[line - 1]
    var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
    if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
    return bytes[start..<max(start, end)]
  }
}
