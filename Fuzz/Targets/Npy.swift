// libFuzzer target: the .npy reader. A successful read must hold exactly the values its shape says.

@testable import GruccCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNpy(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = FuzzInput.bytes(data, size)
  if let array = try? Npy.read(bytes, budget: FuzzInput.budget) {
    FuzzInput.require(Checked.elementCount(array.shape) == array.values.count, "values do not fill the shape")
  }
  return 0
}
