// `grucc import MODEL.onnx [-o MODEL.gru] [--name PREFIX]`: the ONNX model as a .gru file and its
// weights (grucc's names) beside it; and the import every command does on the fly for MODEL.onnx.

extension Driver {
  mutating func importModel(_ input: String, output: String?, name: String?) throws(DriverError) {
    let gruPath = output ?? (String(input.dropLast(input.hasSuffix(".onnx") ? 5 : 0)) + ".gru")
    guard gruPath.hasSuffix(".gru") else { throw .outputKind(gruPath, expected: "'.gru'") }
    guard input.hasSuffix(".onnx") else { throw .importNeedsOnnx(input) }
    let bytes = try read(input)
    let modelName = name ?? ProgramWriter.identifier(baseName(gruPath)) ?? "model"
    let imported = try importOnnx(bytes, path: input, modelName: modelName, weightsFile: baseName(gruPath) + ".safetensors")
    // The text must compile as written: check it before anything is written.
    let front = Compiler.frontEnd(SourceFile(path: gruPath, bytes: Array(imported.source.utf8)))
    guard front.module != nil else {
      report(front.diagnostics, source: front.source)
      throw .importedModelDoesNotCompile
    }
    let weightsPath = directory(of: gruPath) + imported.weightsFile
    var files = [(gruPath, Array(imported.source.utf8))]
    if !imported.tensors.isEmpty {
      let metadata = [("format", "grucc"), ("source", baseName(input) + ".onnx")]
      files.append((weightsPath, Safetensors.write(imported.tensors, metadata: metadata)))
    }
    try write(files, input: input)
    stdout += "wrote \(gruPath)" + (imported.tensors.isEmpty ? "" : " and \(weightsPath)") + "\n"
    for note in imported.notes { stdout += "note: \(note)\n" }
  }

  /// The ONNX model in `bytes` (read from `path`) as .gru text and tensors.
  func importOnnx(_ bytes: [UInt8], path: String, modelName: String, weightsFile: String) throws(DriverError) -> ImportedModel {
    let model: OnnxModel
    do throws(FormatError) {
      model = try Self.onnxModel(bytes, path: path, log: fileLog)
    } catch {
      throw .onnx(path, message: error.message)
    }
    switch OnnxImporter.importModel(model, modelName: modelName, weightsFile: weightsFile, sourceName: path) {
    case .success(let imported): return imported
    case .failure(let error): throw .onnx(path, message: error.description)
    }
  }
}
