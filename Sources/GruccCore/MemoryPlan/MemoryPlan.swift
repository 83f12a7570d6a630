// The memory plan: where every value of the optimised module lives in the generated C, decided
// once. The whole-sequence function keeps its values in the caller's scratch (rows per step of a
// chunk, then rows per sequence), the streaming functions keep theirs in the caller's state
// struct, and no function puts an array that grows with the model on the stack. The header's
// macros, `grucc check` and the emitters all read this plan; the emitters only print it.

/// A region of the caller's scratch in the whole-sequence function.
struct ScratchBuffer: Sendable {
  /// The C name of the pointer to it, unique in the function.
  var name: String
  var features: Int
  /// Rows for every step of a chunk (`[chunk][nb][features]`), or one row per sequence
  /// (`[nb][features]`).
  var perStep: Bool
  /// Where it starts, in values per sequence (per step of a chunk, for a per-step buffer) from
  /// the start of its part of the scratch.
  var offset: Int
}

/// The scratch of one scan in the whole-sequence function.
struct ScanMemory: Sendable {
  /// The carried states, one row per sequence each.
  var states: [ScratchBuffer]
  /// The per-step outputs, stacked over the chunk's steps.
  var outputs: [ScratchBuffer]
  /// For each value the step function yields, where it writes it: an output (by index) or a
  /// buffer of its own for a yield that is only a state.
  var yieldInto: [YieldTarget]
  /// The step function's temporaries, `workPerRow` values per sequence.
  var work: ScratchBuffer?

  enum YieldTarget: Sendable {
    case output(Int)
    case buffer(ScratchBuffer)
  }
}

/// When a value of the whole-sequence function is computed.
enum SequencePhase: Sendable {
  /// Before the time loop: views and values that need no step (initial states, zeros).
  case before
  /// For each chunk of steps: sequences, recurrences, and the reductions accumulating over them.
  case perChunk
  /// After the last chunk: vectors computed from final states and reductions.
  case after
}

/// How the whole-sequence function holds one value of the graph.
enum SequenceStorage: Sendable {
  /// It points into another value, an argument or the weights: no memory of its own.
  case view
  /// Zeros not yet written anywhere (an initial state nobody gave).
  case zero
  case sequence(ScratchBuffer)
  case vector(ScratchBuffer)
  case scan(ScanMemory)
}

/// The memory of the whole-sequence function (`<model>_sequence`).
struct SequencePlan: Sendable {
  /// Steps per chunk, or nil when the model needs the whole sequence at once.
  var chunkSteps: Int?
  /// Why the model needs the whole sequence, when it does.
  var wholeSequenceReason: String?
  var phases: [SequencePhase]
  var storage: [SequenceStorage]
  /// Zero operands an op must read through a pointer: node → operand index → the buffer it gets.
  var zeroOperands: [Int: [Int: ScratchBuffer]]
  /// Values per sequence for each step of a chunk, and once per sequence.
  var perStep: Int
  var perSequence: Int
  /// Every buffer, in the order the function lays them out.
  var buffers: [ScratchBuffer]

  /// The default chunk: long enough that the hoisted input product over a chunk still runs at
  /// full speed, short enough that its rows stay in the cache.
  static let defaultChunkSteps = 32
}

/// The memory of the streaming functions: their temporaries live in a `work` array of the
/// caller's state struct, not on the stack. `step` and `read` are never running at once on one
/// state, so they share it.
struct StreamPlan: Sendable {
  /// For each node `step` computes: where its arrays start in `work`, in the order the emitter
  /// asks for them (a scan: its yields, then its step function's work; other ops: the result).
  var step: [Int: [Int]]
  /// The nodes `read` computes, and for each the offsets of its zeroed operands (in operand
  /// order) and then of its result.
  var read: [Int: [Int]]
  /// Which nodes `read` needs: the vector outputs and what they are computed from, back to
  /// the states and accumulators.
  var readNeeds: [Bool]
  /// Values of `work`.
  var workSize: Int
}

/// The stack the generated functions use: small by construction (every array that grows with
/// the model is in the scratch or the state), but not zero, and not the same on every target. A
/// bound for the deepest call chain of each API function, from what the C puts on the stack: each
/// function's scalars and spills, and for each packed product inlined into it, its register block
/// of sums (6 × 16 floats or 6 × 8 doubles) and one panel of them (at most 64 floats or 32
/// doubles), 640 bytes, which unoptimised builds keep on the stack. On 64-bit targets optimisers
/// also vectorise the inlined products into wide registers (AVX-512 here) and spill some of them
/// (gcc -O3 versions its loops), so a product there is allowed more. (clang -O3 would fully unroll
/// a short product's columns and spill 13 KB of sums: the product's loop asks it not to, CPrelude.)
/// Checked with -fstack-usage for clang and
/// gcc from -O0 to -O3 on x86-64 (Tests/GruccTests/CEmitter/StackUsageTests.swift), and for a
/// Cortex-M4 build (CrossCompileTests).
struct StackPlan: Sendable {
  /// Bytes per function and per product inlined into it, on 32-bit and 64-bit targets.
  static let perFunction = (narrow: 512, wide: 1024)
  static let perProduct = (narrow: 768, wide: 1024)
  /// A leaf kernel the products do not inline: linear, softmax, an activation.
  static let leafKernel = 128

