// C identifiers: every name a generated model declares is handed out here, once, so that no two
// collide. DSL names become C names by sanitising (`h.fw.w_r` → `h_fw_w_r`), which can map two
// different names to one (`h.fw` and a layer called `h_fw`); case-folding the macros can too
// (`y` and `Y`). Each namespace hands names out in model order and moves a clash aside with `_`.

/// The C names of one generated model.
struct CNames {
  /// `adder` → symbols `adder_...`, macros `ADDER_...`.
  let symbol: String
  let macro: String
  /// File scope: the fixed API and kernel functions, the weight arrays and the step functions.
  private var globals: Set<String> = []
  /// The API's pointer parameters for initial states and outputs, by DSL name.
  private var parameterNames: [String: String] = [:]
  private var weightNames: [String: String] = [:]
  private var stepNames: [String: String] = [:]
  /// The size macros named after DSL names, by their key (`output_y_size`).
  private var macroNames: [String: String] = [:]

  /// Names for a model's prefix only: the fixed API and kernel names.
  init(model: String) {
    symbol = CNames.sanitize(model)
    macro = symbol.uppercased()
    globals = Set(CNames.fixedGlobals.map { "\(symbol)_\($0)" })
  }

  /// Every name of one model. `parameters` are the initial states and outputs in API order
  /// (sequence outputs also take `<name>_b` and `<name>_t`, their strides in the sequence
  /// function); `weights` the module's parameters; `scans` the recurrences.
  init(
    model: String, headerGuard: String, parameters: [(name: String, isSequence: Bool)], weights: [String],
    scans: [String], sizeMacros: [(key: String, kind: String, name: String, suffix: String)]
  ) {
    self.init(model: model)
    // A weight stored in int8 also has `<array>_scale` (CInt8.scaleName): claimed with it, so it
    // cannot meet another weight's array.
    for w in weights { weightNames[w] = claimGlobal(CNames.sanitize(w), companions: ["_scale"]) }
    for s in scans { stepNames[s] = claimGlobal(CNames.sanitize(s), suffix: "_step") }
    var macros = Set(CNames.fixedMacros.map { "\(macro)_\($0)" } + [headerGuard])
    for m in sizeMacros {
      // `<MODEL>_OUTPUT_<NAME>_SIZE`: the name part moves aside, so the kind and suffix stay readable.
      var name = CNames.sanitize(m.name).uppercased()
      func spelled() -> String { "\(macro)_\(m.kind.uppercased())_\(name)_\(m.suffix.uppercased())" }
      while macros.contains(spelled()) { name += "_" }
      macros.insert(spelled())
      macroNames[m.key] = spelled()
    }
    // A parameter must not shadow a function it calls, nor be a macro that would expand.
    var taken = CNames.reserved.union(globals).union(macros)
    for p in parameters {
      var candidate = CNames.sanitize(p.name)
      func free(_ c: String) -> Bool {
        !taken.contains(c) && (!p.isSequence || (!taken.contains(c + "_b") && !taken.contains(c + "_t")))
      }
      while !free(candidate) { candidate += "_" }
      taken.insert(candidate)
      if p.isSequence { taken.formUnion([candidate + "_b", candidate + "_t"]) }
      parameterNames[p.name] = candidate
    }
  }

  /// `<model>_<stem><suffix>`, with `_` added to the stem until it and every `name + companion`
  /// are free; all of them are then taken.
  private mutating func claimGlobal(_ stem: String, suffix: String = "", companions: [String] = []) -> String {
    var stem = stem
    func names() -> [String] {
      let name = "\(symbol)_\(stem)\(suffix)"
      return [name] + companions.map { name + $0 }
    }
    while names().contains(where: globals.contains) { stem += "_" }
    globals.formUnion(names())
    return names()[0]
  }

  /// The header's include guard: `kws.h` → `KWS_H`.
  static func headerGuard(_ headerName: String) -> String { sanitize(headerName).uppercased() }

  /// `h.w_rzn` → `h_w_rzn`: every character that cannot appear in a C identifier becomes `_`.
  static func sanitize(_ s: String) -> String {
    var out = String(s.map { c in c.isASCII && (c.isLetter || c.isNumber || c == "_") ? c : "_" })
    if let first = out.first, first.isNumber { out = "_" + out }
    return out.isEmpty ? "_" : out
  }

  /// One of the fixed functions and types (`run_batch`, `linear`, `state`): `<model>_<name>`.
  func global(_ s: String) -> String { "\(symbol)_\(CNames.sanitize(s))" }

  /// One of the fixed macros (`ok`, `input_size`): `<MODEL>_<NAME>`.
  func constant(_ s: String) -> String { "\(macro)_\(CNames.sanitize(s).uppercased())" }

