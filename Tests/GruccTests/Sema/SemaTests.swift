// Sema tests: every message of the diagnostic catalogue reached from a source text (matched by
// case and line:column, not wording), the resolved Model for valid input, and no cascades.

import Foundation
import Testing

@testable import GruccCore

@Suite struct SemaTests {
  /// A source that must produce a diagnostic (or a note) of `message` case at `position`.
  struct Reach: Sendable, CustomTestStringConvertible {
    var message: String
    var source: String
    var position: String
    var severity: Diagnostic.Severity = .error
    /// The contents of the model's weights file, for the weight-binding messages.
    var tensors: [NamedTensor]?
    /// Bytes appended to the source, for what a String cannot hold.
    var rawSuffix: [UInt8] = []

    var testDescription: String { message }
  }

  static let layer = "gru h = x -> hidden 2, reset before, update keeps-state, bias single"

  /// A small valid model with `extra` lines appended (line 5 onwards).
  static func tiny(_ extra: String = "", output: String = "output y = dense(h, 1)") -> String {
    "model tiny\ninput x[3]\n\(layer)\n\(output)\n\(extra)"
  }

  /// A model whose gru reads a conv1d with `options`.
  static func conv(_ options: String, input: String = "x[4]") -> String {
    "model m\ninput \(input)\nconv1d c = x -> \(options)\n"
      + "gru h = c -> hidden 2, reset before, update keeps-state, bias single\noutput y = dense(h, 1)\n"
  }

