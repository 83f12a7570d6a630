// libFuzzer target: the .npz reader (zip directory, inflate, CRC, .npy members).

@testable import GruccCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNpz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = FuzzInput.bytes(data, size)
  if let members = try? Npz.read(bytes, budget: FuzzInput.budget) {
    FuzzInput.require(Set(members.map(\.name)).count == members.count, "two members with one name")
    for m in members {
      FuzzInput.require(Checked.elementCount(m.array.shape) == m.array.values.count, "values do not fill the shape")
    }
  }
  return 0
}
