// A whole training step in C: forward, loss and seeds, gradient, finiteness checks and the
// optimiser update, on one batch, in a caller-owned state struct and scratch (no malloc, no
// globals: reentrant). `grucc --emit train` writes it as a standalone API; `grucc train` compiles
// the same text with a small loader shim (`loaderShim`) and calls it through dlopen.
//
// The graphs come from CGraphProgram (its functions made static here). The step runs the forward
// pass once: the gradient graph also yields the forward outputs, in two phases over one arena —
// phase 1 (everything the seeds do not feed: the forward pass with its saved states), the loss
// and seeds, phase 2 (the reverse pass). The forward graph's own function serves `_predict`. The loss and the
// optimiser are Loss.evaluate's and Adam's/SGD's arithmetic written in the same order in C, in
// double whatever the model's precision, with the weights rounded to the model's precision after
// each update, as Trainer does: so a step gives Trainer's bits in f64 and in f32. The optimiser
// is O(parameters) against the gradient's O(B·T·parameters), so double there is cheap even on
// an FPU-less microcontroller.

/// The update rule the emitted step applies, with its hyperparameters (the init's values).
public enum TrainStepOptimizer: Sendable, Equatable {
  case adam(beta1: Double, beta2: Double, epsilon: Double)
  case sgd(momentum: Double)

  /// The rule of one of Trainer's optimizers; nil for another kind.
  public init?(_ optimizer: any Optimizer) {
    if let adam = optimizer as? Adam {
      self = .adam(beta1: adam.beta1, beta2: adam.beta2, epsilon: adam.epsilon)
    } else if let sgd = optimizer as? SGD {
      self = .sgd(momentum: sgd.momentum)
    } else {
      return nil
    }
  }
}

/// What the emitted step computes and where its starting weights come from.
public struct TrainStepConfiguration: Sendable, Equatable {
  public var loss: Loss
  public var optimizer: TrainStepOptimizer
  /// The module's weights as `static const` literals that init copies in; false: init zeroes the
  /// weights and the caller sets them (grucc train, which loads them from Swift).
  public var embedWeights = true

  public init(loss: Loss, optimizer: TrainStepOptimizer, embedWeights: Bool = true) {
    self.loss = loss
    self.optimizer = optimizer
    self.embedWeights = embedWeights
  }
}

/// The emitted step's calling convention, for the Swift side that loads it.
public struct CTrainStepLayout: Sendable {
  public var parameterCount: Int
  /// The real-valued inputs, in the order the `inputs` array (and the API's arguments) take them.
  public var inputNames: [String]
  public var inputDims: [[Dim]]
  public var lengthsName: String?
  /// The outputs, each with a target (or NULL: not trained), in this order.
  public var outputNames: [String]
  public var outputDims: [[Dim]]
}

public enum CTrainStep {
  /// Return codes of the step, in both the API and the shim.
  public enum Status: Int32, Sendable {
    case ok = 0
    case lossNotFinite = 1
    case weightNotFinite = 2
    case badLengths = 3
  }

  /// The .c and .h of the step for `module` (lowered through `lower-dense`). The .c includes the
  /// header as `headerName`. Same module and configuration in, same bytes out.
  public static func emit(
    _ module: Module, headerName: String, configuration: TrainStepConfiguration
  ) throws(CGraphUnsupported) -> (source: String, header: String, layout: CTrainStepLayout) {
    let gradientModule: Module
    // Saving the state products costs B·T·features reals each and spares the reverse scan
    // recomputing them: at H = 128 a quarter of the step's products.
    do { gradientModule = try Autodiff.gradientModule(module, keepOutputs: true, saveProducts: true) } catch {
      throw CGraphUnsupported(message: "the gradient graph: \(error)")
    }
    var e = StepEmitter(module: module, configuration: configuration)
    let seeds = Set(module.graph.outputs.map { Differentiate.seedName($0.name) })
    let (graphs, functions) = try CGraphProgram.emit(
      [(e.forwardSymbol, module), (e.gradientSymbol, gradientModule)], parameters: module.parameters,
      phasedBy: [e.gradientSymbol: seeds])
    try e.bind(forward: functions[0], gradient: functions[1])
    let header = e.header(headerName)
    let source = e.source(graphs: graphs, headerName: headerName)
    return (source, header, e.layout)
  }