  @Test func conv1dIsASequenceLayerWithItsGeometry() throws {
    let source = SourceFile(
      path: "m.gru",
      bytes: Array(Self.conv("filters 4, kernel 3, padding same, stride 2, dilation 2, groups 2, bias no, activation relu").utf8))
    let (model, diagnostics) = Sema.check(Parser.parse(source).0, source: source)
    #expect(!diagnostics.hasErrors)
    let layer = try #require(model?.sequenceLayers.first)
    #expect(layer.source == "x")
    #expect(layer.kind == .conv1d(Conv1DLayer(
      filters: 4, kernel: 3, stride: 2, dilation: 2, groups: 2, padding: .same, bias: false, activation: .relu)))
  }

  /// The tensors `tiny(weights ...)` needs, with `change` applied.
  static func tinyTensors(_ change: (inout [NamedTensor]) -> Void = { _ in }) -> [NamedTensor] {
    var t: [NamedTensor] = []
    for g in ["r", "z", "n"] {
      t.append(NamedTensor(name: "h.w_\(g)", dtype: .f32, shape: [2, 3], values: .init(repeating: 0.1, count: 6)))
    }
    for g in ["r", "z", "n"] {
      t.append(NamedTensor(name: "h.u_\(g)", dtype: .f32, shape: [2, 2], values: .init(repeating: 0.2, count: 4)))
    }
    for g in ["r", "z", "n"] { t.append(NamedTensor(name: "h.b_\(g)", dtype: .f32, shape: [2], values: [0, 1])) }
    t.append(NamedTensor(name: "y.w", dtype: .f32, shape: [1, 2], values: [1, 2]))
    t.append(NamedTensor(name: "y.b", dtype: .f32, shape: [1], values: [3]))
    change(&t)
    return t
  }

  static let weightsLine = "weights \"w.safetensors\""

  /// One entry per catalogue case that a user's input can produce. The Driver-only ones (a
  /// weights file that cannot be read or decoded) are in `DriverReach`.
  static let catalogue: [Reach] = [
    Reach(message: "badArguments", source: tiny("output z = mean(h, h)"), position: "5:12"),
    Reach(
      message: "biasChoices",
      source: "model m\ninput x[1]\ngru h = x -> hidden 1, reset none, update keeps-state\noutput y = h",
      position: "3:5"),
    Reach(message: "didYouMean", source: tiny("output z = mean(hh)"), position: "5:17"),
    Reach(message: "distributionArgument", source: tiny("init * normal(-1)"), position: "5:8"),
    Reach(message: "distributionArity", source: tiny("init * zeros(1)"), position: "5:8"),
    Reach(message: "duplicateName", source: tiny("let h = mean(x)"), position: "5:5"),
    Reach(
      message: "duplicateOption",
      source: tiny("gru g = h -> hidden 1, reset none, reset none, update keeps-state, bias none"),
      position: "5:36"),
    Reach(message: "duplicateStatement", source: tiny("model again"), position: "5:1"),
    Reach(message: "emptyFile", source: " \n\t\r\n", position: "1:1"),
    Reach(message: "emptyWeightsPath", source: tiny("weights \"\""), position: "5:9"),
    Reach(message: "expected", source: tiny("gru g = h hidden 2"), position: "5:11"),
    Reach(
      message: "expectedIntegerOption", source: "model m\ninput x[1], steps ten\n\(layer)\noutput y = h",
      position: "2:19"),
    Reach(
      message: "expectedNameOption", source: "model m\ninput x[1], lengths 3\n\(layer)\noutput y = h", position: "2:21"),
    Reach(
      message: "expectedOneOf", source: "model m\ninput x[1], layout rows\n\(layer)\noutput y = h", position: "2:20"),
    Reach(message: "expectedSequence", source: tiny("output z = mean(last(h))"), position: "5:12"),
    // 6 GiB of weights at the default 4 GiB limit: the layer that needs the largest tensor is named.
    Reach(
      message: "memoryLimit",
      source: tiny("output z = big", output: "gru big = h -> hidden 16384, reset none, update keeps-state, bias none"),
      position: "4:1"),
    Reach(message: "integerTooLarge", source: tiny("output z = dense(h, 123456789012345678901234)"), position: "5:21"),
    Reach(
      message: "invalidName",
      source: "model " + String(repeating: "m", count: 65) + "\ninput x[1]\n\(layer)\noutput y = h",
      position: "1:7"),
    Reach(message: "invalidOptionValue", source: tiny("precision f16"), position: "5:11"),
    Reach(message: "invalidUTF8", source: tiny("# caf"), position: "5:6", rawSuffix: [0xE9, 0x0A]),
    Reach(
      message: "lengthsUsedAsValue", source: "model m\ninput x[1], lengths n\n\(layer)\noutput y = n", position: "4:12"),
    Reach(message: "malformedNumber", source: tiny("output z = dense(h, 2x)"), position: "5:21"),
    Reach(
      message: "mergeWithoutBidirectional",
      source: tiny("gru g = h -> hidden 1, reset none, update keeps-state, bias none, merge sum"),
      position: "5:67"),
    Reach(message: "missingInput", source: "model m\noutput y = x", position: "1:1"),
    Reach(message: "missingModel", source: "input x[1]\n\(layer)\noutput y = h", position: "1:1"),
    Reach(
      message: "missingOptionValue", source: "model m\ninput x[1], steps\n\(layer)\noutput y = h", position: "2:13"),
    Reach(message: "missingOutput", source: "model m\ninput x[1]\n\(layer)", position: "1:1"),
    Reach(
      message: "missingVariantOption", source: tiny("gru g = h -> hidden 1, update keeps-state, bias none"),
      position: "5:5"),
    Reach(
      message: "missingWeight", source: tiny(weightsLine), position: "5:1",
      tensors: tinyTensors { $0.removeAll { $0.name == "h.u_z" } }),
    Reach(message: "negativeSeed", source: tiny("init seed -3"), position: "5:11"),
    Reach(
      message: "nestingTooDeep", source: tiny("output z = " + String(repeating: "tanh(", count: 40) + "h"),
      position: "5:176"),
    Reach(
      message: "nonFiniteWeight", source: tiny(weightsLine), position: "5:1",
      tensors: tinyTensors { $0[3].values[2] = .infinity }),
    // Finite as a double, infinite as the f32 the model computes in.
    Reach(
      message: "weightOutOfRange", source: tiny(weightsLine), position: "5:1",
      tensors: tinyTensors { $0[3] = NamedTensor(name: "h.u_r", dtype: .f64, shape: [2, 2], values: [0, 1e39, 0, 0]) }),
    Reach(message: "nulByte", source: tiny("output z = h\u{0}"), position: "5:13"),
    Reach(message: "numberNotAValue", source: tiny("output z = 1.5"), position: "5:12"),
    Reach(message: "numberOutOfRange", source: tiny("init * constant(-1e309)"), position: "5:17"),
    Reach(message: "onlyOneInput", source: tiny("input z[2]"), position: "5:1"),
    Reach(message: "storageNeedsF32", source: tiny("precision f64\nweights-storage f16"), position: "6:1"),
    Reach(
      message: "optionsOf", source: tiny("gru g = h -> hidden 1, reset none, update keeps-state, bias none, dropout 1"),
      position: "5:67"),
    Reach(message: "orthogonalNeedsMatrix", source: tiny("init h.b_* orthogonal"), position: "5:1"),
    Reach(message: "patternMatchesNothing", source: tiny("init nothing.* zeros"), position: "5:1", severity: .warning),
    Reach(message: "previousDeclaration", source: tiny("let h = mean(x)"), position: "3:5"),
    Reach(
      message: "resetChoices", source: tiny("gru g = h -> hidden 1, update keeps-state, bias none"), position: "5:5"),
    Reach(message: "sizeOutOfRange", source: tiny("output z = dense(h, 0)"), position: "5:21"),
    Reach(message: "stateOfNonLayer", source: tiny("output z = state(y)"), position: "5:18"),
    Reach(message: "twoDenseInOneBinding", source: tiny("output z = dense(dense(h, 2), 1)"), position: "5:18"),
    Reach(message: "unexpectedCharacter", source: tiny("output z = h;"), position: "5:13"),
    Reach(message: "unknownDistribution", source: tiny("init * glorot"), position: "5:8"),
    Reach(message: "unknownFunction", source: tiny("output z = avg(h)"), position: "5:12"),
    Reach(message: "unknownName", source: tiny("output z = q"), position: "5:12"),
    Reach(
      message: "unknownOption",
      source: tiny("gru g = h -> hidden 1, reset none, update keeps-state, bias none, dropout 1"),
      position: "5:67"),
    Reach(message: "unknownStatement", source: tiny("dense d = h"), position: "5:1"),
    Reach(
      message: "sequenceLayerChain", source: tiny("conv1d c = y -> filters 4, kernel 3, padding causal"), position: "5:1"),
    Reach(message: "sequenceOutputSteps", source: tiny("pool p = h -> max 2\noutput q = p"), position: "6:1"),
    Reach(message: "badLayerGeometry", source: conv("filters 3, kernel 2, padding causal, groups 2"), position: "3:54"),
    Reach(message: "missingLayerOption", source: conv("filters 3, kernel 2"), position: "3:8"),
    Reach(
      message: "sequenceLayerWithLengths", source: conv("filters 3, kernel 2, padding valid", input: "x[4], lengths len"),
      position: "3:1"),
    Reach(message: "unsharedNeedsFixedSteps", source: tiny("output z = dense(h, 2, unshared)"), position: "5:12"),
    Reach(message: "unterminatedString", source: tiny("weights \"w.safetensors"), position: "5:9"),
    Reach(message: "unusedDefinition", source: tiny("let spare = last(h)"), position: "5:1", severity: .warning),
    Reach(
      message: "unusedWeight", source: tiny(weightsLine), position: "5:1", severity: .warning,
      tensors: tinyTensors { $0.append(NamedTensor(name: "h.extra", dtype: .f32, shape: [1], values: [0])) }),
    Reach(message: "updateChoices", source: tiny("gru g = h -> hidden 1, reset none, bias none"), position: "5:5"),
    Reach(
      message: "weightFileInvalid", source: tiny(weightsLine), position: "5:1",
      tensors: tinyTensors { $0[10] = NamedTensor(name: "y.b", dtype: .i64, shape: [1], values: [3]) }),
    Reach(
      message: "weightShapeMismatch", source: tiny(weightsLine), position: "5:1",
      tensors: tinyTensors { $0[9].shape = [2, 1] }),
    // The file's layer has 3 units where the model says hidden 2: every tensor but the input
    // size's dimension disagrees, and the one error is at 'hidden 2'.
    Reach(
      message: "hiddenSizeMismatch", source: tiny(weightsLine), position: "3:14",
      tensors: tinyTensors { t in for i in t.indices { t[i].shape = t[i].shape.map { $0 == 2 ? 3 : $0 } } }),
    Reach(
      message: "hiddenSizeOfFile", source: tiny(weightsLine), position: "5:1",
      tensors: tinyTensors { t in for i in t.indices { t[i].shape = t[i].shape.map { $0 == 2 ? 3 : $0 } } }),
    Reach(
      message: "expectedNumberOption",
      source: tiny("gru g = h -> hidden 2, reset before, update keeps-state, bias single, clip many"), position: "5:76"),
    Reach(
      message: "optionNeedsBidirectional",
      source: tiny("gru g = h -> hidden 2, reset after, update keeps-state, bias none, backward-gate-activation relu"),
      position: "5:68"),
    Reach(
      message: "optionNeedsReversePass",
      source: tiny("gru g = h -> hidden 2, reset after, update keeps-state, bias none, output-order processing"),
      position: "5:68"),
    Reach(
      message: "optionNeedsLengths",
      source: tiny("gru g = h -> hidden 2, reset after, update keeps-state, bias none, past-end hold"),
      position: "5:68", severity: .warning),
    Reach(
      message: "optionsConflict",
      source: "model m\ninput x[1], lengths n\ngru h = x -> hidden 1, reset none, update keeps-state, bias none, "
        + "padding processed, past-end hold\noutput y = h",
      position: "3:86"),
    Reach(message: "mapWithoutWeights", source: tiny("map h = \"gru\""), position: "5:1"),
    Reach(message: "missingEpsilon", source: tiny("batchnorm n = h -> scale no\noutput z = n"), position: "5:11"),
    Reach(message: "expectedRangeOption", source: tiny("weights \"w.npz\"\nmap h.w_r = \"W\", rows x"), position: "6:23"),
    Reach(message: "emptyRange", source: tiny("weights \"w.npz\"\nmap h.w_r = \"W\", rows 3:3"), position: "6:23"),
    Reach(
      message: "mapBlockOutOfBounds", source: tiny(weightsLine + "\nmap h.w_r = \"h.w_z\", rows 0:5"), position: "6:22",
      tensors: tinyTensors()),
    Reach(
      message: "mapBlockShape", source: tiny(weightsLine + "\nmap h.w_r = \"h.w_z\", columns 0:2"), position: "6:1",
      tensors: tinyTensors()),
    Reach(message: "mapTargetUnknown", source: tiny("weights \"w.npz\"\nmap hh = \"gru\""), position: "6:5"),
    Reach(
      message: "mapOptionMisplaced", source: tiny("weights \"w.npz\", format keras\nmap h = \"gru\", transposed"),
      position: "6:16"),
    // TF1's GRUCell has one bias per gate; a layer with none cannot be read from its files.
    Reach(
      message: "weightLayout",
      source: "model tiny\ninput x[3]\ngru h = x -> hidden 2, reset before, update keeps-state, bias none\n"
        + "output y = h\nweights \"w.npz\", format tf1",
      position: "5:1", tensors: tinyTensors()),
    Reach(
      message: "weightVariant",
      source: "model tiny\ninput x[3]\ngru h = x -> hidden 2, reset before, update takes-candidate, bias single\n"
        + "output y = h\nweights \"w.npz\", format tf1",
      position: "3:1", severity: .warning, tensors: tinyTensors()),
    // A [2, 3H] Keras bias is reset_after=True's: the note says which variant the file holds.
    Reach(
      message: "weightMapHint", source: tiny("weights \"w.npz\", format keras\nmap y = \"dense\""), position: "5:1",
      tensors: kerasTensors(biasShape: [2, 6])),
    Reach(
      message: "weightUsedFor", source: tiny("weights \"w.npz\", format keras\nmap y = \"dense\""), position: "5:1",
      tensors: kerasTensors(biasShape: [2, 6])),
  ]

  /// The tensors of `tiny`'s layer and dense as Keras names and stacks them.
  static func kerasTensors(biasShape: [Int]) -> [NamedTensor] {
    func t(_ name: String, _ shape: [Int]) -> NamedTensor {
      NamedTensor(name: name, dtype: .f32, shape: shape, values: .init(repeating: 0.1, count: shape.reduce(1, *)))
    }
    return [
      t("gru/gru_cell/kernel", [3, 6]), t("gru/gru_cell/recurrent_kernel", [2, 6]), t("gru/gru_cell/bias", biasShape),
      t("dense/kernel", [2, 1]), t("dense/bias", [1]),
    ]
  }

  /// Cases no source text can produce, and why.
  static let unreachable: [String: String] = [
    "internalError": "only the verifier reports it, for a compiler bug",
  ]

  @Test(arguments: catalogue)
  func messageIsReachedFromSource(_ r: Reach) {
    let run = InProcess.run(bytes: Array(r.source.utf8) + r.rawSuffix, tensors: r.tensors)
    // Notes are printed at their own range, or at their parent's when they have none.
    var found: [(name: String, position: String, severity: Diagnostic.Severity)] = []
    for d in run.diagnostics {
      found.append((d.message.caseName, d.position, d.severity))
      for n in d.notes { found.append((n.message.caseName, (n.range.isNone ? d : n).position, .note)) }
    }
    let matches = found.filter { $0.name == r.message }
    #expect(!matches.isEmpty, "no '\(r.message)' in:\n\(InProcess.render(run.diagnostics, r.source))")
    let severity =
      r.message.hasSuffix("Choices")
        || ["didYouMean", "expectedOneOf", "optionsOf", "previousDeclaration", "weightMapHint", "weightUsedFor", "hiddenSizeOfFile"]
          .contains(r.message)
      ? Diagnostic.Severity.note : r.severity
    #expect(matches.contains { $0.severity == severity })
    if !r.position.isEmpty {
      #expect(matches.contains { $0.position == r.position }, "at \(matches.map(\.position)), expected \(r.position)")
    }
    #expect(run.failure.map { if case .verifier = $0 { return false } else { return true } } ?? true)
  }

  /// Every case declared in DiagnosticMessage.swift is in `catalogue`, `DriverReach` or `unreachable`.
  @Test func everyMessageIsReachedOrExplained() throws {
    let text = try String(
      contentsOfFile: Golden.root + "/Sources/GruccCore/Source/DiagnosticMessage.swift", encoding: .utf8)
    var declared: [String] = []
    for line in text.split(separator: "\n") where line.hasPrefix("  case ") {
      let name = line.dropFirst("  case ".count).prefix { $0.isLetter || $0.isNumber }
      declared.append(String(name))
    }
    #expect(declared.count > 40)
    let covered = Set(Self.catalogue.map(\.message) + DriverReach.messages + Self.unreachable.keys)
    for name in declared {
      #expect(covered.contains(name), "no test reaches DiagnosticMessage.\(name)")
    }
    for name in covered { #expect(declared.contains(name), "'\(name)' is not in the catalogue any more") }
  }

  // MARK: - The resolved model

  func model(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Model {
    let front = InProcess.frontEnd(text)
    #expect(
      front.diagnostics.diagnostics.isEmpty, "\(InProcess.render(front.diagnostics.diagnostics, text))",
      sourceLocation: sourceLocation)
    return try #require(front.model, sourceLocation: sourceLocation)
  }

  @Test func defaultsAreFilledIn() throws {
    let m = try model(Self.tiny())
    #expect(m.name == "tiny")
    #expect(m.precision == .f32)
    #expect(m.input.layout == .batchMajor)
    #expect(m.input.steps == nil)
    #expect(m.input.lengths == nil)
    #expect(m.weights == nil)
    #expect(m.initSeed == 0)
    let h = try #require(m.layer(named: "h"))
    #expect(h.direction == .forward)
    #expect(h.merge == .concat)
    #expect(h.initial == .zero)
    #expect(h.outputActivation == .identity)
  }

  /// l2norm's epsilon defaults to the frameworks' 1e-12, must be positive and finite, and the
  /// function normalises over the features, so it is a head function and never a gate activation.
  @Test func l2normIsAHeadFunctionWithAPositiveEpsilon() throws {
    let m = try model(Self.tiny(output: "output y = l2norm(dense(h, 2))\noutput u = l2norm(last(h), 0.5)"))
    guard case .activation(.l2norm(let e), .dense, _) = m.outputs[0].value, e == 1e-12,
      case .activation(.l2norm(0.5), .reduce(.last, _, _), _) = m.outputs[1].value
    else {
      Issue.record("outputs: \(m.outputs.map(\.value))")
      return
    }
    let refused: [(String, String, String)] = [
      (Self.tiny(output: "output y = l2norm(h, 0)"), "badArguments", "4:12"),
      (Self.tiny(output: "output y = l2norm(h, -1e-3)"), "badArguments", "4:12"),
      (Self.tiny(output: "output y = l2norm(h, 1, 2)"), "badArguments", "4:12"),
      (Self.tiny(output: "output y = l2norm()"), "badArguments", "4:12"),
      (Self.tiny("gru g = h -> hidden 2, reset after, update keeps-state, bias none, gate-activation l2norm"),
       "invalidOptionValue", "5:84"),
    ]
    for (source, message, position) in refused {
      let run = InProcess.run(source)
      #expect(
        run.errors.contains { $0.message.caseName == message && $0.position == position },
        "\(source)\n\(InProcess.render(run.diagnostics, source))")
    }
  }

  @Test func everyOptionReachesTheModel() throws {
    let m = try model(
      """
      model full
      precision f64
      input x[5], steps 7, layout time-major, lengths len
      gru h = x -> hidden 6, reset after, update takes-candidate, bias separate, direction bidirectional, merge mul, initial given, output-activation relu
      gru g = h -> hidden 2, reset none, update keeps-state, bias none, direction reverse
      let p = max(g)
      output y = softmax(dense(p, 3))
      output s = state(h)
      weights "w.safetensors", format grucc
      init seed 9
      init h.*, g.* normal(1, 2)
      """)
    #expect(m.precision == .f64)
    #expect(m.input.features == 5)
    #expect(m.input.steps == 7)
    #expect(m.input.layout == .timeMajor)
    #expect(m.input.lengths == "len")
    let h = try #require(m.layer(named: "h"))
    #expect(h.hidden == 6)
    #expect(h.reset == .after)
    #expect(h.update == .takesCandidate)
    #expect(h.bias == .separate)
    #expect(h.direction == .bidirectional)
    #expect(h.merge == .mul)
    #expect(h.initial == .given)
    #expect(h.outputActivation == .relu)
    let g = try #require(m.layer(named: "g"))
    #expect(g.source == "h")
    #expect((g.reset, g.update, g.bias, g.direction) == (.none, .keepsState, .none, .reverse))
    #expect(m.definitions.map(\.name) == ["h", "g", "p", "y", "s"])
    #expect(m.outputs.map(\.name) == ["y", "s"])
    #expect(m.weights?.path == "w.safetensors")
    #expect(m.initSeed == 9)
    #expect(m.initRules.map(\.patterns) == [["h.*", "g.*"]])
    #expect(m.initRules.first?.distribution == .normal(mean: 1, std: 2))
    guard case .activation(.softmax, .dense(.ref("p", _), 3, false, _), _) = m.outputs[0].value,
      case .value(let p) = m.definitions[2], case .reduce(.max, .ref("g", _), _) = p.value
    else {
      Issue.record("output y: \(m.outputs[0].value)")
      return
    }
    guard case .state(layer: "h", _) = m.outputs[1].value else {
      Issue.record("output s: \(m.outputs[1].value)")
      return
    }
  }

  @Test(arguments: [
    ("normal(0.5)", Distribution.normal(mean: 0, std: 0.5)),
    ("normal(-1, 2)", .normal(mean: -1, std: 2)),
    ("truncated-normal(0.01)", .truncatedNormal(mean: 0, std: 0.01)),
    ("uniform(-1, 1)", .uniform(low: -1, high: 1)),
    ("orthogonal", .orthogonal(gain: 1)),
    ("orthogonal(2)", .orthogonal(gain: 2)),
    ("zeros", .constant(0)),
    ("ones", .constant(1)),
    ("constant(1.5)", .constant(1.5)),
    ("fan-in-uniform", .fanInUniform),
  ])
  func distributions(text: String, expected: Distribution) throws {
    let m = try model(Self.tiny("init h.u_* \(text)"))
    #expect(m.initRules.first?.distribution == expected)
  }

  // MARK: - No cascades

  /// The errors of a source, as `case@line:column`.
  func errors(_ text: String) -> [String] {
    InProcess.run(text).errors.map { "\($0.message.caseName)@\($0.position)" }
  }

  @Test func aBrokenDeclarationStillDefinesItsName() {
    #expect(
      errors("model m\ninput x[1]\ngru h = x -> hidden, reset none, update keeps-state, bias none\noutput y = h")
        == ["expected@3:20"])
    #expect(errors("model m\ninput x[\noutput y = dense(x, 1)") == ["expected@2:9"])
    #expect(errors("model m\ninput x[1]\nlayer h = x -> hidden 2\noutput y = state(h)") == ["unknownStatement@3:1"])
  }

  @Test func aBrokenOutputStillCountsAsAnOutput() {
    #expect(errors("model m\ninput x[1]\noutput y = dense(x 1)") == ["expected@3:20"])
    #expect(errors("model m\ninput x[1]\noutput y = nope") == ["unknownName@3:12"])
  }

  @Test func aBrokenModelOrInputStatementIsNotAlsoMissing() {
    #expect(errors("model\ninput x[1]\noutput y = x") == ["expected@1:6"])
    #expect(errors("model m\ninput x(3)\noutput y = mean(x)") == ["expected@2:8"])
    #expect(errors("model " + String(repeating: "a", count: 70) + "\ninput x[1]\noutput y = x") == ["invalidName@1:7"])
  }

  @Test func aMisspelledVariantOptionIsOneError() {
    #expect(
      errors("model m\ninput x[1]\ngru h = x -> hidden 1, rest none, update keeps-state, bias none\noutput y = h")
        == ["unknownOption@3:24"])
    #expect(
      errors("model m\ninput x[1]\ngru h = x -> hidden 1, reset none, updates keeps-state, biass none\noutput y = h")
        == ["unknownOption@3:36", "unknownOption@3:57"])
  }

  @Test func noUnusedWarningsNextToErrors() {
    let run = InProcess.run(Self.tiny("let spare = mean(h)\noutput z = nope(spare)"))
    #expect(run.diagnostics.map(\.message.caseName) == ["unknownFunction"])
  }

  @Test func aLayerOverAnUnknownNameIsOneError() {
    #expect(
      errors(
        "model m\ninput x[1]\ngru h = q -> hidden 1, reset none, update keeps-state, bias none\noutput y = dense(h, 1)")
        == ["unknownName@3:9"])
  }
}

