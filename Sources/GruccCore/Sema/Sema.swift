// Semantic analysis: checks names, options and sizes of the syntax tree and resolves it into a
// `Model`. Reports every independent error; shapes of values are checked later, by ShapeInference.

/// Turns a `ModelFile` into a `Model`, or reports why it cannot.
public struct Sema {
  var diagnostics = DiagnosticEngine()
  /// Names defined so far, with the range of their definition, in source order.
  private var defined: [(name: String, kind: DefinedKind, range: SourceRange)] = []
  /// Where each name is in `defined`: looking names up by search made checking quadratic.
  private var definedAt: [String: Int] = [:]
  private let fileRange: SourceRange
  /// Whether the input declared so far takes lengths; the options about padding depend on it.
  private var inputHasLengths = false

  /// `invalid`: declared by a statement the parser abandoned; uses of it are not errors.
  enum DefinedKind { case input, lengths, gru, sequence, norm, value, invalid }

  /// Largest size accepted for any dimension: keeps the generated arrays and stack frames sane.
  public static let maxSize = 1 << 16

  private init(fileRange: SourceRange) { self.fileRange = fileRange }

  /// Checks a parsed file. Returns nil when there were errors; the diagnostics say why.
  public static func check(_ file: ModelFile, source: SourceFile) -> (Model?, DiagnosticEngine) {
    var sema = Sema(fileRange: source.range(0, 0))
    let model = sema.run(file)
    return (sema.diagnostics.hasErrors ? nil : model, sema.diagnostics)
  }

  // MARK: - Statements

  private mutating func run(_ file: ModelFile) -> Model? {
    var modelName: (Name, SourceRange)?
    var precision: (Precision, SourceRange)?
    var storage: (WeightElement, SourceRange)?
    var input: InputSpec?
    var definitions: [Definition] = []
    var weights: WeightsSpec?
    var seed: (UInt64, SourceRange)?
    var rules: [InitRule] = []
    var maps: [(MapDecl, SourceRange)] = []

    for statement in file.statements {
      switch statement.kind {
      case .model(let name):
        if let previous = modelName {
          duplicate("model", at: statement.keyword.range, previous: previous.1)
        } else if checkIdentifier(name, what: "model name") {
          modelName = (name, statement.range)
        }
      case .precision(let word):
        if let previous = precision {
          duplicate("precision", at: statement.keyword.range, previous: previous.1)
        } else if let p = Precision(rawValue: word.text) {
          precision = (p, statement.range)
        } else {
          diagnostics.error(
            .invalidOptionValue(option: "precision", value: word.text), at: word.range,
            notes: [.note(.expectedOneOf(Precision.allCases.map(\.rawValue)))])
        }
      case .weightsStorage(let word):
        if let previous = storage {
          duplicate("weights-storage", at: statement.keyword.range, previous: previous.1)
        } else if let e = WeightElement(rawValue: word.text) {
          storage = (e, statement.range)
        } else {
          diagnostics.error(
            .invalidOptionValue(option: "weights-storage", value: word.text), at: word.range,
            notes: [.note(.expectedOneOf(WeightElement.allCases.map(\.rawValue)))])
        }
      case .input(let decl):
        if let previous = input {
          diagnostics.error(
            .onlyOneInput, at: statement.keyword.range, notes: [.note(.previousDeclaration, at: previous.range)])
        } else {
          input = checkInput(decl, range: statement.range)
        }
      case .gru(let decl):
        if let layer = checkGRU(decl, range: statement.range) { definitions.append(.gru(layer)) }
      case .norm(let decl):
        if let layer = checkNorm(decl, range: statement.range) { definitions.append(.norm(layer)) }
      case .binding(let decl):
        if let value = checkBinding(decl, range: statement.range) { definitions.append(.value(value)) }
      case .weights(let decl):
        if let previous = weights {
          duplicate("weights", at: statement.keyword.range, previous: previous.range)
        } else {
          weights = checkWeights(decl, range: statement.range)
        }
      case .initSeed(let value, let range):
        if let previous = seed {
          duplicate("init seed", at: statement.keyword.range, previous: previous.1)
        } else if value < 0 {
          diagnostics.error(.negativeSeed, at: range)
        } else {
          seed = (UInt64(value), statement.range)
        }
      case .initRule(let decl):
        if let rule = checkInitRule(decl, range: statement.range) { rules.append(rule) }
      case .map(let decl):
        maps.append((decl, statement.range))
      case .conv1d(let decl):
        if let layer = checkConv1D(decl, range: statement.range) { definitions.append(.sequence(layer)) }
      case .sequenceLayer(let decl):
        let sourceKind = resolve(decl.source)
        let kind = Sema.checkSequenceLayerOptions(decl, &diagnostics)
        let okName = declare(decl.name, .sequence, what: "layer name")
        if okName, sourceKind != nil, let kind {
          definitions.append(.sequence(SequenceLayer(name: decl.name.text, source: decl.source.text, kind: kind, range: statement.range)))
        }
      case .invalid(let name):
        if let name, definedAt[name.text] == nil { define(name.text, .invalid, name.range) }
      }
    }

    if let first = maps.first, weights == nil, !file.statements.contains(where: { $0.keyword.text == "weights" }) {
      diagnostics.error(.mapWithoutWeights, at: first.1)
    } else if weights != nil {
      weights!.maps = checkMaps(maps, definitions: definitions, format: weights!.format)
    }

    // What is missing is decided by the statements written, even those that were broken or
    // rejected: their own errors already say what is wrong with them.
    let written = file.statements.map(\.keyword.text)
    if let modelStatement = file.statements.first(where: { $0.keyword.text == "model" }) {
      let at = modelName?.1 ?? modelStatement.range
      if !written.contains("input") { diagnostics.error(.missingInput, at: at) }
      if !written.contains("output") { diagnostics.error(.missingOutput, at: at) }
    } else {
      diagnostics.error(.missingModel, at: file.statements.first?.range ?? fileRange)
    }
    // After an error some uses were never checked, so "never used" could be false.
    let hasInvalid = file.statements.contains { if case .invalid = $0.kind { return true } else { return false } }
    if !diagnostics.hasErrors && !hasInvalid { warnUnused(definitions) }
    if let input { checkSequenceChain(definitions, input: input) }

    // Narrow storage is for f32 models: their products accumulate in f32 from widened weights.
    if let storage, storage.0 != .f32, precision?.0 == .f64 {
      diagnostics.error(.storageNeedsF32(storage.0.rawValue), at: storage.1)
    }
    guard let modelName, let input else { return nil }
    var model = Model(
      name: modelName.0.text, precision: precision?.0 ?? .f32, input: input, definitions: definitions,
      weights: weights, initSeed: seed?.0 ?? 0, initRules: rules, range: modelName.1)
    model.weightElement = storage?.0 ?? .f32
    return model
  }