  /// The C parameter of an initial state or output, by its DSL name.
  func parameter(_ name: String) -> String {
    guard let p = parameterNames[name] else { preconditionFailure("no C parameter for '\(name)'") }
    return p
  }

  /// The static array holding a weight tensor.
  func weight(_ name: String) -> String {
    guard let w = weightNames[name] else { preconditionFailure("no C array for weight '\(name)'") }
    return w
  }

  /// The step function of a recurrence.
  func stepFunction(_ scan: String) -> String {
    guard let s = stepNames[scan] else { preconditionFailure("no step function for '\(scan)'") }
    return s
  }

  /// A size macro named after a DSL name, by its key (`output_y_size`, `initial_h.h0_size`).
  func sizeMacro(_ key: String) -> String {
    guard let m = macroNames[key] else { preconditionFailure("no macro '\(key)'") }
    return m
  }

  /// The fixed file-scope names: API functions, the state type, and every kernel and helper the
  /// prelude and the fast math may define (their `@m_` names are read from CFastMath's text).
  static let fixedGlobals: [String] = {
    var names = [
      "run_batch", "run", "step", "reset", "set_state", "get_state", "read", "sequence", "state", "crc32",
      "weights_data", "check_weights", "widen", "half", "qlinear",
      "cannot_stream_a_reverse_pass", "cannot_stream_a_layer_that_reads_ahead", "linear", "softmax", "l2norm", "batchnorm", "layernorm", "tanh", "exp", "sigmoid", "hard_sigmoid", "leaky_relu",
      "thresholded_relu", "scaled_tanh", "affine", "elu", "softsign", "softplus", "clip",
    ]
    names += (1...64).map { "linear_p\($0)" }
    names += CFastMath.helperNames
    return names
  }()

  /// The fixed macros (the API's sizes and status codes, the inlining and restrict attributes, the
  /// fast math's constants).
  static let fixedMacros: [String] =
    [
      "INPUT_SIZE", "STEPS", "STATE_SIZE", "STATE_BYTES", "STATE_ALIGN", "PARAMETER_COUNT", "WEIGHT_BYTES", "MACS_PER_STEP",
      "MACS_PER_SEQUENCE", "SCRATCH_SIZE", "SCRATCH_BYTES", "STACK_BYTES", "STATE_INIT", "WEIGHTS_BYTES", "WEIGHTS_LAYOUT", "ERROR_WEIGHTS", "OK", "ERROR_ARGUMENT", "ERROR_STEPS", "PRODUCT", "INLINE", "RESTRICT",
    ] + CFastMath.macroNames

  /// Words a generated local or parameter must not be: C and C++ keywords, the library functions,
  /// types and macros the generated code uses, and the fixed parameter names of the API.
  static let reserved: Set<String> = [
    "auto", "bool", "break", "case", "char", "class", "const", "continue", "default", "delete", "do", "double",
    "else", "enum", "extern", "false", "float", "for", "goto", "if", "inline", "int", "long", "namespace", "new",
    "operator", "private", "protected", "public", "register", "restrict", "return", "short", "signed", "sizeof",
    "static", "struct", "switch", "template", "this", "throw", "true", "try", "typedef", "typename", "union",
    "unsigned", "using", "virtual", "void", "volatile", "while", "NULL", "memcpy", "memset", "exp", "expf",
    "tanh", "tanhf", "expm1", "expm1f", "log1p", "log1pf", "fabs", "fabsf", "size_t", "uint32_t", "uint64_t",
    "NAN", "i", "j", "t", "b", "s", "x", "x_b", "x_t", "x_stride", "T", "B", "nb", "tmax", "work", "len", "lengths",
    "scratch", "state", "w", "weights", "uintptr_t",
    // The fixed locals of the functions that see the API's parameters (the sequence function's
    // chunk loop, masks and reductions): a parameter named like one would be shadowed.
    "d", "acc", "valid", "from", "cs", "t0", "tc", "n",
  ]
}

/// Hands out local variable names unique within one C function: never a reserved word, a
/// parameter of the function, or a file-scope name of the model (which a local would shadow).
struct LocalNames {
  private var used: Set<String>
  private let globalPrefixes: [String]

  init(reserved: [String] = [], names: CNames? = nil) {
    used = CNames.reserved.union(reserved)
    globalPrefixes = names.map { [$0.symbol + "_", $0.macro + "_"] } ?? []
  }

  mutating func fresh(_ hint: String) -> String {
    var base = CNames.sanitize(hint)
    if globalPrefixes.contains(where: { base.hasPrefix($0) }) { base = "v_" + base }
    if used.insert(base).inserted { return base }
    var i = 2
    while !used.insert("\(base)_\(i)").inserted { i += 1 }
    return "\(base)_\(i)"
  }
}
