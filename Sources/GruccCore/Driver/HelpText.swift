// The text of `grucc --help`. A golden test keeps it in sync with Tests/Golden/cli/help.expected.

enum HelpText {
  static let text = """
    grucc \(Compiler.version): a compiler for GRU networks

    USAGE:
      grucc MODEL.gru [-o MODEL.c]            write MODEL.c and MODEL.h (standalone C99)
      grucc MODEL.gru --emit KIND [-o FILE]   print one stage's output
      grucc run MODEL.gru --input X [--input NAME=FILE ...] [-o OUT]
                                              interpret the model (reference semantics)
      grucc check MODEL.gru                   shapes, parameters, memory and cost report
      grucc identify WEIGHTS --input X.npy --expect Y.npy [--hidden N] [--format F] [-o FILE]
                                              which GRU variant and layout reproduce Y from X
      grucc import MODEL.onnx [-o MODEL.gru] [--name PREFIX]
                                              write the ONNX model as a .gru file and its
                                              weights (MODEL.safetensors) beside it
      grucc train MODEL.gru --data TRAIN.npz --loss LOSS --steps N [options] [-o FILE]
                                              train the weights on examples (see TRAIN OPTIONS)
      (MODEL.onnx can stand for MODEL.gru in every command: it is imported on the fly, its
      weights read from the external data file beside it if it has one)
      grucc --help | --version

    COMPILE OPTIONS:
      -o FILE                 the C file to write (default: <model name>.c); the header
                              is written beside it with the extension .h
      --emit KIND             tokens, ast, ir, ir-after=PASS, c, h, gradient-ir (the graph
                              grucc train runs for the gradient), or weights (the bound
                              weights as a safetensors file in grucc's names; needs -o)
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

    PASSES (in order, for --emit ir-after=PASS):
      irgen (the graph before any pass), \(PassPipeline.standardNames.joined(separator: ", "))

    RUN OPTIONS:
      --input FILE            the sequence input: .npy ([T, F] or [B, T, F] in the model's
                              layout) or .csv (one row per step); a .npz gives inputs by name
      --input NAME=FILE       another input: the lengths, or a layer's initial state NAME.h0
      -o FILE                 write the outputs to .npy (one output), .npz or .csv
                              (default: CSV on standard output)

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
      --plot FILE.svg         draw the loss curves
      -o FILE.safetensors     the trained weights in grucc's names (default: the model's
                              own 'weights' file, when it is a grucc safetensors file)

    EVERY COMMAND:
      --max-memory SIZE       the most memory grucc may set aside for numbers (files as
                              decoded, weights, an interpreter run): bytes, or with K, M, G
                              or T (1K = 1024); default 4G. Beyond it, grucc stops with an
                              error naming what needed the memory, before allocating it

    The language is described in Specs/LANGUAGE.md.

    """
}
