// The text of `grucc --help` and of each command's own help (`grucc help train`, `grucc train
// --help`). Golden tests keep them in sync with Tests/Golden/cli/help-*.expected.

/// What `grucc help TOPIC` can explain: the compile command (no subcommand word) and each subcommand.
public enum HelpTopic: String, Sendable, CaseIterable {
  case compile, run, check, identify, `import`, train

  /// The topic of a subcommand word; `compile` has none (it is the command without a word).
  static func named(_ word: String) -> HelpTopic? { HelpTopic(rawValue: word) }
}

enum HelpText {
  /// `grucc --help`: every command's usage, the compile options and the options of every command.
  static var text: String {
    """
    grucc \(Compiler.version): a compiler for GRU networks

    USAGE:
    \(usage.joined())
      (MODEL.onnx can stand for MODEL.gru in every command: it is imported on the fly, its
      weights read from the external data file beside it if it has one)
      grucc help COMMAND | COMMAND --help     the options of one command (run, check,
                                              identify, import, train, compile)
      grucc --help | --version

    \(compileOptions)
    \(everyCommand)
    The language is described in Specs/LANGUAGE.md.

    """
  }

  /// The help of one command: its usage, its options and the options every command takes.
  static func text(for topic: HelpTopic) -> String {
    let (usageLines, options): (String, String)
    switch topic {
    case .compile: (usageLines, options) = (usage[0] + usage[1], compileOptions)
    case .run: (usageLines, options) = (usage[2], runOptions)
    case .check: (usageLines, options) = (usage[3], checkOptions)
    case .identify: (usageLines, options) = (usage[4], identifyOptions)
    case .import: (usageLines, options) = (usage[5], importOptions)
    case .train: (usageLines, options) = (usage[6], trainOptions)
    }
    return "USAGE:\n\(usageLines)\n\(options)\n\(everyCommand)"
  }

  private static let usage = [
    """
      grucc MODEL.gru [-o MODEL.c]            write MODEL.c and MODEL.h (standalone C99)

    """,
    """
      grucc MODEL.gru --emit KIND [-o FILE]   print one stage's output

    """,
    """
      grucc run MODEL.gru --input X [--input NAME=FILE ...] [-o OUT]
                                              interpret the model (reference semantics)

    """,
    """
      grucc check MODEL.gru [--json]          shapes, tensors, parameters, memory and cost

    """,
    """
      grucc identify WEIGHTS --input X.npy --expect Y.npy [--hidden N] [--format F] [-o FILE]
                                              which GRU variant and layout reproduce Y from X

    """,
    """
      grucc import MODEL.onnx [-o MODEL.gru] [--name PREFIX]
                                              write the ONNX model as a .gru file and its
                                              weights (MODEL.safetensors) beside it

    """,
    """
      grucc train MODEL.gru --data TRAIN.npz --loss LOSS --steps N [options] [-o FILE]
                                              train the weights on examples

    """,
  ]

  /// The kinds `--emit` takes, in the order help and errors list them.
  static let emitKinds = ["tokens", "ast", "ir", "ir-after=PASS", "c", "h", "gradient-ir", "train", "weights"]

  private static var compileOptions: String {
    """
    COMPILE OPTIONS:
      -o FILE                 the C file to write (default: <model name>.c); the header
                              is written beside it with the extension .h
      --emit KIND             tokens, ast, ir, ir-after=PASS, c, h, gradient-ir (the graph
                              grucc train runs for the gradient), train (one whole
                              training step as a C API: MODEL_train.c and .h, or -o
                              FILE.c and its .h), or weights (the bound weights as a
                              safetensors file in grucc's names; needs -o)
      --loss LOSS             for --emit train (required): quadratic, mse, bce or cce
      --optimizer OPT         for --emit train: adam (default: beta1 0.9, beta2 0.999,
                              eps 1e-8) or sgd
      --momentum M            for --emit train --optimizer sgd (default 0)
      --init                  for --emit train: start from the init rules, not the
                              model's weights file
      --name PREFIX           for an ONNX model: its name, which prefixes every C symbol
                              (default: the output file's name, kws.c -> kws_run_batch;
                              also for 'import')
      --print-ir-after-all    print the IR after every pass
      --activations MODE      fast (default): sigmoid, tanh and exp as short polynomials
                              that vectorise, with the maximum error over all inputs
                              stated in the generated file; libm (or exact): from the C
                              library (also for 'run': the interpreter computes the same)
      --weights STORAGE       embedded (default): the weights as constant arrays in the C;
                              external: in a blob written beside it (model.weights), which
                              the C takes at run time, checked (see model.h)
      -MD                     also write a dependency file beside the C (MODEL.c.d): a
                              Make rule naming the files written and every file read
                              (the model, its weights, ONNX external data)
      -MF FILE                write that dependency file to FILE instead

    PASSES (in order, for --emit ir-after=PASS):
      irgen (the graph before any pass), \(PassPipeline.standardNames.joined(separator: ", "))

    """
  }

