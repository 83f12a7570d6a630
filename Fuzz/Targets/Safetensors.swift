// libFuzzer target: the safetensors reader (its JSON header and the tensor data).

@testable import GruccCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = FuzzInput.bytes(data, size)
  if let file = try? Safetensors.read(bytes, budget: FuzzInput.budget) {
    for t in file.tensors {
      FuzzInput.require(Checked.elementCount(t.shape) == t.values.count, "values do not fill the shape")
    }
  }
  return 0
}