  /// Bytes for the deepest chain of any API function, on a 32-bit target (microcontrollers) and
  /// on a 64-bit one.
  var narrow: Int
  var wide: Int

  init(_ module: Module) {
    let graph = module.graph
    // Kernel calls: a product whose last panel is narrower is two (CVectorCode.packedLinear).
    func products(_ g: Graph, where keep: (Node) -> Bool = { _ in true }) -> Int {
      g.nodes.reduce(0) { sum, node in
        guard case .packedLinear(let p) = node.op, keep(node) else { return sum }
        return sum + (p.lastPanel == p.panel ? 1 : 2)
      }
    }
    let scanProducts = graph.nodes.compactMap { node -> Int? in
      if case .scan(let s) = node.op { return products(s.body) } else { return nil }
    }
    func deepest(_ base: Int, _ product: Int) -> Int {
      func frame(_ sites: Int) -> Int { base + product * sites }
      let deepestScan = scanProducts.map(frame).max() ?? 0
      // run → run_batch → sequence → a scan's step function → a leaf kernel.
      let whole = 64 + frame(0) + frame(products(graph)) + deepestScan + StackPlan.leafKernel
      // step → a scan's step function → a leaf kernel; read → a leaf kernel.
      let stream = frame(products(graph) { $0.types[0]?.isSequence == true }) + deepestScan + StackPlan.leafKernel
      let read = frame(products(graph) { $0.types[0]?.isSequence != true }) + StackPlan.leafKernel
      return max(whole, stream, read)
    }
    // An int8 product (CInt8) also holds one input row as int16 and 16 int32 sums.
    var quantised = 0
    if module.weightElement == .int8 {
      func inputs(_ g: Graph) -> Int {
        g.nodes.reduce(0) { most, node in
          if case .scan(let s) = node.op { return max(most, inputs(s.body)) }
          guard case .packedLinear = node.op else { return most }
          return max(most, g.type(of: node.operands[0])?.features ?? 0)
        }
      }
      quantised = 2 * CInt8.pairedColumns(inputs(graph)) + 64
    }
    narrow = deepest(StackPlan.perFunction.narrow, StackPlan.perProduct.narrow + quantised)
    wide = deepest(StackPlan.perFunction.wide, StackPlan.perProduct.wide + quantised)
  }
}

/// Where the weights are: compiled in as `static const` arrays, or in a blob the caller loads
/// and passes at run time (`--weights external`).
public enum WeightStorage: String, Sendable {
  case embedded, external
}

/// The layout of the external weights blob: a 64-byte header, then every weight tensor in module
/// order, each starting on a 16-byte boundary (a vector of floats), which costs a few bytes per
/// tensor rather than up to 60.
/// Little-endian, like the targets grucc generates for; a big-endian reader sees the wrong magic.
///
///     0  magic "GRUW"       4  version (1)        8  bytes per value (4 or 8)
///    12  values of data    16  layout checksum   20  data checksum (CRC-32 of the data bytes)
///    24  reserved (zeros) up to 64, then the data
struct WeightLayout: Sendable {
  static let headerBytes = 64
  static let magic: UInt32 = 0x5755_5247  // "GRUW" read as a little-endian word
  static let version: UInt32 = 1

  /// Each tensor's first value, counted in values from the start of the data.
  var offsets: [String: Int]
  /// Values in the data, padding between tensors included.
  var values: Int
  var elementBytes: Int
  /// CRC-32 of the layout's description: a blob written for another model, another precision or
  /// another grucc layout is refused before any weight is read.
  var checksum: UInt32

  var bytes: Int { WeightLayout.headerBytes + values * elementBytes }

  init(_ module: Module) {
    elementBytes = module.precision == .f32 ? 4 : 8
    let align = 16 / elementBytes
    var offsets: [String: Int] = [:]
    var at = 0
    var description = "grucc weights \(WeightLayout.version)\nmodel \(module.name)\nprecision \(module.precision.rawValue)\n"
    for p in module.parameters {
      at = (at + align - 1) / align * align
      offsets[p.name] = at
      description += "\(p.name) \(p.shape.map(String.init).joined(separator: "x")) at \(at)\n"
      at += p.count
    }
    self.offsets = offsets
    values = at
    checksum = CRC32.checksum(Array(description.utf8))
  }