  /// Entry points with fixed names for grucc train's loader, appended to the emitted .c: the
  /// state's size, the step over arrays, and the state's contents to and from doubles.
  static func loaderShim(_ module: Module, layout: CTrainStepLayout, configuration: TrainStepConfiguration) -> String {
    let p = StepEmitter.prefix(module)
    let lengthsCheck = layout.lengthsName != nil ? "if (!\(p)_lengths_fit(B, T, lengths)) return 3;" : "(void)lengths;"
    let adam: Bool
    switch configuration.optimizer {
    case .adam: adam = true
    case .sgd: adam = false
    }
    return """

      /* grucc train's loader (not part of the --emit train API). */
      size_t grucc_state_bytes(void);
      size_t grucc_scratch_bytes(size_t B, size_t T);
      void grucc_init(void *s);
      int grucc_step(void *s, size_t B, size_t T, const gr_real *const *inputs, const int *lengths,
          const double *const *targets, double lr, void *scratch, double *loss);
      void grucc_save(const void *s, double *params, double *a, double *b, double *scalars, uint64_t *steps);
      size_t grucc_predict_scratch_bytes(size_t B, size_t T);
      int grucc_predict(const void *s, size_t B, size_t T, const gr_real *const *inputs, const int *lengths,
          gr_real *const *outputs, void *scratch);
      void grucc_load(void *s, const double *params, const double *a, const double *b, const double *scalars, uint64_t steps);

      size_t grucc_state_bytes(void) { return sizeof(\(p)_state); }
      size_t grucc_predict_scratch_bytes(size_t B, size_t T) { return \(p.uppercased())_PREDICT_SCRATCH_BYTES(B, T); }
      int grucc_predict(const void *s, size_t B, size_t T, const gr_real *const *inputs, const int *lengths,
          gr_real *const *outputs, void *scratch) {
          \(lengthsCheck)
          \(p)_graph_forward(B, T, ((const \(p)_state *)s)->params, inputs, lengths, outputs, (gr_real *)scratch);
          return 0;
      }
      size_t grucc_scratch_bytes(size_t B, size_t T) { return \(p.uppercased())_SCRATCH_BYTES(B, T); }
      void grucc_init(void *s) { \(p)_init((\(p)_state *)s); }
      int grucc_step(void *s, size_t B, size_t T, const gr_real *const *inputs, const int *lengths,
          const double *const *targets, double lr, void *scratch, double *loss) {
          return \(p)_run((\(p)_state *)s, B, T, inputs, lengths, targets, lr, scratch, loss);
      }
      void grucc_save(const void *s, double *params, double *a, double *b, double *scalars, uint64_t *steps) {
          const \(p)_state *t = (const \(p)_state *)s;
          for (size_t i = 0; i < \(p.uppercased())_PARAMS; i++) {
              params[i] = (double)t->params[i];
              \(adam ? "a[i] = t->m[i];\n            b[i] = t->v[i];" : "a[i] = t->velocity[i];\n            (void)b;")
          }
          \(adam ? "scalars[0] = t->beta1_power;\n    scalars[1] = t->beta2_power;\n    *steps = t->steps;" : "(void)scalars;\n    *steps = 0;")
      }
      void grucc_load(void *s, const double *params, const double *a, const double *b, const double *scalars, uint64_t steps) {
          \(p)_state *t = (\(p)_state *)s;
          for (size_t i = 0; i < \(p.uppercased())_PARAMS; i++) {
              t->params[i] = (gr_real)params[i];
              \(adam ? "t->m[i] = a[i];\n            t->v[i] = b[i];" : "t->velocity[i] = a[i];\n            (void)b;")
          }
          \(adam ? "t->beta1_power = scalars[0];\n    t->beta2_power = scalars[1];\n    t->steps = steps;" : "(void)scalars;\n    (void)steps;")
      }

      """
  }
}

/// The text of one step: names, sizes, the header and the .c.
private struct StepEmitter {
  let module: Module
  let configuration: TrainStepConfiguration
  let p: String
  let macro: String
  var forward: CGraphFunction?
  var gradient: CGraphFunction?
  /// Each input's and target's C parameter name.
  var inputParameters: [String] = []
  var targetParameters: [String] = []
  var outputParameters: [String] = []

  static func prefix(_ module: Module) -> String { CNames.sanitize(module.name) + "_train" }

  init(module: Module, configuration: TrainStepConfiguration) {
    self.module = module
    self.configuration = configuration
    p = Self.prefix(module)
    macro = p.uppercased()
  }

