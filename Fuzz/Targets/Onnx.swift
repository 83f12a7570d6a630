// libFuzzer target: the ONNX reader: the protobuf wire format, the model, graph, node and
// attribute messages, and the decoding of every initializer tensor (which Onnx.read does). The
// importer that interprets the graph is not fuzzed here.

@testable import GruccCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOnnx(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = FuzzInput.bytes(data, size)
  if let model = try? Onnx.read(bytes) {
    // Tensors of types grucc does not read (strings, complex numbers) keep their dims, no values;
    // so do tensors whose data is in an external file, which the driver reads afterwards.
    for tensor in model.graph.initializers where tensor.dataType.tensorDType != nil && tensor.external == nil {
      FuzzInput.require(Checked.elementCount(tensor.dims) == tensor.values.count, "values do not fill the dims")
    }
  }
  return 0
}