  /// The blob for a module's weights.
  func blob(_ module: Module) -> [UInt8] {
    // Little-endian whatever the host: each value's bits, low byte first.
    var data = [UInt8](repeating: 0, count: values * elementBytes)
    data.withUnsafeMutableBytes { raw in
      for p in module.parameters {
        var at = offsets[p.name]! * elementBytes
        for v in p.values {
          if elementBytes == 4 {
            raw.storeBytes(of: Float(v).bitPattern.littleEndian, toByteOffset: at, as: UInt32.self)
          } else {
            raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: at, as: UInt64.self)
          }
          at += elementBytes
        }
      }
    }
    var header = [UInt8](repeating: 0, count: WeightLayout.headerBytes)
    let words: [UInt32] = [
      WeightLayout.magic, WeightLayout.version, UInt32(elementBytes), UInt32(values), checksum, CRC32.checksum(data),
    ]
    for (i, word) in words.enumerated() {
      for byte in 0..<4 { header[4 * i + byte] = UInt8(truncatingIfNeeded: word >> (8 * UInt32(byte))) }
    }
    return header + data
  }
}

/// The memory plan of one model: built from the optimised module and the C names.
struct MemoryPlan: Sendable {
  var sequence: SequencePlan
  var stream: StreamPlan
  var stack: StackPlan
  /// Where the weights live: the blob layout when they are external, nil when compiled in.
  var weights: WeightLayout?

  init(
    module: Module, names: CNames, reserved: [String], chunkSteps: Int = SequencePlan.defaultChunkSteps,
    weights: WeightStorage = .embedded
  ) {
    self.weights = weights == .external ? WeightLayout(module) : nil
    sequence = MemoryPlan.planSequence(module, names: names, reserved: reserved, chunkSteps: chunkSteps)
    stream = MemoryPlan.planStream(module)
    stack = StackPlan(module)
  }

  private static func planStream(_ module: Module) -> StreamPlan {
    let graph = module.graph
    var step: [Int: [Int]] = [:]
    var used = 0
    func take(_ n: Int) -> Int {
      defer { used += n }
      return used
    }
    for (i, node) in graph.nodes.enumerated() {
      let features = node.types[0]?.features ?? 0
      switch node.op {
      case .scan(let scan):
        let (yields, _) = CScanEmitter.yields(scan.body)
        var offsets = yields.map { take(scan.body.type(of: $0)?.features ?? 0) }
        let work = CScanEmitter.workPerRow(scan)
        if work > 0 { offsets.append(take(work)) }
        step[i] = offsets
      case .linearUnshared:
        step[i] = [take(features)]
      case .linear, .packedLinear, .activation, .add, .mul, .scale, .blend, .concat, .fused, .norm:
        if node.types[0]?.isSequence == true { step[i] = [take(features)] }
      case .argument, .parameter, .zeros, .slice, .reduce, .mask, .hold, .reverseTime, .gru, .dense, .gradient:
        break
      case .sequenceLayer:
        break  // not streamed yet: CInterface blocks streaming
      }
    }
    let stepSize = used

    // read: only what the vector outputs need; states and accumulators are read from the struct.
    var needs = Array(repeating: false, count: graph.nodes.count)
    for o in graph.outputs where graph.type(of: o.value)?.isSequence != true { needs[o.value.node] = true }
    for i in graph.nodes.indices.reversed() where needs[i] {
      switch graph.nodes[i].op {
      case .scan, .reduce: continue
      default: for v in graph.nodes[i].operands { needs[v.node] = true }
      }
    }
    used = 0
    var read: [Int: [Int]] = [:]
    var isZero = Array(repeating: false, count: graph.nodes.count)
    for (i, node) in graph.nodes.enumerated() where needs[i] {
      let features = node.types[0]?.features ?? 0
      switch node.op {
      case .zeros: isZero[i] = true
      case .parameter, .scan, .slice, .argument: continue
      case .reduce: read[i] = [take(features)]
      default:
        let zeros = node.operands.filter { isZero[$0.node] }.map { take(graph.type(of: $0)?.features ?? 0) }
        read[i] = zeros + [take(features)]
      }
    }
    return StreamPlan(step: step, read: read, readNeeds: needs, workSize: max(stepSize, used))
  }

  /// Why a graph cannot be computed chunk by chunk: a value at some step that depends on later
  /// steps.
  static func wholeSequenceReason(_ graph: Graph) -> String? {
    let frontEnd = graph.frontEndLayers
    for (i, node) in graph.nodes.enumerated() {
      switch node.op {
      case .sequenceLayer(let l) where !frontEnd[i]:
        return "\(l.kind.keyword) '\(l.name)' runs over the whole output of the gru layer before it"
      case .scan(let s) where s.direction == .reverse:
        return "'\(s.name)' reads its sequence backwards"
      case .reverseTime:
        return "'\(node.hint ?? "a layer")' reverses the order of the steps"
      case .hold:
        return "'\(node.hint ?? "a layer")' repeats each sequence's last valid step after its end"
      default:
        continue
      }
    }
    return nil
  }