  var forwardSymbol: String { p + "_graph_forward" }
  var gradientSymbol: String { p + "_graph_gradient" }
  var f32: Bool { module.precision == .f32 }
  var real: String { f32 ? "float" : "double" }
  var parameterCount: Int { module.parameters.reduce(0) { $0 + $1.count } }
  var adam: Bool {
    switch configuration.optimizer {
    case .adam: true
    case .sgd: false
    }
  }

  var layout: CTrainStepLayout {
    CTrainStepLayout(
      parameterCount: parameterCount, inputNames: forward!.inputNames, inputDims: forward!.inputDims,
      lengthsName: forward!.lengthsName, outputNames: forward!.outputNames, outputDims: forward!.outputDims)
  }

  mutating func bind(forward f: CGraphFunction, gradient g: CGraphFunction) throws(CGraphUnsupported) {
    forward = f
    gradient = g
    for name in g.inputNames where !f.inputNames.contains(name) {
      guard f.outputNames.contains(where: { Differentiate.seedName($0) == name }) else {
        throw CGraphUnsupported(message: "the gradient graph takes '\(name)', neither an input nor a seed")
      }
    }
    if let l = g.lengthsName, l != f.lengthsName {
      throw CGraphUnsupported(message: "the gradient graph's lengths '\(l)' are not the forward graph's")
    }
    // The gradients, then the forward outputs (Autodiff's keepOutputs).
    guard g.outputNames.count >= f.outputNames.count,
      Array(g.outputNames.suffix(f.outputNames.count)) == f.outputNames,
      Array(g.outputDims.suffix(f.outputDims.count)) == f.outputDims
    else { throw CGraphUnsupported(message: "the gradient graph does not end with the forward outputs") }
    var gradients = Set<String>()
    for name in g.outputNames.dropLast(f.outputNames.count) {
      guard let q = module.parameters.first(where: { Differentiate.gradientName($0.name) == name }), gradients.insert(q.name).inserted
      else { throw CGraphUnsupported(message: "the gradient graph's output '\(name)' is not one parameter's gradient") }
    }
    for dims in f.outputDims where dims.first != .batch {
      throw CGraphUnsupported(message: "an output without the batch as its first dimension")
    }
    var taken: Set<String> = ["s", "B", "T", "lengths", "lr", "scratch", "loss", "inputs", "targets"]
    func claim(_ stem: String) -> String {
      var name = stem
      while taken.contains(name) || Self.keywords.contains(name) { name += "_" }
      taken.insert(name)
      return name
    }
    inputParameters = f.inputNames.map { claim(CNames.sanitize($0)) }
    targetParameters = f.outputNames.map { claim(CNames.sanitize($0) + "_target") }
    outputParameters = f.outputNames.map { claim(CNames.sanitize($0)) }
  }

  /// What a parameter of the step must not be called: C and C++ keywords and the types and
  /// macros the step's code names.
  static let keywords: Set<String> = [
    "auto", "bool", "break", "case", "char", "class", "const", "continue", "default", "delete", "do", "double",
    "else", "enum", "extern", "false", "float", "for", "goto", "if", "inline", "int", "long", "namespace", "new",
    "operator", "private", "protected", "public", "register", "restrict", "return", "short", "signed", "sizeof",
    "static", "struct", "switch", "template", "this", "throw", "true", "try", "typedef", "typename", "union",
    "unsigned", "using", "virtual", "void", "volatile", "while", "NULL", "size_t", "uint64_t", "gr_real",
  ]

  // MARK: - Sizes

  /// The reals of a tensor of `dims` as an ArenaSize (one term).
  static func size(_ dims: [Dim]) -> ArenaSize {
    var fixed = 1
    var (batch, time) = (false, false)
    for d in dims {
      switch d {
      case .batch: batch = true
      case .time: time = true
      case .fixed(let n): fixed *= n
      }
    }
    switch (batch, time) {
    case (true, true): return ArenaSize(perBatchStep: fixed)
    case (true, false): return ArenaSize(perBatch: fixed)
    case (false, true): return ArenaSize(perStep: fixed)
    case (false, false): return ArenaSize(constant: fixed)
    }
  }