/// The catalogue cases only the Driver produces (it reads the weights file), reached through it
/// in a temporary directory and matched by location and the rendered message.
@Suite struct DriverReach {
  static let messages = ["cannotReadFile", "notTrainable", "weightFileInvalid", "weightsFileMissingReport"]

  /// `grucc train` and `--emit gradient-ir` refuse a conv1d at its line.
  @Test func trainRefusesAConvolution() throws {
    try withScratchDirectory { dir in
      let model = "\(dir)/m.gru"
      _ = FileManager.default.createFile(
        atPath: model, contents: Data((SemaTests.conv("filters 3, kernel 2, padding causal") + "init * zeros\n").utf8))
      let result = Driver.run([model, "--emit", "gradient-ir"])
      #expect(result.exitCode == 1)
      let message = DiagnosticMessage.notTrainable("c", statement: "conv1d").text
      #expect(result.stderr.hasPrefix("\(model):3:1: error: \(message)\n"), "\(result.stderr)")
      let train = Driver.run(["train", model, "--data", "\(dir)/none.npz", "--loss", "mse", "--steps", "1", "-o", "\(dir)/w.safetensors"])
      #expect(train.exitCode == 1)
      #expect(train.stderr.hasPrefix("\(model):3:1: error: \(message)\n"), "\(train.stderr)")
    }
  }

