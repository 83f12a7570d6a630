// The loss curves as a standalone SVG: training and validation loss against the step, on a
// logarithmic y axis with a tick at every decade, over a faint trace of every step's mini-batch
// loss. Plain text built from the numbers alone (no
// fonts measured, no dates, fixed decimals), so the same history gives the same bytes.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

public enum LossPlot {
  static let width = 640.0
  static let height = 400.0
  // The plotting area inside the margins (room for tick labels, axis labels and the title).
  static let left = 78.0, right = 620.0, top = 44.0, bottom = 340.0
  static let trainColor = "#1f77b4", validColor = "#d62728"

  /// `batchLosses[i]` is step i + 1's mini-batch loss (none: no trace).
  public static func svg(_ history: [LossRecord], batchLosses: [Double] = [], title: String) -> String {
    let lastStep = max(1, history.map(\.step).max() ?? 1, batchLosses.count)
    let (low, high) = decades(history, batchLosses: batchLosses)
    func x(_ step: Int) -> Double { left + (right - left) * Double(step) / Double(lastStep) }
    func y(_ loss: Double) -> Double {
      // Zero or negative losses cannot sit on a log axis: they are drawn on its floor.
      let e = loss > 0 && loss.isFinite ? log10(loss) : Double(low)
      let clamped = min(max(e, Double(low)), Double(high))
      return bottom - (bottom - top) * (clamped - Double(low)) / Double(high - low)
    }

    var s = """
      <?xml version="1.0" encoding="UTF-8"?>
      <svg xmlns="http://www.w3.org/2000/svg" width="\(n(width))" height="\(n(height))" \
      viewBox="0 0 \(n(width)) \(n(height))" font-family="sans-serif" font-size="12">
      <rect width="100%" height="100%" fill="white"/>
      <text x="\(n((left + right) / 2))" y="24" text-anchor="middle" font-size="15">\(escape(title))</text>

      """
    // Decade gridlines and labels; with many decades, label every k-th so labels do not collide.
    let every = max(1, (high - low + 7) / 8)
    for e in low...high where (e - low) % every == 0 {
      let ty = n(y(pow(10, Double(e))))
      s += "<line x1=\"\(n(left))\" y1=\"\(ty)\" x2=\"\(n(right))\" y2=\"\(ty)\" stroke=\"#dddddd\"/>\n"
      s += "<text x=\"\(n(left - 6))\" y=\"\(ty)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(power(e))</text>\n"
    }
    let stepTick = niceStep(lastStep)
    for step in stride(from: 0, through: lastStep, by: stepTick) {
      let tx = n(x(step))
      s += "<line x1=\"\(tx)\" y1=\"\(n(bottom))\" x2=\"\(tx)\" y2=\"\(n(bottom + 5))\" stroke=\"black\"/>\n"
      s += "<text x=\"\(tx)\" y=\"\(n(bottom + 19))\" text-anchor=\"middle\">\(step)</text>\n"
    }
    s += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(right - left))\" height=\"\(n(bottom - top))\" "
      + "fill=\"none\" stroke=\"black\"/>\n"
    s += "<text x=\"\(n((left + right) / 2))\" y=\"\(n(height - 14))\" text-anchor=\"middle\">step</text>\n"
    s += "<text x=\"18\" y=\"\(n((top + bottom) / 2))\" text-anchor=\"middle\" "
      + "transform=\"rotate(-90 18 \(n((top + bottom) / 2)))\">loss (log scale)</text>\n"

    func polyline(_ name: String, _ color: String, _ style: String, _ points: [(Int, Double)]) -> String {
      let text = points.map { "\(n(x($0.0))),\(n(y($0.1)))" }.joined(separator: " ")
      return "<polyline class=\"\(name)\" fill=\"none\" stroke=\"\(color)\" \(style) points=\"\(text)\"/>\n"
    }
    // Bottom to top: the noisy batch trace, then validation wide, dashed and half transparent, then
    // training thin and solid, so where the two curves meet both stay visible.
    if !batchLosses.isEmpty {
      s += polyline("batch", trainColor, batchStyle, envelope(batchLosses, columns: Int(right - left)))
    }
    let valid = history.compactMap { r in r.valid.map { (r.step, $0) } }
    if !valid.isEmpty { s += polyline("valid", validColor, validStyle, valid) }
    s += polyline("train", trainColor, trainStyle, history.map { ($0.step, $0.train) })

