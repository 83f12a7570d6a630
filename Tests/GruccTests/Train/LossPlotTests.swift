// The loss plot is well-formed XML (Foundation's parser reads it), has a polyline per curve (the
// faint batch-loss trace under them, validation dashed and translucent under training) and a
// tick per decade, and is byte-identical for the same history.

import Foundation
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

@testable import GruccCore

@Suite struct LossPlotTests {
  static let history = [
    LossRecord(step: 0, train: 1.3, valid: 1.4), LossRecord(step: 50, train: 0.21, valid: 0.3),
    LossRecord(step: 100, train: 0.004, valid: 0.02), LossRecord(step: 120, train: 0.0009, valid: 0.011),
  ]

  /// Element names and the attributes of each polyline, as the XML parser sees them.
  final class Collector: NSObject, XMLParserDelegate {
    var elements: [String] = []
    var polylines: [[String: String]] = []
    var text = ""

    func parser(
      _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
      attributes: [String: String] = [:]
    ) {
      elements.append(name)
      if name == "polyline" { polylines.append(attributes) }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
  }

  func parse(_ svg: String) throws -> Collector {
    let parser = XMLParser(data: Data(svg.utf8))
    let collector = Collector()
    parser.delegate = collector
    #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
    return collector
  }

  @Test func isWellFormedWithBothCurvesAndALegend() throws {
    let svg = LossPlot.svg(Self.history, title: "adder <quadratic> & adam")
    let parsed = try parse(svg)
    #expect(parsed.elements.first == "svg")
    #expect(parsed.polylines.map { $0["class"] } == ["valid", "train"])
    for line in parsed.polylines { #expect(line["points"]!.split(separator: " ").count == 4) }
    #expect(parsed.text.contains("adder <quadratic> & adam"))
    #expect(parsed.text.contains("validation") && parsed.text.contains("step") && parsed.text.contains("loss (log scale)"))
    // 0.0009 to 1.4: the decades 10^-4 to 10^1, each labelled.
    for e in ["\u{2212}4", "\u{2212}3", "\u{2212}2", "\u{2212}1", "0", "1"] { #expect(parsed.text.contains("10\(e)")) }
  }

  /// The batch losses of steps 1...120 lie under both curves; validation is drawn before
  /// training, wider, dashed and half transparent, so training shows through where they meet.
  @Test func batchLossesAreAFaintTraceAndValidationLetsTrainingShow() throws {
    let batch = (1...120).map { 1.3 * pow(0.94, Double($0)) * (1 + 0.3 * Double($0 % 3)) }
    let svg = LossPlot.svg(Self.history, batchLosses: batch, title: "t")
    let parsed = try parse(svg)
    #expect(parsed.polylines.map { $0["class"] } == ["batch", "valid", "train"])
    let (trace, valid, train) = (parsed.polylines[0], parsed.polylines[1], parsed.polylines[2])
    #expect(trace["points"]!.split(separator: " ").count == 120)
    #expect(trace["points"]!.hasPrefix("82.52,"))  // step 1 of 120
    #expect(Double(trace["stroke-opacity"]!)! <= 0.3 && Double(trace["stroke-width"]!)! < Double(train["stroke-width"]!)!)
    #expect(trace["stroke"] == train["stroke"])
    #expect(valid["stroke-dasharray"] != nil && Double(valid["stroke-opacity"]!)! < 1)
    #expect(Double(valid["stroke-width"]!)! > Double(train["stroke-width"]!)!)
    #expect(train["stroke-dasharray"] == nil && train["stroke-opacity"] == nil)
    #expect(parsed.text.contains("batch loss"))
    #expect(svg == LossPlot.svg(Self.history, batchLosses: batch, title: "t"))
    #expect(!LossPlot.svg(Self.history, title: "t").contains("batch"))
  }

  /// Thousands of steps give at most two points per pixel column, keeping each column's
  /// smallest and largest loss.
  @Test func manyBatchLossesAreThinnedToTheirEnvelope() throws {
    let batch: [Double] = (1...20_000).map { (step: Int) -> Double in
      let wobble = 1 + Double(step % 7) / 7
      return wobble / Double(step)
    }
    let points = LossPlot.envelope(batch, columns: 542)
    #expect(points.count <= 2 * 542 && points.count > 542)
    let steps = points.map { $0.0 }
    #expect(steps == steps.sorted())
    #expect(points.contains { $0.1 == batch.max() } && points.contains { $0.1 == batch.min() })
    #expect(LossPlot.envelope(Array(batch.prefix(1000)), columns: 542).count == 1000)
  }

  @Test func isByteIdenticalForTheSameHistory() {
    #expect(LossPlot.svg(Self.history, title: "t") == LossPlot.svg(Self.history, title: "t"))
    #expect(LossPlot.svg(Self.history, title: "t") != LossPlot.svg(Array(Self.history.dropLast()), title: "t"))
  }

  @Test func withoutValidationThereIsOneCurve() throws {
    let history = Self.history.map { LossRecord(step: $0.step, train: $0.train) }
    let parsed = try parse(LossPlot.svg(history, title: "t"))
    #expect(parsed.polylines.map { $0["class"] } == ["train"])
    #expect(!parsed.text.contains("validation"))
  }

  @Test func zeroLossAndASingleRecordStillPlot() throws {
    let parsed = try parse(LossPlot.svg([LossRecord(step: 0, train: 0)], title: "t"))
    #expect(parsed.polylines.count == 1)
    #expect(parsed.polylines[0]["points"] == "78,340")  // on the floor of the axis
  }

  @Test(arguments: [(1, 1), (5, 1), (7, 2), (20, 5), (120, 20), (1000, 200), (5000, 1000)])
  func stepTicksAreRound(last: Int, step: Int) {
    #expect(LossPlot.niceStep(last) == step)
  }
}
