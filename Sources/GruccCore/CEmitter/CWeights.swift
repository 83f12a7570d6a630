// The weights section of model.c: `static const` arrays with exact literals, or, with
// `--weights external`, where each tensor is in the blob the caller passes and the two functions
// that check a blob before any weight is read.

enum CWeights {
  /// The weights compiled in, one array per tensor.
  static func emitEmbedded(_ iface: CInterface, _ w: inout CWriter) {
    let module = iface.module
    // The convs' filters go last, so the C's inner loop over them is unit-stride (CConv).
    let convs = CConv.filtersInner(iface) ? CConv.convWeights(iface) : []
    for p in module.parameters {
      if iface.isNarrow(p) && module.weightElement == .int8 {
        CInt8.emitWeights(p, name: iface.names.weight(p.name), &w)
        continue
      }
      if iface.isNarrow(p) {
        emitNarrow(p, module.weightElement, name: iface.names.weight(p.name), &w)
        continue
      }
      var values = p.values
      var layout = ""
      if let conv = convs.first(where: { $0.name == p.name }) {
        values = CConv.filtersInnerValues(p.values, conv.conv, channels: conv.channels)
        layout = conv.conv.groups == 1 ? ", stored [C][K][F]" : ", stored [G][C/G][K][F/G]"
      }
      w.comment(["\(p.name) \(shape(p.shape)): \(p.role)\(layout)"])
      w.line("static const \(iface.real) \(iface.names.weight(p.name))[\(p.count)] = {")
      let perLine = module.precision == .f32 ? 6 : 4
      var i = 0
      while i < p.count {
        let chunk = values[i..<min(i + perLine, p.count)].map { CLiteral.real($0, module.precision) }
        w.line("    " + chunk.joined(separator: ", ") + (i + perLine < p.count ? "," : ""))
        i += perLine
      }
      w.line("};")
      w.line()
    }
  }

  /// A matrix stored in 16 bits: the bits of each value, which bind-weights rounded to the type.
  private static func emitNarrow(_ p: Parameter, _ element: WeightElement, name: String, _ w: inout CWriter) {
    w.comment(["\(p.name) \(shape(p.shape)): \(p.role); stored as \(element.rawValue) bits"])
    w.line("static const uint16_t \(name)[\(p.count)] = {")
    let perLine = 10
    var i = 0
    while i < p.count {
      let chunk = p.values[i..<min(i + perLine, p.count)].map { v -> String in
        let hex = String(element.bits(v), radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 4 - hex.count) + hex + "u"
      }
      w.line("    " + chunk.joined(separator: ", ") + (i + perLine < p.count ? "," : ""))
      i += perLine
    }
    w.line("};")
    w.line()
  }

  /// The blob's layout (each tensor's offset, named as its array would be) and its checks.
  static func emitExternal(_ iface: CInterface, _ layout: WeightLayout, _ w: inout CWriter) {
    let n = iface.names
    let real = iface.real
    w.comment([
      "Each tensor's first value in the blob's data, which starts \(WeightLayout.headerBytes) bytes in. The data of this",
      "model: \(layout.values) values of \(real), each tensor 16-byte aligned (\(layout.bytes) bytes with the header).",
    ])
    w.block("enum", tail: ";") { w in
      for (k, p) in iface.module.parameters.enumerated() {
        let last = k == iface.module.parameters.count - 1
        w.line("\(n.weight(p.name)) = \(layout.offsets[p.name]!)\(last ? "" : ",")  /* \(p.name) \(shape(p.shape)) */")
      }
    }
    w.line()
    w.comment([
      "CRC-32 (IEEE 802.3, as zlib), bit by bit: run once per blob, by check_weights.",
    ])
    w.block("static uint32_t \(n.global("crc32"))(const unsigned char *p, size_t bytes)") { w in
      w.line("uint32_t c = 0xFFFFFFFFu;")
      w.block("for (size_t i = 0; i < bytes; i++)") { w in
        w.line("c ^= p[i];")
        w.line("for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));")
      }
      w.line("return ~c;")
    }
    w.line()
    w.comment([
      "The blob's data, or NULL when its header is not this model's: the checks every function makes",
      "before it reads a weight (a few words; check_weights also checks the size and the data).",
    ])
    w.block("static const \(real) *\(n.global("weights_data"))(const void *weights)") { w in
      w.line("const uint32_t *head = (const uint32_t *)weights;")
      w.line("if (!weights || (uintptr_t)weights % sizeof(\(real)) != 0) return NULL;")
      w.line("if (head[0] != \(hex(WeightLayout.magic))u || head[1] != \(WeightLayout.version)u || head[2] != \(layout.elementBytes)u) return NULL;")
      w.line("if (head[3] != \(layout.values)u || head[4] != \(n.constant("weights_layout"))) return NULL;")
      w.line("return (const \(real) *)weights + \(WeightLayout.headerBytes / layout.elementBytes);")
    }
    w.line()
    w.block("int \(n.global("check_weights"))(const void *weights, size_t bytes)") { w in
      w.line("if (bytes != \(n.constant("weights_bytes")) || !\(n.global("weights_data"))(weights)) return \(n.constant("error_weights"));")
      w.line("const unsigned char *data = (const unsigned char *)weights + \(WeightLayout.headerBytes);")
      w.line("if (\(n.global("crc32"))(data, bytes - \(WeightLayout.headerBytes)) != ((const uint32_t *)weights)[5]) return \(n.constant("error_weights"));")
      w.line("return \(n.constant("ok"));")
    }
    w.line()
  }

  /// The first lines of a public function that reads weights: the blob's data, or an error
  /// before anything is touched.
  static func emitBlobCheck(_ iface: CInterface, _ w: inout CWriter) {
    guard iface.externalWeights else { return }
    w.line("const \(iface.real) *w = \(iface.names.global("weights_data"))(weights);")
    w.line("if (!w) return \(iface.names.constant("error_weights"));")
  }

  static func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16, uppercase: true) }

  static func shape(_ s: [Int]) -> String { "(" + s.map(String.init).joined(separator: ", ") + ")" }
}
