// Where a conv1d's weights are in a framework's file (Specs/LANGUAGE.md, "conv1d"): PyTorch's
// nn.Conv1d `PREFIX.weight` [F, C/G, K] and `PREFIX.bias`; Keras's Conv1D `PREFIX/kernel`
// [K, C/G, F] (and DepthwiseConv1D's [K, C, m]) and `PREFIX/bias`; ONNX Conv's `PREFIX W` and `B`
// as the importer names them; grucc's own `NAME.w`, `NAME.b`. A map names the prefix.

extension WeightPlan {
  /// The names of a conv's weight and bias after its prefix, or nil where the format has none.
  static func convLeaves(_ format: WeightsFormat) -> (weight: String, bias: String)? {
    switch format {
    case .pytorch: return ("weight", "bias")
    case .keras: return ("kernel", "bias")
    case .onnx: return ("W", "B")
    case .grucc: return ("w", "b")
    case .tf1: return nil
    }
  }

  /// The file's convolutions: a weight leaf holding a tensor of rank 3 (a dense's is a matrix)
  /// outside the GRU groups (ONNX's GRU `W` has rank 3 too).
  static func convGroups(_ names: [String], file: WeightsFile, excluding gru: [WeightGroup]) -> [WeightGroup] {
    guard file.format != .grucc, let leaves = convLeaves(file.format) else { return [] }
    return names.indices.compactMap { i in
      let name = names[i]
      guard name.hasSuffix(leaves.weight), file.tensors[i].shape.count == 3 else { return nil }
      let prefix = String(name.dropLast(leaves.weight.count))
      guard prefix.isEmpty || isSeparator(prefix.last!) else { return nil }
      if gru.contains(where: { $0.prefix == prefix || (!$0.prefix.isEmpty && prefix.hasPrefix($0.prefix)) }) { return nil }
      return WeightGroup(prefix: prefix)
    }
  }

  /// Plans the extraction of every conv1d's tensors. `tensorMapped`: the model's tensors that
  /// have a `map` of their own, which the convention then leaves alone.
  mutating func planSequenceLayers(
    module: Module, file: WeightsFile, names: [String], groups: [WeightGroup], tensorMapped: Set<String>
  ) {
    var convs: [(SequenceLayerOp, Node, [ParameterSpec])] = []
    for node in module.graph.nodes {
      guard case .sequenceLayer(let l) = node.op else { continue }
      let specs = ParameterSpecs.required(by: node, in: module.graph)
      if specs.isEmpty || specs.allSatisfy({ tensorMapped.contains($0.name) }) { continue }
      convs.append((l, node, specs))
    }
    guard !convs.isEmpty else { return }
    func fail(_ reason: String, at range: SourceRange, notes: [Diagnostic] = []) {
      diagnostics.error(.weightLayout(file.path, format: file.format.rawValue, reason: reason), at: range, notes: notes)
    }
    guard let leaves = WeightPlan.convLeaves(file.format) else {
      fail(
        "TF1 files hold no conv1d weights: map the tensors of '\(convs[0].0.name)' one by one ('map \(convs[0].0.name).w = \"NAME\"')",
        at: convs[0].1.range)
      return
    }
    let maps = file.maps.filter { if case .layer = $0.target { return true } else { return false } }
    var free = groups
    let unmapped = convs.filter { c in !maps.contains { $0.target == .layer(c.0.name) } }
    for (l, node, specs) in convs {
      guard case .conv1d(let c) = l.kind else { continue }
      let map = maps.first { $0.target == .layer(l.name) }
      let prefix: String
      if file.format == .grucc {
        let source = map?.source ?? l.name
        prefix = source.isEmpty || isSeparator(source.last!) ? source : source + "."
      } else {
        var group: WeightGroup?
        if let map {
          group = free.first { Convention.selects(map.source, $0) }
          if group == nil {
            fail(
              "'map \(l.name) = \"\(map.source)\"' matches no convolution weights (a \(leaves.weight) of rank 3)",
              at: map.range, notes: [.note(.weightMapHint(WeightPlan.listing(free)))])
            continue
          }
        } else if let own = free.first(where: { $0.prefix == l.name + "." || $0.prefix == l.name + "/" }) {
          group = own
        } else if unmapped.count == 1 && free.count == 1 {
          group = free[0]
        } else {
          fail(
            "cannot tell which tensors hold conv1d '\(l.name)'" + (free.isEmpty ? ": the file has no convolution weights left" : ""),
            at: node.range, notes: [.note(.weightMapHint(WeightPlan.listing(free) + "; add 'map \(l.name) = \"PREFIX\"'"))])
          continue
        }
        free.removeAll { $0 == group! }
        prefix = group!.prefix
      }
      let w = specs[0]
      let (filters, perGroup, kernel) = (w.shape[0], w.shape[1], w.shape[2])
      var weight = Extraction(tensor: prefix + leaves.weight, fileShape: w.shape)
      if file.format == .keras {
        // Conv1D: [K, C/G, F]. DepthwiseConv1D (groups = C): [K, C, m], filter c·m + j, the
        // same values as a [K, 1, F] kernel.
        let channels = perGroup * c.groups
        let depthwise = [kernel, channels, filters / channels]
        let found = names.firstIndex(of: weight.tensor).map { file.tensors[$0].shape }
        if perGroup == 1, channels > 1, found == depthwise {
          weight.fileShape = depthwise
          weight.permutation = .init(view: [kernel, 1, filters], order: [2, 1, 0])
        } else {
          weight.fileShape = [kernel, perGroup, filters]
          weight.permutation = .init(view: [kernel, perGroup, filters], order: [2, 1, 0])
        }
        weight.hint = "Keras's Conv1D kernel is [kernel, channels / groups, filters] = \(shapeText([kernel, perGroup, filters]))"
          + (perGroup == 1 && channels > 1 ? ", DepthwiseConv1D's [kernel, channels, multiplier] = \(shapeText(depthwise))" : "")
      }
      extractions[w.name] = weight
      if specs.count > 1 { extractions[specs[1].name] = Extraction(tensor: prefix + leaves.bias, fileShape: specs[1].shape) }
    }
  }

  private static func listing(_ groups: [WeightGroup]) -> String {
    groups.isEmpty ? "the file has no convolution weights" : "convolutions in the file: " + quotedList(groups.map(\.label))
  }
}
