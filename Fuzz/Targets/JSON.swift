// libFuzzer target: the JSON parser of safetensors headers.

@testable import GruccCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = FuzzInput.bytes(data, size)
  _ = try? JSON.parse(bytes[...])
  return 0
}
