// Where a batchnorm's or layernorm's tensors are in a framework's file (Specs/LANGUAGE.md,
// "batchnorm", "layernorm"): PyTorch's nn.BatchNorm1d `PREFIX.weight`, `.bias`, `.running_mean`,
// `.running_var` (nn.LayerNorm: `.weight`, `.bias`); Keras's BatchNormalization `PREFIX/gamma`,
// `/beta`, `/moving_mean`, `/moving_variance` (LayerNormalization: `/gamma`, `/beta`); ONNX's
// BatchNormalization inputs `scale`, `B`, `input_mean`, `input_var` (LayerNormalization: `Scale`,
// `B`) after the prefix; grucc's own `NAME.gamma`, `.beta`, `.mean`, `.variance`. Each is a vector
// of the channels. A map names the prefix; without one, the group named after the layer, else
// the only one of its kind left.

extension WeightPlan {
  /// The file's leaf names of a norm layer's tensors, by grucc's leaf (`gamma`, `beta`, `mean`,
  /// `variance`), or nil where the format has none (TF1).
  static func normLeaves(_ format: WeightsFormat, _ kind: NormKind) -> [String: String]? {
    switch (format, kind) {
    case (.grucc, _): return ["gamma": "gamma", "beta": "beta", "mean": "mean", "variance": "variance"]
    case (.pytorch, _): return ["gamma": "weight", "beta": "bias", "mean": "running_mean", "variance": "running_var"]
    case (.keras, _): return ["gamma": "gamma", "beta": "beta", "mean": "moving_mean", "variance": "moving_variance"]
    case (.onnx, .batch): return ["gamma": "scale", "beta": "B", "mean": "input_mean", "variance": "input_var"]
    case (.onnx, .layer): return ["gamma": "Scale", "beta": "B"]
    case (.tf1, _): return nil
    }
  }

  /// The file's norm layers of one kind: a batchnorm is a prefix with a running-mean leaf; a
  /// layernorm a prefix with a vector scale leaf and no running mean.
  static func normGroups(_ names: [String], file: WeightsFile, kind: NormKind) -> [WeightGroup] {
    guard file.format != .grucc, let leaves = normLeaves(file.format, kind),
      let batchMean = normLeaves(file.format, .batch)?["mean"]
    else { return [] }
    let marker = kind == .batch ? batchMean : leaves["gamma"]!
    return names.indices.compactMap { i in
      let name = names[i]
      guard name.hasSuffix(marker), file.tensors[i].shape.count == 1 else { return nil }
      let prefix = String(name.dropLast(marker.count))
      guard prefix.isEmpty || isSeparator(prefix.last!) else { return nil }
      if kind == .layer, names.contains(prefix + batchMean) { return nil }
      return WeightGroup(prefix: prefix)
    }
  }

  /// Every norm group of the file, of both kinds: their `weight` leaves are no dense's.
  static func allNormGroups(_ names: [String], file: WeightsFile) -> [WeightGroup] {
    normGroups(names, file: file, kind: .batch) + normGroups(names, file: file, kind: .layer)
  }

  /// Plans the extraction of every norm layer's tensors. `tensorMapped`: the model's tensors
  /// that have a `map` of their own, which the convention then leaves alone.
  mutating func planNorms(module: Module, file: WeightsFile, names: [String], tensorMapped: Set<String>) {
    var norms: [(NormOp, Node, [ParameterSpec])] = []
    for node in module.graph.nodes {
      guard case .norm(let n) = node.op else { continue }
      let specs = ParameterSpecs.required(by: node, in: module.graph)
      if specs.isEmpty || specs.allSatisfy({ tensorMapped.contains($0.name) }) { continue }
      norms.append((n, node, specs))
    }
    guard !norms.isEmpty else { return }
    let maps = file.maps.filter { if case .layer = $0.target { return true } else { return false } }
    var free: [NormKind: [WeightGroup]] = [:]
    for kind in NormKind.allCases { free[kind] = WeightPlan.normGroups(names, file: file, kind: kind) }
    for (n, node, specs) in norms {
      let keyword = n.kind.keyword
      func fail(_ reason: String, at range: SourceRange, notes: [Diagnostic] = []) {
        diagnostics.error(.weightLayout(file.path, format: file.format.rawValue, reason: reason), at: range, notes: notes)
      }
      guard let leaves = WeightPlan.normLeaves(file.format, n.kind) else {
        fail(
          "TF1 files hold no \(keyword) tensors: map the tensors of '\(n.layer.name)' one by one ('map \(n.layer.name).gamma = \"NAME\"')",
          at: node.range)
        continue
      }
      let map = maps.first { $0.target == .layer(n.layer.name) }
      let prefix: String
      if file.format == .grucc {
        let source = map?.source ?? n.layer.name
        prefix = source.isEmpty || isSeparator(source.last!) ? source : source + "."
      } else {
        let candidates = free[n.kind] ?? []
        let unmapped = norms.filter { o in o.0.kind == n.kind && !maps.contains { $0.target == .layer(o.0.layer.name) } }
        let listing = candidates.isEmpty
          ? "the file has no \(keyword) tensors" : "\(keyword) layers in the file: " + quotedList(candidates.map(\.label))
        var group: WeightGroup?
        if let map {
          group = candidates.first { Convention.selects(map.source, $0) }
          if group == nil {
            fail("'map \(n.layer.name) = \"\(map.source)\"' matches no \(keyword) tensors", at: map.range,
                 notes: [.note(.weightMapHint(listing))])
            continue
          }
        } else if let own = candidates.first(where: { $0.prefix == n.layer.name + "." || $0.prefix == n.layer.name + "/" }) {
          group = own
        } else if unmapped.count == 1 && candidates.count == 1 {
          group = candidates[0]
        } else {
          fail("cannot tell which tensors hold \(keyword) '\(n.layer.name)'", at: node.range,
               notes: [.note(.weightMapHint(listing + "; add 'map \(n.layer.name) = \"PREFIX\"'"))])
          continue
        }
        free[n.kind]?.removeAll { $0 == group! }
        prefix = group!.prefix
        if file.format == .pytorch && n.kind == .batch { ignored.insert(prefix + "num_batches_tracked") }
      }
      for spec in specs where !tensorMapped.contains(spec.name) {
        let leaf = String(spec.name.dropFirst(n.layer.name.count + 1))
        extractions[spec.name] = Extraction(tensor: prefix + leaves[leaf]!, fileShape: spec.shape)
      }
    }
  }
}