  private static let runOptions = """
    RUN OPTIONS:
      --input FILE            the sequence input: .npy ([T, F] or [B, T, F] in the model's
                              layout) or .csv (a row per step, F numbers separated by
                              commas, an optional header line of column names; one
                              sequence per file); a .npz gives inputs by name
      --input NAME=FILE       another input: the lengths (one per sequence), or a layer's
                              initial state NAME.h0
      -o FILE                 write the outputs to .npy (one output), .npz or .csv
                              (default: CSV on standard output)
      --activations MODE      fast (default) or libm: sigmoid, tanh and exp computed as
                              the C of the same mode computes them

    """

  private static let checkOptions = """
    CHECK OPTIONS:
      --json                  the report as one JSON object, for tools: the inputs, each
                              layer's tensors (names and shapes), the outputs and the costs
      The tensors listed are the ones the model's weights file must hold: the report is
      printed when the file does not exist yet (a warning) or does not fit (after its errors).

    """

  private static let identifyOptions = """
    IDENTIFY OPTIONS:
      --input X.npy           the input sequences, [B, T, F] or [T, F]
      --expect Y.npy          the outputs the layer gave for them, or its final states
      --hidden N              the number of units, if the weights leave it open
      --format F              the weights' naming convention (default: tried in turn)
      -o MODEL.gru            write the matching model to MODEL.gru instead of printing
                              it after the ranking (and, when no weights statement reads
                              WEIGHTS as it is, its tensors in grucc's names beside it as
                              MODEL.safetensors)
      -o FILE.safetensors     write the tensors in grucc's names; the printed model reads
                              them
      Exit status: 0 when a variant reproduces Y, 2 when none does, 1 on an error.

    """

  private static let importOptions = """
    IMPORT OPTIONS:
      -o MODEL.gru            the model to write (default: MODEL.onnx's name with .gru);
                              its weights go beside it as MODEL.safetensors
      --name PREFIX           the model's name, which prefixes every C symbol
                              (default: the output file's name)

    """

  private static let trainOptions = """
    TRAIN OPTIONS:
      --data FILE.npz         the examples: an array per model input, named as 'run' names
                              them (x [N, T, F], the lengths [N], LAYER.h0 [N, S]), and a
                              target per output to train, named after the output
      --valid FILE.npz        validation examples, laid out the same way
      --loss LOSS             quadratic (sum of (o-y)^2/2 over the batch size), mse, bce or cce
      --steps N               the number of updates
      --batch B               examples per update, drawn without replacement and reshuffled
                              every epoch (default: the whole training set)
      --optimizer adam|sgd    default adam
      --momentum M            SGD's momentum, 0 <= M < 1 (default 0)
      --lr X                  learning rate (default: 0.001 for adam, 0.01 for sgd)
      --seed S                the seed of the batch order (default 0); the same seed gives
                              the same weights, bit for bit
      --every K               print the training and validation losses every K steps
                              (default: steps/20)
      --init                  start from the model's init rules even if it names a weights
                              file (training from scratch; the file need not exist yet)
      --plot FILE.svg         draw the loss curves over each step's batch loss, faintly
      --checkpoint FILE.safetensors
                              save the run (weights, optimizer, batch order, losses) at
                              every report and at the end, atomically
      --resume FILE.safetensors
                              continue a checkpoint's run up to --steps N (the total); the
                              loss, optimizer, lr, momentum, batch and seed must be its own
      --backend compiled|interpreter
                              what runs each step: the C step of --emit train, compiled
                              with $CC, clang or cc and loaded (default; the same weights
                              as the interpreter), or the interpreter; without a working
                              C compiler training says so and uses the interpreter
      -o FILE.safetensors     the trained weights in grucc's names (default: the model's
                              own 'weights' file, when it is a grucc safetensors file)

    """

  private static let everyCommand = """
    EVERY COMMAND:
      --max-memory SIZE       the most memory grucc may set aside for numbers (files as
                              decoded, weights, an interpreter run): bytes, or with K, M, G
                              or T (1K = 1024); default 4G. Beyond it, grucc stops with an
                              error naming what needed the memory, before allocating it
      --diagnostics-format F  text (default: as clang prints them) or json: one JSON object
                              per line on standard error for each error or warning, with
                              file, line, column, severity, message, notes and fix-its

    """
}