  private static func planSequence(_ module: Module, names: CNames, reserved: [String], chunkSteps: Int) -> SequencePlan {
    let graph = module.graph
    var locals = LocalNames(reserved: reserved, names: names)
    var buffers: [ScratchBuffer] = []
    var perStep = 0
    var perSequence = 0
    func buffer(_ hint: String, _ features: Int, perStep sequence: Bool) -> ScratchBuffer {
      let b = ScratchBuffer(
        name: locals.fresh(hint), features: features, perStep: sequence, offset: sequence ? perStep : perSequence)
      if sequence { perStep += features } else { perSequence += features }
      buffers.append(b)
      return b
    }

    let frontEnd = graph.frontEndLayers
    var phases: [SequencePhase] = []
    var storage: [SequenceStorage] = []
    var zeroOperands: [Int: [Int: ScratchBuffer]] = [:]
    for (i, node) in graph.nodes.enumerated() {
      let type = node.types[0]
      let features = type?.features ?? 0
      let hint = node.hint ?? "v\(i)"
      let operandPhases = node.operands.map { phases[$0.node] }
      func dependentPhase() -> SequencePhase {
        operandPhases.contains(.after) || operandPhases.contains(.perChunk) ? .after : .before
      }
      switch node.op {
      case .sequenceLayer where !frontEnd[i]:
        // After a gru layer: over the whole sequence (wholeSequenceReason), into a buffer of its own.
        phases.append(.perChunk)
        storage.append(.sequence(buffer(hint, features, perStep: true)))
      case .argument, .parameter, .sequenceLayer:
        // The chain from the input is computed before the sequence function, into the front
        // end's scratch; the function reads the last one's output as its x.
        phases.append(.before)
        storage.append(.view)
      case .zeros:
        phases.append(.before)
        storage.append(.zero)
      case .slice:
        phases.append(operandPhases[0] == .perChunk && type?.isSequence == true ? .perChunk : dependentPhase())
        storage.append(.view)
      case .scan(let scan):
        phases.append(.perChunk)
        var memory = ScanMemory(states: [], outputs: [], yieldInto: [], work: nil)
        for j in 0..<scan.states {
          memory.states.append(buffer("\(scan.name)_state", node.types[j]?.features ?? 0, perStep: false))
        }
        for k in 0..<scan.outputs {
          memory.outputs.append(buffer("\(scan.name)_out", node.types[scan.states + k]?.features ?? 0, perStep: true))
        }
        let (yields, yieldIndex) = CScanEmitter.yields(scan.body)
        for (k, v) in yields.enumerated() {
          if let o = (0..<scan.outputs).first(where: { yieldIndex[scan.states + $0] == k }) {
            memory.yieldInto.append(.output(o))
          } else {
            memory.yieldInto.append(.buffer(buffer("\(scan.name)_next", scan.body.type(of: v)?.features ?? 0, perStep: false)))
          }
        }
        let work = CScanEmitter.workPerRow(scan)
        if work > 0 { memory.work = buffer("\(scan.name)_work", work, perStep: false) }
        storage.append(.scan(memory))
      case .reduce:
        phases.append(.perChunk)
        storage.append(.vector(buffer(hint, features, perStep: false)))
      case .mask, .hold, .reverseTime, .linearUnshared:
        phases.append(.perChunk)
        storage.append(.sequence(buffer(hint, features, perStep: true)))
      case .linear, .packedLinear, .activation, .add, .mul, .scale, .blend, .concat, .fused, .norm:
        if type?.isSequence == true {
          phases.append(.perChunk)
          storage.append(.sequence(buffer(hint, features, perStep: true)))
        } else {
          phases.append(dependentPhase())
          // A zero operand is read through a pointer, so it gets a zeroed row of its own.
          for (k, v) in node.operands.enumerated() {
            if case .zero = storage[v.node] {
              zeroOperands[i, default: [:]][k] = buffer("zeros", graph.type(of: v)?.features ?? 0, perStep: false)
            }
          }
          storage.append(.vector(buffer(hint, features, perStep: false)))
        }
      case .gru, .dense, .gradient:
        preconditionFailure("'\(node.op.mnemonic)' is lowered (gru, dense) or used only by gradient graphs, never by C")
      }
    }
    let reason = wholeSequenceReason(graph)
    return SequencePlan(
      chunkSteps: reason == nil ? chunkSteps : nil, wholeSequenceReason: reason, phases: phases, storage: storage,
      zeroOperands: zeroOperands, perStep: perStep, perSequence: perSequence, buffers: buffers)
  }
}
