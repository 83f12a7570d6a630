// `grucc run MODEL.gru --input X [--input NAME=FILE ...] [-o OUT]`: the model in the interpreter
// on arrays from .npy, .npz or .csv files; the outputs as CSV on stdout or in a file.

extension Driver {
  mutating func runModel(_ options: RunOptions) throws(DriverError) {
    let module = try optimise(try frontEnd(options.model))
    var inputs: [String: ArrayValue] = [:]
    var files: [String: String] = [:]
    let layout = module.layout
    let arguments = module.graph.argumentNodes.compactMap { i -> (String, TensorType)? in
      if case .argument(let name, let type) = module.graph.nodes[i].op { return (name, type) }
      return nil
    }
    for (name, path) in options.inputs {
      let bytes = try read(path)
      let arrays: [(String?, ArrayValue)]
      do throws(FormatError) {
        arrays = try DataFiles.read(bytes, path: path, budget: budget)
      } catch {
        throw .invalidFile(path, reason: error.message)
      }
      for (member, array) in arrays {
        let target = name ?? member ?? arguments.first { $0.1.isSequence }!.0
        guard let argument = arguments.first(where: { $0.0 == target }) else {
          throw .unknownInput(target, inputs: arguments.map(\.0))
        }
        guard inputs[target] == nil else { throw .inputGivenTwice(target) }
        files[target] = path
        inputs[target] = DataFiles.canonical(array, for: argument.1, layout: layout, text: DataFiles.isText(path))
      }
    }
    let outputs: [(name: String, value: ArrayValue)]
    do throws(InterpreterError) {
      outputs = try Interpreter.run(module, inputs: inputs, activations: options.activations, budget: budget)
    } catch {
      throw .interpreter(error, file: error.input.flatMap { files[$0] })
    }
    let presented = outputs.map { ($0.name, DataFiles.presented($0.value, layout: layout)) }
    guard let path = options.output else {
      stdout += DataFiles.csv(presented, precision: module.precision)
      return
    }
    let bytes: [UInt8]
    do throws(DataFiles.EncodeError) {
      bytes = try DataFiles.encode(presented, path: path, precision: module.precision)
    } catch {
      throw .encoding(error.message)
    }
    try write([(path, bytes)], input: options.model)
  }
}
