// Line-oriented text building for C: indentation, blocks and section rulers.

/// Accumulates C source one line at a time at the current indentation.
struct CWriter {
  private(set) var text = ""
  private var depth = 0

  init() {}

  /// A writer whose lines start `depth` levels in: a function body written before its signature.
  init(depth: Int) { self.depth = depth }

  /// The text of `other`, line for line (its own indentation kept).
  mutating func append(_ other: CWriter) { text += other.text }

  mutating func line(_ s: String = "") {
    text += s.isEmpty ? "\n" : String(repeating: "    ", count: depth) + s + "\n"
  }

  /// `head {`, the body indented, `}` + `tail`.
  mutating func block(_ head: String, tail: String = "", _ body: (inout CWriter) -> Void) {
    line(head + " {")
    depth += 1
    body(&self)
    depth -= 1
    line("}" + tail)
  }

  mutating func trimTrailingBlankLines() {
    while text.hasSuffix("\n\n") { text.removeLast() }
  }

  /// A section ruler in the style of llama2.c: `/* ---- title ---...--- */`.
  mutating func section(_ title: String) {
    let head = "/* ---- \(title) "
    trimTrailingBlankLines()
    if !text.isEmpty { line() }
    line(head + String(repeating: "-", count: max(4, 77 - head.count)) + " */")
    line()
  }

  /// A comment, wrapped at whole lines the caller gives.
  mutating func comment(_ lines: [String]) {
    if lines.count == 1 {
      line("/* \(lines[0]) */")
      return
    }
    line("/* " + lines[0])
    for l in lines.dropFirst() { line(l.isEmpty ? " *" : " * " + l) }
    line(" */")
  }
}