  /// A size as a macro body over the macro's arguments B and T.
  static func macroText(_ a: ArenaSize) -> String {
    var terms: [String] = []
    if a.perBatchStep != 0 { terms.append("(size_t)\(a.perBatchStep)u * (size_t)(B) * (size_t)(T)") }
    if a.perBatch != 0 { terms.append("(size_t)\(a.perBatch)u * (size_t)(B)") }
    if a.perStep != 0 { terms.append("(size_t)\(a.perStep)u * (size_t)(T)") }
    if a.constant != 0 || terms.isEmpty { terms.append("(size_t)\(a.constant)u") }
    return "(" + terms.joined(separator: " + ") + ")"
  }

  func dimText(_ d: Dim) -> String {
    switch d {
    case .batch: "B"
    case .time: "T"
    case .fixed(let n): "(size_t)\(n)u"
    }
  }

  /// The reals of scratch the step uses: the gradient, the outputs (which become the seeds in
  /// place), and the gradient graph's arena — or the forward graph's if larger, so that
  /// `_predict` never needs more than `_step` (the header promises it).
  var scratchMacro: String {
    var fixed = ArenaSize(constant: parameterCount)
    for dims in forward!.outputDims { fixed = fixed + Self.size(dims) }
    let (a, b) = (forward!.arena, gradient!.arena)
    let arena: String
    if a == b || a == ArenaSize() {
      arena = Self.macroText(b)
    } else if b == ArenaSize() {
      arena = Self.macroText(a)
    } else {
      arena = "(\(Self.macroText(a)) > \(Self.macroText(b)) ? \(Self.macroText(a)) : \(Self.macroText(b)))"
    }
    return "(sizeof(\(real)) * (\(Self.macroText(fixed)) + \(arena)))"
  }

  // MARK: - Header

  var stepParameters: [String] {
    var list = ["\(p)_state *s", "size_t B", "size_t T"]
    for name in inputParameters { list.append("const \(real) *\(name)") }
    if forward!.lengthsName != nil { list.append("const int *lengths") }
    for name in targetParameters { list.append("const double *\(name)") }
    return list + ["double lr", "void *scratch", "double *loss"]
  }

  var predictList: [String] {
    var list = ["const \(p)_state *s", "size_t B", "size_t T"]
    for name in inputParameters { list.append("const \(real) *\(name)") }
    if forward!.lengthsName != nil { list.append("const int *lengths") }
    for name in outputParameters { list.append("\(real) *\(name)") }
    return list + ["void *scratch"]
  }

