// Which file tensor holds each of the model's tensors: the weights statement's convention and
// `map` lines applied to the layers of a module. The result is a plan of extractions keyed by
// grucc tensor name; BindWeights then checks and cuts each one.

struct WeightPlan {
  var extractions: [String: Extraction] = [:]
  /// Tensor maps that name a tensor the model does not have.
  var diagnostics = DiagnosticEngine()
  /// File tensors the model has no use for that are not worth a warning (BatchNorm1d's
  /// `num_batches_tracked`, a training counter).
  var ignored: Set<String> = []

  /// Plans the extraction of every tensor in `specs` from a file with these tensor names.
  /// Requires shape inference (the input size of every layer).
  static func make(
    module: Module, specs: [ParameterSpec], file: WeightsFile, names: [String]
  ) -> WeightPlan {
    var plan = WeightPlan()
    plan.build(module: module, specs: specs, file: file, names: names)
    return plan
  }

  private mutating func fail(_ reason: String, at range: SourceRange, file: WeightsFile, notes: [Diagnostic] = []) {
    diagnostics.error(.weightLayout(file.path, format: file.format.rawValue, reason: reason), at: range, notes: notes)
  }

  private mutating func build(module: Module, specs: [ParameterSpec], file: WeightsFile, names: [String]) {
    let convention = Convention(format: file.format)
    let gruGroups = convention.gruGroups(names)
    var free = gruGroups
    let layerMaps = file.maps.filter { if case .layer = $0.target { return true } else { return false } }
    let denseMaps = file.maps.filter { if case .dense = $0.target { return true } else { return false } }

    var layers: [(GRUOp, Int)] = []
    var denses: [(DenseOp, [ParameterSpec])] = []
    for node in module.graph.nodes {
      switch node.op {
      case .gru(let g):
        layers.append((g, module.graph.type(of: node.operands[0])?.features ?? 0))
      case .dense(let d):
        denses.append((d, ParameterSpecs.required(by: node, in: module.graph)))
      default: break
      }
    }

    // A layer or dense whose every tensor has its own map does not use the convention at all.
    let tensorMapped = Set(file.maps.compactMap { m -> String? in
      if case .tensor(let name) = m.target { return name } else { return nil }
    })
    func fullyMapped(_ specs: [ParameterSpec]) -> Bool { specs.allSatisfy { tensorMapped.contains($0.name) } }

    // Convolutions (SequenceLayerWeights.swift): their rank-3 kernels are no dense's.
    let convGroups = WeightPlan.convGroups(names, file: file, excluding: gruGroups)
    planSequenceLayers(module: module, file: file, names: names, groups: convGroups, tensorMapped: tensorMapped)
    // Norm layers (NormWeights.swift): their vector `weight` leaves are no dense's either.
    planNorms(module: module, file: file, names: names, tensorMapped: tensorMapped)
    let normGroups = WeightPlan.allNormGroups(names, file: file)

    // GRU layers: mapped ones take what their map names; the others take the free groups in order.
    for (g, inputs) in layers {
      let layer = g.layer
      if fullyMapped(ParameterSpecs.forGRU(g, inputFeatures: inputs)) { continue }
      if let reason = convention.unsupported(layer) {
        fail(reason, at: file.range, file: file)
        continue
      }
      if let warning = convention.variantWarning(layer) {
        diagnostics.warning(.weightVariant(warning), at: layer.range)
      }
      let map = layerMaps.first { $0.target == .layer(layer.name) }
      if file.format == .grucc {
        // grucc's own names: a map only renames the layer's prefix.
        let source = map.map { $0.source.isEmpty || isSeparator($0.source.last!) ? $0.source : $0.source + "." }
        for (d, prefix) in g.directionPrefixes.enumerated() {
          var group = WeightGroup(prefix: (source ?? (layer.name + ".")))
          if layer.direction == .bidirectional { group.prefix += d == 0 ? "fw." : "bw." }
          add(convention.gru(layer, inputs: inputs, prefix: prefix, group: group, direction: d))
        }
        continue
      }
      // The groups of this layer: one for a single direction; for a bidirectional layer one
      // (PyTorch, ONNX keep both directions together) or a forward and a backward one (Keras, TF1).
      let split = layer.direction == .bidirectional && (file.format == .keras || file.format == .tf1)
      var chosen: [WeightGroup] = []
      if let map {
        var candidates = free.filter { Convention.selects(map.source, $0) }
        if file.format == .pytorch {
          let k = map.layerIndex ?? 0
          candidates = candidates.filter { $0.layerIndex == k }
        }
        let needed = split ? 2 : 1
        guard candidates.count >= needed else {
          fail(
            "'map \(layer.name) = \"\(map.source)\"\(map.layerIndex.map { ", layer \($0)" } ?? "")' matches no "
              + (free.count < gruGroups.count ? "unclaimed " : "") + "GRU tensors",
            at: map.range, file: file, notes: groupNotes(gruGroups, convention, file: file, names: names, near: map.source, dense: false, suggest: true))
          continue
        }
        chosen = split ? pair(candidates) : [candidates[0]]
        if split && chosen.count < 2 {
          fail("'map \(layer.name)' needs a forward and a backward GRU under \"\(map.source)\"", at: map.range, file: file)
          continue
        }
      } else {
        // Groups claimed by another layer's map are not free for this one.
        let claimed = layerMaps.compactMap { m -> [WeightGroup]? in
          free.filter { Convention.selects(m.source, $0) && (file.format != .pytorch || $0.layerIndex == (m.layerIndex ?? 0)) }
        }.flatMap { $0 }
        let available = free.filter { !claimed.contains($0) }
        if file.format == .pytorch, Set(available.map(\.prefix)).count > 1 {
          fail(
            "cannot tell which GRU module holds layer '\(layer.name)': the file has " + quotedList(Array(Set(available.map(\.label))).sorted()),
            at: file.range, file: file, notes: [.note(.weightMapHint("add 'map \(layer.name) = \"MODULE\", layer K'"))])
          continue
        }
        chosen = split ? pair(available) : Array(available.prefix(1))
        if chosen.count < (split ? 2 : 1) {
          fail(
            "no GRU tensors left for layer '\(layer.name)' (the file has \(gruGroups.count) GRU group\(gruGroups.count == 1 ? "" : "s"))",
            at: layer.range, file: file, notes: groupNotes(gruGroups, convention, file: file, names: names, near: layer.name, dense: false))
          continue
        }
      }
      free.removeAll { chosen.contains($0) }
      for (d, prefix) in g.directionPrefixes.enumerated() {
        let group = split ? chosen[d] : chosen[0]
        add(convention.gru(layer, inputs: inputs, prefix: prefix, group: group, direction: split ? 0 : d))
      }
    }

    // Dense layers: by map, else the group named after the binding, else the only one left.
    var freeDense = convention.denseGroups(names, excluding: gruGroups + convGroups + normGroups)
    let unmapped = denses.filter { d in
      !denseMaps.contains { $0.target == .dense(d.0.name) } && !fullyMapped(d.1)
    }
    for (d, denseSpecs) in denses where !fullyMapped(denseSpecs) {
      let map = denseMaps.first { $0.target == .dense(d.name) }
      var group: WeightGroup?
      if let map {
        if file.format == .grucc {
          group = WeightGroup(prefix: map.source.isEmpty || isSeparator(map.source.last!) ? map.source : map.source + ".")
        } else {
          group = freeDense.first { Convention.selects(map.source, $0) }
        }
        if group == nil {
          fail("'map \(d.name) = \"\(map.source)\"' matches no dense weights", at: map.range, file: file,
               notes: groupNotes(freeDense, convention, file: file, names: names, near: map.source, dense: true, suggest: true))
          continue
        }
      } else if file.format == .grucc {
        group = WeightGroup(prefix: d.name + ".")
      } else if let own = freeDense.first(where: { $0.prefix == d.name + "." || $0.prefix == d.name + "/" }) {
        group = own
      } else if unmapped.count == 1 && freeDense.count == 1 {
        group = freeDense[0]
      } else {
        fail(
          "cannot tell which tensors hold dense '\(d.name)'" + (freeDense.isEmpty ? ": the file has no dense weights left" : ""),
          at: file.range, file: file,
          notes: groupNotes(freeDense, convention, file: file, names: names, near: d.name, dense: true)
            + [.note(.weightMapHint("add 'map \(d.name) = \"PREFIX\"'"))])
        continue
      }
      freeDense.removeAll { $0 == group! }
      guard let extractions = convention.dense(d, specs: denseSpecs, group: group!) else {
        fail("dense '\(d.name)' with 'unshared' weights can only be read from grucc's own names or 'map' lines",
             at: file.range, file: file)
        continue
      }
      add(extractions)
    }

    // Tensor maps override whatever the convention said.
    for map in file.maps {
      guard case .tensor(let name) = map.target else { continue }
      guard let spec = specs.first(where: { $0.name == name }) else {
        diagnostics.error(.mapTargetUnknown(name), at: map.range,
                          notes: [.note(.weightMapHint("'grucc check' lists the tensor names of the model"))])
        continue
      }
      guard let index = names.firstIndex(of: map.source) else {
        diagnostics.error(
          .missingWeight(map.source, file: file.path), at: map.range,
          notes: [.note(.weightUsedFor("'\(name)' (\(spec.role))")), file.listing(names, near: map.source)])
        continue
      }
      if map.rows != nil || map.columns != nil {
        let fileShape = file.tensors[index].shape
        switch Extraction.block(
          of: map.source, fileShape: fileShape, for: spec, rows: map.rows, columns: map.columns, transposed: map.transposed)
        {
        case .success(let e): extractions[name] = e
        case .failure(.outOfBounds(let r, let length)):
          diagnostics.error(.mapBlockOutOfBounds(r.spelling, tensor: map.source, shape: fileShape, length: length), at: r.range)
        case .failure(.bothOnVector(let r)):
          diagnostics.error(
            .mapOptionMisplaced(
              option: r.option,
              reason: "and 'columns' both select the elements of '\(map.source)', a vector \(shapeText(fileShape)): give one of them"),
            at: r.range)
        case .failure(.shape(let block)):
          var notes: [Diagnostic] = []
          if block.filter({ $0 != 1 }) == Array(spec.shape.filter({ $0 != 1 }).reversed()) {
            notes.append(.note(.weightMapHint(map.transposed ? "without 'transposed' the shapes agree" : "add 'transposed': the block is [in, out]")))
          }
          diagnostics.error(
            .mapBlockShape(
              target: name, needs: spec.shape, tensor: map.source, shape: fileShape, block: block, transposed: map.transposed),
            at: map.range, notes: notes)
        }
      } else if map.transposed {
        guard spec.shape.count >= 2 else {
          diagnostics.error(.mapOptionMisplaced(option: "transposed", reason: "needs a matrix, but '\(name)' has shape \(shapeText(spec.shape))"), at: map.range)
          continue
        }
        // [out, in] stored as [in, out]; per-step matrices [T, out, in] as [T, in, out].
        let (rows, columns) = (spec.shape[spec.shape.count - 1], spec.shape[spec.shape.count - 2])
        extractions[name] = Extraction(
          tensor: map.source, fileShape: Array(spec.shape.dropLast(2)) + [rows, columns],
          block: .init(rows: 0..<rows, columns: 0..<columns, transposed: true, everyMatrix: spec.shape.count > 2))
      } else {
        extractions[name] = Extraction(tensor: map.source, fileShape: spec.shape)
      }
    }
  }

