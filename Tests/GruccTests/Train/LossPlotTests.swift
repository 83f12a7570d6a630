// The loss plot is well-formed XML (Foundation's parser reads it), has a polyline per curve and
// a tick per decade, and is byte-identical for the same history.

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
    #expect(parsed.polylines.map { $0["class"] } == ["train", "valid"])
    for line in parsed.polylines { #expect(line["points"]!.split(separator: " ").count == 4) }
    #expect(parsed.text.contains("adder <quadratic> & adam"))
    #expect(parsed.text.contains("validation") && parsed.text.contains("step") && parsed.text.contains("loss (log scale)"))
    // 0.0009 to 1.4: the decades 10^-4 to 10^1, each labelled.
    for e in ["\u{2212}4", "\u{2212}3", "\u{2212}2", "\u{2212}1", "0", "1"] { #expect(parsed.text.contains("10\(e)")) }
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