  func header(_ headerName: String) -> String {
    let f = forward!
    let lossText: String
    switch configuration.loss {
    case .quadratic: lossText = "quadratic: sum of (o - y)^2 / 2 over every value, divided by B"
    case .mse: lossText = "mse: sum of (o - y)^2 divided by the number of values"
    case .bce: lossText = "bce: binary cross-entropy of o clamped to [1e-12, 1 - 1e-12], mean over the values"
    case .cce: lossText = "cce: categorical cross-entropy of o clamped below at 1e-12, mean over the vectors"
    }
    let optimiserText: String
    switch configuration.optimizer {
    case .adam: optimiserText = "Adam in PyTorch's form (bias-corrected, running beta^t products)"
    case .sgd: optimiserText = "SGD with momentum in PyTorch's form: b = momentum*b + g; w -= lr*b"
    }
    var lines: [String] = []
    func l(_ s: String = "") { lines.append(s) }
    l("/* \(comment(headerName)): generated by grucc \(Compiler.version) from \(comment(module.sourceName)) (--emit train). Do not edit.")
    l(" *")
    for s in module.summary { l(" * " + comment(s)) }
    l(" *")
    l(" * One training step of model \(comment(module.name)) on a batch: forward, loss, gradient, update.")
    l(" *   loss:      \(lossText)")
    l(" *   optimiser: \(optimiserText)")
    l(" * The loss and the optimiser run in double; the weights are \(real), rounded after each update.")
    l(" * No malloc and no globals: every byte is in the state struct and the caller's scratch, so")
    l(" * the functions are reentrant (one state per thread, or one scratch per call).")
    l(" *")
    l(" * Sequences are batch-major: x[(b * T + t) * features + f]. A NULL target leaves that output")
    l(" * untrained (its gradient is zero). Bit-equal to grucc train with -ffp-contract=off.")
    l(" *")
    l(" * Parameters (state.params, in this order):")
    var offset = 0
    for q in module.parameters {
      l(" *   \(comment(q.name)) [\(q.shape.map(String.init).joined(separator: ", "))] at \(offset)")
      offset += q.count
    }
    l(" */")
    let guardName = CNames.headerGuard(headerName)
    l("#ifndef \(guardName)")
    l("#define \(guardName)")
    l()
    l("#include <stddef.h>")
    l("#include <stdint.h>")
    l()
    l("#ifdef __cplusplus")
    l("extern \"C\" {")
    l("#endif")
    l()
    l("/* The number of weights, and the reals of each argument for a batch of B sequences of T steps. */")
    l("#define \(macro)_PARAMS \(parameterCount)u")
    for (k, name) in f.inputNames.enumerated() {
      l("#define \(macro)_\(CNames.sanitize(name).uppercased())_SIZE(B, T) \(Self.macroText(Self.size(f.inputDims[k])))")
    }
    for (k, name) in f.outputNames.enumerated() {
      l("#define \(macro)_\(CNames.sanitize(name).uppercased())_TARGET_SIZE(B, T) \(Self.macroText(Self.size(f.outputDims[k])))")
    }
    l("/* Bytes of scratch one step needs, aligned for \(real) (e.g. from malloc or a \(real) array).")
    l(" * The macro evaluates B and T more than once. */")
    l("#define \(macro)_SCRATCH_BYTES(B, T) \(scratchMacro)")
    l("/* Bytes of scratch \(p)_predict needs (no more than \(macro)_SCRATCH_BYTES). */")
    l("#define \(macro)_PREDICT_SCRATCH_BYTES(B, T) (sizeof(\(real)) * \(Self.macroText(forward!.arena)))")
    l()
    l("/* The hyperparameters \(p)_init sets (as given to grucc --emit train). */")
    switch configuration.optimizer {
    case .adam(let beta1, let beta2, let epsilon):
      l("#define \(macro)_BETA1 \(CLiteral.real(beta1, .f64))")
      l("#define \(macro)_BETA2 \(CLiteral.real(beta2, .f64))")
      l("#define \(macro)_EPSILON \(CLiteral.real(epsilon, .f64))")
    case .sgd(let momentum):
      l("#define \(macro)_MOMENTUM \(CLiteral.real(momentum, .f64))")
    }
    l()
    l("/* What \(p)_step returns. On any error the state is left as it was. */")
    l("#define \(macro)_OK 0")
    l("#define \(macro)_LOSS_NOT_FINITE 1   /* the loss or a gradient is not finite */")
    l("#define \(macro)_WEIGHT_NOT_FINITE 2 /* an updated weight would not be finite */")
    if f.lengthsName != nil { l("#define \(macro)_BAD_LENGTHS 3        /* lengths NULL, or one outside 0..T */") }
    l()
    l("typedef struct \(p)_state {")
    l("    \(real) params[\(macro)_PARAMS];")
    if adam {
      l("    double m[\(macro)_PARAMS];        /* Adam's first moments */")
      l("    double v[\(macro)_PARAMS];        /* Adam's second moments */")
      l("    double beta1, beta2, epsilon;    /* set by init; change them before the first step if needed */")
      l("    double beta1_power, beta2_power; /* beta1^steps, beta2^steps as running products */")
      l("    uint64_t steps;                  /* updates so far */")
    } else {
      l("    double velocity[\(macro)_PARAMS]; /* SGD's momentum buffer */")
      l("    double momentum;                 /* set by init */")
    }
    l("} \(p)_state;")
    l()
    l("/* The model's starting weights\(configuration.embedWeights ? " (the .gru's, as grucc bound them)" : " (zero: set state.params yourself)"), a fresh optimiser state. */")
    l("void \(p)_init(\(p)_state *s);")
    l()
    l("/* One update on a batch; *loss (if not NULL) receives the batch's loss before the update.")
    l(" * lr: the learning rate. scratch: \(macro)_SCRATCH_BYTES(B, T) bytes. */")
    l("int \(p)_step(" + stepParameters.joined(separator: ", ") + ");")
    l()
    l("/* The model's outputs for a batch with the state's weights, nothing updated (to evaluate")
    l(" * on the device). scratch: \(macro)_PREDICT_SCRATCH_BYTES(B, T) bytes. */")
    l("int \(p)_predict(" + predictList.joined(separator: ", ") + ");")
    l()
    l("#ifdef __cplusplus")
    l("}")
    l("#endif")
    l()
    l("#endif")
    return lines.joined(separator: "\n") + "\n"
  }

  func comment(_ s: String) -> String { s.replacing("*/", with: "* /") }

  // MARK: - Source

  func source(graphs: String, headerName: String) -> String {
    let f = forward!
    let g = gradient!
    var text = "/* \(comment(headerName.hasSuffix(".h") ? String(headerName.dropLast(2)) + ".c" : headerName)): generated by grucc \(Compiler.version) from \(comment(module.sourceName)) (--emit train). Do not edit. See \(comment(headerName)). */\n"
    // The graph functions are internal to this file.
    var body = graphs
    for symbol in [forwardSymbol, gradientSymbol] {
      body = body.replacing("\nvoid \(symbol)(size_t B", with: "\nstatic void \(symbol)(size_t B")
    }
    text += body
    text += "\n#include \"\(headerName)\"\n\n"
    if configuration.embedWeights {
      text += "static const gr_real \(p)_initial[\(macro)_PARAMS] = {\n"
      for q in module.parameters {
        text += "    /* \(comment(q.name)) */\n"
        var row: [String] = []
        for v in q.values {
          row.append(CLiteral.real(v, module.precision))
          if row.count == 6 {
            text += "    " + row.joined(separator: ", ") + ",\n"
            row = []
          }
        }
        if !row.isEmpty { text += "    " + row.joined(separator: ", ") + ",\n" }
      }
      text += "};\n\n"
    }
    // init
    text += "void \(p)_init(\(p)_state *s) {\n"
    text += "    for (size_t i = 0; i < \(macro)_PARAMS; i++) {\n"
    text += configuration.embedWeights ? "        s->params[i] = \(p)_initial[i];\n" : "        s->params[i] = 0;\n"
    text += adam ? "        s->m[i] = 0;\n        s->v[i] = 0;\n" : "        s->velocity[i] = 0;\n"
    text += "    }\n"
    if adam {
      text += "    s->beta1 = \(macro)_BETA1;\n    s->beta2 = \(macro)_BETA2;\n    s->epsilon = \(macro)_EPSILON;\n"
      text += "    s->beta1_power = 1.0;\n    s->beta2_power = 1.0;\n    s->steps = 0;\n"
    } else {
      text += "    s->momentum = \(macro)_MOMENTUM;\n"
    }
    text += "}\n\n"
    if f.lengthsName != nil {
      text += """
        static int \(p)_lengths_fit(size_t B, size_t T, const int *lengths) {
            if (lengths == NULL) return 0;
            for (size_t b = 0; b < B; b++) {
                if (lengths[b] < 0 || (size_t)lengths[b] > T) return 0;
            }
            return 1;
        }


        """
    }
    text += update()
    text += run(f, g)
    // The public step: the arguments as the arrays the graphs take.
    text += "int \(p)_step(" + stepParameters.joined(separator: ", ") + ") {\n"
    text += "    const gr_real *const inputs[\(f.inputNames.count)] = {\(inputParameters.joined(separator: ", "))};\n"
    text += "    const double *const targets[\(f.outputNames.count)] = {\(targetParameters.joined(separator: ", "))};\n"
    text += "    return \(p)_run(s, B, T, inputs, \(f.lengthsName != nil ? "lengths" : "NULL"), targets, lr, scratch, loss);\n"
    text += "}\n\n"
    text += "int \(p)_predict(" + predictList.joined(separator: ", ") + ") {\n"
    text += "    const gr_real *const inputs[\(f.inputNames.count)] = {\(inputParameters.joined(separator: ", "))};\n"
    text += "    gr_real *const outputs[\(f.outputNames.count)] = {\(outputParameters.joined(separator: ", "))};\n"
    if f.lengthsName != nil {
      text += "    if (!\(p)_lengths_fit(B, T, lengths)) return \(macro)_BAD_LENGTHS;\n"
      text += "    \(forwardSymbol)(B, T, s->params, inputs, lengths, outputs, (gr_real *)scratch);\n"
    } else {
      text += "    \(forwardSymbol)(B, T, s->params, inputs, NULL, outputs, (gr_real *)scratch);\n"
    }
    text += "    return \(macro)_OK;\n"
    text += "}\n"
    return text
  }

  /// The optimiser over every weight: `commit` 0 only checks that every new weight is finite,
  /// so a failing step leaves the state untouched; 1 writes. Both passes compute the same bits.
  func update() -> String {
    var t = "static int \(p)_update(\(p)_state *s, const gr_real *grad, double lr, int commit) {\n"
    switch configuration.optimizer {
    case .adam:
      t += """
            const double b1 = s->beta1, b2 = s->beta2;
            const double p1 = s->beta1_power * b1, p2 = s->beta2_power * b2;
            const double c1 = 1 - p1, c2 = 1 - p2;
            for (size_t i = 0; i < \(macro)_PARAMS; i++) {
                const double g = (double)grad[i];
                const double m = b1 * s->m[i] + (1 - b1) * g;
                const double v = b2 * s->v[i] + (1 - b2) * g * g;
                const double mhat = m / c1;
                const double vhat = v / c2;
                const gr_real w = (gr_real)((double)s->params[i] - lr * mhat / (sqrt(vhat) + s->epsilon));
                if (!isfinite((double)w)) return 1;
                if (commit) {
                    s->m[i] = m;
                    s->v[i] = v;
                    s->params[i] = w;
                }
            }
            if (commit) {
                s->steps++;
                s->beta1_power = p1;
                s->beta2_power = p2;
            }
            return 0;
        }


        """
    case .sgd:
      t += """
            const double mu = s->momentum;
            for (size_t i = 0; i < \(macro)_PARAMS; i++) {
                const double b = mu * s->velocity[i] + (double)grad[i];
                const gr_real w = (gr_real)((double)s->params[i] - lr * b);
                if (!isfinite((double)w)) return 1;
                if (commit) {
                    s->velocity[i] = b;
                    s->params[i] = w;
                }
            }
            return 0;
        }


        """
    }
    return t
  }

  /// The step over arrays: the API's function and the loader's both call it.
  func run(_ f: CGraphFunction, _ g: CGraphFunction) -> String {
    var t = "static int \(p)_run(\(p)_state *s, size_t B, size_t T, const gr_real *const *inputs, const int *lengths,\n"
    t += "    const double *const *targets, double lr, void *scratch, double *loss) {\n"
    t += "    gr_real *const grad = (gr_real *)scratch;\n"
    var previous = "grad"
    var previousSize = "(size_t)\(parameterCount)u"
    var outs: [String] = []
    for (k, dims) in f.outputDims.enumerated() {
      let name = "out\(k)"
      t += "    gr_real *const \(name) = \(previous) + \(previousSize); /* \(comment(f.outputNames[k])), then its seed */\n"
      outs.append(name)
      previous = name
      previousSize = "(size_t)(" + Self.size(dims).c + ")"
    }
    t += "    gr_real *const arena = \(previous) + \(previousSize);\n"
    t += "    double total = 0;\n"
    if f.lengthsName != nil {
      t += "    if (!\(p)_lengths_fit(B, T, lengths)) return \(macro)_BAD_LENGTHS;\n"
    } else {
      t += "    (void)lengths;\n"
    }
    // The gradient graph's inputs: the forward inputs and the seeds, by name.
    var gradientInputs: [String] = []
    for name in g.inputNames {
      if let j = f.inputNames.firstIndex(of: name) {
        gradientInputs.append("inputs[\(j)]")
      } else if let k = f.outputNames.firstIndex(where: { Differentiate.seedName($0) == name }) {
        gradientInputs.append("out\(k)")
      }
    }
    var offsets: [String: Int] = [:]
    var offset = 0
    for q in module.parameters {
      offsets[q.name] = offset
      offset += q.count
    }
    var gradientOutputs: [String] = []
    var covered = Set<String>()
    for name in g.outputNames.dropLast(f.outputNames.count) {
      // bind checked that every output but the forward ones is one parameter's gradient.
      let q = module.parameters.first { Differentiate.gradientName($0.name) == name }!
      covered.insert(q.name)
      gradientOutputs.append("grad + \(offsets[q.name]!)")
    }
    gradientOutputs += outs
    // The arrays serve both phases: phase 1 writes the forward outputs into out<k>, the loss
    // turns each into its seed in place, phase 2 reads them as the seeds.
    t += "    const gr_real *const gin[\(max(1, gradientInputs.count))] = {\(gradientInputs.isEmpty ? "NULL" : gradientInputs.joined(separator: ", "))};\n"
    t += "    gr_real *const gout[\(gradientOutputs.count)] = {\(gradientOutputs.joined(separator: ", "))};\n"
    t += "    \(gradientSymbol)(B, T, s->params, gin, lengths, gout, arena, 1);\n"
    for (k, dims) in f.outputDims.enumerated() {
      t += lossCode(k, dims, masked: f.lengthsName != nil && dims.count == 3)
    }
    t += "    \(gradientSymbol)(B, T, s->params, gin, lengths, gout, arena, 2);\n"
    for q in module.parameters where !covered.contains(q.name) {
      t += "    for (size_t i = 0; i < \(q.count)u; i++) grad[\(offsets[q.name]!)u + i] = 0; /* \(comment(q.name)): no gradient */\n"
    }
    t += """
          if (loss != NULL) *loss = total;
          if (!isfinite(total)) return \(macro)_LOSS_NOT_FINITE;
          for (size_t i = 0; i < \(macro)_PARAMS; i++) {
              if (!isfinite((double)grad[i])) return \(macro)_LOSS_NOT_FINITE;
          }
          if (\(p)_update(s, grad, lr, 0) != 0) return \(macro)_WEIGHT_NOT_FINITE;
          (void)\(p)_update(s, grad, lr, 1);
          return \(macro)_OK;
      }


      """
    return t
  }

  /// Output k's loss added to `total` and its seed written over it, as Loss.evaluate computes them.
  func lossCode(_ k: Int, _ dims: [Dim], masked: Bool) -> String {
    let o = "out\(k)"
    let n = "(size_t)(" + Self.size(dims).c + ")"
    let features = dims.count > 1 ? dimText(dims.last!) : "(size_t)1u"
    let steps = dims.count == 3 ? dimText(dims[1]) : "(size_t)1u"
    var t = "    /* output \(k): \(comment(forward!.outputNames[k])) */\n"
    t += "    if (targets[\(k)] == NULL) {\n"
    t += "        for (size_t i = 0; i < \(n); i++) \(o)[i] = 0;\n"
    t += "    } else {\n"
    t += "        const double *const y = targets[\(k)];\n"
    if masked {
      t += "        size_t counted = 0;\n"
      t += "        for (size_t b = 0; b < B; b++) counted += (size_t)lengths[b] * \(features);\n"
    } else {
      t += "        const size_t counted = \(n);\n"
    }
    t += "        if (counted == 0) {\n"
    t += "            for (size_t i = 0; i < \(n); i++) \(o)[i] = 0;\n"
    t += "        } else {\n"
    let scale: String
    switch configuration.loss {
    case .quadratic: scale = "1 / (double)B"
    case .mse, .bce: scale = "1 / (double)counted"
    case .cce: scale = "1 / (double)(counted / \(features))"
    }
    t += "            const double scale = \(scale);\n"
    t += "            double sum = 0;\n"
    t += "            for (size_t i = 0; i < \(n); i++) {\n"
    if masked {
      t += "                if ((i / \(features)) % \(steps) >= (size_t)lengths[i / (\(steps) * \(features))]) {\n"
      t += "                    \(o)[i] = 0;\n"
      t += "                    continue;\n"
      t += "                }\n"
    } else {
      _ = steps
    }
    t += "                const double oi = (double)\(o)[i];\n"
    t += "                const double yi = y[i];\n"
    switch configuration.loss {
    case .quadratic:
      t += "                const double d = oi - yi;\n"
      t += "                sum += 0.5 * d * d;\n"
      t += "                \(o)[i] = (gr_real)(d * scale);\n"
    case .mse:
      t += "                const double d = oi - yi;\n"
      t += "                sum += d * d;\n"
      t += "                \(o)[i] = (gr_real)(2 * d * scale);\n"
    case .bce:
      // Swift's max(a, b) is `b >= a ? b : a` and min(a, b) is `b < a ? b : a`: the same
      // choices here, NaN included.
      t += "                const double lo = 1e-12, hi = 1 - 1e-12;\n"
      t += "                double q = lo >= oi ? lo : oi;\n"
      t += "                q = hi < q ? hi : q;\n"
      t += "                sum -= yi * log(q) + (1 - yi) * log(1 - q);\n"
      t += "                \(o)[i] = (gr_real)(oi == q ? (q - yi) / (q * (1 - q)) * scale : 0.0);\n"
    case .cce:
      t += "                const double lo = 1e-12;\n"
      t += "                const double q = lo >= oi ? lo : oi;\n"
      t += "                sum -= yi * log(q);\n"
      t += "                \(o)[i] = (gr_real)(oi == q ? -yi / q * scale : 0.0);\n"
    }
    t += "            }\n"
    t += "            total += sum * scale;\n"
    t += "        }\n"
    t += "    }\n"
    return t
  }
}