  private mutating func duplicate(_ what: String, at range: SourceRange, previous: SourceRange) {
    diagnostics.error(.duplicateStatement(what), at: range, notes: [.note(.previousDeclaration, at: previous)])
  }

  // MARK: - Names

  /// Model and binding names become C identifiers, so they are restricted to letters, digits and `_`.
  private mutating func checkIdentifier(_ name: Name, what: String) -> Bool {
    let ok = name.text.utf8.allSatisfy { c in
      (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
        || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_")
    }
    if !ok || name.text.utf8.count > 64 {
      diagnostics.error(.invalidName(what, name.text), at: name.range)
      return false
    }
    return true
  }

  /// Declares a new name; reports a clash with an earlier declaration.
  mutating func declare(_ name: Name, _ kind: DefinedKind, what: String) -> Bool {
    guard checkIdentifier(name, what: what) else { return false }
    if let previous = definedAt[name.text].map({ defined[$0] }) {
      diagnostics.error(
        .duplicateName(name.text), at: name.range, notes: [.note(.previousDeclaration, at: previous.range)])
      return false
    }
    define(name.text, kind, name.range)
    return true
  }

  private mutating func define(_ name: String, _ kind: DefinedKind, _ range: SourceRange) {
    definedAt[name] = defined.count
    defined.append((name, kind, range))
  }

  /// Looks up a name used as a value; only earlier declarations are visible.
  mutating func resolve(_ name: Name) -> DefinedKind? {
    guard let found = definedAt[name.text].map({ defined[$0] }) else {
      let suggestion = closestName(to: name.text)
      diagnostics.error(
        .unknownName(name.text), at: name.range,
        notes: suggestion.map { [.didYouMean($0, replacing: name.range)] } ?? [])
      return nil
    }
    if found.kind == .invalid { return nil }
    if found.kind == .lengths {
      diagnostics.error(.lengthsUsedAsValue(name.text), at: name.range)
      return nil
    }
    return found.kind
  }

  private func closestName(to text: String) -> String? {
    let candidates = defined.map(\.name).filter { editDistance($0, text) <= max(1, text.count / 3) }
    return candidates.min { editDistance($0, text) < editDistance($1, text) }
  }

  private mutating func warnUnused(_ definitions: [Definition]) {
    var used = Set<String>()
    func visit(_ e: HeadExpr) {
      switch e {
      case .ref(let n, _): used.insert(n)
      case .state(let n, _): used.insert(n)
      case .dense(let x, _, _, _), .activation(_, let x, _), .reduce(_, let x, _): visit(x)
      }
    }
    for d in definitions {
      switch d {
      case .gru(let l): used.insert(l.source)
      case .sequence(let l): used.insert(l.source)
      case .norm(let l): used.insert(l.source)
      case .value(let v): visit(v.value)
      }
    }
    for d in definitions {
      if case .value(let v) = d, v.isOutput { continue }
      if !used.contains(d.name) {
        let range: SourceRange
        switch d {
        case .gru(let l): range = l.range
        case .sequence(let l): range = l.range
        case .norm(let l): range = l.range
        case .value(let v): range = v.range
        }
        diagnostics.warning(.unusedDefinition(d.name), at: range)
      }
    }
  }

  // MARK: - Declarations

  private mutating func checkInput(_ decl: InputDecl, range: SourceRange) -> InputSpec? {
    let okName = declare(decl.name, .input, what: "input name")
    let okSize = checkSize(decl.features, at: decl.featuresRange, what: "input feature size")
    let options = OptionReader(decl.options, declaration: "input", allowed: ["steps", "layout", "lengths"])
    let steps = options.integer("steps", &diagnostics, minimum: 1)
    let layout = options.choice("layout", SequenceLayout.self, &diagnostics) ?? .batchMajor
    var lengths: String?
    if let lengthsName = options.word("lengths", &diagnostics) {
      if declare(lengthsName, .lengths, what: "lengths input name") { lengths = lengthsName.text }
    }
    options.finish(&diagnostics)
    inputHasLengths = lengths != nil
    guard okName, okSize else { return nil }
    return InputSpec(
      name: decl.name.text, features: decl.features, steps: steps, layout: layout, lengths: lengths, range: range)
  }

  private mutating func checkGRU(_ decl: GRUDecl, range: SourceRange) -> GRULayer? {
    let sourceKind = resolve(decl.source)
    let okSize = checkSize(decl.hidden, at: decl.hiddenRange, what: "hidden size")
    let options = OptionReader(
      decl.options, declaration: "gru",
      allowed: [
        "reset", "update", "bias", "direction", "merge", "initial", "output-activation", "gate-activation",
        "candidate-activation", "clip", "backward-gate-activation", "backward-candidate-activation", "past-end",
        "output-order", "padding",
      ])
    let reset = options.choice("reset", ResetPlacement.self, &diagnostics)
    let update = options.choice("update", UpdateConvention.self, &diagnostics)
    let bias = options.choice("bias", BiasLayout.self, &diagnostics)
    let direction = options.choice("direction", Direction.self, &diagnostics) ?? .forward
    let merge = options.choice("merge", MergeMode.self, &diagnostics)
    let initial = options.choice("initial", InitialState.self, &diagnostics) ?? .zero
    let activation = options.activation("output-activation", &diagnostics) ?? .identity
    let gateActivation = options.activation("gate-activation", &diagnostics) ?? .sigmoid
    let candidateActivation = options.activation("candidate-activation", &diagnostics) ?? .tanh
    let clip = options.positiveNumber("clip", &diagnostics)
    let backwardGate = options.activation("backward-gate-activation", &diagnostics)
    let backwardCandidate = options.activation("backward-candidate-activation", &diagnostics)
    for key in ["backward-gate-activation", "backward-candidate-activation"] where direction != .bidirectional {
      if let clause = options.clause(key) {
        diagnostics.error(.optionNeedsBidirectional(key), at: clause.range)
      }
    }
    let pastEnd = options.choice("past-end", PastEnd.self, &diagnostics)
    let outputOrder = options.choice("output-order", OutputOrder.self, &diagnostics)
    let padding = options.choice("padding", PaddingMode.self, &diagnostics)
    checkLengthOptions(options, direction: direction, pastEnd: pastEnd, outputOrder: outputOrder, padding: padding)
    options.finish(&diagnostics)

    // The variant must be spelled out: a silent default is how weights end up in the wrong variant.
    let layerName = decl.name.text
    if reset == nil && !options.mentionedOrMisspelled("reset") {
      diagnostics.error(
        .missingVariantOption(layer: layerName, option: "reset"), at: decl.name.range,
        notes: [.note(.resetChoices)])
    }
    if update == nil && !options.mentionedOrMisspelled("update") {
      diagnostics.error(
        .missingVariantOption(layer: layerName, option: "update"), at: decl.name.range,
        notes: [.note(.updateChoices)])
    }
    if bias == nil && !options.mentionedOrMisspelled("bias") {
      diagnostics.error(
        .missingVariantOption(layer: layerName, option: "bias"), at: decl.name.range,
        notes: [.note(.biasChoices)])
    }
    if let merge = options.clause("merge"), direction != .bidirectional {
      diagnostics.error(.mergeWithoutBidirectional, at: merge.range)
    }
    let okName = declare(decl.name, .gru, what: "layer name")
    guard okName, okSize, sourceKind != nil, let reset, let update, let bias else { return nil }
    var layer = GRULayer(
      name: layerName, source: decl.source.text, hidden: decl.hidden, reset: reset, update: update, bias: bias,
      direction: direction, merge: merge ?? .concat, initial: initial, outputActivation: activation, range: range)
    layer.hiddenRange = decl.hiddenClauseRange
    layer.gateActivation = gateActivation
    layer.candidateActivation = candidateActivation
    layer.clip = clip
    layer.backwardGateActivation = backwardGate
    layer.backwardCandidateActivation = backwardCandidate
    layer.pastEnd = pastEnd ?? .zero
    layer.outputOrder = outputOrder ?? .input
    layer.padding = padding ?? .skipped
    return layer
  }

  private mutating func checkConv1D(_ decl: ConvDecl, range: SourceRange) -> SequenceLayer? {
    let sourceKind = resolve(decl.source)
    let okSize = checkSize(decl.filters, at: decl.filtersRange, what: "number of filters")
    let conv = Sema.checkConv1DOptions(decl, &diagnostics)
    let okName = declare(decl.name, .sequence, what: "layer name")
    guard okName, okSize, sourceKind != nil, let conv else { return nil }
    return SequenceLayer(name: decl.name.text, source: decl.source.text, kind: .conv1d(conv), range: range)
  }

  /// The sequence layers (conv1d, pad, pool) that read the input form one chain from it, each read
  /// by the next one only, and the last read by the rest of the model: the whole-sequence C computes
  /// that chain first, and the rest runs on its output as it runs on an input. The layers after a
  /// gru layer (reading it, directly or through norms and other such layers) are part of the graph
  /// instead; with lengths they must keep each step's meaning, and the sequence outputs must all
  /// have the same number of steps (the header gives one SEQUENCE_STEPS).
  private mutating func checkSequenceChain(_ definitions: [Definition], input: InputSpec) {
    let afterGRU = Sema.afterGRULayers(definitions)
    let layers = definitions.compactMap { d -> SequenceLayer? in
      if case .sequence(let l) = d, !afterGRU.contains(l.name) { return l } else { return nil }
    }
    checkLayersAfterGRUs(definitions, afterGRU: afterGRU, input: input)
    guard !layers.isEmpty else { return }
    var uses: [String: Int] = [:]
    func visit(_ e: HeadExpr) {
      switch e {
      case .ref(let n, _): uses[n, default: 0] += 1
      case .state: break
      case .dense(let x, _, _, _), .activation(_, let x, _), .reduce(_, let x, _): visit(x)
      }
    }
    for d in definitions {
      switch d {
      case .gru(let l): uses[l.source, default: 0] += 1
      case .sequence(let l): uses[l.source, default: 0] += 1
      case .norm(let l): uses[l.source, default: 0] += 1
      case .value(let v): visit(v.value)
      }
    }
    var chain = input.name
    // With lengths, every step before a sequence's end must depend on valid steps only (causal
    // layers, stride 1), and the chain must keep the number of steps, so that the lengths hold for
    // its output as they are: a pad's zeros are taken back by the windows after it.
    var shift = 0
    for layer in layers where input.lengths != nil {
      var reason: String?
      switch layer.kind {
      case .conv1d(let c):
        if c.padding != .causal || c.stride != 1 { reason = "only a causal conv1d with stride 1 keeps each step's length" }
      case .pad(let before, let after):
        if after > 0 { reason = "it pads after the last step, past each sequence's end" }
        shift += before
      case .pool(let p):
        if p.padding != .valid || p.stride != 1 { reason = "only a pool with 'padding valid' and stride 1 keeps each step's length" }
        shift -= p.size - 1
      case .norm:
        break
      }
      if let reason {
        diagnostics.error(.sequenceLayerWithLengths(layer.name, statement: layer.kind.keyword, reason: reason), at: layer.range)
        return
      }
    }
    if shift != 0, let last = layers.last {
      diagnostics.error(
        .sequenceLayerWithLengths(
          last.name, statement: last.kind.keyword,
          reason: "the layers before it \(shift > 0 ? "add" : "take") \(abs(shift)) step\(abs(shift) == 1 ? "" : "s"), so the lengths would not hold for its output (a pad's zeros must be taken back by the pools after it)"),
        at: last.range)
      return
    }
    // A batchnorm or layernorm read by the chain's last layer (or the input) alone joins the chain:
    // fold-batchnorm folds it into the conv before it or makes it a per-step layer of the chain.
    var layerNames = Set(layers.map(\.name))
    for d in definitions {
      switch d {
      case .sequence(let layer) where afterGRU.contains(layer.name):
        continue
      case .sequence(let layer):
        if layer.source != chain {
          let reason: String
          if layerNames.contains(layer.source) || layer.source == input.name {
            reason = "reads '\(layer.source)', which another layer of the chain reads too"
          } else {
            reason = "reads '\(layer.source)', which is not the input, a gru layer or a conv1d, pad, pool, batchnorm or layernorm"
          }
          diagnostics.error(.sequenceLayerChain(layer.name, reason: reason), at: layer.range)
          return
        }
        if uses[chain, default: 0] > 1 {
          diagnostics.error(
            .sequenceLayerChain(layer.name, reason: "reads '\(chain)', which is also used elsewhere"), at: layer.range)
          return
        }
        chain = layer.name
      case .norm(let n):
        if n.source == chain && uses[chain, default: 0] == 1 {
          chain = n.name
          layerNames.insert(n.name)
        }
      case .gru, .value:
        continue
      }
    }
  }

  /// The gru layers and the sequence layers and norms that read one of them, directly or through
  /// others of their kind: the layers whose steps are a gru layer's steps, or derived from them.
  static func afterGRULayers(_ definitions: [Definition]) -> Set<String> {
    var result: Set<String> = []
    for d in definitions {
      switch d {
      case .gru(let g): result.insert(g.name)
      case .norm(let n) where result.contains(n.source): result.insert(n.name)
      case .sequence(let l) where result.contains(l.source): result.insert(l.name)
      case .norm, .sequence, .value: continue
      }
    }
    return result
  }

  /// The number of steps of a sequence, symbolically: the sequence function's T (after the chain
  /// from the input) changed by a stride (a new `base`) and by steps added or taken (`shift`), so
  /// that a pad and the pool that takes its steps back leave the count as it was.
  struct StepCount: Equatable {
    var base = 0
    var shift = 0
  }

  /// The conv1d, pad and pool layers after gru layers: with lengths only those that keep each
  /// step's meaning; and the sequence outputs with one number of steps.
  private mutating func checkLayersAfterGRUs(_ definitions: [Definition], afterGRU: Set<String>, input: InputSpec) {
    var counts: [String: StepCount] = [input.name: StepCount()]
    var strides = 0
    for d in definitions {
      switch d {
      case .gru(let g): counts[g.name] = counts[g.source] ?? StepCount()
      case .norm(let n): counts[n.name] = counts[n.source] ?? StepCount()
      case .sequence(let l) where !afterGRU.contains(l.name):
        counts[l.name] = StepCount()  // the chain from the input: the sequence function's T
      case .sequence(let l):
        var count = counts[l.source] ?? StepCount()
        switch l.kind {
        case .conv1d(let c) where c.stride > 1:
          strides += 1
          count = StepCount(base: strides, shift: 0)
        case .pool(let p) where p.stride > 1:
          strides += 1
          count = StepCount(base: strides, shift: 0)
        case .conv1d(let c):
          if c.padding == .valid { count.shift -= (c.kernel - 1) * c.dilation }
        case .pool(let p):
          if p.padding == .valid { count.shift -= p.size - 1 }
        case .pad(let before, let after):
          count.shift += before + after
        case .norm:
          break
        }
        counts[l.name] = count
        if input.lengths != nil {
          let keeps: Bool
          if case .conv1d(let c) = l.kind { keeps = c.padding == .causal && c.stride == 1 } else { keeps = false }
          if !keeps {
            diagnostics.error(
              .sequenceLayerWithLengths(
                l.name, statement: l.kind.keyword,
                reason: "after a gru layer, only a causal conv1d with stride 1 keeps each step's length"),
              at: l.range)
          }
        }
      case .value:
        continue
      }
    }
    // Values that are sequences: a reference to one, or a dense or activation of one. Each
    // binding's count is kept as it is defined, so a chain of 20,000 lets costs no recursion.
    func sequenceCount(_ e: HeadExpr) -> StepCount? {
      switch e {
      case .ref(let n, _): return counts[n]
      case .state, .reduce: return nil
      case .dense(let x, _, _, _), .activation(_, let x, _): return sequenceCount(x)
      }
    }
    var first: (String, StepCount)?
    for d in definitions {
      guard case .value(let v) = d else { continue }
      let count = sequenceCount(v.value)
      counts[v.name] = count
      guard v.isOutput, let count else { continue }
      if let (name, c) = first, c != count {
        diagnostics.error(.sequenceOutputSteps(name, v.name), at: v.range)
        return
      }
      if first == nil { first = (v.name, count) }
    }
  }

  /// The options that say how a layer treats the steps past each sequence's end.
  private mutating func checkLengthOptions(
    _ options: OptionReader, direction: Direction, pastEnd: PastEnd?, outputOrder: OutputOrder?, padding: PaddingMode?
  ) {
    if outputOrder == .processing, direction == .forward, let clause = options.clause("output-order") {
      diagnostics.error(.optionNeedsReversePass("output-order processing"), at: clause.range)
    }
    if pastEnd == .hold, padding == .processed, let clause = options.clause("past-end") {
      diagnostics.error(
        .optionsConflict("past-end hold", "padding processed", reason: "a layer that processes the padding has no steps past the end"),
        at: clause.range)
    }
    // Harmless without lengths, but a sign that the model is not what its author thinks.
    if !inputHasLengths {
      if pastEnd == .hold, let clause = options.clause("past-end") {
        diagnostics.warning(.optionNeedsLengths("past-end hold"), at: clause.range)
      }
      if padding == .processed, let clause = options.clause("padding") {
        diagnostics.warning(.optionNeedsLengths("padding processed"), at: clause.range)
      }
    }
  }

  private mutating func checkBinding(_ decl: BindingDecl, range: SourceRange) -> ValueDef? {
    var denseCount = 0
    let value = checkExpr(decl.value, binding: decl.name.text, denseCount: &denseCount)
    let okName = declare(decl.name, .value, what: decl.isOutput ? "output name" : "name")
    guard okName, let value else { return nil }
    return ValueDef(name: decl.name.text, value: value, isOutput: decl.isOutput, range: range)
  }

  private mutating func checkWeights(_ decl: WeightsDecl, range: SourceRange) -> WeightsSpec? {
    let options = OptionReader(decl.options, declaration: "weights", allowed: ["format"])
    // `weights "f.npz", format keras`
    let format = options.choice("format", WeightsFormat.self, &diagnostics) ?? .grucc
    options.finish(&diagnostics)
    if decl.path.isEmpty {
      diagnostics.error(.emptyWeightsPath, at: decl.pathRange)
      return nil
    }
    return WeightsSpec(path: decl.path, format: format, range: range)
  }

  /// Resolves `map` targets against the layers and bindings (maps may come before or after them).
  private mutating func checkMaps(
    _ decls: [(MapDecl, SourceRange)], definitions: [Definition], format: WeightsFormat
  ) -> [WeightMap] {
    var result: [WeightMap] = []
    var seen: [String: SourceRange] = [:]
    for (decl, range) in decls {
      let options = OptionReader(decl.options, declaration: "map", allowed: ["layer", "transposed", "rows", "columns"])
      let index = options.integer("layer", &diagnostics, minimum: 0)
      let rows = options.range("rows", &diagnostics)
      let columns = options.range("columns", &diagnostics)
      let transposed = options.clause("transposed")
      if let value = transposed?.value {
        diagnostics.error(.invalidOptionValue(option: "transposed", value: value.spelling), at: value.range)
      }
      options.finish(&diagnostics)
      let name = decl.target.text
      let target: WeightMap.Target
      if let layer = definitions.first(where: { $0.name == name }), layer.isLayer {
        target = .layer(name)
      } else if let layer = definitions.first(where: { $0.name == name }), case .sequence = layer {
        target = .layer(name)
      } else if let binding = definitions.first(where: { $0.name == name }), case .value(let v) = binding,
        Sema.holdsDense(v.value)
      {
        target = .dense(name)
      } else if name.contains("."), !name.contains("*"),
        definitions.contains(where: { name.hasPrefix($0.name + ".") })
      {
        // Checked against the model's tensor names when the weights are bound.
        target = .tensor(name)
      } else if let declared = definedAt[name] ?? definedAt[String(name.prefix { $0 != "." })],
        !definitions.contains(where: { $0.name == defined[declared].name })
      {
        // It names a layer or binding whose declaration was rejected, with an error of its own:
        // a second error here would only repeat it.
        continue
      } else {
        diagnostics.error(.mapTargetUnknown(name), at: decl.target.range)
        continue
      }
      if let previous = seen[name] {
        diagnostics.error(.duplicateStatement("map \(name)"), at: decl.target.range,
                          notes: [.note(.previousDeclaration, at: previous)])
        continue
      }
      seen[name] = decl.target.range
      let isGRU = definitions.contains { if case .gru(let l) = $0 { return l.name == name } else { return false } }
      if let clause = options.clause("layer"), target != .layer(name) || format != .pytorch || !isGRU {
        diagnostics.error(
          .mapOptionMisplaced(option: "layer", reason: "names a layer index in a 'format pytorch' file; it applies to a gru layer only"),
          at: clause.range)
      }
      for key in ["transposed", "rows", "columns"] where !isTensor(target) {
        guard let clause = options.clause(key) else { continue }
        diagnostics.error(
          .mapOptionMisplaced(option: key, reason: "applies to one tensor (such as 'h.w_r'), not to a layer or a dense"),
          at: clause.range)
      }
      result.append(WeightMap(
        target: target, source: decl.source, layerIndex: index, transposed: transposed != nil, rows: rows,
        columns: columns, range: range))
    }
    return result
  }

  private func isTensor(_ t: WeightMap.Target) -> Bool {
    if case .tensor = t { return true } else { return false }
  }

  static func holdsDense(_ e: HeadExpr) -> Bool {
    switch e {
    case .dense: return true
    case .ref, .state: return false
    case .activation(_, let x, _), .reduce(_, let x, _): return holdsDense(x)
    }
  }

  private mutating func checkSize(_ value: Int, at range: SourceRange, what: String) -> Bool {
    if value < 1 || value > Sema.maxSize {
      diagnostics.error(.sizeOutOfRange(what, value, Sema.maxSize), at: range)
      return false
    }
    return true
  }

  // MARK: - Expressions

  /// Resolves a head expression. `denseCount` enforces one dense per binding, because the binding's
  /// name is what names the dense layer's weights.
  private mutating func checkExpr(_ e: Expr, binding: String, denseCount: inout Int) -> HeadExpr? {
    switch e {
    case .name(let n):
      guard resolve(n) != nil else { return nil }
      return .ref(n.text, n.range)
    case .integer(_, let r), .number(_, _, let r):
      diagnostics.error(.numberNotAValue, at: r)
      return nil
    case .call(let callee, let args, let range):
      switch callee.text {
      case "dense":
        return checkDense(callee, args, range, binding: binding, denseCount: &denseCount)
      case "state":
        guard args.count == 1, case .name(let layer) = args[0] else {
          diagnostics.error(.badArguments(function: "state", usage: "state(layer)"), at: range)
          return nil
        }
        guard let kind = resolve(layer) else { return nil }
        guard kind == .gru else {
          diagnostics.error(.stateOfNonLayer(layer.text), at: layer.range)
          return nil
        }
        return .state(layer: layer.text, range)
      default:
        if let reduction = Reduction(rawValue: callee.text) {
          guard args.count == 1 else {
            diagnostics.error(.badArguments(function: callee.text, usage: "\(callee.text)(sequence)"), at: range)
            return nil
          }
          return checkExpr(args[0], binding: binding, denseCount: &denseCount).map { .reduce(reduction, $0, range) }
        }
        if let form = Activation.form(named: callee.text) {
          // `leaky-relu(e)` or `leaky-relu(e, 0.1)`: the value first, then the parameters.
          guard let value = args.first else {
            diagnostics.error(.badArguments(function: callee.text, usage: Activation.usage(form, value: "value")), at: range)
            return nil
          }
          guard let activation = Activation.make(form, arguments: Array(args.dropFirst()), at: range, &diagnostics),
            let x = checkExpr(value, binding: binding, denseCount: &denseCount)
          else { return nil }
          return .activation(activation, x, range)
        }
        // The arguments are not checked: what they would be checked against is unknown.
        let suggestion = closestSpelling(to: callee.text, among: Sema.functionNames)
        diagnostics.error(
          .unknownFunction(callee.text), at: callee.range,
          notes: (suggestion.map { [.didYouMean($0, replacing: callee.range)] } ?? [])
            + [.note(.expectedOneOf(Sema.functionNames))])
        return nil
      }
    }
  }

  static let functionNames =
    ["dense", "state"] + Reduction.allCases.map(\.rawValue) + Activation.forms.map(\.name)

  // dense(value, units [, unshared])
  private mutating func checkDense(
    _ callee: Name, _ args: [Expr], _ range: SourceRange, binding: String, denseCount: inout Int
  ) -> HeadExpr? {
    let usage = "dense(value, units) or dense(sequence, units, unshared)"
    guard args.count == 2 || args.count == 3 else {
      diagnostics.error(.badArguments(function: "dense", usage: usage), at: range)
      return nil
    }
    denseCount += 1
    if denseCount == 2 { diagnostics.error(.twoDenseInOneBinding(binding), at: callee.range) }
    var unshared = false
    if args.count == 3 {
      if case .name(let flag) = args[2], flag.text == "unshared" {
        unshared = true
      } else {
        diagnostics.error(.badArguments(function: "dense", usage: usage), at: args[2].range)
      }
    }
    let inner = checkExpr(args[0], binding: binding, denseCount: &denseCount)
    guard case .integer(let units, let unitsRange) = args[1] else {
      diagnostics.error(.badArguments(function: "dense", usage: usage), at: args[1].range)
      return nil
    }
    guard checkSize(units, at: unitsRange, what: "dense output size"), let inner else { return nil }
    return .dense(inner, units: units, unshared: unshared, range)
  }

  // MARK: - Initialisation rules

  private mutating func checkInitRule(_ decl: InitRuleDecl, range: SourceRange) -> InitRule? {
    guard let distribution = checkDistribution(decl.distribution) else { return nil }
    return InitRule(patterns: decl.patterns.map(\.text), distribution: distribution, range: range)
  }

  static let distributionNames = [
    "normal(std) or normal(mean, std)", "truncated-normal(std) or truncated-normal(mean, std)",
    "uniform(low, high)", "orthogonal or orthogonal(gain)", "zeros", "ones", "constant(value)", "fan-in-uniform",
  ]

  private mutating func checkDistribution(_ e: Expr) -> Distribution? {
    let (name, args): (Name, [Expr])
    switch e {
    case .name(let n): (name, args) = (n, [])
    case .call(let callee, let a, _): (name, args) = (callee, a)
    default:
      diagnostics.error(
        .unknownDistribution(describe(e)), at: e.range, notes: [.note(.expectedOneOf(Sema.distributionNames))])
      return nil
    }
    var numbers: [Double] = []
    for a in args {
      switch a {
      case .integer(let v, _): numbers.append(Double(v))
      case .number(let v, _, _): numbers.append(v)
      default:
        diagnostics.error(.distributionArgument(name.text), at: a.range)
        return nil
      }
    }
    func arity(_ allowed: ClosedRange<Int>) -> Bool {
      if allowed.contains(numbers.count) { return true }
      diagnostics.error(.distributionArity(name.text, numbers.count), at: e.range)
      return false
    }
    switch name.text {
    case "normal", "truncated-normal":
      guard arity(1...2) else { return nil }
      let (mean, std) = numbers.count == 1 ? (0, numbers[0]) : (numbers[0], numbers[1])
      guard std > 0 else {
        diagnostics.error(.distributionArgument(name.text), at: e.range)
        return nil
      }
      return name.text == "normal" ? .normal(mean: mean, std: std) : .truncatedNormal(mean: mean, std: std)
    case "uniform":
      guard arity(2...2) else { return nil }
      guard numbers[0] < numbers[1] else {
        diagnostics.error(.distributionArgument(name.text), at: e.range)
        return nil
      }
      return .uniform(low: numbers[0], high: numbers[1])
    case "orthogonal":
      guard arity(0...1) else { return nil }
      return .orthogonal(gain: numbers.first ?? 1)
    case "zeros":
      guard arity(0...0) else { return nil }
      return .constant(0)
    case "ones":
      guard arity(0...0) else { return nil }
      return .constant(1)
    case "constant":
      guard arity(1...1) else { return nil }
      return .constant(numbers[0])
    case "fan-in-uniform":
      guard arity(0...0) else { return nil }
      return .fanInUniform
    default:
      diagnostics.error(
        .unknownDistribution(name.text), at: name.range, notes: [.note(.expectedOneOf(Sema.distributionNames))])
      return nil
    }
  }

  private func describe(_ e: Expr) -> String {
    switch e {
    case .name(let n): return n.text
    case .call(let c, _, _): return c.text
    case .integer(let v, _): return String(v)
    case .number(_, let t, _): return t
    }
  }
}

/// Levenshtein distance, for "did you mean" notes.
func editDistance(_ a: String, _ b: String) -> Int {
  let a = Array(a.utf8)
  let b = Array(b.utf8)
  if a.isEmpty { return b.count }
  if b.isEmpty { return a.count }
  var previous = Array(0...b.count)
  for i in 1...a.count {
    var row = [i] + Array(repeating: 0, count: b.count)
    for j in 1...b.count {
      row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
    }
    previous = row
  }
  return previous[b.count]
}