    // The legend, in the top right corner of the plot.
    // The batch trace's own width would vanish in the legend: there it is drawn as wide as the rest.
    let entries = (batchLosses.isEmpty ? [] : [("batch loss", trainColor, batchLegendStyle)]) + [("train", trainColor, trainStyle)]
      + (valid.isEmpty ? [] : [("validation", validColor, validStyle)])
    let legendX = right - 120
    s += "<rect x=\"\(n(legendX))\" y=\"\(n(top + 8))\" width=\"112\" height=\"\(n(Double(entries.count) * 18 + 8))\" "
      + "fill=\"white\" stroke=\"#999999\"/>\n"
    for (i, (label, color, style)) in entries.enumerated() {
      let ly = top + 21 + Double(i) * 18
      s += "<line x1=\"\(n(legendX + 8))\" y1=\"\(n(ly))\" x2=\"\(n(legendX + 32))\" y2=\"\(n(ly))\" stroke=\"\(color)\" "
        + "\(style)/>\n"
      s += "<text x=\"\(n(legendX + 38))\" y=\"\(n(ly))\" dominant-baseline=\"middle\">\(label)</text>\n"
    }
    s += "</svg>\n"
    return s
  }

  static let trainStyle = "stroke-width=\"1.5\""
  static let validStyle = "stroke-width=\"2.5\" stroke-dasharray=\"7 4\" stroke-opacity=\"0.6\""
  static let batchStyle = "stroke-width=\"1\" stroke-opacity=\"0.3\""
  static let batchLegendStyle = "stroke-width=\"2\" stroke-opacity=\"0.3\""

  /// The decades the positive finite losses span, at least one. The batch losses widen the range
  /// by one decade at most either way: a lucky batch near zero must not squash the curves.
  static func decades(_ history: [LossRecord], batchLosses: [Double] = []) -> (Int, Int) {
    func positive(_ v: [Double]) -> [Double] { v.filter { $0 > 0 && $0.isFinite } }
    let values = positive(history.flatMap { [$0.train] + ($0.valid.map { [$0] } ?? []) })
    let batch = positive(batchLosses)
    guard var lo = values.min() ?? batch.min(), var hi = values.max() ?? batch.max() else { return (-1, 0) }
    if let b = batch.min() { lo = min(lo, max(b, lo / 10)) }
    if let b = batch.max() { hi = max(hi, min(b, hi * 10)) }
    let low = Int(floor(log10(lo)))
    let high = max(Int(ceil(log10(hi))), low + 1)
    return (low, high)
  }

  /// The batch losses as (step, loss) points, at most two per pixel column: each run of steps
  /// that shares a column gives its smallest and largest loss, in step order, so the trace keeps
  /// its spread in a file whose size does not grow with the steps.
  static func envelope(_ losses: [Double], columns: Int) -> [(Int, Double)] {
    let points = losses.enumerated().map { ($0.offset + 1, $0.element) }
    guard points.count > 2 * columns else { return points }
    var out: [(Int, Double)] = []
    var start = 0
    for c in 1...columns {
      let end = points.count * c / columns
      guard end > start else { continue }
      let bucket = points[start..<end]
      let lo = bucket.min { $0.1 < $1.1 }!, hi = bucket.max { $0.1 < $1.1 }!
      out += lo.0 == hi.0 ? [lo] : lo.0 < hi.0 ? [lo, hi] : [hi, lo]
      start = end
    }
    return out
  }

  /// A step between x ticks of 1, 2 or 5 times a power of ten, giving about five ticks.
  static func niceStep(_ last: Int) -> Int {
    var unit = 1
    while true {
      for m in [1, 2, 5] where last / (m * unit) <= 6 { return m * unit }
      unit *= 10
    }
  }

  /// 10 to the power e, with the exponent raised (as an SVG tspan).
  static func power(_ e: Int) -> String {
    "10<tspan dy=\"-6\" font-size=\"9\">\(e < 0 ? "\u{2212}\(-e)" : "\(e)")</tspan>"
  }

  /// A coordinate with two decimals, trailing zeros dropped: the text depends on the value only.
  static func n(_ v: Double) -> String {
    let hundredths = Int((v * 100).rounded())
    let sign = hundredths < 0 ? "-" : ""
    let (whole, fraction) = (abs(hundredths) / 100, abs(hundredths) % 100)
    if fraction == 0 { return "\(sign)\(whole)" }
    return fraction % 10 == 0 ? "\(sign)\(whole).\(fraction / 10)" : "\(sign)\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
  }

  static func escape(_ text: String) -> String {
    var out = ""
    for c in text {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      default: out.append(c)
      }
    }
    return out
  }
}
