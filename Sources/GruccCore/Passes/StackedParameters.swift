// Shared by the passes that merge products: several weight tensors stacked by rows into one, so
// one product computes what several did. The concat is folded into one array by fold-constants.

extension GraphRewriter {
  /// The named parameters stacked by rows (one parameter needs no concat). The concat's hint names
  /// the folded tensor: `h.w_r`, `h.w_z`, `h.w_n` → `h.w_rzn`.
  mutating func stackedParameters(_ names: [String], name: String? = nil, range: SourceRange) -> ValueRef {
    let nodes = names.map { builder.add(.parameter(name: $0), [], range: range) }
    if nodes.count == 1 { return nodes[0] }
    return builder.add(.concat(axis: 0), nodes, range: range, hint: name ?? GraphRewriter.fusedName(names))
  }

  /// The common prefix of the names, then each name's own suffix.
  static func fusedName(_ names: [String]) -> String {
    var prefix = Array(names[0])
    for n in names.dropFirst() {
      let chars = Array(n)
      var k = 0
      while k < prefix.count && k < chars.count && prefix[k] == chars[k] { k += 1 }
      prefix = Array(prefix[..<k])
    }
    return String(prefix) + names.map { String($0.dropFirst(prefix.count)) }.joined()
  }
}