  private mutating func add(_ items: [(String, Extraction)]) {
    for (name, e) in items { extractions[name] = e }
  }

  /// A bidirectional wrapper's two groups: the forward one first.
  private func pair(_ groups: [WeightGroup]) -> [WeightGroup] {
    guard groups.count >= 2 else { return [] }
    func wrapper(_ g: WeightGroup) -> Substring { g.prefix.split(separator: "/").first ?? "" }
    if let f = groups.first(where: { $0.role == .forward }),
      let b = groups.first(where: { $0.role == .backward && wrapper($0) == wrapper(f) })
    {
      return [f, b]
    }
    return Array(groups.prefix(2))
  }

  /// The groups the file has, or when it has none of the kind wanted, its tensors.
  /// What a map could have named: the file's GRU layers (PyTorch's with their layer index) or its
  /// dense weights, by the prefix a map gives (`gru` for `gru.weight_ih_l0`), and, for a map's
  /// near-miss source, the nearest of them.
  private func groupNotes(
    _ groups: [WeightGroup], _ convention: Convention, file: WeightsFile, names: [String], near: String,
    dense: Bool, suggest: Bool = false
  ) -> [Diagnostic] {
    guard !groups.isEmpty else { return [file.listing(names, near: near)] }
    func mapName(_ g: WeightGroup) -> String {
      var p = g.prefix
      while let last = p.last, last == "." || last == "/" { p.removeLast() }
      return p
    }
    let list = groups.map { g in
      !dense && convention.format == .pytorch ? "'\(mapName(g))' layer \(g.layerIndex)" : "'\(mapName(g))'"
    }
    var notes: [Diagnostic] = [
      .note(.weightMapHint("the file's \(dense ? "dense weights" : "GRU layers"): " + list.joined(separator: ", ")))
    ]
    if suggest, let s = closestSpelling(to: near, among: groups.map(mapName)) { notes.insert(.note(.didYouMean(s)), at: 0) }
    return notes
  }
}

