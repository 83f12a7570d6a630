// Every seed system with its weights under the seed's own names: each directory of
// Tests/Fixtures/seeds (Tools/make-seed-fixtures.py) holds the weights as the seed's framework
// saves them, inputs, and the outputs of a transcription of the seed's own forward code. Its
// model.gru reads the weights with weights/format/map lines alone; the interpreter and the
// generated C must reproduce the transcription (1e-5 for f32, 1e-12 for f64). The model.gru
// repeats the statements of a Spec, and a test checks they still agree, so the Spec is what the
// seed computes.

import Foundation
import Testing

@testable import GruccCore

@Suite struct SeedFixtureTests {
  static let root = EndToEnd.repositoryRoot.appendingPathComponent("Tests/Fixtures/seeds")

  struct Case: Sendable {
    var fixture: FrameworkFixture
    /// The Spec whose statements model.gru repeats (`seed003-gru-cell-classifier`).
    var spec: String
  }

  /// The cases with a model.gru; the others wait for language options (see their case.json).
  static let cases: [Case] = {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    return names.sorted().compactMap { name in
      let dir = root.appendingPathComponent(name)
      guard let data = try? Data(contentsOf: dir.appendingPathComponent("case.json")),
        let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
        let model = json["model"] as? String, let spec = json["spec"] as? String
      else { return nil }
      let fixture = FrameworkFixture(
        name: name, directory: dir, source: "seed", precision: json["precision"] as? String ?? "f32", model: model,
        reference: json["reference"] as? String ?? "", description: json["description"] as? String ?? "")
      return Case(fixture: fixture, spec: spec)
    }
  }()

  static let names = cases.map(\.fixture.name)

  @Test func everySeedSpecHasAFixtureOrSaysWhyNot() {
    #expect(Self.cases.count >= 7, "fixtures found: \(Self.names)")
    let covered = Set(Self.cases.map(\.spec))
    // seed000-bigru computes a corrected BiGRU that no seed function computes (README, "The models in Specs/").
    for spec in EndToEnd.specNames where spec != "seed000-bigru" {
      #expect(covered.contains(spec), "Specs/\(spec).gru has no fixture in Tests/Fixtures/seeds")
    }
  }

  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: names)
  func seedWeightsUnderTheirOwnNamesReproduceTheSeed(name: String) throws {
    let c = try #require(Self.cases.first { $0.fixture.name == name })
    let modelPath = c.fixture.directory.appendingPathComponent(c.fixture.model).path
    // The weights must load with no complaint: every tensor of the seed's file is used.
    let checked = Driver.run(["check", modelPath])
    #expect(checked.exitCode == 0 && !checked.stderr.contains("warning"), "\(checked.stderr)")
    let table = try FixtureRunner(fixture: c.fixture, modelPath: modelPath).run()
    print("seed fixture \(name) (\(c.fixture.precision)): \(table.summary)")
    table.expectWithin(c.fixture.tolerance, model: name)
  }

  /// The fixture's model and the Spec state the same model: model, precision, input, gru, let and
  /// output statements, compared as written (comments and spacing aside).
  @Test(arguments: names)
  func fixtureStatesItsSpecsModel(name: String) throws {
    let c = try #require(Self.cases.first { $0.fixture.name == name })
    let fixture = try String(
      contentsOf: c.fixture.directory.appendingPathComponent(c.fixture.model), encoding: .utf8)
    let spec = try String(contentsOfFile: EndToEnd.specPath(c.spec), encoding: .utf8)
    #expect(Self.statements(fixture) == Self.statements(spec), "Tests/Fixtures/seeds/\(name)/model.gru and Specs/\(c.spec).gru")
    #expect(!Self.statements(spec).isEmpty)
  }

  /// The statements that say what a model computes, one per line: continuation lines joined,
  /// comments dropped, spacing normalised.
  static func statements(_ text: String) -> [String] {
    var out: [String] = []
    var pending = ""
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
      let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
      let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
      if words.isEmpty { continue }
      pending = pending.isEmpty ? words : pending + " " + words
      if pending.hasSuffix(",") { continue }
      let keyword = pending.prefix { $0 != " " }
      if ["model", "precision", "input", "gru", "let", "output"].contains(keyword) { out.append(pending) }
      pending = ""
    }
    return out
  }

  /// Seed 000's BiGRU as the seed computes it waits for language options; its data are ready.
  @Test func exactBiGRUFixtureHoldsTheSeedsTensors() throws {
    let dir = Self.root.appendingPathComponent("seed000_bigru_exact")
    func arrays(_ file: String) throws -> [String: [Int]] {
      let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent(file)))
      return Dictionary(uniqueKeysWithValues: try Npz.read(bytes).map { ($0.name, $0.array.shape) })
    }
    let weights = try arrays("weights.npz")
    for scope in ["gru_init/", "gru_init_1/"] {
      #expect(weights["\(scope)input_gate_wi:0"] == [28, 50])
      #expect(weights["\(scope)forget_gate_wf_1:0"] == [50, 50])
    }
    #expect(weights.count == 18)
    #expect(try arrays("inputs.npz") == ["x": [3, 7, 28], "len": [3]])
    #expect(try arrays("expect.npz") == ["states": [3, 7, 100], "mean_state": [3, 100]])
  }
}
