// The vocabulary of one GRU cell: its gates and the tensors each gate has, spelled once. The
// tensor names built from it (`h.w_r`, `h.b_hn`) are user-visible (Specs/LANGUAGE.md, "Tensor
// names"), and the weight plan, the lowering, the interpreter and identify all read them, so
// they must agree letter for letter: here is the only place that spells them.

/// A gate of the cell (Specs/LANGUAGE.md, "Equations").
public enum Gate: String, Sendable, CaseIterable, Hashable {
  /// The reset gate.
  case r
  /// The update gate.
  case z
  /// The candidate.
  case n

  /// How messages and `grucc check` name it.
  public var title: String {
    switch self {
    case .r: return "reset gate r"
    case .z: return "update gate z"
    case .n: return "candidate n"
    }
  }
}

/// The kinds of tensor a gate can have, in the order grucc lists a layer's tensors.
public enum GateTensorKind: String, Sendable, CaseIterable, Hashable {
  /// `W_g` `[H, I]`, multiplies the input.
  case inputWeight = "w_"
  /// `U_g` `[H, H]`, multiplies the state.
  case recurrentWeight = "u_"
  /// `b_ig` (`bias separate`).
  case inputBias = "b_i"
  /// `b_hg` (`bias separate`).
  case recurrentBias = "b_h"
  /// `b_g` (`bias single`): on the input side.
  case bias = "b_"

  public var isBias: Bool { self != .inputWeight && self != .recurrentWeight }
}

/// One tensor of one gate, named within its layer: `w_r`, `u_n`, `b_hz`, `b_n`.
public struct CellParameter: Sendable, Hashable {
  public var kind: GateTensorKind
  public var gate: Gate

  public init(_ kind: GateTensorKind, _ gate: Gate) {
    self.kind = kind
    self.gate = gate
  }

  /// The name within the layer, `w_r`; the model's tensor is `PREFIX.w_r`.
  public var name: String { kind.rawValue + gate.rawValue }

  /// The name of this tensor of the layer (or direction) `prefix`: `h.w_r`, `h.fw.b_hn`.
  public func name(in prefix: String) -> String { "\(prefix).\(name)" }

  /// Reads a name within a layer (`w_r`, `b_hn`); nil for anything else.
  public init?(name: String) {
    for kind in GateTensorKind.allCases where name.hasPrefix(kind.rawValue) {
      if let gate = Gate(rawValue: String(name.dropFirst(kind.rawValue.count))) {
        self.init(kind, gate)
        return
      }
    }
    return nil
  }

  /// What the tensor is, for `grucc check` and messages: "reset gate r: input weights W_r".
  public var role: String {
    let g = gate.rawValue
    switch kind {
    case .inputWeight: return "\(gate.title): input weights W_\(g)"
    case .recurrentWeight: return "\(gate.title): recurrent weights U_\(g)"
    case .inputBias: return "\(gate.title): input bias b_i\(g)"
    case .recurrentBias: return "\(gate.title): recurrent bias b_h\(g)"
    case .bias: return "\(gate.title): bias b_\(g)"
    }
  }
}

extension GRULayer {
  /// The gates the layer has, in the order their tensors are listed.
  public var gates: [Gate] { reset == .none ? [.z, .n] : [.r, .z, .n] }

  /// The bias added to a gate's input product: `b_ig`, `b_g`, or none.
  public func inputBias(_ gate: Gate) -> CellParameter? {
    switch bias {
    case .separate: return CellParameter(.inputBias, gate)
    case .single: return CellParameter(.bias, gate)
    case .none: return nil
    }
  }

  /// The bias added to a gate's recurrent product: `b_hg` with separate biases, else none.
  public func recurrentBias(_ gate: Gate) -> CellParameter? {
    bias == .separate ? CellParameter(.recurrentBias, gate) : nil
  }

  /// Every tensor of one direction, in grucc's order: the W of each gate, the U of each gate,
  /// then the biases (input side, then recurrent side), each in gate order.
  public var cellParameters: [CellParameter] {
    var kinds: [GateTensorKind] = [.inputWeight, .recurrentWeight]
    switch bias {
    case .separate: kinds += [.inputBias, .recurrentBias]
    case .single: kinds += [.bias]
    case .none: break
    }
    return kinds.flatMap { kind in gates.map { CellParameter(kind, $0) } }
  }
}