extension WeightsFile {
  /// The most tensors a note lists by name.
  static let listingLimit = 12

  /// A note naming the file's tensors and their shapes, for an error about a tensor it lacks:
  /// all of them in file order, or for a big file the ones whose names are most like `near`
  /// (the longest common start, then the fewest edits), closest first. `names` are the file's
  /// tensor names as the model refers to them (Keras and TF1 without `:0`).
  func listing(_ names: [String], near: String) -> Diagnostic {
    guard !names.isEmpty else { return .note(.weightMapHint("the file has no tensors")) }
    func describe(_ i: Int) -> String { "'\(names[i])' \(shapeText(tensors[i].shape))" }
    if names.count <= Self.listingLimit {
      let all = names.indices.map(describe).joined(separator: ", ")
      return .note(.weightMapHint("the file has \(names.count) tensor\(names.count == 1 ? "" : "s"): \(all)"))
    }
    func commonStart(_ a: String) -> Int { zip(a, near).prefix { $0 == $1 }.count }
    let shown = 10
    let closest = names.indices
      .map { (index: $0, start: commonStart(names[$0]), edits: editDistance(names[$0], near)) }
      .sorted { ($1.start, $0.edits, $0.index) < ($0.start, $1.edits, $1.index) }
      .prefix(shown)
    return .note(.weightMapHint(
      "the file has \(names.count) tensors; the \(shown) named most like '\(near)': "
        + closest.map { describe($0.index) }.joined(separator: ", ") + ", and \(names.count - shown) more"))
  }
}