  /// `check` reports a model whose weights file does not exist yet, with a warning and a note.
  @Test func checkOfAModelWhoseWeightsFileIsMissing() throws {
    try withScratchDirectory { dir in
      let model = "\(dir)/m.gru"
      _ = FileManager.default.createFile(atPath: model, contents: Data(SemaTests.tiny("weights \"later.safetensors\"").utf8))
      let result = Driver.run(["check", model])
      #expect(result.exitCode == 0)
      #expect(result.stderr.contains("\(model):5:1: note: \(DiagnosticMessage.weightsFileMissingReport.text)\n"))
    }
  }

  @Test(arguments: [
    (
      "missing.safetensors", nil as [UInt8]?,
      DiagnosticMessage.cannotReadFile("missing.safetensors", reason: "no such file or directory")
    ),
    (
      "garbage.safetensors", Array("not weights".utf8),
      .weightFileInvalid("garbage.safetensors", reason: "header length 7451598620781211502 exceeds file size 11")
    ),
  ])
  func weightFileProblems(file: String, bytes: [UInt8]?, message: DiagnosticMessage) throws {
    try withScratchDirectory { dir in
      if let bytes { _ = FileManager.default.createFile(atPath: "\(dir)/\(file)", contents: Data(bytes)) }
      let model = "\(dir)/m.gru"
      _ = FileManager.default.createFile(atPath: model, contents: Data(SemaTests.tiny("weights \"\(file)\"").utf8))
      let result = Driver.run([model, "-o", "\(dir)/m.c"])
      #expect(result.exitCode == 1)
      #expect(result.stderr.hasPrefix("\(model):5:1: error: \(message.text)\n"), "\(result.stderr)")
      #expect(!FileManager.default.fileExists(atPath: "\(dir)/m.c"))
    }
  }
}
